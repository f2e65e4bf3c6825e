"""Speed and memory of the coach signal pipeline (issue 3 targets), each measured in a fresh subprocess.

- ``coach analyze hour.csv --json``: wall time of the whole command (process start, CSV parsing, analysis,
  JSON output), median of ``runs``; the CSV is one hour of real chest data (all hexoskin subjects,
  resampled to 100 Hz, repeated), written to a temporary directory;
- streaming: CPU time (``time.process_time``) spent in ``StreamingGaitEstimator.feed_acc`` per second of
  200 Hz signal fed in 1-s blocks, as % of one core; and how much the resident memory grows while feeding a
  short vs a 4x longer stream (RSS from /proc/self/statm before and after the feeding loop; the input
  blocks are cut from a fixed 20-min buffer, so only the estimator's own state can grow);
- peak RSS of ``coach analyze`` on 1 h vs 2 h of CSV;
- ``coach --help`` wall time, median of 10 runs;
- the same hour end to end with ``--live`` (the live estimator alone), and with the FFT-peak baseline
  (:mod:`bench.baselines`, offline and causal) in a fresh process that reads the CSV with the same loader, in
  the same run, so the ratio coach / FFT does not depend on the machine's load of the day.

``python -m bench.speed [--quick] [--runs N]`` runs these measurements alone and prints them (JSON, with the
ratio ``hour_over_fft``); it writes nothing. ``python -m bench signal`` runs them as part of the signal bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.datasets import tiled_signal

REPO = Path(__file__).resolve().parents[1]


def coach_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m coach``."""
    script = Path(sys.executable).with_name("coach")
    return [str(script)] if script.exists() else [sys.executable, "-m", "coach"]


def write_csv(path: Path, duration_s: float, fs_hz: float) -> None:
    """A ``t,x,y,z`` CSV (g) of real chest data tiled to ``duration_s``; file mode 0600."""
    xyz = tiled_signal(duration_s, fs_hz)
    t = np.arange(xyz.shape[0]) / fs_hz
    data = np.column_stack([t, xyz])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("t,x,y,z\n")
        np.savetxt(fh, data, fmt=["%.4f", "%.4f", "%.4f", "%.4f"], delimiter=",")


_RSS_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "dt = time.perf_counter() - t0\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(p.returncode, dt, r.ru_maxrss, len(p.stdout))\n"
    "sys.stderr.write(p.stderr.decode(errors='replace')[-2000:])\n"
)


#: The measured commands run as an installed coach does: with its bytecode cached. A shell with
#: PYTHONDONTWRITEBYTECODE set would recompile every changed module on every start (0.1 s and more), which no
#: user's install does (pip compiles at install time; see :func:`compile_sources`).
MEASURED_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_sources() -> None:
    """Write the bytecode of the project's packages, as an install does, before anything is timed."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "coach", "sensors", "bench"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )


def run_measured(cmd: list[str]) -> tuple[int, float, float, int, str]:
    """(exit code, wall s, peak RSS MB of the command, stdout bytes, stderr tail) in a fresh wrapper process."""
    p = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *cmd],
        capture_output=True,
        text=True,
        check=False,
        env=MEASURED_ENV,
    )
    parts = p.stdout.split()
    if len(parts) != 4:
        return 1, float("nan"), float("nan"), 0, (p.stderr or p.stdout)[-2000:]
    return int(parts[0]), float(parts[1]), float(parts[2]) / 1024.0, int(parts[3]), p.stderr


_STREAM_SCRIPT = """
import json, os, resource, sys, time
import numpy as np
def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
sys.path.insert(0, {repo!r})
from bench.datasets import tiled_signal
from coach.signal import StreamingGaitEstimator
fs = {fs}
dur = {dur}
base = tiled_signal(min(dur, 1200.0), fs)  # at most 20 min held; longer streams wrap around
est = StreamingGaitEstimator()
rss0 = rss_mb()
n_out = 0
cpu = 0.0
blk = int(fs)
for k in range(int(dur)):
    i = (k * blk) % (base.shape[0] - blk)
    t = (k * blk + np.arange(blk)) / fs
    xyz = base[i:i + blk]
    c0 = time.process_time()
    out = est.feed_acc(t, xyz)
    cpu += time.process_time() - c0
    n_out += len(out)
