"""Moving days and the walking base (issue 15, parts 4-6): brisk minutes, walks, weekly moving minutes, the week in
`coach plan` for a runner at the walking base and one at stage 3 (fixed dates, a fake "today" via --as-of)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.plan.moving import MovingSession, walk_plan, weekly_moving
from coach.plan.progression import Decision, WalkingBaseDecision
from coach.plan.week import DAYS_BETWEEN_KEY_SESSIONS, KEY_SESSIONS_PER_WEEK, build_week, healing_line
from coach.report.model import WALK, WALK_RUN, session_activity_kind
from coach.session.adherence import BRISK_CADENCE_SPM, brisk_walk_s
from coach.store.database import Database
from tests.after_run_helpers import hand_records, write_folder
from tests.virtual_time import sessions_on_virtual_time

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


# ------------------------------------------------------------------------------------------------ brisk minutes


def test_brisk_seconds_are_walking_seconds_at_100_steps_per_minute_or_more() -> None:
    rows = [
        {"t": 0.0, "mode": "walk", "cadence_spm": 100.0, "hr_bpm": None},  # exactly the threshold: brisk
        {"t": 1.0, "mode": "walk", "cadence_spm": 99.9, "hr_bpm": None},  # just below: not brisk
        {"t": 2.0, "mode": "walk", "cadence_spm": None, "hr_bpm": None},  # no cadence: not counted
        {"t": 3.0, "mode": "run", "cadence_spm": 160.0, "hr_bpm": None},  # a jog is not a brisk walk
        {"t": 4.0, "mode": "still", "cadence_spm": 120.0, "hr_bpm": None},
        {"t": 5.0, "mode": "walk", "cadence_spm": 118.0, "hr_bpm": None},
    ]
    assert BRISK_CADENCE_SPM == 100.0
    assert brisk_walk_s(rows) == 2.0
    assert brisk_walk_s(rows, min_cadence_spm=110.0) == 1.0


@pytest.mark.parametrize(
    ("start", "by_mode", "kind"),
    [
        ({"activity": "walk"}, {}, WALK),  # coach walk
        ({"programme": "back-pain", "stage": 1}, {"walk": 600, "run": 0}, WALK_RUN),  # coach run, all walked
        (
            {"imported": True, "plan_kind": "laps", "imported_from": {"sport": "walking"}},
            {"walk": 10, "run": 500},
            WALK,
        ),
        (
            {"imported": True, "plan_kind": "laps", "imported_from": {"sport": "running"}},
            {"walk": 600, "run": 0},
            WALK_RUN,
        ),
        ({"imported": True, "plan_kind": "segments"}, {"walk": 1000, "run": 50}, WALK),  # 4.8 % running
        ({"imported": True, "plan_kind": "segments"}, {"walk": 1000, "run": 60}, WALK_RUN),  # 5.7 %
        ({"imported": True, "plan_kind": "segments"}, {"walk": 0, "run": 0}, WALK_RUN),  # nothing detected
        ({"imported": True, "plan_kind": "programme", "sport": "walking"}, {"walk": 600}, WALK_RUN),
    ],
    ids=[
        "coach walk",
        "coach run",
        "FIT walking",
        "FIT running",
        "mostly walked",
        "some running",
        "none",
        "imported as a stage",
    ],
)
def test_what_a_session_was_is_decided_once(
    start: dict[str, Any], by_mode: dict[str, float], kind: str
) -> None:
    assert session_activity_kind(start, by_mode) == kind


# ------------------------------------------------------------------------------------------------ hand-made walks


def walk_records(
    sid: str, started: datetime, brisk_min: float, *, easy_min: float = 5.0
) -> list[dict[str, Any]]:
    """A real `coach walk` folder: ``easy_min`` minutes at 90 steps/min around ``brisk_min`` at 112."""
    brisk_s, easy_s = int(brisk_min * 60), int(easy_min * 60)
    plan = walk_plan(brisk_min, step_name=None)
    recs: list[dict[str, Any]] = [
        {
            "t": 0.0,
            "kind": "session_start",
            "format": "coach-events",
            "version": 1,
            "session_id": sid,
            "started_at": started.isoformat().replace("+00:00", "Z"),
            "programme": None,
            "programme_title": "Brisk walk",
            "stage": None,
            "stage_title": plan.stage_title,
            "activity": "walk",
            "walk_step": None,
            "source": "ble:name=Polar H10 (hand-written walk)",
            "speed": 1.0,
            "demo": False,
            "plan": [i.as_record() for i in plan.intervals],
            "planned_duration_s": plan.duration_s,
        }
    ]
    total = brisk_s + easy_s
    for k in range(total):
        brisk = easy_s // 2 <= k < easy_s // 2 + brisk_s
        recs.append(
            {
                "t": k + 0.5,
                "kind": "gait",
                "mode": "walk",
                "cadence_spm": 112.0 if brisk else 90.0,
                "hr_bpm": 105.0 if brisk else 88.0,
                "hr_samples": 1,
                "hr_rejected": 0,
            }
        )
    recs.append({"t": float(total), "kind": "session_end", "reason": "completed", "duration_s": float(total)})
    return recs


def _pain(data: Path, sid: str, **scores: float) -> None:
    from coach.store.index import sync

    with Database.in_dir(data) as db:
        sync(db, data)
        for when, score in scores.items():
            db.add_pain(score, when.replace("_", "-"), session_id=sid)


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


MONDAY = date(2026, 11, 2)


def test_a_runner_at_the_walking_base_gets_walks_routine_moving_and_rest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for _k, (day, minutes) in enumerate(((0, 16), (2, 17))):  # two good W1 walks, Monday and Wednesday
        sid = f"2026110{2 + day}T080000Z"
        write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=day)), minutes))
        _pain(data, sid, before=1, after=1, next_morning=1)
    _run("plan", "--injury", "sprain-mild", "--data-dir", str(data))
    out = _run("plan", "--as-of", "2026-11-05", "--data-dir", str(data))  # Thursday
    assert "Current stage: walking base W2 (before stage 1)" in out, out
    assert "Next session: walking base W2, a walk with 20 min at brisk cadence:" in out
    assert "coach walk --step W2 --sensor ..." in out
    assert (
        "W2: 20 brisk minutes, 2 times with pain 0-2/10 settled by the next morning; 2 more before W3." in out
    )
    days = [
        ln.strip()
        for ln in out.splitlines()
        if ln.startswith("  ") and ln.strip()[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    ]
    # the last walk was Wednesday: the next one on Friday, then every other day; the days between for the routine
    assert days == [
        "Thu 2026-11-05  mobility + strength routine: coach exercise gentle-mobility, coach exercise trunk-strength; move: an easy walk, a swim or a ride, with "
        "only mild discomfort",
        "Fri 2026-11-06  walking base W2: a walk with 20 min at brisk cadence (coach walk)",
        "Sat 2026-11-07  mobility + strength routine: coach exercise gentle-mobility, coach exercise trunk-strength; move: an easy walk, a swim or a ride, with "
        "only mild discomfort",
        "Sun 2026-11-08  walking base W2: a walk with 20 min at brisk cadence (coach walk)",
        "Mon 2026-11-09  mobility + strength routine: coach exercise gentle-mobility, coach exercise trunk-strength; move: an easy walk, a swim or a ride, with "
        "only mild discomfort",
        "Tue 2026-11-10  walking base W2: a walk with 20 min at brisk cadence (coach walk)",
        "Wed 2026-11-11  rest (gentle mobility only if it helps)",
    ], out
    # 21 + 22 minutes walked this week (each walk has 5 easy minutes), 16 + 17 of them brisk
    assert (
        "Moving this week (since Monday 2026-11-02): 43 min moving: walks 43 min (2), run/walk sessions 0 min (0); 33 min brisk walking."
        in out
    ), out
    assert (
        "Healing time: week 1 since your first session (2026-11-02); a mild sprain (muscle or ligament) typically takes 4-6 weeks: you are before that window"
        in out
    )
    assert (
        "After W2: W3 (25 min), W4 (30 min), then stage 1 (1 min jog / 4 min walk), 30:00, once you have walked 30 minutes at brisk cadence twice"
        in out
    )
    assert "Stage 1 after the walking base with: coach run --programme back-pain --stage 1" in out


def test_the_gate_opens_after_30_brisk_minutes_twice_and_says_why_not_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    walks = [(0, 26), (2, 26), (4, 31), (6, 31)]
    for day, minutes in walks[:3]:
        sid = f"202611{2 + day:02d}T080000Z"
        write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=day)), minutes))
        _pain(data, sid, before=1, after=1, next_morning=1)
    sid = "20261108T080000Z"
    write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=6)), 22))  # too little brisk time
    _pain(data, sid, before=1, after=1, next_morning=1)
    out = _run("plan", "--as-of", "2026-11-09", "--data-dir", str(data))
    assert "Current stage: walking base W4" in out
    assert (
        "Not yet: your walk on 2026-11-08 had 22 minutes at brisk cadence (100 steps/min or more); W4 asks for 30."
        in out
    ), out
    sid = "20261110T080000Z"
    write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=8)), 31))
    _pain(data, sid, before=1, after=3, next_morning=1)  # pain 3/10 after: above the safe 2/10
    out = _run("plan", "--as-of", "2026-11-11", "--data-dir", str(data))
    assert "Not yet: pain reached 3/10 during or after your walk on 2026-11-10" in out, out
    sid = "20261112T080000Z"
    write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=10)), 30.5))
    _pain(data, sid, before=1, after=1, next_morning=0)
    out = _run("plan", "--as-of", "2026-11-13", "--data-dir", str(data))
    assert "Current stage: not started" in out and "Next session: stage 1 (1 min jog / 4 min walk)" in out, (
        out
    )
    assert "Ready for stage 1: 2 times 30 minutes or more at brisk cadence" in out
    assert "Fri 2026-11-13  run stage 1 (1 min jog / 4 min walk), 30:00 (coach run)" in out, out


def _stage_session(data: Path, day: date, stage: int) -> str:
    sid = day.strftime("%Y%m%d") + "T073000Z"
    recs = hand_records(sid)
    recs[0].update(stage=stage, started_at=_at(day, 7).isoformat().replace("+00:00", "Z"))
    write_folder(data, recs)
    _pain(data, sid, before=1, after=2, next_morning=1)
    return sid


def test_a_runner_at_stage_3_keeps_stage_3_and_gets_run_days_a_day_apart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for day, stage in ((0, 2), (2, 2), (4, 3)):  # Mon, Wed stage 2; Fri stage 3: no walks at all
        _stage_session(data, MONDAY + timedelta(days=day), stage)
    sid = "20261107T080000Z"  # a Saturday walk: moving minutes, not the walking base (the runner is past it)
    write_folder(data, walk_records(sid, _at(MONDAY + timedelta(days=5)), 40))
    _run("plan", "--injury", "disc-mild", "--data-dir", str(data))
    out = _run("plan", "--as-of", "2026-11-07", "--data-dir", str(data))
    assert "walking base" not in out.split("The week ahead")[0].lower().replace(
        "walking base w1-w4 first", ""
    ), out
    assert "Current stage: 3 (2 min jog / 3 min walk)" in out
    assert "Next session: stage 3 (2 min jog / 3 min walk), 30:00:" in out
    assert "1 more at stage 3" in out
    days = [
        ln.strip()[:14] + " " + ln.strip().split("  ")[1].split(" ")[0]
        for ln in out.splitlines()
        if ln.startswith("  ") and ln.strip()[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    ]
    # Friday's run: Saturday is a routine day, then runs Sunday, Tuesday and Thursday; Friday rests
    assert days == [
        "Sat 2026-11-07 mobility",
        "Sun 2026-11-08 run",
        "Mon 2026-11-09 mobility",
        "Tue 2026-11-10 run:",
        "Wed 2026-11-11 mobility",
        "Thu 2026-11-12 run:",
        "Fri 2026-11-13 rest",
    ], out
    assert "[done: walk 45:00]" in out  # the Saturday walk is today's
    assert "Sun 2026-11-08  run stage 3 (2 min jog / 3 min walk), 30:00 (coach run)" in out
    assert "Tue 2026-11-10  run: the stage coach plan gives after the run before (now stage 3)" in out
    # 3 x 2:20 of hand-written run/walk sessions + a 45-minute walk (40 brisk) + the run/walk sessions' brisk walking
    assert (
        "Moving this week (since Monday 2026-11-02): 52 min moving: walks 45 min (1), run/walk sessions 7 min (3)"
        in out
    ), out
    assert (
        "Healing time: week 1 since your first session (2026-11-02); a mild disc injury typically takes 8-12 weeks"
        in out
    )
    assert "After stage 3: stage 4 (3 min jog / 2 min walk), once it is done as the rules ask" in out


def test_a_stop_decision_plans_no_runs() -> None:
    stop = Decision("stop", 2, ("Pain went above 5/10 in 2 sessions in a row.", "See your physio."))
    week = build_week(
        today=date(2026, 11, 9),
        decision=stop,
        stage_text="stage 2 (x), 30:00",
        gate=None,
        key_days=[date(2026, 11, 8)],
        sessions=[],
        first_day=date(2026, 10, 1),
        injury=None,
    )
    assert not [d for d in week.days if d.kind == "run"]
    assert any("see your physio" in " ".join(d.todo) for d in week.days)
    assert week.next_steps[0].startswith("See your physio before the next run")


@pytest.mark.parametrize("last_key", [None, 0, 1, 2, 5])
def test_key_days_are_a_day_apart_three_a_week_with_a_rest_day(last_key: int | None) -> None:
    today = date(2026, 11, 9)
    gate = WalkingBaseDecision(False, 2, 20.0, 1, ("W2.",))
    week = build_week(
        today=today,
        decision=Decision("start", 1, ("First session.",)),
        stage_text="stage 1 (x), 30:00",
        gate=gate,
        key_days=[] if last_key is None else [today - timedelta(days=last_key)],
        sessions=[],
        first_day=None,
        injury=None,
    )
    keys = [d.day for d in week.days if d.kind == "walk"]
    assert 1 <= len(keys) <= KEY_SESSIONS_PER_WEEK
    gaps = [(b - a).days for a, b in itertools.pairwise(keys)]
    assert all(g >= DAYS_BETWEEN_KEY_SESSIONS for g in gaps)
    if last_key is not None:
        assert (keys[0] - (today - timedelta(days=last_key))).days >= DAYS_BETWEEN_KEY_SESSIONS
    assert sum(1 for d in week.days if d.kind == "rest") == 1
    assert len(week.days) == 7 and week.days[0].day == today


@pytest.mark.parametrize(
    ("weeks_in", "where"), [(2, "before that window"), (5, "within that window"), (9, "past that window")]
)
def test_the_healing_window_against_the_weeks_since_the_start(weeks_in: int, where: str) -> None:
    first = date(2026, 9, 1)
    line = healing_line("sprain-mild", first, first + timedelta(weeks=weeks_in))
    assert f"week {weeks_in + 1} since your first session" in line and where in line
    assert "injury category" in healing_line(None, first, first)


def test_weekly_moving_minutes_count_walks_and_whole_run_walk_sessions() -> None:
    sessions = [
        MovingSession(date(2026, 11, 2), "walk", 1800.0, 1500.0),
        MovingSession(date(2026, 11, 4), "run", 2100.0, 600.0),
        MovingSession(date(2026, 11, 17), "walk", 600.0, None),  # no cadence: no brisk minutes
    ]
    weeks = weekly_moving(sessions)
    assert [w.week_start for w in weeks] == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    first, empty, third = weeks
    assert (first.moving_min, first.walk_min, first.run_session_min, first.brisk_min) == (
        65.0,
        30.0,
        35.0,
        35.0,
    )
    assert (first.sessions, first.walks) == (2, 1)
    assert empty.sessions == 0 and empty.text() == "no sessions"
    assert (third.moving_min, third.brisk_min) == (10.0, 0.0)


# ------------------------------------------------------------------------------------------------ coach walk


def test_coach_walk_end_to_end_records_brisk_minutes_and_heart_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with sessions_on_virtual_time(monkeypatch):
        result = CliRunner().invoke(
            cli,
            [
                "walk",
                "--sensor",
                f"replay:{FIXTURE}",
                "--minutes",
                "2",
                "--speed",
                "5",
                "--loop",
                "--voice",
                "text",
                "--data-dir",
                str(data),
            ],
        )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "[cue] Easy walk for three minutes." in out and "[cue] Brisk walk for two minutes." in out, out
    assert "[cue] Brisk walk in ten seconds." in out and "[cue] Cool-down in ten seconds." in out, out
    folder = next((data / "sessions").iterdir())
    start = json.loads((folder / "events.jsonl").open().readline())
    assert (start["activity"], start["programme"], start["stage"]) == ("walk", None, None)
    assert [(p["label"], p["duration_s"]) for p in start["plan"]] == [
        ("easy start", 180.0),
        ("brisk", 120.0),
        ("cool-down", 120.0),
    ]
    report = json.loads(_run("report", "latest", "--json", "--data-dir", str(data)))
    m = report["summary"]
    assert report["session"]["activity"] == "walk"
    # the recording walks at about 109 steps/min for minutes at a time: brisk seconds are there, and no more
    # than the seconds detected as walking
    assert 60.0 <= m["brisk_walk_s"] <= m["seconds_by_mode"]["walk"]
    assert m["hr_mean_bpm"] is not None
    line = next(ln for ln in out.splitlines() if "walked;" in ln)
    assert f"{m['brisk_walk_s'] / 60:.0f} min at brisk cadence (100 steps/min or more; aim 2)" in line, line
    assert "heart rate mean" in line
    rows = json.loads(_run("history", "--json", "--data-dir", str(data)))
    assert rows[0]["activity"] == "walk" and rows[0]["brisk_walk_min"] == round(m["brisk_walk_s"] / 60, 1)


def test_coach_walk_bad_step_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["walk", "--sensor", f"replay:{FIXTURE}", "--step", "W9", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code != 0
    assert "no walking-base step 'W9' (the steps are W1, W2, W3, W4)" in str(
        result.exception or result.output
    )


def test_history_and_the_physio_summary_show_walks_and_moving_minutes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_folder(data, walk_records("20261102T080000Z", _at(MONDAY), 16))  # 21 min, 16 brisk
    _pain(data, "20261102T080000Z", before=1, after=1, next_morning=1)
    _stage_session(data, MONDAY + timedelta(days=9), 1)  # someone who went on to stage 1 (2:20, hand-written)
    history = _run("history", "--data-dir", str(data))
    walk = next(ln for ln in history.splitlines() if ln.endswith("20261102T080000Z"))
    assert " walk " in walk and " live " in walk, history
    assert (
        "  week of 2026-11-02: 21 min moving: walks 21 min (1), run/walk sessions 0 min (0); 16 min brisk walking"
        in history
    )
    assert "  week of 2026-11-09: 2 min moving: walks 0 min (0), run/walk sessions 2 min (1)" in history, (
        history
    )
    summary = json.loads(_run("summary", "--json", "--as-of", "2026-11-18", "--data-dir", str(data)))
    assert [(w["week_start"], w["moving_min"], w["walk_min"], w["brisk_min"]) for w in summary["moving"]] == [
        ("2026-11-02", 21.0, 21.0, 16.0),
        ("2026-11-09", 2.3, 0.0, summary["moving"][1]["brisk_min"]),
        ("2026-11-16", 0.0, 0.0, 0.0),  # up to the week of --as-of, an empty week included
    ]
    walk_row = summary["sessions"][0]
    assert (walk_row["activity"], walk_row["brisk_walk_min"]) == ("walk", 16.0)
    # a walk has no running cadence or walk break after a run to miss
    assert not any("2026-11-02" in gap for gap in summary["missing"] if "running cadence" in gap), summary[
        "missing"
    ]
    text = _run("summary", "--as-of", "2026-11-18", "--data-dir", str(data))
    assert "  2026-11-02 walk  21 min, 16 brisk  cadence 112  pain 1/1/1" in text, text
    assert "  week of 2026-11-16: no sessions" in text
    page = tmp_path / "summary.html"
    _run("summary", "--html", str(page), "--as-of", "2026-11-18", "--data-dir", str(data))
    html = page.read_text()
    assert "<h2>Moving minutes by week</h2>" in html and "walk, 16 min brisk" in html


@pytest.mark.parametrize(
    ("name", "activity"),
    [("garmin-fenix-5-walk.fit", WALK), ("garmin-fenix-5-run.fit", WALK_RUN)],
)
def test_an_imported_walk_counts_as_a_walk(data_dir: Path, tmp_path: Path, name: str, activity: str) -> None:
    """Real Garmin FIT files: the walk's declared sport makes it a walk, with its brisk minutes; the run is not."""
    from coach.store.importer import import_recording

    data = tmp_path / "data"
    sid, folder, _ = import_recording(data_dir / "garmin-fit" / name, data)
    start = json.loads((folder / "events.jsonl").open().readline())
    report = json.loads(_run("report", sid, "--json", "--data-dir", str(data)))
    assert report["session"]["activity"] == activity, start["imported_from"]
    rows = json.loads(_run("history", "--json", "--data-dir", str(data)))
    assert rows[0]["activity"] == activity
    if activity == WALK:
        assert start["imported_from"]["sport"] == "walking"
        assert rows[0]["brisk_walk_min"] == round(report["summary"]["brisk_walk_s"] / 60, 1) > 0
        assert "walks " in _run("history", "--data-dir", str(data)).split("Moving minutes by week")[1]


