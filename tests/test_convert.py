"""Real recordings -> capture files (sensors.readers.convert, `coach convert`, tools/make_fixtures.py, fixtures/).

The committed fixtures are decoded through the same SampleDecoder a live strap uses and compared with the source
recordings in tests/data: acceleration within the mG quantisation of the resampled signal (and close to the
original 64 Hz samples), every real RR interval exactly, heart rate, cadence and speed from FIT. The fixtures are
regenerated from the data and compared byte for byte.
"""

from __future__ import annotations

import itertools
import random
import re
import stat
import sys
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.cli import cli
from sensors import uuids
from sensors.capture import read_capture
from sensors.codecs.pmd import HEADER_SIZE, PmdDataFrame, acc_wire_samples
from sensors.readers.convert import (
    SETUP_S,
    FitToStrap,
    HexoskinToPolar,
    _Latency,
    load_fit,
    load_hexoskin,
    pack_acc_frames,
    parse_time_s,
    pmd_timestamp_ns,
    resample_acc,
)
from sensors.samples import AccBlock, FootPodSample, HeartRateSample, Sample, SensorEvent
from sensors.sources.replay import ReplaySource

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"

sys.path.insert(0, str(REPO / "tools"))
try:
    import make_fixtures
finally:
    sys.path.pop(0)

CHEST = {
    "chest-walk-jog-walk-hexoskin-005.jsonl": "005hexoskin",
    "chest-walk-jog-walk-hexoskin-008.jsonl": "008hexoskin",
}
FIT = {
    "fit-run-fenix5-hrm.jsonl": "garmin-fenix-5-run.fit",
    "fit-walk-fenix5-hrm.jsonl": "garmin-fenix-5-walk.fit",
    "fit-run-walk-run-fenix2.jsonl": "activity-small-fenix2-run.fit",
}


def decode(path: Path) -> list[Sample]:
    """Every sample of a capture, replayed through the decoder live straps use; a bad payload fails the test."""
    source = ReplaySource(path, speed=0)
    samples = list(source.iter_samples())
    assert source.decode_errors_ == 0 and not source.warnings
    return samples


def acc_of(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray, list[AccBlock]]:
    blocks = [s for s in samples if isinstance(s, AccBlock)]
    return np.concatenate([b.t_s for b in blocks]), np.concatenate([b.xyz_mg for b in blocks]), blocks


def converter_for(name: str, data_dir: Path) -> Any:
    """Re-run the conversion behind a committed fixture (same options as tools/make_fixtures.py)."""
    args = make_fixtures.FIXTURES[name]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    start = parse_time_s(options["--start"]) if "--start" in options else None
    end = parse_time_s(options["--end"]) if "--end" in options else None
    seed = int(options["--seed"])
    if args[0] == "hexoskin":
        frames: Literal["compressed", "raw"] = "raw" if options.get("--acc-frames") == "raw" else "compressed"
        recording = load_hexoskin(data_dir / "hexoskin-chest" / CHEST[name])
        return recording, HexoskinToPolar(start_s=start, end_s=end, acc_frames=frames, seed=seed).convert(
            recording
        )
    activity = load_fit(data_dir / "garmin-fit" / FIT[name])
    return activity, FitToStrap(start_s=start, end_s=end, seed=seed).convert(activity)


