"""Long sessions (issue 7): a 2-hour coached session at 200 Hz keeps memory flat and CPU low.

Builds a 2-hour capture at 200 Hz from the chest fixture (fixtures/chest-walk-jog-walk-hexoskin-008.jsonl: its
100 Hz accelerometer resampled to 200 Hz with a polyphase filter and looped 24 times, heart rate looped with it;
PMD ACC frames of 36 raw samples as a Polar H10 sends them at MTU 232), then runs the real product path
``coach run --sensor virtual:<that capture> --programme <a 2-hour walk/run plan> --voice none --speed S`` as a
child process and polls /proc/<pid> every 0.2 s: resident memory (VmRSS, VmHWM) against the session time the
process prints, and its CPU time. Target: < 150 MB peak RSS, RSS at 120 min about the same as at 30 min.

``python -m bench.long_session_bench [--speed 100] [--hours 2] [--rate-hz 200] [--no-write]``; writes its
section of bench/RESULTS.md between ``<!-- long_session:start -->`` and ``<!-- long_session:end -->``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START_MARK = "<!-- long_session:start -->"
END_MARK = "<!-- long_session:end -->"
TARGET_PEAK_MB = 150.0
PROGRESS = re.compile(r"^(?:(\d+):)?(\d+):(\d\d) ")
POLL_S = float(os.environ.get("COACH_BENCH_POLL_S", "0.2"))
SAMPLES_PER_FRAME = 36  # raw int16 x/y/z frames at MTU 232 (sensors.readers.convert.pack_acc_frames)


def build_capture(path: Path, *, hours: float, rate_hz: float) -> dict[str, float]:
    """Write a ``hours``-long capture at ``rate_hz`` made from the chest fixture; returns what it holds."""
    from coach.signal.io import load_recording
    from sensors.capture import read_capture
    from sensors.codecs.pmd import build_acc_frame
    from sensors.readers.convert import (
        Conversion,
        Event,
        Notification,
        pmd_timestamp_ns,
        resample_acc,
        write_capture,
    )
    from sensors.uuids import BATTERY_LEVEL, BODY_SENSOR_LOCATION, HEART_RATE_MEASUREMENT, PMD_DATA

    rec = load_recording(FIXTURE)
    assert rec.t_s is not None and rec.xyz_g is not None
    t0 = float(rec.t_s[0])
    in_rate = (len(rec.t_s) - 1) / float(rec.t_s[-1] - t0)
    loop_s = float(rec.t_s[-1] - t0)
    _, acc_g, out_rate = resample_acc(rec.xyz_g, in_rate, rate_hz, 0.0, loop_s)
    loops = int(np.ceil(hours * 3600.0 / loop_s))
    acc_mg = np.clip(np.round(np.tile(acc_g, (loops, 1)) * 1000.0), -32768, 32767).astype(np.int64)
    n = min(len(acc_mg), int(hours * 3600.0 * out_rate))
    acc_mg = acc_mg[:n]
    fixture = read_capture(FIXTURE, log_warnings=False)
    hr = [p for p in fixture.payloads if p.char == HEART_RATE_MEASUREMENT]
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    items: list[Notification | Event] = [
        Event(0.0, "connected", {"name": "Polar H10 LONGRUN1", "address": "C0:00:00:00:00:42"}),
        Notification(0.05, BATTERY_LEVEL, b"\x5a"),
        Notification(0.06, BODY_SENSOR_LOCATION, b"\x01"),
        Event(0.5, "pmd_started", {"measurement": "acc", "sample_rate_hz": rate_hz, "resolution_bits": 16,
                                   "range_g": 8}),
    ]  # fmt: skip
    lead_s = 1.0
    for first in range(0, n, SAMPLES_PER_FRAME):
        last = min(first + SAMPLES_PER_FRAME, n) - 1
        t_last = lead_s + last / out_rate
        ts = pmd_timestamp_ns(start + timedelta(seconds=t_last))
        frame = build_acc_frame([tuple(int(v) for v in row) for row in acc_mg[first : last + 1]], ts,
                                compressed=False)  # fmt: skip
        items.append(Notification(round(t_last + 0.004, 6), PMD_DATA, bytes(frame)))
    for k in range(loops):
        for p in hr:
            t = lead_s + k * loop_s + (p.t - hr[0].t)
            if t < lead_s + n / out_rate:
                items.append(Notification(round(t, 6), HEART_RATE_MEASUREMENT, p.data))
    items.sort(key=lambda item: item.t)
    conversion = Conversion(
        device_name="Polar H10 LONGRUN1",
        device_address="C0:00:00:00:00:42",
        source=f"{FIXTURE.name} resampled to {out_rate:g} Hz and looped {loops}x by bench/long_session_bench.py",
        created=start,
        items=tuple(items),
    )
    write_capture(conversion, path, overwrite=True)
    return {"rate_hz": out_rate, "duration_s": n / out_rate, "samples": float(n), "notifications": len(items)}


def plan_toml(hours: float) -> str:
    """A walk/run plan of ``hours``: 5 min warm-up, 5 min run / 5 min walk repeated, 5 min cool-down."""
    repeats = max(1, round((hours * 60 - 10) / 10))
    return (
        'name = "long-run"\ntitle = "Long session bench"\n[[stages]]\ntitle = "run/walk"\nsession = [\n'
        '    { walk = "5m", label = "warm-up" },\n'
        f'    {{ run = "5m", walk = "5m", repeat = {repeats} }},\n'
        '    { walk = "5m", label = "cool-down" },\n]\n'
    )


@dataclass
class Trace:
    samples: list[tuple[float, float | None, float]] = field(
        default_factory=list
    )  # wall s, session s, RSS MB
    hwm_mb: float = 0.0
    cpu_s: float = 0.0
    session_s: float | None = None
    cpu_points: list[tuple[float, float]] = field(default_factory=list)  # session s, CPU s

    def steady_cpu_per_h(self, after_s: float = 60.0) -> float | None:
        """CPU seconds per session hour once running (from ``after_s`` of session time on: no start-up)."""
        points = [(s, c) for s, c in self.cpu_points if s >= after_s]
        if len(points) < 2 or points[-1][0] <= points[0][0]:
            return None
        return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]) * 3600.0


def _proc_status(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = float(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def _proc_cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_session(
    capture: Path, programme: Path, data_dir: Path, *, speed: float, stop_after_s: float | None = None
) -> tuple[Trace, int, float]:
    """Run ``coach run`` and poll it; with ``stop_after_s`` send it Ctrl-C (a clean stop) after that many wall s."""
    cmd = [
        sys.executable, "-m", "coach", "run", "--sensor", f"virtual:{capture}", "--programme", str(programme),
        "--voice", "none", "--speed", f"{speed:g}", "--heads-up", "0", "--data-dir", str(data_dir),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "COACH_DATA_DIR"}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    trace = Trace()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, cwd=REPO, env=env)  # fmt: skip
    last_session: list[float | None] = [None]
    tail: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = PROGRESS.match(line)
            if m:
                h, mm, ss = m.groups()
                last_session[0] = int(h or 0) * 3600 + int(mm) * 60 + int(ss)
            tail.append(line.rstrip("\n"))
            del tail[:-40]

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    while proc.poll() is None:
        status = _proc_status(proc.pid)
        cpu = _proc_cpu_s(proc.pid)
        if "VmRSS" in status:
            trace.samples.append((time.monotonic() - t0, last_session[0], status["VmRSS"]))
            trace.hwm_mb = max(trace.hwm_mb, status.get("VmHWM", 0.0))
        if cpu is not None:
            trace.cpu_s = cpu
            if last_session[0] is not None:
                trace.cpu_points.append((float(last_session[0]), cpu))
        if stop_after_s is not None and time.monotonic() - t0 > stop_after_s:
            proc.send_signal(signal.SIGINT)
            stop_after_s = None
        time.sleep(POLL_S)
    wall = time.monotonic() - t0
    reader.join(timeout=5)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    trace.cpu_s = max(trace.cpu_s, usage.ru_utime + usage.ru_stime)
    # Not ru_maxrss: it counts the pages the child shared with this (large) process between fork and exec.
    # VmHWM belongs to the exec'd program only and is a high-water mark, so polling it misses nothing but the
    # last half second.
    trace.session_s = last_session[0]
    if proc.returncode != 0:
        print("\n".join(tail), file=sys.stderr)
    return trace, proc.returncode, wall


def rss_at(trace: Trace, session_s: float) -> float | None:
    """RSS (MB) at the first poll at or after ``session_s`` of session time."""
    for _, s, rss in trace.samples:
        if s is not None and s >= session_s:
            return rss
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.long_session_bench", description=__doc__.splitlines()[0]
    )
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--rate-hz", type=float, default=200.0)
    p.add_argument(
        "--speed", type=float, default=100.0, help="session clock speed (coach run allows up to 100)"
    )
    p.add_argument(
        "--realtime-s",
        type=float,
        default=90.0,
        help="also run this many wall seconds at --speed 1 (0: skip)",
    )
    p.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    p.add_argument("--results", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    command = "python -m bench.long_session_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="coach-long-") as tmp:
        tmpdir = Path(tmp)
        capture = tmpdir / "long.jsonl"
        t_build = time.monotonic()
        built = build_capture(capture, hours=args.hours, rate_hz=args.rate_hz)
        build_s = time.monotonic() - t_build
        size_mb = capture.stat().st_size / 1e6
        print(f"capture: {built['duration_s'] / 3600:.2f} h at {built['rate_hz']:g} Hz, "
              f"{int(built['samples'])} samples, {int(built['notifications'])} records, {size_mb:.0f} MB "
              f"(built in {build_s:.0f} s)", flush=True)  # fmt: skip
        programme = tmpdir / "long.toml"
        programme.write_text(plan_toml(args.hours))
        trace, code, wall = run_session(capture, programme, tmpdir / "data", speed=args.speed)
        folders = sorted((tmpdir / "data" / "sessions").glob("*"))
        gait = 0
        if folders:
            gait = sum(1 for line in (folders[-1] / "events.jsonl").open() if '"kind": "gait"' in line)
        realtime: Trace | None = None
        if args.realtime_s > 0:
            realtime, _, _ = run_session(
                capture, programme, tmpdir / "data-1x", speed=1.0, stop_after_s=args.realtime_s
            )
    session_h = (trace.session_s or 0) / 3600.0
    rss30 = rss_at(trace, 30 * 60)
    rss120 = rss_at(trace, min(120 * 60, (trace.session_s or 0) - 60))
    cpu_per_h = trace.cpu_s / session_h if session_h > 0 else float("nan")
    steady = trace.steady_cpu_per_h()
    steady_1x = realtime.steady_cpu_per_h(after_s=15.0) if realtime is not None else None
    print(
        f"steady CPU per session hour (start-up excluded): {steady or float('nan'):.0f} s at {args.speed:g}x, "
        + (
            f"{steady_1x:.0f} s at 1x ({steady_1x / 36:.1f} % of one core)"
            if steady_1x
            else "1x not measured"
        )
        + (f", 1x peak RSS {realtime.hwm_mb:.0f} MB" if realtime is not None else "")
    )
    ok = code == 0 and trace.hwm_mb < TARGET_PEAK_MB
    if trace.samples:
        w, s, r = max(trace.samples, key=lambda x: x[2])
        print(
            f"highest polled RSS {r:.0f} MB at {w:.1f} s wall (session t {s}); samples: "
            + ", ".join(
                f"{w_:.0f}s/{s_}/{r_:.0f}"
                for w_, s_, r_ in trace.samples[:: max(1, len(trace.samples) // 40)]
            )
        )
    print(
        f"coach run exit {code}; {session_h:.2f} h of session in {wall:.0f} s wall (speed {args.speed:g}); "
        f"peak RSS {trace.hwm_mb:.0f} MB (target < {TARGET_PEAK_MB:g}); RSS at 30 min "
        f"{rss30 if rss30 is not None else float('nan'):.0f} MB, at 120 min "
        f"{rss120 if rss120 is not None else float('nan'):.0f} MB; CPU {trace.cpu_s:.0f} s = {cpu_per_h:.0f} s per "
        f"session hour; {gait} gait seconds recorded"
    )
    if not args.no_write:
        section = results_section(
            args, built, trace, code, wall, rss30, rss120, cpu_per_h, gait, command.strip(), realtime
        )
        write_results(section, args.results)
        print(f"wrote {args.results}")
    return 0 if ok else 1


def results_section(
    args: argparse.Namespace,
    built: dict[str, float],
    trace: Trace,
    code: int,
    wall: float,
    rss30: float | None,
    rss120: float | None,
    cpu_per_h: float,
    gait: int,
    command: str,
    realtime: Trace | None = None,
) -> str:
    def mb(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f} MB"

    curve = []
    for minute in (1, 5, 15, 30, 45, 60, 75, 90, 105, 119):
        v = rss_at(trace, minute * 60)
        if v is not None:
            curve.append(f"{minute} min {v:.0f}")
    session_h = (trace.session_s or 0) / 3600

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    rt_cpu = realtime.steady_cpu_per_h(after_s=15.0) if realtime is not None else None
    rt = (
        "not measured"
        if realtime is None or rt_cpu is None
        else f"**{rt_cpu:.0f} s per session hour** ({rt_cpu / 36:.1f} % of one core); peak RSS "
        f"{realtime.hwm_mb:.0f} MB"
    )
    return f"""{START_MARK}
