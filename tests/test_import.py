"""`coach import`: real Garmin FIT files and a Polar Sensor Logger export become sessions with the same report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import fitdecode
import pytest

from coach.errors import InputError
from coach.report.model import build_report, read_session
from coach.store.database import Database
from coach.store.importer import import_recording

REPO = Path(__file__).resolve().parents[1]


def _fit_records(path: Path) -> list[tuple[float, float | None, float | None]]:
    """(t from the first record, HR, steps/min) straight from the FIT file."""
    out = []
    t0 = None
    with fitdecode.FitReader(str(path)) as reader:
        for f in reader:
            if isinstance(f, fitdecode.FitDataMessage) and f.name == "record" and f.has_field("timestamp"):
                ts = f.get_value("timestamp")
                t0 = t0 or ts
                hr = f.get_value("heart_rate") if f.has_field("heart_rate") else None
                cad = f.get_value("cadence") if f.has_field("cadence") else None
                frac = f.get_value("fractional_cadence") if f.has_field("fractional_cadence") else None
                spm = None if cad is None else 2 * (cad + (frac or 0))
                out.append(((ts - t0).total_seconds(), hr, spm))
    return out


@pytest.mark.parametrize("name", ["activity-small-fenix2-run.fit", "garmin-fenix-5-walk.fit"])
def test_fit_import_keeps_the_device_streams(data_dir: Path, tmp_path: Path, name: str) -> None:
    path = data_dir / "garmin-fit" / name
    sid, folder, _ = import_recording(path, tmp_path)
    session = read_session(folder)
    report = build_report(session)
    assert report["session"]["imported"] and report["session"]["complete"]
    assert report["summary"]["adherence"] is None  # laps/segments are no plan
    by_t = {round(t): (hr, spm) for t, hr, spm in _fit_records(path)}
    series = report["series"]
    checked = 0
    for t, hr, cad, mode in zip(
        series["t_s"], series["hr_bpm"], series["cadence_spm"], series["mode"], strict=True
    ):
        if round(t) not in by_t:
            continue  # a gap in the records: the row holds the last value seen
        fit_hr, fit_spm = by_t[round(t)]
        if fit_hr is not None and hr is not None:
            assert hr == fit_hr
        if cad is not None and fit_spm is not None and mode in ("walk", "run"):
            assert cad == pytest.approx(fit_spm, abs=0.1)  # strides/min x 2 = steps/min
            checked += 1
    assert checked > 0.5 * sum(1 for t in series["t_s"] if round(t) in by_t)
    with Database.in_dir(tmp_path) as db:
        row = db.session(sid)
        assert row is not None and row["source"].startswith("import:fit:")
    assert (folder / "source.fit").stat().st_mode & 0o777 == 0o600
    if name.startswith("activity-small"):
        # SOURCE.txt: 4 laps, running cadence median about 166 steps/min, a walk break around 33 min
        assert len(report["intervals"]) == 4
        assert report["summary"]["cadence_run_spm"] == pytest.approx(166, abs=3)
        assert report["summary"]["seconds_by_mode"]["walk"] > 30
    else:
        assert report["summary"]["cadence_walk_spm"] is not None
        assert 100 <= report["summary"]["cadence_walk_spm"] <= 140
    with pytest.raises(InputError, match="already imported"):
        import_recording(path, tmp_path)


def test_fit_with_heart_rate_only_gives_a_heart_rate_report(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "garmin-fit" / "2013-02-06-12-11-14.fit"  # FR110: HR only, 5 laps
    _, folder, notes = import_recording(path, tmp_path)
    assert any("heart rate only" in n for n in notes)
    report = build_report(read_session(folder))
    series = report["series"]
    assert all(c is None for c in series["cadence_spm"]) and set(series["mode"]) == {"unknown"}
    by_t = {round(t): hr for t, hr, _ in _fit_records(path)}
    # the file's heart rate, cleaned (coach.signal.heart): a value is kept as it is or rejected, never changed
    same = [
        hr == by_t[round(t)]
        for t, hr in zip(series["t_s"], series["hr_bpm"], strict=True)
        if by_t.get(round(t)) is not None and hr is not None
    ]
    assert len(same) > 100 and all(same)
    share = report["summary"]["hr_share_rejected"]
    assert 0 < share < 0.05  # the strap's first seconds, before it settles
    assert len(report["intervals"]) == 5
    kept = [h for h in series["hr_bpm"] if h is not None]
    assert report["summary"]["hr_max_bpm"] == max(kept) <= max(h for _, h, _ in _fit_records(path) if h)


def test_fit_import_against_a_programme_stage_measures_adherence(data_dir: Path, tmp_path: Path) -> None:
    sid, folder, _ = import_recording(
        data_dir / "garmin-fit" / "activity-small-fenix2-run.fit", tmp_path, programme="back-pain", stage=1
    )
    report = build_report(read_session(folder))
    first_run = next(iv for iv in report["intervals"] if iv["activity"] == "run")
    warmup = report["intervals"][0]
    # the runner ran through the whole recording: the warm-up walk is not followed, the runs are
    assert warmup["compliant_share"] is not None and warmup["compliant_share"] < 0.2
    assert first_run["compliant_share"] is not None and first_run["compliant_share"] > 0.8
    with Database.in_dir(tmp_path) as db:
        row = db.session(sid)
        assert row is not None and row["stage"] == 1 and row["adherence"] is not None


def _write_polar(tmp_path: Path) -> tuple[Path, datetime]:
    """A Polar Sensor Logger ACC + HR export made from a real chest recording (Hexoskin 005 fixture)."""
    from coach.signal.io import load_recording

    rec = load_recording(REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl")
    assert rec.t_s is not None and rec.xyz_g is not None
    start = datetime(2024, 5, 4, 9, 15, 0, tzinfo=UTC)
    base_ns = int((start - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds() * 1e9)
    t = rec.t_s - rec.t_s[0]
    acc = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    for ti, (x, y, z) in zip(t, rec.xyz_g * 1000, strict=True):
        phone = (
            (start + timedelta(seconds=float(ti) + 0.2))
            .replace(tzinfo=None)
            .isoformat(timespec="milliseconds")
        )
        acc.append(f"{phone};{base_ns + int(ti * 1e9)};{round(x)};{round(y)};{round(z)}")
    acc_path = tmp_path / "Polar_H10_ABCD1234_20240504_091500_ACC.txt"
    acc_path.write_text("\n".join(acc) + "\n")
    hr = ["Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];"]
    for th, bpm in rec.heart_rate:
        phone = (
            (start + timedelta(seconds=th - float(rec.t_s[0]) + 0.2))
            .replace(tzinfo=None)
            .isoformat(timespec="milliseconds")
        )
        hr.append(f"{phone};{bpm:.0f};;;")
    (tmp_path / "Polar_H10_ABCD1234_20240504_091500_HR.txt").write_text("\n".join(hr) + "\n")
    return acc_path, start


def test_polar_sensor_logger_import_with_hr(tmp_path: Path) -> None:
    acc_path, start = _write_polar(tmp_path)
    sid, folder, notes = import_recording(acc_path, tmp_path / "data")
    assert sid == start.strftime("%Y%m%dT%H%M%SZ")
    assert any("HR" in n for n in notes)
    report = build_report(read_session(folder))
    m = report["summary"]
    # fixtures/README.md: walk, jog, stop, walk
    assert m["seconds_by_mode"]["walk"] > 60 and m["seconds_by_mode"]["run"] > 20
    assert 90 <= (m["cadence_walk_spm"] or 0) <= 130 and 140 <= (m["cadence_run_spm"] or 0) <= 180
    assert m["hr_mean_bpm"] is not None
    assert {iv["activity"] for iv in report["intervals"]} == {"walk", "run"}


def test_import_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("t,x,y,z\n0,0,0,1\n")
    with pytest.raises(InputError, match="imports FIT, TCX and GPX activities, Polar"):
        import_recording(other, tmp_path / "data")
    with pytest.raises(InputError, match="no such file"):
        import_recording(tmp_path / "missing.fit", tmp_path / "data")


def test_import_reads_a_fit_file_once(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: one reader per format, and a single `coach import` parses the FIT file once (records, laps,
    start time and heart rate all come from that one read)."""
    opened: list[str] = []
    real = fitdecode.FitReader

    class CountingReader(real):  # type: ignore[misc, valid-type]
        def __init__(self, fileish: object, *args: object, **kwargs: object) -> None:
            opened.append(str(fileish))
            super().__init__(fileish, *args, **kwargs)

    monkeypatch.setattr(fitdecode, "FitReader", CountingReader)
    path = data_dir / "garmin-fit" / "garmin-fenix-5-run.fit"
    _, folder, _ = import_recording(path, tmp_path)
    assert opened == [str(path)]
    assert any(r["kind"] == "gait" for r in read_session(folder).records)