# ------------------------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("870", 870.0), ("870.5", 870.5), ("14:30", 870.0), ("1:02:03", 3723.0), (" 0:05 ", 5.0)],
)
def test_parse_time_s(text: str, seconds: float) -> None:
    assert parse_time_s(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1:2:3:4", "-5", "nan", "1:-3"])
def test_parse_time_s_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time_s(text)


def test_pmd_timestamp_epoch() -> None:
    from datetime import UTC, datetime, timedelta

    assert pmd_timestamp_ns(datetime(2000, 1, 1, tzinfo=UTC)) == 0
    when = datetime(2022, 11, 18, 22, 11, 52, tzinfo=UTC) + timedelta(microseconds=250)
    assert pmd_timestamp_ns(when) == int((when.timestamp() - 946_684_800) * 1e6) * 1000


def test_resample_acc_keeps_a_known_sine() -> None:
    """A 2 Hz sine at 64 Hz comes out as the same sine at the new rate, at the returned sample times."""
    fs = 64.0
    t = np.arange(0, 60, 1 / fs)
    signal = np.stack([np.sin(2 * np.pi * 2.0 * t), np.cos(2 * np.pi * 1.3 * t), 0.5 + 0 * t], axis=1)
    times, values, rate = resample_acc(signal, fs, 100.06, 10.0, 50.0)
    assert rate == pytest.approx(100.06, abs=1e-9)
    assert times[0] >= 10.0 and times[-1] < 50.0
    assert len(times) == pytest.approx(40 * 100.06, abs=2)
    assert np.allclose(np.diff(times), 1 / rate)
    expected = np.stack(
        [np.sin(2 * np.pi * 2.0 * times), np.cos(2 * np.pi * 1.3 * times), 0.5 + 0 * times], axis=1
    )
    assert np.max(np.abs(values - expected)) < 2e-3


def _walk_like(n: int, seed: int) -> list[tuple[int, ...]]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    xyz = np.stack(
        [300 * np.sin(2 * np.pi * 1.8 * t), 1000 + 600 * np.sin(2 * np.pi * 1.8 * t + 1), 0 * t], 1
    )
    xyz += rng.normal(0, 15, xyz.shape)
    return [tuple(int(v) for v in row) for row in np.rint(xyz)]


@pytest.mark.parametrize("max_bytes", [229, 100, 40])
def test_compressed_frames_fill_the_mtu_and_cover_every_sample(max_bytes: int) -> None:
    from sensors.codecs.pmd import build_acc_frame

    samples = _walk_like(3000, 1)
    frames = pack_acc_frames(samples, compressed=True, max_bytes=max_bytes)
    assert frames[0][0] == 0 and frames[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(frames))
    for first, end in frames[:-1]:
        size = len(bytes(build_acc_frame(samples[first:end], 0, compressed=True, max_block_samples=32)))
        assert size <= max_bytes
        # the next sample would not have fitted: frames are as full as the MTU allows
        bigger = len(
            bytes(build_acc_frame(samples[first : end + 1], 0, compressed=True, max_block_samples=32))
        )
        assert bigger > max_bytes


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(*[st.integers(-8000, 8000)] * 3) | st.just((0, 0, 1000)), min_size=1, max_size=250),
    st.integers(16, 229),
)
def test_packed_frames_round_trip_whatever_the_signal(
    rows: list[tuple[int, int, int]], max_bytes: int
) -> None:
    """Still stretches (tiny deltas) and wild jumps alike: every sample once, in order, in frames that fit."""
    from sensors.codecs.pmd import build_acc_frame, decode_acc

    frames = pack_acc_frames(rows, compressed=True, max_bytes=max_bytes)
    decoded: list[tuple[int, int, int]] = []
    for first, end in frames:
        data = bytes(build_acc_frame(rows[first:end], 0, compressed=True, max_block_samples=32))
        assert len(data) <= max_bytes
        decoded += decode_acc(PmdDataFrame.from_bytes(data))
    assert decoded == rows


def test_raw_frames_hold_36_samples_at_mtu_232() -> None:
    frames = pack_acc_frames(_walk_like(100, 2), compressed=False, max_bytes=229)
    assert frames == [(0, 36), (36, 72), (72, 100)]
    assert HEADER_SIZE + 36 * 6 == 226  # the Polar SDK's H10 ACC test frame has 36 samples


def test_latency_is_seeded_and_keeps_each_characteristic_in_order() -> None:
    def run(seed: int) -> list[float]:
        latency = _Latency(random.Random(seed))
        return [latency.arrival("a" if i % 3 else "b", i * 0.001) for i in range(2000)]

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert first != other
    for char in ("a", "b"):
        times = [t for i, t in enumerate(first) if ("a" if i % 3 else "b") == char]
        assert all(b > a for a, b in itertools.pairwise(times))
    delays = [t - i * 0.001 for i, t in enumerate(first)]
    assert min(delays) >= 0.008 and max(delays) < 0.2


# -------------------------------------------------------------------------- committed fixtures, no data needed


def test_fixtures_are_documented_and_small() -> None:
    committed = sorted(p.name for p in FIXTURES.glob("*.jsonl"))
    assert committed == sorted(make_fixtures.FIXTURES), "fixtures/ and tools/make_fixtures.py disagree"
    assert sum((FIXTURES / n).stat().st_size for n in committed) <= 5 * 1024 * 1024
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name in committed:
        assert make_fixtures.command_text(name) in readme, f"fixtures/README.md lacks the command for {name}"