BASE_PROGRAMME = """name = "mine"
title = "Mine"
{base}
[[stages]]
title = "s"
session = [{{ walk = "1m" }}, {{ run = "1m" }}]
"""


@pytest.mark.parametrize(
    ("base", "message"),
    [
        (
            "[walking_base]\nbrisk_minutes = [15, 15]",
            "mine.toml: walking_base.brisk_minutes, entry 2: each step walks longer",
        ),
        (
            "[walking_base]\nbrisk_minutes = []",
            "mine.toml: walking_base.brisk_minutes: expected a non-empty array",
        ),
        (
            "[walking_base]\nbrisk_minutes = [0.5]",
            "mine.toml: walking_base.brisk_minutes, entry 1: must be between 1 and 240",
        ),
        (
            '[walking_base]\nbrisk_minutes = ["15m"]',
            "mine.toml: walking_base.brisk_minutes, entry 1: expected a number",
        ),
        ("[walking_base]\nminutes = [15]", "mine.toml: walking_base.minutes: unknown field"),
        ("[walking_base]\nnotes = 'x'", "mine.toml: walking_base: missing field 'brisk_minutes'"),
    ],
    ids=["not increasing", "empty", "too short", "a string", "unknown field", "missing"],
)
def test_a_broken_walking_base_is_one_line_naming_file_and_field(base: str, message: str) -> None:
    from coach.errors import ProgrammeError
    from coach.plan.programme import parse_programme

    with pytest.raises(ProgrammeError) as info:
        parse_programme(BASE_PROGRAMME.format(base=base), "mine.toml")
    assert str(info.value).startswith(message) and "\n" not in str(info.value), str(info.value)


