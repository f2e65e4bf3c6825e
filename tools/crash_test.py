"""Crash test: kill ``coach run`` with SIGKILL at random moments and check that nothing recorded is lost.

Each run starts ``coach run --sensor virtual:<chest fixture> --programme back-pain --speed 20 --voice none
--data-dir TMP`` (the virtual strap streams a real chest recording over bumble's in-process GATT link) and sends it
SIGKILL at a random wall-clock moment drawn from the run's seed. After each kill it checks (issue 7):

- capture.jsonl and events.jsonl parse (only a torn *last* line is tolerated);
- the database opens and passes ``PRAGMA integrity_check`` (before and after the report, which indexes the session);
- ``coach report latest`` and ``coach report latest --json`` work and mark the session incomplete;
- at most the last wall-clock second of data is missing: the wall time from the last write to capture.jsonl (its
  mtime) to the kill; the strap sends a notification every 0.02 wall s at ``--speed 20``, so a longer gap is data
  that was due and is not on disk. At ``--speed 20`` one wall second is 20 s of session time.

A kill before the session started (no ``session_start`` record yet) must leave either no session or one that
``coach report`` rejects with one ``coach: error:`` line.

Usage: ``python tools/crash_test.py [--runs 10] [--seed S] [--write-results]``. Exit status 0 when every run
passes. ``--write-results`` puts the numbers into bench/RESULTS.md between the ``crash_test`` markers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FIXTURE = "fixtures/chest-walk-jog-walk-hexoskin-008.jsonl"
RESULTS = REPO / "bench" / "RESULTS.md"
START_MARK = "<!-- crash_test:start -->"
END_MARK = "<!-- crash_test:end -->"
PROGRESS = re.compile(r"^(?:(\d+):)?(\d+):(\d\d) ")  # the plain display line: "m:ss Warm-up walk ..."
#: The fixture is 300 s of session time: at --speed 20 the session ends by itself about 15 s after it starts.
DEFAULT_MAX_KILL_S = 15.0
MAX_MISSING_WALL_S = 1.0


@dataclass
class RunOutcome:
    index: int
    seed: int
    kill_after_s: float
    phase: str = "startup"  # "startup" (killed before session_start) or "session"
    session_t_at_kill_s: float | None = None
    missing_wall_s: float | None = None
    last_capture_t_s: float | None = None
    last_event_t_s: float | None = None
    missing_session_s: float | None = None
    torn_capture: bool = False
    torn_events: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def upper_bound_s(self) -> float | None:
        """Session clock at the kill minus the last capture record: the connection set-up plus anything lost."""
        if self.session_t_at_kill_s is None or self.last_capture_t_s is None:
            return None
        return self.session_t_at_kill_s - self.last_capture_t_s

    @property
    def ok(self) -> bool:
        return not self.problems


def coach_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "coach", *args]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # progress lines reach us when printed: they time the kill
    env.pop("COACH_DATA_DIR", None)
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + pythonpath if pythonpath else "")
    return env


def _session_seconds(line: str) -> float | None:
    m = PROGRESS.match(line)
    if m is None:
        return None
    h, mm, ss = m.groups()
    return int(h or 0) * 3600 + int(mm) * 60 + int(ss)


def run_and_kill(
    data_dir: Path, kill_after_s: float, *, speed: float
) -> tuple[list[tuple[float, str]], float, int | None]:
    """Start the session, SIGKILL it ``kill_after_s`` wall seconds after launch; return the timed stdout lines, the
    kill moment (monotonic) and the exit status (None when the session ended by itself before the kill)."""
    cmd = coach_cmd(
        "run",
        "--sensor",
        f"virtual:{REPO / FIXTURE}",
        "--programme",
        "back-pain",
        "--speed",
        f"{speed:g}",
        "--voice",
        "none",
        "--data-dir",
        str(data_dir),
    )
    lines: list[tuple[float, str]] = []
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env=child_env(),
        text=True,
    )

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic(), line.rstrip("\n")))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    ended_by_itself = False
    try:
        proc.wait(timeout=kill_after_s)
        ended_by_itself = True
    except subprocess.TimeoutExpired:
        pass
    killed_at = time.monotonic()
    KILLED_AT_REALTIME[0] = time.time()
    if not ended_by_itself:
        os.kill(proc.pid, signal.SIGKILL)
    code = proc.wait(timeout=30)
    reader.join(timeout=5)
    return lines, killed_at, (None if ended_by_itself else code)


def parse_jsonl(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """Every line must be a JSON object except a torn last line (no newline at the end). Returns (records, torn)."""
    raw = path.read_bytes()
    parts = raw.split(b"\n")
    torn = False
    out: list[dict[str, Any]] = []
    for i, part in enumerate(parts):
        if not part.strip():
            continue
        try:
            obj = json.loads(part)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            if i == len(parts) - 1 and not raw.endswith(b"\n"):
                torn = True
                continue
            raise ValueError(f"{path.name}:{i + 1}: {exc}") from None
        out.append(obj)
    return out, torn


def check_database(path: Path) -> str | None:
    """None when the database opens and is intact (or does not exist yet), else the problem."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            con.execute("SELECT count(*) FROM sessions").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"database {path.name} does not open: {exc}"
    return None if result == "ok" else f"database integrity_check: {result}"