@pytest.mark.parametrize("name", sorted(CHEST))
def test_chest_fixture_streams_like_an_h10(name: str) -> None:
    samples = decode(FIXTURES / name)
    t, xyz, blocks = acc_of(samples)
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    events = [s.event for s in samples if isinstance(s, SensorEvent)]
    assert events[0] == "connected" and "pmd_started" in events and events[-1] == "disconnected"
    # ~100 Hz ACC (the sensor clock runs 600 ppm fast), ~1 Hz heart rate, 5 minutes
    assert (len(t) - 1) / (t[-1] - t[0]) == pytest.approx(100.06, abs=0.01)
    assert np.all(np.diff(t) > 0)
    assert (len(hr) - 1) / (hr[-1].t - hr[0].t) == pytest.approx(1.0, abs=0.01)
    assert 295 < t[-1] - t[0] < 305
    assert all(h.contact is True and 50 <= h.bpm <= 200 for h in hr)
    assert sum(len(h.rr_s) for h in hr) > 250
    # frames as a real strap sends them: each one ATT payload (MTU 232), the timestamp that of the last sample
    frames = [r for r in read_capture(FIXTURES / name).payloads if r.char == uuids.PMD_DATA]
    assert max(len(r.data) for r in frames) <= 229
    assert np.median([len(r.data) for r in frames]) >= 200
    assert all(
        b.timestamp_ns == PmdDataFrame.from_bytes(r.data).timestamp_ns
        for b, r in zip(blocks, frames, strict=True)
    )
    # a real walk -> jog -> walk: the impact (|a| spread) is far higher in the jog than in both walks
    norm = np.linalg.norm(xyz, axis=1)
    walk1, jog, walk2 = {
        "chest-walk-jog-walk-hexoskin-005.jsonl": ((10, 130), (140, 195), (215, 300)),
        "chest-walk-jog-walk-hexoskin-008.jsonl": ((5, 95), (105, 165), (205, 300)),
    }[name]

    def spread(span: tuple[int, int]) -> float:
        return float(np.std(norm[(t >= span[0]) & (t < span[1])]))

    assert spread(jog) > 1.8 * spread(walk1)
    assert spread(jog) > 1.8 * spread(walk2)
    assert spread(walk1) > 150 and spread(walk2) > 150  # moving, not standing


@pytest.mark.parametrize("name", sorted(CHEST))
def test_capture_info_shows_100hz_acc_and_1hz_hr(name: str) -> None:
    result = CliRunner().invoke(cli, ["capture", "info", str(FIXTURES / name)])
    assert result.exit_code == 0, result.output
    acc = re.search(r"^pmd_data .*ACC ([0-9.]+) samples/s", result.output, re.MULTILINE)
    hr = re.search(r"^heart_rate_measurement +\d+ +([0-9.]+) Hz", result.output, re.MULTILINE)
    assert acc and hr, result.output
    assert float(acc.group(1)) == pytest.approx(100.0, abs=0.2)
    assert float(hr.group(1)) == pytest.approx(1.0, abs=0.02)
    assert "301" in result.output  # duration


@pytest.mark.parametrize("name", sorted(FIT))
def test_fit_fixture_streams_hr_and_rsc_at_1hz(name: str) -> None:
    samples = decode(FIXTURES / name)
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    pod = [s for s in samples if isinstance(s, FootPodSample)]
    assert len(hr) == len(pod) > 40
    assert (len(pod) - 1) / (pod[-1].t - pod[0].t) == pytest.approx(1.0, abs=0.01)
    moving = [p for p in pod if p.cadence_per_min > 0]
    assert moving and all(90 <= p.cadence_per_min <= 200 for p in moving)


# ------------------------------------------------------------------------------- against the real recordings


