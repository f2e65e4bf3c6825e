"""A live session's report uses the after-the-run analysis of its own capture (after-run.jsonl, issue 16).

Real sessions: ``coach run`` replaying the chest walk/jog/walk recording of fixtures/ (Hexoskin subject 008, MIT; see
fixtures/README.md), in-process on virtual time (tests/virtual_time.py). The after-run seconds are checked against
the live ``gait`` records they sit beside, and every figure the report takes from them is recomputed here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.report.html import render_html
from coach.report.model import STILL_CADENCE_SPM, build_report, format_text, read_session, session_activity
from coach.session.adherence import gait_rows
from coach.signal import GaitAnalysis
from coach.signal.io import load_recording
from coach.store.afterrun import AFTER_RUN_FILE, load_after_run
from tests.after_run_helpers import hand_records, write_folder
from tests.virtual_time import sessions_on_virtual_time

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _gait(folder: Path) -> list[dict[str, Any]]:
    return [r for r in _lines(folder / "events.jsonl") if r["kind"] == "gait"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `coach run` of the 5-minute chest recording (a 30-minute stage: the replay ends it), run by the CLI."""
    data = tmp_path_factory.mktemp("coach-data")
    args = ["run", "--sensor", f"replay:{FIXTURE}", "--programme", "back-pain", "--stage", "1"]
    args += ["--speed", "100", "--voice", "none", "--data-dir", str(data)]
    with pytest.MonkeyPatch.context() as mp, sessions_on_virtual_time(mp):
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (folder,) = (data / "sessions").iterdir()
    return folder