def test_import_reads_a_polar_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sensors.readers.polar_logger as polar

    acc_path, _ = _write_polar(tmp_path)
    reads: list[Path] = []
    from sensors.readers._common import read_text as real

    def counting(path: Path) -> str:
        reads.append(Path(path))
        return real(path)

    monkeypatch.setattr(polar, "read_text", counting)
    import_recording(acc_path, tmp_path / "data")
    assert reads == [acc_path]


def test_imported_interval_ends_carry_the_same_figures_as_a_coached_session(
    data_dir: Path, tmp_path: Path
) -> None:
    """An imported session's ``interval_end`` records hold every figure a live session's do (one function makes
    them: coach.session.adherence.event_figures), the mean cadence included."""
    import json

    from coach.session.adherence import event_figures, interval_stats

    _, folder, _ = import_recording(
        data_dir / "garmin-fit" / "activity-small-fenix2-run.fit", tmp_path, programme="back-pain", stage=1
    )
    ends = [
        rec
        for line in (folder / "events.jsonl").read_text().splitlines()
        if (rec := json.loads(line)).get("kind") == "interval_end"
    ]
    assert ends
    keys = set(event_figures(interval_stats([], 0.0, 1.0, "walk")))
    runs = [e for e in ends if e["activity"] == "run"]
    for end in ends:
        assert keys <= set(end)
    assert runs and all(e["cadence_mean_spm"] is not None and 140 < e["cadence_mean_spm"] < 200 for e in runs)
