"""The after-the-run commands: pain, plan, history, report, export, import (CliRunner), and bad input (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.cli.pain_cmd import default_when
from coach.store.database import Database
from tests.after_run_helpers import hand_records, write_folder

REPO = Path(__file__).resolve().parents[1]
SID = "20261120T073000Z"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    write_folder(d, hand_records(SID))
    return d


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_pain_logs_scores_for_the_session(data: Path) -> None:
    code, out = _run("pain", "3", "--when", "after", "--note", "stiff <lower> back", "--data-dir", str(data))
    assert code == 0, out
    assert f"Logged pain 3/10 after for session {SID}" in out
    code, out = _run("pain", "1.5", "--when", "before", "--data-dir", str(data))
    assert code == 0 and "for the next session" in out
    with Database.in_dir(data) as db:
        entries = db.pain()
    assert [(e.when, e.score, e.session_id, e.note) for e in entries] == [
        ("after", 3.0, SID, "stiff <lower> back"),
        ("before", 1.5, None, None),
    ]


def test_default_when() -> None:
    start = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert default_when(None, start, set()) == "before"
    assert default_when(start, start + timedelta(hours=1), set()) == "after"
    assert default_when(start, start + timedelta(hours=1), {"after"}) == "before"
    assert default_when(start, start + timedelta(days=1), {"after"}) == "next-morning"
    assert default_when(start, start + timedelta(days=1), {"after", "next-morning"}) == "before"


def test_plan_explains_the_next_session_and_healing_time(data: Path) -> None:
    code, out = _run("plan", "--data-dir", str(data))
    assert code == 0, out
    assert "Current stage: 1" in out and "Next session: stage 1" in out
    assert "1 more at stage 1" in out  # each stage at least twice
    assert "physio" in out
    code, out = _run("plan", "--injury", "disc-mild", "--data-dir", str(data))
    assert code == 0 and "8-12 weeks" in out and "a physio's assessment comes first" in out
    code, out = _run("plan", "--data-dir", str(data))  # remembered
    assert "8-12 weeks" in out


@pytest.mark.parametrize("injury", [None, "disc-mild"])
def test_plan_says_the_healing_time_once(data: Path, injury: str | None) -> None:
    code, out = _run("plan", *(["--injury", injury] if injury else []), "--data-dir", str(data))
    assert code == 0, out
    assert out.count("Healing time") == 1, out
    assert out.count("8-12 weeks") == (1 if injury else 0), out
    assert out.count("injury category") == (0 if injury else 1), out
    assert out.count("a physio's assessment comes first") == 1, out


def test_plan_steps_back_after_a_flare_up(data: Path) -> None:
    write_folder(data, _stage(hand_records("20261122T073000Z"), 3))
    code, out = _run("pain", "7", "--when", "after", "--session", "20261122T073000Z", "--data-dir", str(data))
    assert code == 0 and "above 5/10" in out
    code, out = _run("plan", "--data-dir", str(data))
    assert "Next session: stage 2" in out and "Step back" in out


@pytest.mark.parametrize(
    "rehearsal",
    [{"demo": True}, {"speed": 20.0}, {"speed": 0.0}],
    ids=["demo", "fast-forwarded", "as-fast-as-possible"],
)
def test_a_rehearsal_session_does_not_count_towards_progression(
    data: Path, rehearsal: dict[str, object]
) -> None:
    demo = _stage(hand_records("20261122T073000Z"), 3)
    # `coach demo`, or a replay / virtual strap run with --speed: nobody ran it in real time
    demo[0].update(rehearsal)
    write_folder(data, demo)
    code, out = _run("pain", "7", "--when", "after", "--session", "20261122T073000Z", "--data-dir", str(data))
    assert code == 0
    code, out = _run("plan", "--data-dir", str(data))
    assert code == 0, out
    assert "Current stage: 1" in out and "Step back" not in out  # decided from the real session only
    assert "1 more at stage 1" in out


def _stage(records: list[dict[str, object]], stage: int) -> list[dict[str, object]]:
    records[0]["stage"] = stage
    return records


def test_history_lists_sessions_with_arrows_and_rebuilds(data: Path) -> None:
    write_folder(data, hand_records("20261122T073000Z"))
    _run("pain", "4", "--when", "after", "--session", SID, "--data-dir", str(data))
    _run("pain", "2", "--when", "after", "--session", "20261122T073000Z", "--data-dir", str(data))
    code, out = _run("history", "--data-dir", str(data))
    assert code == 0, out
    lines = [ln for ln in out.splitlines() if ln.endswith(("20261122T073000Z", SID))]
    assert len(lines) == 2
    assert "↓+" in lines[1]  # pain after went down: better
    assert "Next: stage 1" in out
    code, out = _run("history", "--json", "--data-dir", str(data))
    rows = json.loads(out)
    assert [r["pain_after"] for r in rows] == [4.0, 2.0]
    (data / "coach.sqlite3").unlink()
    code, out = _run("history", "--rebuild", "--data-dir", str(data))
    assert code == 0 and "rebuilt the index from 2 session folder(s)" in out


def test_report_text_json_and_html(data: Path, tmp_path: Path) -> None:
    code, out = _run("report", "--data-dir", str(data))
    assert code == 0, out
    assert f"Session {SID}" in out and "walk" in out
    code, out = _run("report", SID, "--json", "--data-dir", str(data))
    model = json.loads(out)
    assert model["session"]["id"] == SID and len(model["intervals"]) == 4
    html = tmp_path / "r.html"
    code, out = _run("report", "latest", "--html", str(html), "--data-dir", str(data))
    assert code == 0 and html.read_text().count("<svg") >= 5
    assert html.stat().st_mode & 0o777 == 0o600
    code, out = _run("report", str(data / "sessions" / SID))  # a folder works without the database
    assert code == 0 and f"Session {SID}" in out


def test_export_writes_fit_and_tcx(data: Path, tmp_path: Path) -> None:
    fit, tcx = tmp_path / "s.fit", tmp_path / "s.tcx"
    code, out = _run("export", "latest", "--fit", str(fit), "--tcx", str(tcx), "--data-dir", str(data))
    assert code == 0, out
    assert fit.read_bytes()[8:12] == b".FIT"
    assert b"RunCadence" in tcx.read_bytes()
    assert "4 laps" in out


def test_import_command(data_dir: Path, tmp_path: Path) -> None:
    code, out = _run(
        "import", str(data_dir / "garmin-fit" / "garmin-fenix-5-run.fit"), "--data-dir", str(tmp_path)
    )
    assert code == 0, out
    assert "Imported garmin-fenix-5-run.fit as session 20170611T143409Z" in out
    code, out = _run("report", "20170611T143409Z", "--data-dir", str(tmp_path))
    assert "[imported]" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pain", "11"], "pain score must be between 0 and 10"),
        (["pain", "abc"], "pain score must be a number"),
        (["report", "nosuch"], "no session 'nosuch'"),
        (["history", "--data-dir", "FILE/sub"], "not writable"),
        (["plan", "--programme", "nosuch"], "unknown programme"),
        (["export", "nosuch", "--fit", "x.fit"], "no session 'nosuch'"),
        (["import", "NOTFIT"], "imports FIT, TCX and GPX activities, Polar"),
    ],
    ids=["pain", "pain-nan", "report", "history", "plan", "export", "import"],
)
def test_bad_input_is_one_line_without_traceback(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    notfit = tmp_path / "notes.csv"
    notfit.write_text("t,x,y,z\n0,0,0,1\n")
    args = [a.replace("FILE", str(file)).replace("NOTFIT", str(notfit)) for a in args]
    if "--data-dir" not in args:
        args += ["--data-dir", str(data)]
    proc = subprocess.run(
        [sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode not in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coach: error:") and message in lines[0], proc.stderr


# --- own programme files, per-stage sessions, progression.toml ------------------------------------------------

MY_RETURN = """name = "my-return"
title = "My return"
[[stages]]
title = "Walk"
session = [{ walk = "2m" }]
[[stages]]
title = "Jog a little"
sessions = 3
session = [{ run = "30s", walk = "1m", repeat = 2 }]
[[stages]]
title = "Jog more"
session = [{ run = "1m", walk = "1m", repeat = 3 }]
"""


def _file_session(
    data: Path, sid: str, day: int, stage: int, prog: Path | None, programme: str = "my-return"
) -> None:
    """A session of my-return written as ``coach run --programme FILE`` writes it: path + copy of the file."""
    records = hand_records(sid)
    start = records[0]
    start.update(programme=programme, programme_title="My return", stage=stage)
    start["started_at"] = f"2026-11-{day:02d}T07:30:00Z"
    if prog is not None:
        start.update(programme_file=str(prog.resolve()), programme_toml=MY_RETURN)
    write_folder(data, records)
    for when, score in (("before", 1), ("after", 2), ("next-morning", 1)):
        code, out = _run("pain", str(score), "--when", when, "--session", sid, "--data-dir", str(data))
        assert code == 0, out


def test_plan_follows_an_own_programme_file_even_after_it_moved(tmp_path: Path) -> None:
    data, prog = tmp_path / "data", tmp_path / "my-return.toml"
    prog.write_text(MY_RETURN)
    _file_session(data, "20261102T073000Z", 2, 1, prog)
    _file_session(data, "20261104T073000Z", 4, 1, prog)
    code, out = _run("plan", "--data-dir", str(data))  # the latest programme: a file, found from the session
    assert code == 0, out
    assert "Programme: My return (3 stages)" in out and "Next session: stage 2 (Jog a little)" in out
    assert "Move on to stage 2" in out and "Last stage" not in out
    assert f"coach run --programme {prog.resolve()} --stage 2" in out
    code, out = _run("plan", "--programme", str(prog), "--data-dir", str(data))  # by path: same sessions
    assert code == 0 and "Current stage: 1" in out and "Next session: stage 2" in out, out
    code, out = _run("plan", "--programme", "my-return", "--data-dir", str(data))  # by the name it had
    assert code == 0 and "Next session: stage 2" in out, out
    code, out = _run("report", "latest", "--data-dir", str(data))
    assert "next: stage 2 (progress)" in out and "Last stage" not in out
    prog.rename(tmp_path / "moved.toml")  # the file is gone: the copy kept with the session is used
    code, out = _run("plan", "--data-dir", str(data))
    assert code == 0 and "(3 stages)" in out and "Next session: stage 2" in out, out
    assert "coach used the copy kept with them" in out and "--programme FILE.toml --stage 2" in out


def test_a_stage_sessions_count_is_the_progression_minimum(tmp_path: Path) -> None:
    data, prog = tmp_path / "data", tmp_path / "my-return.toml"
    prog.write_text(MY_RETURN)
    for k, day in enumerate((2, 4, 6)):
        _file_session(data, f"202611{day:02d}T073000Z", day, 2, prog)
        code, out = _run("plan", "--data-dir", str(data))
        assert code == 0, out
        if k < 2:  # stage 2 says sessions = 3
            assert "Next session: stage 2" in out and f"{2 - k} more at stage 2" in out, out
        else:
            assert "Next session: stage 3" in out, out


def test_progression_thresholds_from_a_config_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _file_session(data, "20261102T073000Z", 2, 1, None, programme="back-pain")
    _file_session(data, "20261104T073000Z", 4, 1, None, programme="back-pain")
    code, out = _run("plan", "--data-dir", str(data))
    assert code == 0 and "Next session: stage 2" in out, out  # defaults: pain 2/10 is fine, two sessions
    (data / "progression.toml").write_text("pain_safe_max = 1\npain_acceptable_max = 1.5\n")
    code, out = _run("plan", "--data-dir", str(data))
    assert code == 0 and "Why (stop)" in out and "Pain went above 1.5/10 in 2 sessions" in out, out
    code, out = _run("report", "latest", "--data-dir", str(data))  # the report reads the same file
    assert "next: stage 1 (stop)" in out, out
    (data / "progression.toml").write_text("pain_acceptable_max = 12\n")
    code, out = _run("report", "latest", "--data-dir", str(data))  # broken: the report still works
    assert code == 0 and "next: stage 2 (progress)" in out, out
    other = tmp_path / "four.toml"
    other.write_text("min_sessions_per_stage = 4\n")
    code, out = _run("plan", "--config", str(other), "--data-dir", str(data))
    assert "Next session: stage 2" in out, out  # back-pain's stages set sessions = 2 themselves: they win


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pain_acceptable_max = 12\n", "bad.toml: pain_acceptable_max: must be between 0 and 10 (got 12)"),
        ("min_sessions = 3\n", "bad.toml: min_sessions: unknown field (expected one of: "),
        ("min_sessions_per_stage = 2.5\n", "bad.toml: min_sessions_per_stage: expected a whole number"),
        ("pain_safe_max = 6\n", "bad.toml: pain thresholds must satisfy 0 <= safe <= acceptable <= 10"),
        ("pain_safe_max = \n", "bad.toml: not valid TOML"),
    ],
)
def test_bad_progression_config_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "coach", "plan", "--config", str(bad), "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith(f"coach: error: {tmp_path}/{message}") and proc.stderr.count("\n") == 1
