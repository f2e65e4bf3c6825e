"""Recording loaders: csv, Polar Sensor Logger ACC csv, capture, FIT, and clean errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coach.errors import InputError
from coach.signal.io import detect_format, load_recording
from tests.realdata import FIT_DIR
from tests.test_signal_gait import gait_signal

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"

POLAR_HEADER = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"


def write_csv(path: Path, t: np.ndarray, xyz: np.ndarray, scale: float = 1.0) -> Path:
    rows = "\n".join(
        f"{a:.4f},{x * scale:.5f},{y * scale:.5f},{z * scale:.5f}"
        for a, (x, y, z) in zip(t, xyz, strict=True)
    )
    path.write_text("t,x,y,z\n" + rows + "\n", encoding="utf-8")
    return path


def write_polar(path: Path, t: np.ndarray, xyz_g: np.ndarray, extra_ms_column: bool = False) -> Path:
    """The layout of a Polar Sensor Logger ACC export: ';'-separated, ns since 2000-01-01, mg integers."""
    ns0 = 599_628_000_000_000_000
    header = POLAR_HEADER
    if extra_ms_column:
        header = "Phone timestamp;sensor timestamp [ns];timestamp [ms];X [mg];Y [mg];Z [mg]"
    lines = [header]
    for k, (tt, (x, y, z)) in enumerate(zip(t, xyz_g, strict=True)):
        ns = ns0 + round((tt - t[0]) * 1e9)
        phone = f"2026-06-10T22:00:{(k // 200) % 60:02d}.{k % 1000:03d}"
        mid = f";{(tt - t[0]) * 1000:.1f}" if extra_ms_column else ""
        lines.append(f"{phone};{ns}{mid};{round(x * 1000)};{round(y * 1000)};{round(z * 1000)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("units", "scale"), [("g", 1.0), ("mg", 1000.0), ("ms2", 9.80665)])
def test_csv_units_auto_and_explicit(tmp_path: Path, units: str, scale: float) -> None:
    t, xyz = gait_signal(duration_s=6.0, fs_hz=50.0)
    path = write_csv(tmp_path / "a.csv", t, xyz, scale)
    for given in ("auto", units):
        rec = load_recording(path, units=given)
        assert rec.format == "csv"
        assert rec.t_s is not None and rec.xyz_g is not None
        np.testing.assert_allclose(rec.t_s, np.round(t, 4))
        np.testing.assert_allclose(rec.xyz_g, xyz, atol=1e-4)
    assert any(units.replace("ms2", "m/s^2") in n for n in load_recording(path).notes)


def test_csv_sorts_a_few_out_of_order_rows(tmp_path: Path) -> None:
    t, xyz = gait_signal(duration_s=6.0, fs_hz=50.0)
    t[10], t[11] = t[11], t[10]
    rec = load_recording(write_csv(tmp_path / "a.csv", t, xyz))
    assert rec.t_s is not None and np.all(np.diff(rec.t_s) > 0)


@pytest.mark.parametrize("extra", [False, True])
def test_polar_sensor_logger_csv_is_detected_and_read(tmp_path: Path, extra: bool) -> None:
    t, xyz = gait_signal(duration_s=8.0, fs_hz=52.0, t_start_s=0.0)
    path = write_polar(tmp_path / "Polar_H10_ABCD1234_20260610_220000_ACC.txt", t, xyz, extra)
    assert detect_format(path) == "polar-csv"
    rec = load_recording(path)
    assert rec.format == "polar-csv"
    assert rec.t_s is not None and rec.xyz_g is not None
    np.testing.assert_allclose(rec.t_s, t - t[0], atol=1e-6)
    np.testing.assert_allclose(rec.xyz_g, xyz, atol=6e-4)


def test_capture_fixture_gives_accelerometer_and_heart_rate() -> None:
    rec = load_recording(FIXTURES / "chest-walk-jog-walk-hexoskin-008.jsonl")
    assert rec.format == "capture"
    assert rec.t_s is not None and rec.xyz_g is not None
    assert rec.t_s[-1] - rec.t_s[0] > 250
    mag = np.median(np.linalg.norm(rec.xyz_g, axis=1))
    assert 0.9 < mag < 1.1
    assert len(rec.heart_rate) > 100


def test_capture_with_foot_pod_only() -> None:
    rec = load_recording(FIXTURES / "fit-run-walk-run-fenix2.jsonl")
    assert rec.xyz_g is None
    cad = np.array([r[1] for r in rec.foot_pod])
    assert 150 < np.median(cad) < 190  # RSC cadence is steps/min


def test_fit_cadence_is_doubled_to_steps() -> None:
    rec = load_recording(FIT_DIR / "garmin-fenix-5-walk.fit")
    assert rec.format == "fit" and rec.xyz_g is None
    csv_rows = (FIT_DIR / "garmin-fenix-5-walk-records.csv").read_text().splitlines()
    cad = np.array([r[1] for r in rec.foot_pod])
    assert 100 <= np.median(cad) <= 140  # the README: 106-137 steps/min
    assert len(rec.foot_pod) >= len(csv_rows) - 5
    assert any("strides/min x 2" in n for n in rec.notes)


def test_fit_without_cadence_is_a_clean_error() -> None:
    with pytest.raises(InputError, match=r"without step cadence \(heart rate only\)"):
        load_recording(FIT_DIR / "2013-02-06-12-11-14.fit")


# ----------------------------------------------------------------------------------------------- bad files


def _bad(tmp_path: Path, name: str, content: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "binary"),
        ("latin1.csv", "t,x,y,z\n0,0,0,1\n1,0,0,1\n2,0,0,1\n# caf\xe9\n".encode("latin-1"), ":5: not UTF-8"),
        ("cols.csv", b"time;a;b\n0;1;2\n", "expected the header"),
        ("noheader.csv", b"0,0,0,1\n1,0,0,1\n", "missing header"),
        ("nan.csv", b"t,x,y,z\n0,0,0,1\n0.01,0,zero,1\n", ":3: not a number"),
        ("short_row.csv", b"t,x,y,z\n0,0,0,1\n0.01,0,1\n", ":3: expected 4 values"),
        ("short.csv", b"t,x,y,z\n0,0,0,1\n0.5,0,0,1\n", "too short"),
        ("one.csv", b"t,x,y,z\n0,0,0,1\n", "too short"),
        ("header_only.csv", b"t,x,y,z\n", "no data rows"),
        (
            "units.csv",
            b"t,x,y,z\n" + b"".join(b"%d,0,0,70\n" % k for k in range(10)),
            "cannot tell the accelerometer units",
        ),
        ("polar.txt", (POLAR_HEADER + "\nx;12;1;2;3\nx;1e;1;2;3\n").encode(), ":3: not a number"),
        (
            "polar2.txt",
            b"Phone timestamp;sensor timestamp [ns];HR [bpm]\nx;1;60\n",
            "not a Polar Sensor Logger ACC",
        ),
    ],
)
def test_bad_files_are_input_errors_naming_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = _bad(tmp_path, name, content)
    with pytest.raises(InputError) as info:
        load_recording(path)
    text = str(info.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_recording(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="directory"):
        load_recording(tmp_path)


def test_not_a_capture_or_fit(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_recording(_bad(tmp_path, "x.fit", b"not a fit file at all, just text"), format="fit")
    with pytest.raises((InputError,)):
        load_recording(_bad(tmp_path, "x.jsonl", b'{"not": "a capture"}\n'), format="capture")


def test_polar_timestamp_beyond_64_bits_is_a_clean_error(tmp_path: Path) -> None:
    # Found by tests/test_fuzz_inputs.py: a mutated timestamp with too many digits used to raise OverflowError.
    path = tmp_path / "Polar_H10_ABCD1234_20260610_220000_ACC.txt"
    rows = [f"2026-06-10T22:00:00.{k:03d};{599000000000000000 + k * 10_000_000};1;2;1000" for k in range(50)]
    rows[20] = "2026-06-10T22:00:00.200;59900000000000000000000000;1;2;1000"
    rows[30] = "2026-06-10T22:00:00.300;599000000300000000;1;two;1000"  # forces the row-by-row parser
    path.write_text(POLAR_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r":22: sensor timestamp .* out of range"):
        load_recording(path)


@pytest.mark.parametrize("late", [1, 2])  # the broken record in the middle, or the second of three
def test_fit_with_one_record_decades_away_is_a_clean_error(tmp_path: Path, late: int) -> None:
    # One corrupt record timestamp in the middle (the last one is fine): without the check, the device-cadence
    # timeline would loop over 80 years of seconds (a hang, then out of memory) instead of saying what is wrong.
    from datetime import UTC, datetime, timedelta

    from garmin_fit_sdk import Encoder, Profile

    mesg = Profile["mesg_num"]
    enc = Encoder()
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    enc.write_mesg({"mesg_num": mesg["FILE_ID"], "type": "activity", "time_created": t0})
    enc.write_mesg({"mesg_num": mesg["SPORT"], "sport": "running"})  # a run: only the time stamp is wrong
    stamps = [t0 + timedelta(seconds=k) for k in range(4)]
    stamps.insert(late, datetime(2100, 1, 1, tzinfo=UTC))
    for ts in stamps:
        enc.write_mesg({"mesg_num": mesg["RECORD"], "timestamp": ts, "cadence": 85, "heart_rate": 120})
    path = tmp_path / "broken.fit"
    path.write_bytes(enc.close())
    with pytest.raises(InputError, match="broken time stamp"):
        load_recording(path)


def test_foot_pod_capture_with_a_time_decades_away_is_a_clean_error(tmp_path: Path) -> None:
    # The same for a capture with RSC but no accelerometer: a record at t = 1e9 s must not make a 30-year timeline.
    from sensors import uuids
    from sensors.capture import CaptureWriter
    from sensors.codecs import RscMeasurement

    path = tmp_path / "rsc.jsonl"
    with CaptureWriter(path, source="test") as writer:
        for t in (0.0, 1.0, 2.0, 1e9):
            writer.payload(
                t, uuids.RSC_MEASUREMENT, bytes(RscMeasurement(speed_mps=3.0, cadence_per_min=170))
            )
    with pytest.raises(InputError, match="broken time stamp"):
        load_recording(path)


def _rsc_capture(path: Path, cadence: int, speed_mps: float, seconds: int = 60) -> Path:
    from sensors import uuids
    from sensors.capture import CaptureWriter
    from sensors.codecs import RscMeasurement

    with CaptureWriter(path, source="test") as writer:
        for t in range(seconds):
            rsc = RscMeasurement(speed_mps=speed_mps, cadence_per_min=cadence)
            writer.payload(float(t), uuids.RSC_MEASUREMENT, bytes(rsc))
    return path


@pytest.mark.parametrize(
    ("cadence", "speed_mps", "expected_spm", "mode"),
    [
        (82, 2.8, 164, "run"),  # a jog reported in strides: a 2.05 m "step" is impossible
        (56, 1.3, 112, "walk"),  # a walk reported in strides: 1.39 m "steps"
        (164, 2.8, 164, "run"),  # steps: left alone
        (112, 1.3, 112, "walk"),
        (180, 5.5, 180, "run"),  # a fast runner's long steps are not strides (360/min is impossible)
    ],
)
def test_foot_pod_capture_reporting_strides_is_read_as_steps(
    tmp_path: Path, cadence: int, speed_mps: float, expected_spm: int, mode: str
) -> None:
    """BRIEF: some straps report strides in RSC. Without an accelerometer to compare with, the step length
    (speed / cadence) tells, and `coach analyze` says what it assumed."""
    from click.testing import CliRunner

    from coach.cli import cli

    path = _rsc_capture(tmp_path / "rsc.jsonl", cadence, speed_mps)
    res = CliRunner().invoke(cli, ["analyze", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    walk_run = [r for r in doc["timeline"] if r["mode"] in ("walk", "run")]
    assert len(walk_run) > 50 and {r["mode"] for r in walk_run} == {mode}
    assert {r["cadence_spm"] for r in walk_run} == {float(expected_spm)}
    doubled = [n for n in doc["summary"]["notes"] if "strides/min" in n and "doubled" in n]
    assert len(doubled) == (1 if expected_spm != cadence else 0)
