"""The post-run report: numbers recomputed independently from the events, interrupted sessions, HTML, export."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fitdecode
import pytest
from lxml import etree

from coach.errors import InputError
from coach.report.export import fit_cadence_to_spm, to_fit_bytes, to_tcx_bytes
from coach.report.html import render_html
from coach.report.model import build_report, format_text, read_session, session_activity
from coach.store.database import Database
from coach.store.index import index_session, pending_pain_prompts, report_for, sync
from tests.after_run_helpers import hand_records, write_folder
from tests.realdata import TCX_SCHEMA

REPO = Path(__file__).resolve().parents[1]
#: The report rounds cadence, heart rate and times to 0.1 (coach/report/model.py ``_r``): a recomputed mean may differ by
#: half that step, and by a float's last bit more (0.05 exactly failed on a busy machine).
ROUNDED_TO_0_1 = 0.05 + 1e-6
ROUNDED_TO_1 = 0.5 + 1e-6


def _gait(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "gait"]


def _seconds(records: list[dict[str, Any]], after_run: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The seconds the report's figures should use: the gait records, or with an after-run file its seconds (mode,
    cadence) with the heart rate of the gait record of the same second (same time to the millisecond)."""
    gait = _gait(records)
    if after_run is None:
        return gait
    hr = {round(g["t"], 3): g["hr_bpm"] for g in gait}
    return [{**a, "hr_bpm": hr.get(round(a["t"], 3))} for a in after_run]


def _after_run_file(folder: Path) -> list[dict[str, Any]] | None:
    """The seconds of the folder's after-run.jsonl, read here on their own (None without the file)."""
    path = folder / "after-run.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()[1:]] if path.is_file() else None


def _check_against_events(
    report: dict[str, Any], records: list[dict[str, Any]], after_run: list[dict[str, Any]] | None = None
) -> int:
    """Recompute every interval's numbers straight from the events (and the after-run file, when the session has
    one); return how many intervals were checked."""
    starts = {r["index"]: r["t"] for r in records if r["kind"] == "interval_start"}
    ends = {r["index"]: r for r in records if r["kind"] == "interval_end"}
    gait = _seconds(records, after_run)
    checked = 0
    for iv in report["intervals"]:
        i = iv["index"]
        if i not in starts:
            assert iv["status"] == "not reached"
            continue
        lo = starts[i]
        hi = ends[i]["t"] if i in ends else max(r["t"] for r in records) + 1.0
        inside = [g for g in gait if lo <= g["t"] < hi]
        cads = [g["cadence_spm"] for g in inside if g["cadence_spm"] is not None]
        hrs = [g["hr_bpm"] for g in inside if g["hr_bpm"] is not None]
        if cads:
            assert iv["cadence_mean_spm"] == pytest.approx(sum(cads) / len(cads), abs=ROUNDED_TO_0_1)
            sd = statistics.pstdev(cads) if len(cads) > 1 else 0.0
            assert iv["cadence_sd_spm"] == pytest.approx(sd, abs=ROUNDED_TO_0_1)
        else:
            assert iv["cadence_mean_spm"] is None
        if hrs:
            assert iv["hr_mean_bpm"] == pytest.approx(sum(hrs) / len(hrs), abs=ROUNDED_TO_0_1)
            assert iv["hr_max_bpm"] == pytest.approx(max(hrs), abs=ROUNDED_TO_1)
        # adherence and time to comply: each detected second counted by its own time (not when it reached the
        # coach live, which lags); a walk interval is not followed by standing still
        want = "run" if iv["activity"] == "run" else "walk"
        known = [g for g in inside if g["mode"] in ("walk", "run", "still")]
        if known:
            share = sum(g["mode"] == want for g in known) / len(known)
            assert iv["compliant_share"] == pytest.approx(share, abs=1e-3)
            first = next(
                (
                    g["t"]
                    for k, g in enumerate(inside)
                    if [h["mode"] for h in inside[k : k + 3]] == [want] * 3
                ),
                None,
            )
            assert iv["time_to_comply_s"] == (
                None if first is None else pytest.approx(first - lo, abs=ROUNDED_TO_0_1)
            )
        if i in ends:
            assert iv["live"]["adherence"] == ends[i]["adherence"]  # what the coach measured live, kept
        checked += 1
    # the series and the histogram are the gait records, nothing more, nothing less
    assert report["series"]["t_s"] == pytest.approx([g["t"] for g in gait], abs=1e-3)
    hist = report["cadence_histogram"]
    for mode in ("walk", "run"):
        n = sum(1 for g in gait if g["mode"] == mode and g["cadence_spm"] is not None)
        assert sum(hist[mode]) == n
    return checked


