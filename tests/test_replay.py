"""Replay (sensors/sources/replay.py): capture -> SampleDecoder -> samples, paced by an injected clock."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from sensors.capture import CaptureWriter, PayloadRecord, read_capture
from sensors.clock import FakeClock
from sensors.codecs.heart_rate import HeartRateMeasurement
from sensors.codecs.pmd import PmdDataFrame, decode_acc
from sensors.errors import CaptureError
from sensors.samples import AccBlock, FootPodSample, HeartRateSample, Sample, SampleDecoder, SensorEvent
from sensors.sources.replay import ReplaySource
from sensors.uuids import HEART_RATE_MEASUREMENT, PMD_CONTROL_POINT, PMD_DATA, RSC_MEASUREMENT

REPO = Path(__file__).resolve().parents[1]
# Polar PMD document v1.0 (tests/data/ble-vectors: doc_h10_start_acc_200hz_8g and sdk_acc_delta_type1_2samples)
START_ACC_RESPONSE = bytes.fromhex("f00202000001")
ACC_FRAME = bytes.fromhex("02650000000000000081f1ff1400f00306017b0f08")
TIMEOUT_S = 5.0


def make_capture(path: Path, *, bad_payload: bool = True) -> Path:
    """10 s: HR once a second (bpm 60..69, 0.5 s RR), RSC at 2 s, a PMD start and one ACC frame, events."""
    with CaptureWriter(path, device={"name": "Polar H10 T", "address": None}, source="test_replay") as w:
        w.event(0.5, "connected", address="AA")
        w.payload(0.6, PMD_CONTROL_POINT, START_ACC_RESPONSE)
        for i in range(10):
            t = 1.0 + i
            w.payload(t, HEART_RATE_MEASUREMENT, bytes(HeartRateMeasurement(bpm=60 + i, rr_1024=(512,))))
            if i == 2:
                w.payload(t + 0.25, RSC_MEASUREMENT, bytes.fromhex("02000550ffff0001"))
            if i == 3:
                w.payload(t + 0.5, PMD_DATA, ACC_FRAME)
            if i == 5 and bad_payload:
                w.payload(t + 0.5, HEART_RATE_MEASUREMENT, b"\x11\x48")  # uint16 HR flag, one byte: corrupt
        w.event(10.5, "disconnected", reason="end")
    return path


def test_iter_samples_decodes_every_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=0)
    with caplog.at_level(logging.WARNING):
        samples = list(source.iter_samples())
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    assert [s.bpm for s in hr] == list(range(60, 70))
    assert [s.t for s in hr] == [1.0 + i for i in range(10)]
    assert all(s.rr_s == (0.5,) and s.contact is None for s in hr)
    (pod,) = [s for s in samples if isinstance(s, FootPodSample)]
    assert (pod.t, pod.speed_mps, pod.cadence_per_min, pod.total_distance_m) == (3.25, 5.0, 80, 1684275.1)
    (acc,) = [s for s in samples if isinstance(s, AccBlock)]
    assert acc.xyz_mg.tolist() == [[-15, 20, 1008], [-20, 17, 1008]]  # values the Polar SDK test asserts
    assert acc.timestamp_ns == 101
    events = [s for s in samples if isinstance(s, SensorEvent)]
    assert [e.event for e in events] == ["connected", "pmd_response", "decode_error", "disconnected"]
    assert events[0].fields == {"address": "AA"} and events[-1].t == 10.5
    bad = events[2]
    assert bad.t == 6.5 and bad.fields["hex"] == "1148"
    # a corrupt payload is logged, counted and skipped; everything after it still arrives
    assert source.decode_errors_ == 1
    assert source.records_replayed_ == len(read_capture(source.path).records) == 16
    assert "could not be decoded" in caplog.text


def test_replay_runs_the_live_decoder_path(tmp_path: Path) -> None:
    """What replay yields is exactly what SampleDecoder gives for the recorded bytes, in order."""
    path = make_capture(tmp_path / "c.jsonl")
    decoder = SampleDecoder()
    expected: list[Sample] = []
    for r in read_capture(path).records:
        if isinstance(r, PayloadRecord):
            expected += decoder.feed(r.t, r.char, r.data)
        else:
            expected += decoder.feed_event(r.t, r.event, r.fields)
    got = list(ReplaySource(path).iter_samples())
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert type(a) is type(b)
        if isinstance(a, AccBlock) and isinstance(b, AccBlock):
            assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.xyz_mg, b.xyz_mg)
        else:
            assert a == b


def test_acc_frame_after_a_start_response_uses_frame_times(tmp_path: Path) -> None:
    path = make_capture(tmp_path / "c.jsonl")
    (acc,) = [s for s in ReplaySource(path).iter_samples() if isinstance(s, AccBlock)]
    frame = PmdDataFrame.from_bytes(ACC_FRAME)
    assert len(acc) == len(decode_acc(frame)) == 2
    assert acc.t == pytest.approx(4.5)  # the last sample is anchored at the frame's arrival
    assert acc.t_s[0] < acc.t_s[1]


async def collect(source: ReplaySource, clock: FakeClock) -> list[tuple[float, Sample]]:
    """(clock time when delivered, sample) for every sample of an async replay."""

    async def run() -> list[tuple[float, Sample]]:
        return [(clock.now(), s) async for s in source]

    return await asyncio.wait_for(run(), TIMEOUT_S)


@pytest.mark.parametrize("speed", [1.0, 10.0, 0.5])
async def test_async_replay_is_paced_by_the_clock(tmp_path: Path, speed: float) -> None:
    clock = FakeClock(1000.0)
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=speed, clock=clock)
    delivered = await collect(source, clock)
    t_first = 0.5  # the first record (connected)
    for when, sample in delivered:
        t = sample.t if not isinstance(sample, AccBlock) else 4.5  # an AccBlock's t is its last sample's
        assert when == pytest.approx(1000.0 + (t - t_first) / speed)
    assert clock.now() == pytest.approx(1000.0 + (10.5 - 0.5) / speed)
    assert source.max_lag_s_ == 0.0
    assert len(delivered) == len(list(source.iter_samples()))


async def test_speed_zero_is_as_fast_as_possible(tmp_path: Path) -> None:
    clock = FakeClock(5.0)
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=0, clock=clock)
    delivered = await collect(source, clock)
    assert len(delivered) == 16 and clock.now() == 5.0


async def test_speed_zero_lets_other_tasks_run(tmp_path: Path) -> None:
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        n = 0
        async for _ in source:
            n += 1
    finally:
        task.cancel()
    assert n == 16 and ticks >= 10


async def test_a_slow_consumer_makes_replay_fall_behind_not_skip(tmp_path: Path) -> None:
    clock = FakeClock()
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=1.0, clock=clock)
    seen: list[Sample] = []

    async def slow() -> None:
        async for s in source:
            seen.append(s)
            clock.advance(3.0)  # the consumer takes 3 clock seconds per sample

    await asyncio.wait_for(slow(), TIMEOUT_S)
    assert len(seen) == 16
    assert source.max_lag_s_ > 10.0


async def test_iterating_twice_starts_over(tmp_path: Path) -> None:
    clock = FakeClock()
    source = ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=2.0, clock=clock)
    first = await collect(source, clock)
    second = await collect(source, clock)
    assert [s for _, s in first if not isinstance(s, AccBlock)] == [
        s for _, s in second if not isinstance(s, AccBlock)
    ]
    assert source.decode_errors_ == 1  # counted per run, not accumulated


@pytest.mark.parametrize("speed", [-1.0, math.nan, math.inf, True])
def test_bad_speed(tmp_path: Path, speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplaySource(make_capture(tmp_path / "c.jsonl"), speed=speed)


def test_a_bad_file_fails_before_the_session_starts(tmp_path: Path) -> None:
    path = make_capture(tmp_path / "c.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(5, '{"t": 3.1, "char": "2a37", "hex": "0g"}\n')
    path.write_text("".join(lines))
    with pytest.raises(CaptureError, match=r"c\.jsonl:6: bad hex"):
        ReplaySource(path)
    lenient = ReplaySource(path, lenient=True)
    assert [w.line for w in lenient.warnings] == [6]
    assert sum(isinstance(s, HeartRateSample) for s in lenient.iter_samples()) == 10
    with pytest.raises(CaptureError, match="no such file"):
        ReplaySource(tmp_path / "missing.jsonl")


def test_torn_last_line_is_replayed_up_to_the_tear(tmp_path: Path) -> None:
    path = make_capture(tmp_path / "c.jsonl", bad_payload=False)
    with path.open("a") as f:
        f.write('{"t": 11.0, "char": "00002a37-0000-1000-8000-00805f')
    source = ReplaySource(path)
    assert len(source.warnings) == 1 and source.warnings[0].torn
    assert source.duration_s == pytest.approx(10.0)
    assert sum(isinstance(s, HeartRateSample) for s in source.iter_samples()) == 10


def test_empty_capture_replays_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    CaptureWriter(path).close()
    source = ReplaySource(path)
    assert list(source.iter_samples()) == []
    assert asyncio.run(collect(source, FakeClock())) == []


@pytest.mark.slow
def test_replay_of_the_chest_fixture_gives_100_hz_acc_and_1_hz_hr() -> None:
    path = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
    source = ReplaySource(path, speed=0)
    samples = list(source.iter_samples())
    acc = [s for s in samples if isinstance(s, AccBlock)]
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    t = np.concatenate([a.t_s for a in acc])
    assert source.decode_errors_ == 0 and source.warnings == []
    assert np.all(np.diff(t) > 0)  # per-sample times strictly increase across frames
    assert (len(t) - 1) / (t[-1] - t[0]) == pytest.approx(100.0, rel=0.01)
    assert (len(hr) - 1) / (hr[-1].t - hr[0].t) == pytest.approx(1.0, rel=0.1)