def coach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        coach_cmd(*args), capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=120, check=False
    )


def check_run(
    out: RunOutcome, data_dir: Path, lines: list[tuple[float, str]], killed_at: float, speed: float
) -> None:
    from sensors.capture import read_capture

    problems = out.problems
    if any("Traceback" in line for _, line in lines):
        problems.append("the session printed a traceback before the kill")
    sessions = sorted((data_dir / "sessions").glob("*")) if (data_dir / "sessions").is_dir() else []
    folder = sessions[-1] if sessions else None
    events: list[dict[str, Any]] = []
    if folder is not None and (folder / "events.jsonl").exists():
        try:
            events, out.torn_events = parse_jsonl(folder / "events.jsonl")
        except ValueError as exc:
            problems.append(f"events.jsonl does not parse: {exc}")
    started = any(r.get("kind") == "session_start" for r in events)
    out.phase = "session" if started else "startup"
    db_problem = check_database(data_dir / "coach.sqlite3")
    if db_problem:
        problems.append(db_problem + " (before the report)")

    text = coach("report", "latest", "--data-dir", str(data_dir))
    as_json = coach("report", "latest", "--json", "--data-dir", str(data_dir))
    for name, res in (("report", text), ("report --json", as_json)):
        if "Traceback" in res.stderr:
            problems.append(f"coach {name} printed a traceback: {res.stderr.strip().splitlines()[-1]}")
    db_problem = check_database(data_dir / "coach.sqlite3")
    if db_problem:
        problems.append(db_problem + " (after the report)")

    if not started:
        # Killed while starting: no session, or one the report refuses with one line.
        for name, res in (("report", text), ("report --json", as_json)):
            if res.returncode == 0:
                continue
            err = res.stderr.strip().splitlines()
            if len(err) != 1 or not err[0].startswith("coach: error:"):
                problems.append(f"coach {name} after a start-up kill: exit {res.returncode}, stderr {err!r}")
        return

    assert folder is not None
    try:
        capture = read_capture(folder / "capture.jsonl", log_warnings=False)
        bad = [w for w in capture.warnings if not w.torn]
        if bad:
            problems.append(f"capture.jsonl warnings: {[str(w) for w in bad]}")
        out.torn_capture = any(w.torn for w in capture.warnings)
        out.last_capture_t_s = capture.end_s if capture.records else None
    except Exception as exc:  # any failure to read is what this looks for
        problems.append(f"capture.jsonl does not parse: {type(exc).__name__}: {exc}")
    times = [float(r["t"]) for r in events if isinstance(r.get("t"), (int, float))]
    out.last_event_t_s = max(times) if times else None

    for name, res in (("report", text), ("report --json", as_json)):
        if res.returncode != 0:
            problems.append(f"coach {name} failed: exit {res.returncode}: {res.stderr.strip()[-300:]}")
    if text.returncode == 0 and "INCOMPLETE" not in text.stdout:
        problems.append("coach report does not mark the session incomplete")
    if as_json.returncode == 0:
        try:
            model = json.loads(as_json.stdout)
            if model["session"]["complete"] is not False:
                problems.append("coach report --json: session.complete is not false")
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"coach report --json output: {exc}")

    # Data not on disk at the kill: the wall time from the last write to capture.jsonl (its mtime) to the kill.
    # The virtual strap sends a notification every 0.36 s of recording (under 0.02 wall s at --speed 20), so
    # anything longer is data that was due but not recorded (lost in a buffer, or the process stalled).
    if out.last_capture_t_s is not None and folder is not None:
        mtime = (folder / "capture.jsonl").stat().st_mtime_ns / 1e9
        out.missing_wall_s = KILLED_AT_REALTIME[0] - mtime
        out.missing_session_s = out.missing_wall_s * speed
        if out.missing_wall_s > MAX_MISSING_WALL_S:
            problems.append(
                f"the capture was last written {out.missing_wall_s:.2f} s before the kill (> {MAX_MISSING_WALL_S:g}"
                f" wall s = {MAX_MISSING_WALL_S * speed:g} s of session time at --speed {speed:g})"
            )
    # For information: the session clock (the progress lines) runs ahead of the strap by the connection set-up.
    anchors = [(t, s) for t, line in lines if t <= killed_at and (s := _session_seconds(line)) is not None]
    if anchors:
        t_line, s_line = anchors[-1]
        out.session_t_at_kill_s = s_line + (killed_at - t_line) * speed