def test_the_walking_base_steps_are_named_not_numbered() -> None:
    from coach.plan.programme import load_programme, parse_programme

    prog = load_programme("back-pain")
    assert prog.walking_base is not None and prog.walking_base.brisk_minutes == (15.0, 20.0, 25.0, 30.0)
    assert [s.number for s in prog.stages] == list(range(1, 11))  # the running stages keep their numbers
    assert prog.walking_base.step_number("w3") == 3 and prog.walking_base.ready_minutes == 30.0
    assert load_programme("couch-to-5k").walking_base is None
    plain = parse_programme(BASE_PROGRAMME.format(base=""), "mine.toml")
    assert plain.walking_base is None


def test_rows_indexed_by_an_older_coach_are_indexed_again_once(tmp_path: Path) -> None:
    """Migration: a row without activity and brisk minutes (indexed before they existed) is read again from its
    folder; its stage and pain stay as they were."""
    from coach.store.index import row_activity, row_brisk_s, sync

    data = tmp_path / "data"
    sid = "20261102T080000Z"
    write_folder(data, walk_records(sid, _at(MONDAY), 16))
    _pain(data, sid, after=1)
    with Database.in_dir(data) as db:
        old = {
            k: v
            for k, v in json.loads(db.session(sid)["summary_json"]).items()
            if k not in ("activity", "brisk_walk_s")
        }
        with db.transaction() as c:
            c.execute("UPDATE sessions SET summary_json = ? WHERE id = ?", (json.dumps(old), sid))
        assert row_activity(db.session(sid)) == WALK_RUN  # what an old row looks like: no activity kept
        sync(db, data)
        row = db.session(sid)
        assert row_activity(row) == WALK and row_brisk_s(row) == 16 * 60.0
        assert [e.score for e in db.pain(sid)] == [1.0]


def test_after_a_first_rehearsal_the_next_step_is_the_walking_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new back-pain runner's first session (here a replayed rehearsal of stage 1): the end-of-run summary, the
    text report and the page say what `coach plan` says, a walking-base walk, not "start at stage 1"."""
    data = tmp_path / "data"
    with sessions_on_virtual_time(monkeypatch):
        out = _run(
            "run",
            "--sensor",
            f"replay:{FIXTURE}",
            "--programme",
            "back-pain",
            "--stage",
            "1",
            "--speed",
            "100",
            "--voice",
            "none",
            "--data-dir",
            str(data),
        )
    assert "next: walking base W1, a walk with 15 min at brisk cadence (coach walk)" in out, out
    assert "next: stage 1" not in out
    report = _run("report", "latest", "--data-dir", str(data))
    assert "next: walking base W1" in report
    html = tmp_path / "r.html"
    _run("report", "latest", "--html", str(html), "--data-dir", str(data))
    assert "Next session: walking base W1, a walk with 15 min at brisk cadence" in html.read_text()
    assert "Current stage: walking base W1" in _run("plan", "--data-dir", str(data))
