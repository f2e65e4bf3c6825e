"""FIT/TCX export: third-party parsers accept the files and get the session's numbers back."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import fitdecode
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from coach.report.activity import Activity, ActivityLap, ActivityRecord
from coach.report.export import (
    fit_cadence_to_spm,
    spm_to_fit_cadence,
    to_fit_bytes,
    to_tcx_bytes,
    write_private,
)
from tests.realdata import TCX_SCHEMA


def _activity() -> Activity:
    # 5 min: 2 min walk, 1 min run, 2 min walk; HR and cadence move with the activity.
    laps = (
        ActivityLap(0, 120, "walk", "Walk 2 min"),
        ActivityLap(120, 180, "run"),
        ActivityLap(180, 300, "walk"),
    )
    recs = []
    for t in range(301):
        running = 120 <= t < 180
        recs.append(
            ActivityRecord(
                t_s=float(t),
                hr_bpm=(150 if running else 105) + (t % 3),
                cadence_spm=(163.3 if running else 112.7) if t % 50 else None,
                distance_m=t * (2.6 if running else 1.3),
            )
        )
    return Activity(start_time=datetime(2026, 11, 20, 7, 30, tzinfo=UTC), records=tuple(recs), laps=laps)


@given(st.floats(min_value=0, max_value=400, allow_nan=False))
def test_fit_cadence_round_trip_within_one_128th_stride(spm: float) -> None:
    whole, frac = spm_to_fit_cadence(spm)
    assert 0 <= frac < 1
    back = fit_cadence_to_spm(whole, frac)
    assert back is not None
    assert abs(back - min(spm, 2 * 254 + 2)) <= 2 / 128 / 2 + 1e-9 or whole == 254


def _fitdecode_frames(data: bytes) -> list[fitdecode.FitDataMessage]:
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.ENABLED) as reader:
        return [f for f in reader if isinstance(f, fitdecode.FitDataMessage)]


def test_fit_parses_with_fitdecode_and_keeps_hr_and_cadence() -> None:
    act = _activity()
    frames = _fitdecode_frames(to_fit_bytes(act))
    names = [f.name for f in frames]
    assert names[0] == "file_id"
    assert {"record", "lap", "session", "activity", "event"} <= set(names)
    records = [f for f in frames if f.name == "record"]
    assert len(records) == len(act.records)
    for frame, rec in zip(records, act.records, strict=True):
        assert frame.get_value("heart_rate") == round(rec.hr_bpm or 0)
        if rec.cadence_spm is None:
            assert not frame.has_field("cadence") or frame.get_value("cadence") is None
        else:
            spm = fit_cadence_to_spm(frame.get_value("cadence"), frame.get_value("fractional_cadence"))
            assert spm == pytest.approx(rec.cadence_spm, abs=1 / 128)
    laps = [f for f in frames if f.name == "lap"]
    assert [lap.get_value("intensity") for lap in laps] == ["rest", "active", "rest"]
    assert [lap.get_value("total_elapsed_time") for lap in laps] == [120, 60, 120]
    session = next(f for f in frames if f.name == "session")
    assert session.get_value("num_laps") == 3
    assert session.get_value("sport") == "running"


def test_fit_lap_and_session_average_cadence_are_written_in_strides() -> None:
    frames = _fitdecode_frames(to_fit_bytes(_activity()))
    laps = [f for f in frames if f.name == "lap"]
    # avg_cadence (field 17, shown as avg_running_cadence for running) + avg_fractional_cadence, strides/min
    avg = [fit_cadence_to_spm(lap.get_value(17), lap.get_value("avg_fractional_cadence")) for lap in laps]
    assert avg == [pytest.approx(spm, abs=1 / 64) for spm in (112.7, 163.3, 112.7)]
    session = next(f for f in frames if f.name == "session")
    cads = [r.cadence_spm for r in _activity().records if r.cadence_spm is not None]
    # avg_cadence (field 18 in session), shown as avg_running_cadence for running
    spm = fit_cadence_to_spm(session.get_value(18), session.get_value("avg_fractional_cadence"))
    assert spm == pytest.approx(sum(cads) / len(cads), abs=1 / 64)


def test_fit_parses_with_garmin_sdk_decoder_integrity_on() -> None:
    from garmin_fit_sdk import Decoder, Stream

    data = to_fit_bytes(_activity())
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    assert decoder.is_fit()
    assert decoder.check_integrity()
    # A fresh decoder: is_fit/check_integrity consume the stream.
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    messages, errors = decoder.read(enable_crc_check=True)
    assert errors == []
    assert len(messages["record_mesgs"]) == 301
    assert len(messages["lap_mesgs"]) == 3
    assert messages["session_mesgs"][0]["total_elapsed_time"] == 300


def test_tcx_validates_against_garmin_schema_and_keeps_values() -> None:
    act = _activity()
    data = to_tcx_bytes(act)
    schema = etree.XMLSchema(etree.parse(str(TCX_SCHEMA)))
    doc = etree.parse(io.BytesIO(data))
    assert schema.validate(doc), schema.error_log
    ns = {
        "t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2",
        "x": "http://www.garmin.com/xmlschemas/ActivityExtension/v2",
    }
    laps = doc.findall(".//t:Lap", ns)
    assert [lap.findtext("t:Intensity", namespaces=ns) for lap in laps] == ["Resting", "Active", "Resting"]
    points = doc.findall(".//t:Trackpoint", ns)
    assert len(points) == 301
    hr = [int(p.findtext("t:HeartRateBpm/t:Value", namespaces=ns)) for p in points]
    assert hr == [round(r.hr_bpm or 0) for r in act.records]
    cad = [p.findtext(".//x:RunCadence", namespaces=ns) for p in points]
    for value, rec in zip(cad, act.records, strict=True):
        if rec.cadence_spm is None:
            assert value is None
        else:
            assert int(value) == round(rec.cadence_spm / 2)


def test_tcx_escapes_user_text() -> None:
    act = _activity()
    nasty = Activity(
        start_time=act.start_time, records=act.records, laps=act.laps, notes="<script>&</script>"
    )
    data = to_tcx_bytes(nasty)
    assert b"<script>" not in data
    assert b"&lt;script&gt;&amp;&lt;/script&gt;" in data


def test_write_private_is_user_only(tmp_path: Path) -> None:
    out = tmp_path / "a.fit"
    write_private(out, b"x")
    assert out.stat().st_mode & 0o777 == 0o600


def test_naive_start_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Activity(start_time=datetime(2026, 1, 1), records=())