KILLED_AT_REALTIME = [0.0]  # time.time() of the last kill


def crash_test(
    runs: int,
    seed: int,
    *,
    speed: float = 20.0,
    max_kill_s: float = DEFAULT_MAX_KILL_S,
    keep: Path | None = None,
    echo: Any = print,
) -> list[RunOutcome]:
    outcomes: list[RunOutcome] = []
    base = Path(tempfile.mkdtemp(prefix="coach-crash-")) if keep is None else keep
    try:
        for i in range(runs):
            run_seed = seed * 1000 + i
            rng = random.Random(run_seed)
            kill_after = round(rng.uniform(0.3, max_kill_s), 3)
            data_dir = base / f"run{i:02d}"
            lines, killed_at, code = run_and_kill(data_dir, kill_after, speed=speed)
            out = RunOutcome(index=i, seed=run_seed, kill_after_s=kill_after)
            if code is None:
                out.problems.append("the session ended before the kill (raise --speed or lower --max-kill-s)")
            elif code != -signal.SIGKILL:
                out.problems.append(f"exit status {code} (expected SIGKILL)")
            check_run(out, data_dir, lines, killed_at, speed)
            outcomes.append(out)
            missing = "-" if out.missing_session_s is None else f"{out.missing_session_s:.2f} s"
            echo(
                f"run {i + 1}/{runs} seed {run_seed}: kill at {kill_after:.2f} s wall ({out.phase}"
                + (
                    f", session clock {out.session_t_at_kill_s:.1f} s, last capture t {out.last_capture_t_s:.1f} s"
                    if out.session_t_at_kill_s is not None and out.last_capture_t_s is not None
                    else ""
                )
                + f"), missing {missing}"
                + (", torn capture line" if out.torn_capture else "")
                + (", torn events line" if out.torn_events else "")
                + (" OK" if out.ok else " FAIL: " + "; ".join(out.problems))
            )
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return outcomes