def test_hand_built_session_numbers_match_the_events(tmp_path: Path) -> None:
    records = hand_records()
    report = build_report(read_session(write_folder(tmp_path, records)))
    assert _check_against_events(report, records) == 4
    assert report["session"]["complete"] is True
    ivs = report["intervals"]
    assert [iv["detected"] for iv in ivs] == ["walk", "run", "walk", "run"]
    # HR recovery needs 60 s of walk (its second window is 50-60 s in): this 40 s walk after a run has none
    assert ivs[2]["end_s"] - ivs[2]["start_s"] < 60 and ivs[2]["hr_recovery_bpm"] is None
    assert ivs[0]["hr_recovery_bpm"] is None  # the warm-up follows no run
    assert report["summary"]["hr_share_rejected"] == 0.0
    # overall: walk/run cadence medians over the detected seconds
    gait = _gait(records)
    walk_cad = [g["cadence_spm"] for g in gait if g["mode"] == "walk"]
    assert report["summary"]["cadence_walk_spm"] == pytest.approx(statistics.median(walk_cad), abs=0.05)
    assert report["summary"]["cues_spoken"] == 1
    assert report["summary"]["cue_latency_median_s"] == pytest.approx(0.5)


def test_torn_last_line_is_skipped_and_a_bad_middle_line_is_an_error(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, hand_records())
    events = folder / "events.jsonl"
    whole = build_report(read_session(folder))
    events.write_text(events.read_text() + '{"t": 141.0, "kind": "ga')
    torn = build_report(read_session(folder))
    assert any("torn last line" in w for w in torn["warnings"])
    assert torn["intervals"] == whole["intervals"]
    lines = events.read_text().split("\n")
    lines[5] = "{not json"
    events.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(InputError, match=r"events.jsonl:6: bad events record"):
        read_session(folder)


def test_interrupted_session_is_reported_as_far_as_it_went(tmp_path: Path) -> None:
    records = hand_records(stop_at=50.0)
    report = build_report(read_session(write_folder(tmp_path, records, summary_complete=False)))
    assert report["session"]["complete"] is False
    assert report["session"]["end_reason"] == "interrupted"
    assert [iv["status"] for iv in report["intervals"]] == [
        "completed",
        "stopped",
        "not reached",
        "not reached",
    ]
    run = report["intervals"][1]
    gait = [g for g in _gait(records) if 30 <= g["t"] < 50]
    known = [g for g in gait if g["mode"] != "unknown"]
    assert run["compliant_share"] == pytest.approx(
        sum(g["mode"] == "run" for g in known) / len(known), abs=1e-3
    )
    assert run["time_to_comply_s"] == pytest.approx(
        6.25, abs=0.06
    )  # first of 3 running seconds in a row, from the start
    assert _check_against_events(report, records) == 2
    assert any("did not finish" in w for w in report["warnings"])


def _html_checks(html: str) -> None:
    assert html.count("<svg") >= 5  # cadence, HR, histogram, pain, trend
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)