## Long session (2 h at 200 Hz through `coach run`)

`{command}`, {datetime.now(UTC).strftime("%Y-%m-%d %H:%M")} UTC, on the development container (2 shared cores).
A {built["duration_s"] / 3600:.2f} h capture at {built["rate_hz"]:g} Hz ({int(built["samples"])} accelerometer
samples, {int(built["notifications"])} records; the chest fixture resampled and looped) streamed by the virtual
strap over bumble's GATT link into `coach run --voice none --speed {args.speed:g}` with a 2-hour walk/run plan;
memory (VmRSS, and VmHWM for the peak) and CPU polled from /proc/PID every 0.2 s.

| | |
|---|---|
| exit code | {code} |
| session time reached / wall time | {session_h:.2f} h / {wall:.0f} s |
| **peak RSS (VmHWM)** | **{trace.hwm_mb:.0f} MB** (target < {TARGET_PEAK_MB:g} MB) |
| RSS at 30 min / at 120 min of session | {mb(rss30)} / {mb(rss120)} |
| RSS over the session | {", ".join(curve)} (MB) |
| CPU (user + system), whole run | {trace.cpu_s:.0f} s = {cpu_per_h:.0f} s per session hour at {args.speed:g}x |
| CPU once running (from 1 min of session on) | {fmt(trace.steady_cpu_per_h())} s per session hour at {args.speed:g}x |
| CPU at real time (`--speed 1`, {args.realtime_s:g} s wall, from 15 s on) | {rt} |
| gait seconds recorded | {gait} |

The per-sample work (GATT link, PMD decoding, capture writing, gait estimation) is the same at any speed; at real
time the 20 Hz tick loop and the display run {args.speed:g}x more often per session hour, hence the `--speed 1`
row (measured over a shorter stretch of the same session and extrapolated to an hour).
{END_MARK}"""


def write_results(section: str, path: Path = RESULTS) -> None:
    from bench.results import write_marked

    write_marked(section, path)


if __name__ == "__main__":
    raise SystemExit(main())
