"""SIGTERM (``systemctl --user stop``) ends ``coach run`` like Ctrl-C: saved, marked stopped, exit 130.

docs/raspberry-pi.md promises it ("stop it: the session is saved, marked stopped"; ``SuccessExitStatus=130``), so
it is tested on a real process. Waiting is on what the session writes (polled, with a generous limit that only
guards against a hang), never on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.errors import EXIT_INTERRUPTED

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"
HANG_GUARD_S = 120.0
COMMAND = [sys.executable, "-m", "coach", "run", "--programme", "back-pain", "--stage", "1"]


def _wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(f"still waiting for {what} after {HANG_GUARD_S:g} s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_saves_the_session_marks_it_stopped_and_exits_130(tmp_path: Path, sig: int) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            *COMMAND,
            "--sensor",
            f"replay:{RECORDING}",
            "--speed",
            "2",
            "--voice",
            "none",
            "--data-dir",
            str(data),
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def coaching() -> bool:
            events = list((data / "sessions").glob("*/events.jsonl")) if (data / "sessions").is_dir() else []
            return bool(events) and '"kind": "gait"' in events[0].read_text()

        _wait_for(coaching, "the session to start coaching")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_INTERRUPTED == 130, err[-2000:]
    assert "Traceback" not in err
    (folder,) = (data / "sessions").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["complete"] is True and summary["end_reason"] == "stopped"
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    end = events[-1]
    assert end["kind"] == "session_end" and end["reason"] == "stopped"
    assert end["signal"] == signal.Signals(sig).name
    stops = [e for e in events if e["kind"] == "control" and e["action"] == "stop"]
    assert stops and stops[0]["reason"] == "stopped"
    assert summary["intervals"], "the interval that was running is in the summary"
