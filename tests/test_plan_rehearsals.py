"""Rehearsals never count towards progression, and `coach history` says which sessions are rehearsals.

The issue's must-show: after ``coach run --sensor replay:... --speed 1``, ``coach plan`` is unchanged. The run is
the real ``coach run`` command, in-process (CliRunner), with the runner's wall clock replaced by a fake one, so the
10-minute recording at ``--speed 1`` (real time) takes a few seconds of CPU instead of 10 minutes of waiting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from sensors.clock import FakeClock
from tests.after_run_helpers import hand_records, write_folder

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"
SID = "20261120T073000Z"


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """One real (live strap) session at stage 1 of back-pain, with its pain scores: `coach plan` says repeat."""
    d = tmp_path / "data"
    write_folder(d, hand_records(SID))
    for score, when in (("1", "before"), ("2", "after"), ("1", "next-morning")):
        _run("pain", score, "--when", when, "--session", SID, "--data-dir", str(d))
    return d


def test_a_replay_at_speed_1_leaves_the_plan_unchanged(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import coach.session.runner

    assert hasattr(coach.session.runner, "MonotonicClock"), "the runner's wall clock moved: update this test"
    monkeypatch.setattr(coach.session.runner, "MonotonicClock", FakeClock)
    before = _run("plan", "--data-dir", str(data))
    assert "Current stage: 1" in before and "1 more at stage 1" in before, before
    out = _run(
        "run",
        *("--sensor", f"replay:{RECORDING}", "--speed", "1", "--programme", "back-pain", "--stage", "1"),
        *("--voice", "none", "--data-dir", str(data)),
    )
    assert "this session was a replay of a recording: it is kept in the history but does not count" in out, (
        out
    )
    sessions = sorted(p.name for p in (data / "sessions").iterdir())
    assert len(sessions) == 2, sessions
    start = json.loads((data / "sessions" / sessions[-1] / "events.jsonl").open().readline())
    assert (start["source"], start["speed"], start["demo"]) == (f"replay:{RECORDING}", 1.0, False)
    assert _run("plan", "--data-dir", str(data)) == before
    history = _run("history", "--data-dir", str(data))
    line = next(ln for ln in history.splitlines() if ln.endswith(sessions[-1]))
    assert " rehearsal " in line and " back-pain " in line, history
    real = next(ln for ln in history.splitlines() if ln.endswith(SID))
    assert " live " in real and " back-pain " in real, history
    assert "never counted towards progression" in history


@pytest.mark.parametrize(
    ("fields", "counts"),
    [
        ({"source": "replay:walk.jsonl", "speed": 1.0}, False),
        ({"source": "virtual:walk.jsonl", "speed": 1.0}, False),
        ({"source": "ble:name=Polar H10", "speed": 1.0, "demo": True}, False),
        ({"source": "ble:AA:BB:CC:DD:EE:FF", "speed": 1.0}, True),
        ({"source": "import:fit:run.fit#sha256=0123456789abcdef", "speed": None, "imported": True}, True),
    ],
    ids=["replay", "virtual", "demo", "live strap", "imported FIT"],
)
def test_only_real_sessions_count(data: Path, fields: dict[str, object], counts: bool) -> None:
    second = hand_records("20261122T073000Z")
    second[0].update(fields)
    write_folder(data, second)
    plan = _run("plan", "--data-dir", str(data))
    if counts:  # two good sessions at stage 1, the next-morning score of the second one still missing
        assert "Log how your back feels the next morning" in plan, plan
    else:
        assert "1 more at stage 1" in plan, plan
    rows = json.loads(_run("history", "--json", "--data-dir", str(data)))
    assert [r["rehearsal"] is None for r in rows] == [True, counts]
    assert rows[-1]["programme"] == "back-pain"


def test_rehearsals_ask_for_no_pain_score(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from coach.store.database import Database
    from coach.store.index import pending_pain_prompts, sync

    d = tmp_path / "data"
    write_folder(d, hand_records(SID))  # a real session at 07:30, then a demo at 09:00 the same day
    demo = hand_records("20261120T090000Z")
    demo[0].update({"demo": True, "started_at": "2026-11-20T09:00:00Z"})
    write_folder(d, demo)
    with Database.in_dir(d) as db:
        sync(db, d)
        prompts = pending_pain_prompts(db, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    assert prompts == [
        f"How does your back feel after session {SID}? Log it (0-10): coach pain N --when after"
    ]