print(json.dumps({{"cpu_s": cpu, "signal_s": dur, "outputs": n_out, "rss_growth_mb": rss_mb() - rss0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}}))
"""


def streaming(duration_s: float, fs_hz: float = 200.0) -> dict[str, float | str]:
    """Feed ``duration_s`` of real data at ``fs_hz`` in 1-s blocks in a fresh process."""
    code = _STREAM_SCRIPT.format(repo=str(REPO), fs=fs_hz, dur=float(duration_s))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    out: dict[str, float | str] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def help_time(runs: int = 10) -> tuple[float, str | None]:
    """Median wall time of ``coach --help``."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run([*coach_command(), "--help"], capture_output=True, check=False, env=MEASURED_ENV)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            return float("nan"), p.stderr.decode(errors="replace").strip()[-300:]
    return statistics.median(times), None


_FFT_SCRIPT = (
    "import sys\n"
    "sys.path.insert(0, {repo!r})\n"
    "from bench.baselines import FftPeakBaseline\n"
    "from coach.signal.io import load_recording\n"
    "rec = load_recording(sys.argv[1])\n"
    "b = FftPeakBaseline(causal={causal}).analyze(rec.t_s, rec.xyz_g)\n"
    "print(len(b.timeline_), len(b.steps_))\n"
)


def _median_wall(cmd: list[str], runs: int) -> tuple[float, str | None]:
    walls = []
    for _ in range(runs):
        code, wall, _, _, errtxt = run_measured(cmd)
        if code != 0:
            return float("nan"), (errtxt.strip().splitlines() or [f"exit code {code}"])[-1]
        walls.append(wall)
    return statistics.median(walls), None


def run_speed(*, quick: bool = False, runs: int = 5) -> dict[str, object]:
    """All speed/memory measurements; values are floats, errors strings."""
    res: dict[str, object] = {}
    compile_sources()
    res["help_s"], err = help_time(10)
    if err:
        res["help_error"] = err
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        hour = Path(tmp) / "hour.csv"
        write_csv(hour, 3600.0, 100.0)
        res["hour_csv_mb"] = hour.stat().st_size / 1e6
        walls: list[float] = []
        rss_1h = float("nan")
        for _ in range(1 if quick else runs):
            code, wall, rss, _, errtxt = run_measured([*coach_command(), "analyze", str(hour), "--json"])
            if code != 0:
                res["hour_error"] = (errtxt.strip().splitlines() or [f"exit code {code}"])[-1]
                break
            walls.append(wall)
            rss_1h = rss
        n_runs = 1 if quick else runs
        res["hour_live_s"], _ = _median_wall(
            [*coach_command(), "analyze", str(hour), "--json", "--live"], n_runs
        )
        for key, causal in (("fft_hour_s", False), ("fft_causal_hour_s", True)):
            code_txt = _FFT_SCRIPT.format(repo=str(REPO), causal=causal)
            res[key], err = _median_wall([sys.executable, "-c", code_txt, str(hour)], n_runs)
            if err:
                res[key.replace("_s", "_error")] = err
        if walls:
            res["hour_s"] = statistics.median(walls)
            res["hour_runs"] = walls
            res["hour_rss_mb"] = rss_1h
            if not quick:
                two = Path(tmp) / "two_hours.csv"
                write_csv(two, 7200.0, 100.0)
                code, wall, rss, _, errtxt = run_measured([*coach_command(), "analyze", str(two), "--json"])
                if code == 0:
                    res["two_hours_s"] = wall
                    res["two_hours_rss_mb"] = rss
                else:
                    res["two_hours_error"] = (errtxt.strip().splitlines() or ["?"])[-1]
    short_s, long_s = (300.0, 600.0) if quick else (600.0, 2400.0)
    s1 = streaming(short_s)
    res["stream_short"] = s1
    if "error" not in s1:
        res["stream_core_pct"] = 100.0 * float(s1["cpu_s"]) / float(s1["signal_s"])
        s2 = streaming(long_s)
        res["stream_long"] = s2
    return res


def main(argv: list[str] | None = None) -> int:
    """Only the speed and memory measurements, printed as JSON (nothing written)."""
    p = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick", action="store_true", help="one run of each 1-h command, shorter streams, no 2-h file"
    )
    p.add_argument("--runs", type=int, default=5, help="runs of each 1-h command (median; default 5)")
    args = p.parse_args(argv)
    res = run_speed(quick=args.quick, runs=args.runs)
    hour, fft = res.get("hour_s"), res.get("fft_hour_s")
    if isinstance(hour, float) and isinstance(fft, float) and fft > 0:
        res["hour_over_fft"] = hour / fft
    print(json.dumps(res, indent=1, default=str))
    return 0 if "hour_error" not in res else 1


if __name__ == "__main__":
    sys.exit(main())