def test_html_has_the_plots_and_escapes_user_text(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, hand_records())
    with Database.in_dir(tmp_path) as db:
        sid = index_session(db, folder)
        db.add_pain(3, "after", session_id=sid, note="<script>alert(1)</script>")
        db.add_pain(2, "before", session_id=sid)
        html = render_html(report_for(db, sid))
    _html_checks(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Stage &lt;1&gt; &amp; &quot;test&quot;" in html  # the stage title from the file, escaped too
    # planned intervals shaded: one rect per interval in each time plot, with the planned activity's colour
    assert html.count('fill="#fed7aa"') >= 4 and html.count('fill="#dbeafe"') >= 4


def test_pending_pain_prompts(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, hand_records())
    started = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    with Database.in_dir(tmp_path) as db:
        sid = index_session(db, folder)
        soon = pending_pain_prompts(db, started + timedelta(hours=1))
        assert len(soon) == 1 and "--when after" in soon[0]
        db.add_pain(2, "after", session_id=sid, now=started + timedelta(hours=1))
        assert pending_pain_prompts(db, started + timedelta(hours=2)) == []
        tomorrow = pending_pain_prompts(db, started + timedelta(days=1))
        assert len(tomorrow) == 1 and f"--when next-morning --session {sid}" in tomorrow[0]
        db.add_pain(1, "next-morning", session_id=sid, now=started + timedelta(days=1))
        assert pending_pain_prompts(db, started + timedelta(days=1, hours=1)) == []
        assert pending_pain_prompts(db, started + timedelta(days=5)) == []  # too old to ask about


def _round_trip(folder: Path) -> None:
    session = read_session(folder)
    activity = session_activity(session)
    gait = _seconds(session.records, _after_run_file(folder))  # the export is the report's seconds
    assert len(activity.records) == len(gait) > 0
    started = [r for r in session.records if r["kind"] == "interval_start"]
    assert len(activity.laps) == len(started)
    with fitdecode.FitReader(
        io.BytesIO(to_fit_bytes(activity)), check_crc=fitdecode.CrcCheck.ENABLED
    ) as reader:
        frames = [f for f in reader if isinstance(f, fitdecode.FitDataMessage)]
    recs = [f for f in frames if f.name == "record"]
    assert len(recs) == len(gait)
    for frame, g in zip(recs, gait, strict=True):
        hr = frame.get_value("heart_rate") if frame.has_field("heart_rate") else None
        assert hr == (None if g["hr_bpm"] is None else round(g["hr_bpm"]))
        cad = frame.get_value("cadence") if frame.has_field("cadence") else None
        if g["cadence_spm"] is None and g["mode"] == "still":
            assert cad == 0  # standing, as a watch writes it (STILL_CADENCE_SPM)
        elif g["cadence_spm"] is None:
            assert cad is None
        else:
            spm = fit_cadence_to_spm(cad, frame.get_value("fractional_cadence"))
            assert spm == pytest.approx(g["cadence_spm"], abs=2 / 128)
    laps = [f for f in frames if f.name == "lap"]
    assert [lap.get_value("intensity") for lap in laps] == [
        "active" if r["activity"] == "run" else "rest" for r in started
    ]
    tcx = to_tcx_bytes(activity)
    doc = etree.fromstring(tcx)
    etree.XMLSchema(etree.parse(str(TCX_SCHEMA))).assertValid(doc)
    ns = {
        "t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2",
        "x": "http://www.garmin.com/xmlschemas/ActivityExtension/v2",
    }
    points = doc.findall(".//t:Trackpoint", ns)
    in_laps = [g for g in gait if any(lap.start_s <= g["t"] < lap.end_s for lap in activity.laps)]
    assert len(points) >= len(in_laps) - 1
    for tp in points:
        t = datetime.fromisoformat(tp.findtext("t:Time", namespaces=ns).replace("Z", "+00:00"))
        g = min(
            gait, key=lambda r: abs((activity.start_time + timedelta(seconds=r["t"]) - t).total_seconds())
        )
        rc = tp.findtext(".//x:RunCadence", namespaces=ns)
        if g["cadence_spm"] is None and g["mode"] == "still":
            assert rc == "0"  # standing
        else:
            assert (rc is None) == (g["cadence_spm"] is None)
        if rc is not None and g["cadence_spm"] is not None:
            assert int(rc) == round(g["cadence_spm"] / 2)
        hr = tp.findtext("t:HeartRateBpm/t:Value", namespaces=ns)
        assert (None if hr is None else int(hr)) == (None if g["hr_bpm"] is None else round(g["hr_bpm"]))


def test_fit_and_tcx_round_trip_of_a_hand_built_session(tmp_path: Path) -> None:
    _round_trip(write_folder(tmp_path, hand_records()))


# ---------------------------------------------------------------------------- sessions made by the real runner


@pytest.fixture(scope="module")
def runner_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `coach demo` session (complete) and a `coach run` whose replay ends early (incomplete), both run by
    :func:`coach.session.runner.run_session` in-process on virtual time (tests/virtual_time.py)."""
    from coach.cli.run_cmd import demo_options
    from coach.session.runner import SessionOptions, run_session
    from tests.virtual_time import LoopClock, run

    data = tmp_path_factory.mktemp("coach-data")
    quiet = {"display": False, "keys": False, "echo": lambda line: None, "clock": LoopClock()}
    demo, _ = demo_options(voice="none", audio_out=None, data_dir=data)
    run(run_session(dataclasses.replace(demo, **quiet)))
    replay = SessionOptions(
        sensor=f"replay:{REPO / 'fixtures' / 'chest-walk-jog-walk-hexoskin-008.jsonl'}",
        programme="back-pain",
        stage=1,
        speed=100.0,
        voice="none",
        data_dir=data,
        **quiet,  # type: ignore[arg-type]
    )
    run(run_session(replay))
    return data


@pytest.mark.slow
def test_runner_sessions_report_numbers_match_the_events(runner_sessions: Path) -> None:
    folders = sorted((runner_sessions / "sessions").iterdir())
    assert len(folders) == 2
    complete = []
    for folder in folders:
        session = read_session(folder)
        report = build_report(session)
        after_run = _after_run_file(folder)
        assert after_run and session.after_run == after_run and report["session"]["estimator"] == "after-run"
        assert _check_against_events(report, session.records, after_run) >= 2
        complete.append(report["session"]["complete"])
        _round_trip(folder)
        # overall adherence: the interval shares weighted by duration (seconds with no signal count neither way)
        weighted = [
            (iv["compliant_share"], iv["actual_duration_s"])
            for iv in report["intervals"]
            if iv["compliant_share"] is not None and iv["actual_duration_s"]
        ]
        if weighted:
            expected = sum(a * w for a, w in weighted) / sum(w for _, w in weighted)
            assert report["summary"]["adherence"] == pytest.approx(expected, abs=1e-3)
        # what the coach printed live (summary.json) counts a second when it reached the coach: close, not equal
        summary = session.summary or {}
        if summary.get("adherence") is not None:
            assert report["summary"]["adherence"] == pytest.approx(summary["adherence"], abs=0.1)
    assert complete == [True, False]  # the demo finishes; the 5-minute replay ends inside a 30-minute plan
    with Database.in_dir(runner_sessions) as db:
        sync(db, runner_sessions)
        rows = db.sessions()
        assert [bool(r["completed"]) for r in rows] == [True, False]
        db.add_pain(7, "after", session_id=rows[0]["id"], note="<b>sharp</b>")
        html = render_html(report_for(db, rows[1]["id"]))
    _html_checks(html)
    assert "&lt;b&gt;sharp&lt;/b&gt;" not in html  # that note is the other session's
    assert "incomplete" in html


def test_html_header_shows_the_recording_file_name_not_the_machine_path(tmp_path: Path) -> None:
    from coach.report.html import short_source

    records = hand_records()
    records[0]["source"] = (
        "replay:/home/someone/projects/coach/fixtures/chest-walk-jog-walk-hexoskin-005.jsonl"
    )
    folder = write_folder(tmp_path, records)
    with Database.in_dir(tmp_path) as db:
        sid = index_session(db, folder)
        model = report_for(db, sid)
    html = render_html(model)
    assert "source replay: chest-walk-jog-walk-hexoskin-005.jsonl" in html
    assert "/home/someone" not in html
    assert model["session"]["source"] == records[0]["source"]  # the full source stays in the JSON
    assert short_source("ble:name=Polar H10 A1") == "ble:name=Polar H10 A1"
    assert short_source("virtual:C:\\data\\x.jsonl") == "virtual: x.jsonl"
    assert short_source("import:fit:run.fit#sha256=ab") == "import:fit:run.fit#sha256=ab"


def test_intervals_never_followed_are_counted_beside_the_median_time_to_follow(tmp_path: Path) -> None:
    records = hand_records()
    report = build_report(read_session(write_folder(tmp_path, records)))
    never = [
        iv
        for iv in report["intervals"]
        if iv["compliant_share"] is not None and iv["time_to_comply_s"] is None
    ]
    assert report["summary"]["intervals_never_followed"] == len(never)
    # make the last run interval a walk-through: it is then never followed
    starts = {r["index"]: r["t"] for r in records if r["kind"] == "interval_start"}
    ends = {r["index"]: r["t"] for r in records if r["kind"] == "interval_end"}
    last_run = max(iv["index"] for iv in report["intervals"] if iv["activity"] == "run")
    for r in records:
        if r["kind"] == "gait" and starts[last_run] <= r["t"] < ends[last_run]:
            r["mode"] = "walk"
    again = build_report(read_session(write_folder(tmp_path / "b", records)))
    assert again["summary"]["intervals_never_followed"] == len(never) + 1
    assert f"({len(never) + 1} never followed)" in format_text(again)