@pytest.mark.parametrize("name", sorted(CHEST))
def test_chest_fixture_gives_back_the_source_signal(name: str, data_dir: Path) -> None:
    recording, conv = converter_for(name, data_dir)
    samples = decode(FIXTURES / name)
    t, xyz, _ = acc_of(samples)

    # ACC: every sample, in mG, within the quantisation (0.5 mG) of the resampled source
    assert xyz.shape == conv.acc_resampled_mg_.shape
    assert np.max(np.abs(xyz - conv.acc_resampled_mg_)) <= 0.5 + 1e-9
    assert conv.acc_clipped_ == 0
    # ... and close to the original 64 Hz samples (1/256 g = 3.9 mG steps)
    orig_t = np.arange(len(recording.acc_g)) / recording.acc_rate_hz
    inside = (orig_t > conv.acc_time_s_[0] + 1) & (orig_t < conv.acc_time_s_[-1] - 1)
    for axis in range(3):
        back = np.interp(orig_t[inside], conv.acc_time_s_, xyz[:, axis])
        original = recording.acc_g[inside, axis] * 1000.0
        assert np.corrcoef(back, original)[0, 1] > 0.99
        assert np.median(np.abs(back - original)) < 8.0
    # sample times: the recording's timeline shifted by one constant latency (no drift, no jumps)
    offset = t - (SETUP_S + conv.acc_time_s_ - conv.acc_time_s_[0])
    assert offset.min() >= 0.008 and offset.max() - offset.min() < 0.002

    # heart rate: the bpm sent, and every RR interval the Hexoskin did not flag, exactly (1/256 s = 4/1024 s)
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    assert [h.bpm for h in hr] == [bpm for _, bpm, _ in conv.hr_]
    sent = [rr for h in hr for rr in h.rr_s]
    start, end = conv.acc_time_s_[0], conv.acc_time_s_[-1]
    window = (recording.rr_time_s > start - 0.5) & (recording.rr_time_s <= end) & ~recording.rr_artefact
    expected = (recording.rr_256[window] / 256.0).tolist()
    assert sent[: len(expected)] == expected or sent == expected[: len(sent)]
    assert (
        abs(len(sent) - len(expected)) <= 2
    )  # the last beats of the cut may fall after the last notification
    # bpm tracks the device's own 1 Hz heart rate where the RR are clean (subject 008)
    if name.endswith("008.jsonl"):
        device = recording.hr_bpm_1hz[[int(conv.acc_time_s_[0] + h.t - SETUP_S) for h in hr]]
        assert np.median(np.abs(np.array([h.bpm for h in hr]) - device)) <= 4


@pytest.mark.parametrize("name", sorted(FIT))
def test_fit_fixture_gives_back_the_source_signal(name: str, data_dir: Path) -> None:
    activity, conv = converter_for(name, data_dir)
    samples = decode(FIXTURES / name)
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    pod = [s for s in samples if isinstance(s, FootPodSample)]
    assert len(pod) == len(conv.rsc_) and len(hr) == len(conv.hr_)
    for sample, (_, record, _) in zip(pod, conv.rsc_, strict=True):
        # FIT cadence is strides/min (+ fraction): RSC carries steps/min
        assert sample.cadence_per_min == round(record.cadence_spm)
        assert sample.speed_mps == pytest.approx(record.speed_mps, abs=1 / 512)
        assert sample.total_distance_m == pytest.approx(record.distance_m, abs=0.05 + 1e-6)
    for beat, (_, bpm, _) in zip(hr, conv.hr_, strict=True):
        assert beat.bpm == bpm
    # the records used are the ones in effect at each second (held between smart-recording records)
    times = [r.t_s for r in activity.records]
    start = conv.start_s or 0.0
    for k, (_, record, _) in enumerate(conv.rsc_):
        s = start + k / (1 + 600e-6)
        assert record.t_s <= s and all(not (record.t_s < x <= s) for x in times)
    # RR: every beat of the hrv messages inside the activity, in order, within 1/1024 s quantisation
    sent = [rr for h in hr for rr in h.rr_s]
    beats = np.cumsum(activity.rr_s)
    inside = [rr for rr, b in zip(activity.rr_s, beats, strict=True) if b <= activity.duration_s]
    if activity.rr_s:
        assert len(sent) == len(inside) > 40
        assert np.max(np.abs(np.array(sent) - np.array(inside))) <= 0.5 / 1024 + 1e-12
    else:
        assert sent == []


