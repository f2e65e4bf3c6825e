"""The readers of other programs' files (sensors/readers), the one steps-vs-strides rule (sensors/units.py) and the
one moniker parser and checker (sensors/sources/moniker.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sensors.codecs.pmd import PMD_EPOCH
from sensors.errors import CaptureError, MonikerError
from sensors.readers import ReaderError
from sensors.readers.fit import CADENCE_UNIT, read_fit
from sensors.readers.polar_logger import read_polar_acc, read_polar_hr
from sensors.sources.moniker import check_sensor
from sensors.units import MAX_STEP_LENGTH_M, cadence_unit

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ steps vs strides


def _rows(cadence: float, speed_mps: float | None, n: int = 30) -> list[tuple[float, ...]]:
    return [(float(k), cadence) if speed_mps is None else (float(k), cadence, speed_mps) for k in range(n)]


@pytest.mark.parametrize(
    ("case", "rows", "unit", "factor"),
    [
        ("strides pod, jogging: a 2.05 m 'step'", _rows(82, 2.8), "strides", 2.0),
        ("strides pod, walking: 1.39 m 'steps'", _rows(56, 1.3), "strides", 2.0),
        ("steps pod, jogging: 1.02 m steps", _rows(164, 2.8), "steps", 1.0),
        ("walking in steps: 0.70 m", _rows(112, 1.3), "steps", 1.0),
        (
            "running in steps: a fast runner's 1.83 m steps (doubling gives 360/min)",
            _rows(180, 5.5),
            "steps",
            1.0,
        ),
        ("no speed: nothing assumed", _rows(82, None), "unknown", 1.0),
        ("zero cadence (standing): says nothing", _rows(0, 1.5), "unknown", 1.0),
        ("too slow to tell (speed under 0.8 m/s)", _rows(40, 0.5), "unknown", 1.0),
        ("too few moving rows", _rows(82, 2.8, n=9), "unknown", 1.0),
        ("not a number", [(float(k), float("nan"), 2.8) for k in range(30)], "unknown", 1.0),
        ("empty", [], "unknown", 1.0),
    ],
)
def test_cadence_unit_decision_table(
    case: str, rows: list[tuple[float, ...]], unit: str, factor: float
) -> None:
    decision = cadence_unit(rows)
    assert (decision.unit, decision.factor) == (unit, factor), case
    assert (decision.note is not None) == (unit == "strides")
    if decision.note:
        assert "strides/min" in decision.note and "doubled" in decision.note


def test_cadence_unit_standing_rows_do_not_outvote_moving_ones() -> None:
    rows = _rows(0, 0.0, n=100) + _rows(82, 2.8, n=12)
    assert cadence_unit(rows).unit == "strides"


def test_a_declared_unit_is_taken_at_its_word() -> None:
    assert cadence_unit(_rows(164, 2.8), declared="strides").factor == 2.0  # FIT says strides
    assert cadence_unit(_rows(82, 2.8), declared="steps").factor == 1.0
    assert CADENCE_UNIT == "strides"
    with pytest.raises(ValueError, match="not one of"):
        cadence_unit([], declared="rpm")  # type: ignore[arg-type]


def test_the_threshold_is_a_parameter() -> None:
    rows = _rows(112, 2.8)  # 1.5 m
    assert MAX_STEP_LENGTH_M < 1.5 and cadence_unit(rows).unit == "strides"
    assert cadence_unit(rows, max_step_length_m=1.6).unit == "steps"


def test_device_cadence_unit_is_the_same_rule() -> None:
    """coach/session/runner.py's live foot pod calls coach.signal.device_cadence_unit: a thin view of the one rule."""
    from coach.signal import device_cadence_unit

    for rows in (_rows(82, 2.8), _rows(164, 2.8), _rows(82, None)):
        decision = cadence_unit(rows)
        assert device_cadence_unit(rows) == (decision.factor, decision.note)


# ------------------------------------------------------------------------------------------------ FIT