def results_section(
    outcomes: list[RunOutcome], *, seed: int, speed: float, command: str, wall_s: float
) -> str:
    missing = [o.missing_session_s for o in outcomes if o.missing_session_s is not None]
    worst = max(missing) if missing else math.nan
    bounds = [o.upper_bound_s for o in outcomes if o.upper_bound_s is not None]
    worst_bound = max(bounds) if bounds else math.nan
    rows = "\n".join(
        f"| {o.index + 1} | {o.seed} | {o.kill_after_s:.2f} | {o.phase} | "
        + ("-" if o.session_t_at_kill_s is None else f"{o.session_t_at_kill_s:.1f}")
        + " | "
        + ("-" if o.missing_wall_s is None else f"{o.missing_wall_s:.3f}")
        + " | "
        + ("-" if o.last_capture_t_s is None else f"{o.last_capture_t_s:.1f}")
        + " | "
        + ("-" if o.missing_session_s is None else f"{o.missing_session_s:.2f}")
        + " | "
        + ("-" if o.upper_bound_s is None else f"{o.upper_bound_s:.1f}")
        + f" | {'yes' if o.torn_capture else 'no'}/{'yes' if o.torn_events else 'no'} | {'ok' if o.ok else 'FAIL'} |"
        for o in outcomes
    )
    passed = sum(o.ok for o in outcomes)
    return f"""{START_MARK}
## Crash safety (SIGKILL during `coach run`)

`{command}`, {datetime.now(UTC).strftime("%Y-%m-%d %H:%M")} UTC, {wall_s:.0f} s. Each run: `coach run --sensor
virtual:{FIXTURE} --programme back-pain --speed {speed:g} --voice none --data-dir TMP`, SIGKILL at a random wall
moment after launch; then capture.jsonl and events.jsonl must parse (torn last line allowed), the database must pass
`PRAGMA integrity_check`, and `coach report latest` (text and `--json`) must work and mark the session incomplete.
"Missing" = wall time from the last write to capture.jsonl (the file's mtime) to the SIGKILL, x speed for session
time: the virtual strap sends a notification every 0.36 s of recording (0.018 wall s at --speed {speed:g}), so a
longer gap is data that was due and is not on disk. The limit is one wall second = {speed:g} s of session time.

**{passed}/{len(outcomes)} runs passed; worst missing {worst / speed:.3f} s of wall time = {worst:.2f} s of session
time.** A cruder upper bound, the session clock at the kill (last progress line + wall time since, x speed) minus the
last record's time, also counts the connection set-up before the strap starts streaming (about 0.3 wall s): worst
{worst_bound:.1f} s of session time = {worst_bound / speed:.2f} s of wall time.

| run | seed | kill after (wall s) | phase | session clock at kill (s) | last write to kill (wall s) | last capture t (s) | missing (session s) | upper bound (session s) | torn capture/events | result |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}
{END_MARK}"""


def write_results(section: str, path: Path = RESULTS) -> None:
    from bench.results import write_marked

    write_marked(section, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="number of kill runs (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    parser.add_argument("--speed", type=float, default=20.0, help="session clock speed (default 20)")
    parser.add_argument(
        "--max-kill-s",
        type=float,
        default=DEFAULT_MAX_KILL_S,
        help=f"kill moments are drawn from 0.3 s to this many wall seconds after launch (default {DEFAULT_MAX_KILL_S:g})",
    )
    parser.add_argument("--keep", type=Path, help="keep the data directories under this folder")
    parser.add_argument(
        "--write-results", action="store_true", help="write the numbers into bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    command = "python tools/crash_test.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"crash test: {args.runs} runs, seed {seed} (repeat with --seed {seed})", flush=True)
    t0 = time.monotonic()
    outcomes = crash_test(args.runs, seed, speed=args.speed, max_kill_s=args.max_kill_s, keep=args.keep)
    wall = time.monotonic() - t0
    missing = [o.missing_session_s for o in outcomes if o.missing_session_s is not None]
    failed = [o for o in outcomes if not o.ok]
    print(
        f"{len(outcomes) - len(failed)}/{len(outcomes)} runs passed in {wall:.0f} s; worst missing "
        + (
            f"{max(missing):.2f} s of session time ({max(missing) / args.speed:.3f} s wall)"
            if missing
            else "-"
        )
    )
    if args.write_results:
        if "--seed" not in command:
            command += f" --seed {seed}"
        write_results(
            results_section(outcomes, seed=seed, speed=args.speed, command=command.strip(), wall_s=wall)
        )
        print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