def test_fit_cadence_is_steps_per_minute(data_dir: Path) -> None:
    """FIT running cadence is strides/min plus a fraction; the RSC value is twice their sum."""
    activity = load_fit(data_dir / "garmin-fit" / "garmin-fenix-5-walk.fit")
    import fitdecode

    raw = []
    with fitdecode.FitReader(str(data_dir / "garmin-fit" / "garmin-fenix-5-walk.fit")) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                raw.append((frame.get_value("cadence"), frame.get_value("fractional_cadence") or 0.0))
    assert [r.cadence_spm for r in activity.records] == [2 * (c + f) for c, f in raw]
    assert any(f for _, f in raw)  # the file has fractional cadence, so this checks the fraction is kept
    assert 100 <= np.median([r.cadence_spm for r in activity.records]) <= 140


# ---------------------------------------------------------------------------------------- reproducibility


def _regenerate(name: str, data_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(cli, make_fixtures.arguments(name, data_dir, out))
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in CHEST else n for n in sorted(make_fixtures.FIXTURES)],
)
def test_fixture_is_reproduced_byte_for_byte(name: str, data_dir: Path, tmp_path: Path) -> None:
    out = _regenerate(name, data_dir, tmp_path)
    assert out.read_bytes() == (FIXTURES / name).read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_another_seed_moves_only_arrival_times(data_dir: Path) -> None:
    activity = load_fit(data_dir / "garmin-fit" / "garmin-fenix-5-walk.fit")
    a = FitToStrap(seed=1).convert(activity).conversion_.items
    b = FitToStrap(seed=2).convert(activity).conversion_.items

    def payloads(items: tuple[Any, ...], char: str) -> list[bytes]:
        return [i.data for i in items if getattr(i, "char", None) == char]

    for char in (uuids.HEART_RATE_MEASUREMENT, uuids.RSC_MEASUREMENT):
        assert payloads(a, char) == payloads(b, char)
    assert [i.t for i in a] != [i.t for i in b]
    assert max(abs(x.t - y.t) for x, y in zip(a, b, strict=True)) < 0.2


# ------------------------------------------------------------------------------------------------ the CLI


def test_convert_hexoskin_cli_cut_and_raw_frames(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.jsonl"
    folder = data_dir / "hexoskin-chest" / "008hexoskin"
    args = ["convert", "hexoskin", str(folder), "--start", "18:10", "--end", "18:40", "--acc-frames", "raw"]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "raw frames" in result.output
    capture = read_capture(out)
    assert capture.header.created.startswith("2022-12-02T21:46:18")  # record start + 18:10
    frames = [PmdDataFrame.from_bytes(r.data) for r in capture.payloads if r.char == uuids.PMD_DATA]
    assert {(f.frame_type, f.compressed) for f in frames} == {(1, False)}
    assert all(len(acc_wire_samples(f)) == 36 for f in frames[:-1])
    t, xyz, _ = acc_of(decode(out))
    assert 29.5 < t[-1] - t[0] < 30.5
    assert np.std(np.linalg.norm(xyz, axis=1)) > 500  # 008 jogs in this half minute


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["hexoskin", "{data}/hexoskin-chest/008hexoskin", "--start", "abc"], 2, "not a time"),
        (
            ["hexoskin", "{data}/hexoskin-chest/008hexoskin", "--start", "30:00", "--end", "20:00"],
            3,
            "empty cut",
        ),
        (["hexoskin", "{data}/garmin-fit"], 3, "missing"),
        (["fit", "{data}/hexoskin-chest/SOURCE.txt"], 3, "FIT"),
        (["hexoskin", "{data}/no-such-folder"], 2, "does not exist"),
    ],
)
def test_convert_bad_input_is_one_line(
    args: list[str], code: int, message: str, data_dir: Path, tmp_path: Path, capsys: Any
) -> None:
    from coach.cli import main

    argv = [
        "convert",
        *[a.replace("{data}", str(data_dir)) for a in args],
        "-o",
        str(tmp_path / "x.jsonl"),
    ]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if code == 3:
        assert err.startswith("coach: error:") and err.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()


def test_convert_refuses_to_overwrite_without_force(data_dir: Path, tmp_path: Path, capsys: Any) -> None:
    from coach.cli import main

    out = tmp_path / "walk.jsonl"
    out.write_text("keep me\n")
    argv = ["convert", "fit", str(data_dir / "garmin-fit" / "garmin-fenix-5-walk.fit"), "-o", str(out)]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("coach: error:") and "--force" in err and err.count("\n") == 1
    assert out.read_text() == "keep me\n"
    main([*argv, "--force"])
    assert read_capture(out).payloads