def _copy(folder: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "data" / "sessions" / folder.name
    shutil.copytree(folder, dest)
    return dest


def test_the_file_is_written_at_close_on_the_live_seconds(session: Path) -> None:
    path = session / AFTER_RUN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(session.glob(".*.tmp"))  # written through a temp file, renamed
    header, *rows = _lines(path)
    assert header["format"] == "coach-after-run" and header["estimator"] == "after-run"
    assert (
        header["seconds"] == len(rows)
        and header["capture_bytes"] == (session / "capture.jsonl").stat().st_size
    )
    assert all(set(r) == {"t", "mode", "cadence_spm", "steps", "confidence"} for r in rows)
    # the capture's times are the session's: every after-run second is a live gait record's second, and back
    live = _gait(session)
    assert [r["t"] for r in rows] == [g["t"] for g in live]
    # it is the after-the-run analysis of the capture (coach analyze's default), on the session's time base
    rec = load_recording(session / "capture.jsonl")
    analysis = GaitAnalysis().analyze(rec.t_s, rec.xyz_g, foot_pod=rec.foot_pod, heart_rate=rec.heart_rate)
    t0 = float(rec.t_s[0])
    assert [r["t"] for r in rows] == pytest.approx([row["t"] + t0 for row in analysis.timeline_], abs=2e-3)
    assert [r["mode"] for r in rows] == [row["mode"] for row in analysis.timeline_]
    assert sum(r["steps"] for r in rows) == len(analysis.steps_)
    # and not the live timeline: the estimators differ on this recording (the after-run one knows a bout at once)
    assert [r["mode"] for r in rows] != [g["mode"] for g in live]
    assert live[0]["mode"] == "unknown" and rows[0]["mode"] == "walk"


def test_summary_and_report_use_it_and_differ_from_live_only_where_the_estimators_do(session: Path) -> None:
    _, *after = _lines(session / AFTER_RUN_FILE)
    live = _gait(session)
    summary = json.loads((session / "summary.json").read_text())
    assert summary["estimator"] == "after-run" and summary["files"]["after_run"] == AFTER_RUN_FILE
    folder = read_session(session)
    report = build_report(folder)
    as_live = build_report(dataclasses.replace(folder, after_run=None))
    assert report["session"]["estimator"] == "after-run" and as_live["session"]["estimator"] == "live"
    assert "cadence and walk/run: after the run" in format_text(report)
    assert "cadence and walk/run: as measured live" in format_text(as_live)
    assert "steps/min, after the run" in render_html(report)
    assert "steps/min, as measured live" in render_html(as_live)
    # the whole session: seconds by mode are the after-run file's, the live report's the gait records'
    assert {k: v for k, v in report["summary"]["seconds_by_mode"].items() if v} == dict(
        Counter(r["mode"] for r in after)
    )
    assert {k: v for k, v in as_live["summary"]["seconds_by_mode"].items() if v} == dict(
        Counter(g["mode"] for g in live)
    )
    # heart rate is the gait records' (cleaned live) in both
    assert report["series"]["hr_bpm"] == as_live["series"]["hr_bpm"] == [g["hr_bpm"] for g in live]
    assert report["summary"]["hr_mean_bpm"] == as_live["summary"]["hr_mean_bpm"]
    assert report["series"]["cadence_spm"] == [r["cadence_spm"] for r in after]
    differ = 0
    for iv, iv_live in zip(report["intervals"], as_live["intervals"], strict=True):
        if iv["start_s"] is None:
            continue
        inside = (iv["start_s"], iv["end_s"])
        a = [(r["mode"], r["cadence_spm"]) for r in after if inside[0] <= r["t"] < inside[1]]
        b = [(g["mode"], g["cadence_spm"]) for g in live if inside[0] <= g["t"] < inside[1]]
        keys = (
            "seconds_by_mode",
            "compliant_share",
            "time_to_comply_s",
            "cadence_mean_spm",
            "cadence_sd_spm",
        )
        if a == b:  # the estimators agree on every second: the figures are the live ones exactly
            assert {k: iv[k] for k in keys} == {k: iv_live[k] for k in keys}
        else:
            differ += 1
        assert iv["hr_mean_bpm"] == iv_live["hr_mean_bpm"] and iv["hr_max_bpm"] == iv_live["hr_max_bpm"]
        assert iv["live"] == iv_live["live"]  # the engine's own figures stay as they were
    assert differ >= 1
    # summary.json's intervals are the report's (one definition: coach.session.adherence)
    done = [iv for iv in report["intervals"] if iv["start_s"] is not None]
    for item, iv in zip(summary["intervals"], done, strict=False):
        assert item["adherence"] == iv["compliant_share"]
        assert item["seconds_by_mode"] == iv["seconds_by_mode"]


def test_the_export_uses_it(session: Path) -> None:
    _, *after = _lines(session / AFTER_RUN_FILE)
    activity = session_activity(read_session(session))
    # a still second's missing cadence is written as 0, as a watch writes it (coach.report.model.STILL_CADENCE_SPM)
    want = [
        STILL_CADENCE_SPM if r["cadence_spm"] is None and r["mode"] == "still" else r["cadence_spm"]
        for r in after
    ]
    assert [r.cadence_spm for r in activity.records] == want
    assert [r.hr_bpm for r in activity.records] == [g["hr_bpm"] for g in _gait(session)]


def test_a_killed_session_gets_its_file_on_the_first_report(session: Path, tmp_path: Path) -> None:
    killed = _copy(session, tmp_path)
    (killed / AFTER_RUN_FILE).unlink()
    (killed / "summary.json").unlink()
    events = (killed / "events.jsonl").read_text().splitlines(keepends=True)
    (killed / "events.jsonl").write_text("".join(line for line in events if '"session_end"' not in line))
    result = CliRunner().invoke(cli, ["report", str(killed), "--json"])
    assert result.exit_code == 0, result.output
    model = json.loads(result.stdout)
    assert model["session"]["estimator"] == "after-run" and not model["session"]["complete"]
    assert (killed / AFTER_RUN_FILE).read_bytes() == (session / AFTER_RUN_FILE).read_bytes()
    assert stat.S_IMODE((killed / AFTER_RUN_FILE).stat().st_mode) == 0o600
    assert model["series"]["mode"] == [r["mode"] for r in _lines(killed / AFTER_RUN_FILE)[1:]]


def test_a_file_from_an_earlier_capture_is_made_again(session: Path, tmp_path: Path) -> None:
    folder = _copy(session, tmp_path)
    header, *rows = _lines(folder / AFTER_RUN_FILE)
    stale = [{**header, "capture_bytes": header["capture_bytes"] - 1, "seconds": 1}, rows[0]]
    (folder / AFTER_RUN_FILE).write_text("".join(json.dumps(x) + "\n" for x in stale))
    made, note = load_after_run(folder)
    assert note is None and made is not None and made.rows == rows
    assert (folder / AFTER_RUN_FILE).read_bytes() == (session / AFTER_RUN_FILE).read_bytes()


def test_a_folder_that_cannot_be_written_still_gets_the_after_run_figures(
    session: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copy(session, tmp_path)
    (folder / AFTER_RUN_FILE).unlink()

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("coach.store.afterrun.os.replace", full)
    read = read_session(folder)
    assert read.after_run == _lines(session / AFTER_RUN_FILE)[1:] and read.estimator == "after-run"
    assert read.warnings == [
        "cannot write after-run.jsonl (No space left on device): the after-run figures are this report's only"
    ]
    assert not (folder / AFTER_RUN_FILE).exists() and not list(folder.glob(".*.tmp"))


def test_an_unreadable_capture_is_one_note_and_the_live_figures(session: Path, tmp_path: Path) -> None:
    folder = _copy(session, tmp_path)
    (folder / AFTER_RUN_FILE).unlink()
    lines = (folder / "capture.jsonl").read_text().splitlines(keepends=True)
    lines[len(lines) // 2] = "{not json\n"
    (folder / "capture.jsonl").write_text("".join(lines))
    result = CliRunner().invoke(cli, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "after-run analysis" in line]
    assert len(notes) == 1 and "cadence and walk/run are the live ones" in notes[0]
    assert "Traceback" not in result.output
    assert "cadence and walk/run: as measured live" in result.output
    assert not (folder / AFTER_RUN_FILE).exists()


def test_a_capture_without_accelerometer_gives_no_file_and_no_note(session: Path, tmp_path: Path) -> None:
    """A heart-rate-only capture (``coach exercise`` with a strap, an H9): the live records are the figures."""
    folder = _copy(session, tmp_path)
    (folder / AFTER_RUN_FILE).unlink()
    pmd_data = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
    lines = (folder / "capture.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in lines if pmd_data not in line]
    assert len(kept) < len(lines) // 2 and any('"hex"' in line for line in kept)  # heart rate is left
    (folder / "capture.jsonl").write_text("".join(kept))
    read = read_session(folder)
    assert read.after_run is None and read.warnings == [] and read.estimator == "live"
    assert not (folder / AFTER_RUN_FILE).exists()


def test_an_old_session_without_file_or_capture_still_reports(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, hand_records())
    session = read_session(folder)
    assert session.after_run is None and session.warnings == []
    report = build_report(session)
    assert report["session"]["estimator"] == "live"
    assert report["series"]["mode"] == [r["mode"] for r in session.records if r["kind"] == "gait"]
    assert not (folder / AFTER_RUN_FILE).exists()


def test_rows_take_mode_and_cadence_after_the_run_and_heart_rate_from_the_same_live_second() -> None:
    records = [
        {"t": 1.02, "kind": "gait", "mode": "unknown", "cadence_spm": None, "hr_bpm": 100.0, "hr_samples": 1},
        {"t": 2.02, "kind": "gait", "mode": "walk", "cadence_spm": 101.0, "hr_bpm": 101.0, "hr_samples": 1},
        {"t": 3.02, "kind": "gait", "mode": "walk", "cadence_spm": 102.0, "hr_bpm": None, "hr_samples": 1},
    ]
    after = [
        {"t": 1.02, "mode": "walk", "cadence_spm": 104.0, "steps": 2, "confidence": 0.5},
        {"t": 2.02, "mode": "walk", "cadence_spm": 104.5, "steps": 2, "confidence": 0.7},
        {"t": 3.02, "mode": "run", "cadence_spm": 150.0, "steps": 2, "confidence": 0.7},
        {"t": 4.02, "mode": "run", "cadence_spm": 151.0, "steps": 2, "confidence": 0.7},  # no live second
    ]
    assert gait_rows(records, after) == [
        {"t": 1.02, "mode": "walk", "cadence_spm": 104.0, "hr_bpm": 100.0},
        {"t": 2.02, "mode": "walk", "cadence_spm": 104.5, "hr_bpm": 101.0},
        {"t": 3.02, "mode": "run", "cadence_spm": 150.0, "hr_bpm": None},
        {"t": 4.02, "mode": "run", "cadence_spm": 151.0, "hr_bpm": None},
    ]
    assert gait_rows(records, None) == gait_rows(records, []) == gait_rows(records)
    assert [r["mode"] for r in gait_rows(records)] == ["unknown", "walk", "walk"]