def test_fit_reader_reads_records_laps_and_sport(data_dir: Path) -> None:
    fit = read_fit(data_dir / "garmin-fit" / "garmin-fenix-5-run.fit")
    assert fit.sport == "running" and fit.records
    assert all(r.timestamp.tzinfo is not None for r in fit.records)
    with_cadence = [r for r in fit.records if r.cadence_strides_per_min is not None]
    assert with_cadence
    for r in with_cadence:
        assert r.cadence_strides_per_min is not None
        assert r.cadence_spm == pytest.approx(2.0 * r.cadence_strides_per_min)
    assert 140 < sorted(r.cadence_spm or 0 for r in with_cadence)[len(with_cadence) // 2] < 200
    laps = fit.laps_s()
    assert laps and all(0.0 <= s < e for s, e in laps)


def test_fit_reader_names_the_file_for_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "x.fit"
    bad.write_bytes(b"\x0e\x10" + b"\x00" * 10 + b"garbage" * 5)
    with pytest.raises(ReaderError, match=r"x\.fit: not a readable FIT file"):
        read_fit(bad)


# ------------------------------------------------------------------------------------------------ Polar


def test_polar_acc_reader_gives_times_values_and_both_clocks(tmp_path: Path) -> None:
    start = datetime(2024, 5, 4, 9, 15, 0, tzinfo=UTC)
    ns0 = int((start - PMD_EPOCH).total_seconds()) * 1_000_000_000
    lines = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    for k in range(5):
        lines.append(f"2024-05-04T11:15:00.{200 + 10 * k:03d};{ns0 + k * 10_000_000};{k};-{k};1000")
    path = tmp_path / "a_ACC.txt"
    path.write_text("\n".join(lines) + "\n")
    acc = read_polar_acc(path)
    assert acc.t_s.tolist() == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    assert acc.xyz_mg[3].tolist() == [3.0, -3.0, 1000.0]
    assert acc.start_utc == start and acc.first_sensor_ns == ns0
    assert acc.phone_start == datetime(2024, 5, 4, 11, 15, 0, 200000)


def test_polar_acc_reader_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "a_ACC.txt"
    path.write_text("Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\nx;1;2;3;4\nx;2;2;oops;4\n")
    with pytest.raises(ReaderError, match=r"a_ACC\.txt:3: not a number"):
        read_polar_acc(path)


def test_polar_hr_reader_aligns_on_the_phone_clock(tmp_path: Path) -> None:
    path = tmp_path / "a_HR.txt"
    path.write_text(
        "Phone timestamp;HR [bpm];HRV [ms];\n2024-05-04T11:15:01.000;0;;\n2024-05-04T11:15:02.500;95;;\n"
    )
    hr = read_polar_hr(path)
    assert len(hr.rows) == 2
    t0 = datetime(2024, 5, 4, 11, 15, 0)
    assert hr.on_time_base(t0) == [(2.5, 95.0)]  # bpm 0 is no reading
    assert hr.on_time_base(None) == [(1.5, 95.0)]  # no ACC phone time: the first HR row
    with pytest.raises(ReaderError, match="time zone"):
        hr.on_time_base(datetime(2024, 5, 4, 11, 15, 0, tzinfo=UTC))
    path.write_text("Phone timestamp;HR [bpm]\nyesterday;80\n")
    with pytest.raises(ReaderError, match=r":2: bad phone timestamp"):
        read_polar_hr(path)


# ------------------------------------------------------------------------------------------------ moniker


def test_check_sensor_checks_the_file_of_replay_and_virtual(tmp_path: Path) -> None:
    there = tmp_path / "c.jsonl"
    there.write_text("{}\n")
    assert check_sensor(f"replay:{there}").path == there
    assert check_sensor(f"virtual:{there}?hr_only=1").hr_only
    assert check_sensor("ble:AA:BB:CC:DD:EE:FF").address == "AA:BB:CC:DD:EE:FF"  # radio: checked on connect
    for kind in ("replay", "virtual"):
        with pytest.raises(CaptureError, match=r"missing\.jsonl: no such capture file"):
            check_sensor(f"{kind}:{tmp_path / 'missing.jsonl'}")
    with pytest.raises(MonikerError, match="unknown sensor"):
        check_sensor("polar:AA")


def test_pmd_epoch_is_one_constant() -> None:
    import sensors.readers.convert as convert

    assert convert.pmd_timestamp_ns(PMD_EPOCH + timedelta(seconds=1)) == 1_000_000_000
    for module in (
        "sensors/readers/convert.py",
        "coach/store/importer.py",
        "sensors/readers/polar_logger.py",
    ):
        assert "datetime(2000" not in (REPO / module).read_text(encoding="utf-8"), module


# ------------------------------------------------------------------------------------------ FIT from any device


def test_fit_with_an_unset_clock_keeps_its_records_and_says_it_has_no_date() -> None:
    from tests.realdata import THIRD_PARTY

    fit = read_fit(THIRD_PARTY / "fitparse" / "compressed-speed-distance.fit")
    assert not fit.clock_set
    assert len(fit.records) == 755
    assert sum(r.cadence_strides_per_min is not None for r in fit.records) == 753
    assert sum(r.heart_rate_bpm is not None for r in fit.records) == 754
    span = (fit.records[-1].timestamp - fit.records[0].timestamp).total_seconds()
    assert 3800 < span < 3900  # compressed timestamps resolved: about the session's 3883 s
    assert fit.sessions[0].strides == 5062 and fit.sessions[0].sport == "running"


def test_fit_multisport_legs_split_the_records_by_session() -> None:
    from tests.realdata import THIRD_PARTY

    fit = read_fit(THIRD_PARTY / "fitparse" / "activity-large-fenxi2-multisport.fit")
    legs = fit.legs()
    assert [leg.sport for leg in legs] == [
        "generic", "transition", "running", "transition", "running", "transition", "cycling"
    ]  # fmt: skip
    assert sum(len(leg.records) for leg in legs) == len(fit.records)
    for leg in legs:
        assert leg.session is not None and leg.session.end is not None
        assert all(r.timestamp <= leg.session.end + timedelta(seconds=1) for r in leg.records)


def test_a_developer_cadence_field_stands_in_for_a_missing_native_one(tmp_path: Path) -> None:
    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    dev_id = {
        "mesg_num": mesg["DEVELOPER_DATA_ID"],
        "developer_data_index": 0,
        "application_id": list(range(16)),
    }
    desc = {
        "mesg_num": mesg["FIELD_DESCRIPTION"],
        "developer_data_index": 0,
        "field_definition_number": 0,
        "fit_base_type_id": 2,
        "field_name": "Cadence",
        "units": "spm",
    }
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    enc = Encoder()
    enc.write_mesg({"mesg_num": mesg["FILE_ID"], "type": "activity", "time_created": t0})
    enc.write_mesg(dev_id)
    enc.write_mesg(desc)
    enc.add_developer_field(0, dev_id, desc)
    for k in range(3):
        enc.write_mesg(
            {"mesg_num": mesg["RECORD"], "timestamp": t0 + timedelta(seconds=k), "developer_fields": {0: 170}}
        )
    path = tmp_path / "dev.fit"
    path.write_bytes(enc.close())
    fit = read_fit(path)
    assert fit.developer_fields == ("Cadence",)
    assert [r.cadence_spm for r in fit.records] == [170.0, 170.0, 170.0]  # "spm": steps, kept as steps


def test_a_cut_fit_file_keeps_what_it_has_and_says_so(tmp_path: Path) -> None:
    from tests.realdata import FIT_DIR

    data = (FIT_DIR / "garmin-fenix-5-run.fit").read_bytes()
    whole = read_fit(FIT_DIR / "garmin-fenix-5-run.fit")
    assert whole.recovery is None
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) // 2])
    fit = read_fit(cut)
    assert 0 < len(fit.records) <= len(whole.records)
    assert fit.records == whole.records[: len(fit.records)]
    assert (
        fit.recovery is not None
        and "cut short" in fit.recovery
        and f"{len(fit.records)} records" in fit.recovery
    )
    cut.write_bytes(data[:20])
    with pytest.raises(ReaderError, match="not a readable FIT file"):
        read_fit(cut)


def test_phone_logs_are_read_from_the_folder_or_the_file_and_other_layouts_are_refused(
    tmp_path: Path,
) -> None:
    from sensors.readers.phone import read_phone

    rows = "\n".join(f"{1_000_000_000 + k * 5_000_000},3,0.1,9.7,0.3" for k in range(10))
    (tmp_path / "accelerometer.csv").write_text(rows + "\n")
    acc = read_phone(tmp_path)
    assert acc.t_s[1] == pytest.approx(0.005) and acc.xyz_ms2.shape == (10, 3)
    assert read_phone(tmp_path / "accelerometer.csv").t_s.tolist() == acc.t_s.tolist()
    other = tmp_path / "sensorlogger"
    other.mkdir()
    (other / "accelerometer.csv").write_text("time,seconds_elapsed,z,y,x\n" + rows + "\n")
    with pytest.raises(ReaderError, match="expected the columns timestamp_ns, accuracy, x, y, z"):
        read_phone(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaderError, match=r"no accelerometer\.csv"):
        read_phone(tmp_path / "empty")


# ------------------------------------------------------------------------------------------ positions (issue 13)


def test_positions_are_read_from_fit_tcx_and_gpx(data_dir: Path, tmp_path: Path) -> None:
    """FIT ``position_lat``/``position_long`` (semicircles) in degrees, one conversion both ways; TCX
    ``Position`` and GPX ``lat``/``lon`` as written; a GPX TrackPointExtension v2 ``speed`` is the speed."""
    from sensors.readers.fit import deg_to_semicircles, semicircles_to_deg, to_activity
    from sensors.readers.tcx import read_gpx, read_tcx

    fit = read_fit(data_dir / "garmin-fit" / "activity-small-fenix2-run.fit")
    fixed = [r for r in fit.records if r.lat_deg is not None]
    assert len(fixed) == len(fit.records)
    assert 58.9 < fixed[0].lat_deg < 59.0 and 5.7 < (fixed[0].lon_deg or 0.0) < 5.8  # Stavanger
    (leg,) = to_activity(fit).legs
    assert (leg.points[0].lat_deg, leg.points[0].lon_deg) == (fixed[0].lat_deg, fixed[0].lon_deg)
    assert semicircles_to_deg(deg_to_semicircles(fixed[0].lat_deg)) == pytest.approx(
        fixed[0].lat_deg, abs=1e-7
    )
    assert semicircles_to_deg(None) is None

    t0 = "2026-12-01T07:00:0"
    tcx = tmp_path / "a.tcx"
    tcx.write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
        f'<Activity Sport="Running"><Id>{t0}0Z</Id><Lap StartTime="{t0}0Z"><TotalTimeSeconds>3</TotalTimeSeconds>'
        "<Track>"
        + "".join(
            f"<Trackpoint><Time>{t0}{k + 1}Z</Time>"
            + (
                ""
                if k == 1
                else f"<Position><LatitudeDegrees>51.5{k}</LatitudeDegrees>"
                f"<LongitudeDegrees>-0.1{k}</LongitudeDegrees></Position>"
            )
            + "</Trackpoint>"
            for k in range(3)
        )
        + "</Track></Lap></Activity></Activities></TrainingCenterDatabase>",
        encoding="utf-8",
    )
    (tleg,) = read_tcx(tcx).legs
    assert [(p.lat_deg, p.lon_deg) for p in tleg.points] == [(51.50, -0.10), (None, None), (51.52, -0.12)]
    # the lap starts a second before the first trackpoint: the leg starts with it
    assert tleg.start == datetime(2026, 12, 1, 7, 0, 0, tzinfo=UTC) < tleg.points[0].timestamp

    gpx = tmp_path / "a.gpx"
    gpx.write_text(
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="t" '
        'xmlns:x="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"><trk><trkseg>'
        + "".join(
            f'<trkpt lat="51.5{k}" lon="-0.1"><time>{t0}{k}Z</time><extensions><x:TrackPointExtension>'
            f"<x:speed>{2.5 + k}</x:speed></x:TrackPointExtension></extensions></trkpt>"
            for k in range(3)
        )
        + "</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    (gleg,) = read_gpx(gpx).legs
    assert [p.lat_deg for p in gleg.points] == [51.50, 51.51, 51.52]
    assert [p.speed_mps for p in gleg.points] == [2.5, 3.5, 4.5]  # the file's speed, not the positions'
