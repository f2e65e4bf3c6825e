"""End to end: the production BLE client (sensors.sources.ble) against the virtual strap over bumble's real GATT stack.

No hardware: bumble controllers on an in-process link, bleak driven through the bumble backend. The strap
replays the committed fixtures; time runs on a ScaledClock, so "seconds" below are capture seconds.

Every test runs on virtual time (:func:`on_virtual_time`, tests/virtual_time.py): the strap, the link, the client's
backoff and its radio timeouts all wait on the loop's clock, so a busy machine changes no result ("reconnects
within 2 s" failed under load when it was 0.2 s of wall time at x10) and no test waits for real.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensors import uuids
from sensors.capture import CaptureWriter, PayloadRecord, read_capture
from sensors.codecs.pmd import PmdOpCode, PmdRequest
from sensors.errors import SensorNotFound
from sensors.samples import AccBlock, FootPodSample, HeartRateSample, Sample, SensorEvent
from sensors.sources.ble.client import AccConfig, BleSource, ClientConfig
from sensors.sources.ble.policy import ReconnectPolicy
from sensors.sources.ble.scan import find_device, scan
from sensors.sources.virtual.clock import ScaledClock
from sensors.sources.virtual.script import H10_ACC_SETTINGS, StrapScript
from sensors.sources.virtual.source import VirtualRig, VirtualSource
from sensors.sources.virtual.strap import advertised_name
from tests import virtual_time
from tests.virtual_time import LoopClock

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
CHEST_RAW = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"
RSC_FIXTURE = REPO / "fixtures" / "fit-run-fenix5-hrm.jsonl"
STREAMED = {uuids.HEART_RATE_MEASUREMENT, uuids.PMD_DATA, uuids.RSC_MEASUREMENT}
#: Fast reconnects and short radio timeouts for tests (capture seconds for delays, loop seconds for timeouts).
FAST = ClientConfig(
    connect_timeout_s=0.5,
    scan_timeout_s=2.0,
    request_timeout_s=2.0,
    start_timeout_s=5.0,
    policy=ReconnectPolicy(first_delay_s=0.0, base_delay_s=0.5, factor=2.0, max_delay_s=2.0, jitter=0.0),
)


def trimmed(src: Path, dst: Path, end_s: float) -> Path:
    """A copy of capture ``src`` with the records up to ``end_s`` capture seconds."""
    capture = read_capture(src)
    with CaptureWriter(dst, device=capture.header.device, source=f"{src.name} cut at {end_s:g} s") as writer:
        for record in capture.records:
            if record.t > end_s:
                break
            if isinstance(record, PayloadRecord):
                writer.payload(record.t, record.char, record.data)
            else:
                writer.event(record.t, record.event, **record.fields)
    return dst


def streamed(records: list[PayloadRecord]) -> list[tuple[str, bytes]]:
    return [(r.char, r.data) for r in records if r.char in STREAMED]


def events(samples: list[Sample], name: str) -> list[SensorEvent]:
    return [s for s in samples if isinstance(s, SensorEvent) and s.event == name]


async def collect(source: AsyncIterator[Sample] | VirtualSource, limit_s: float) -> list[Sample]:
    out: list[Sample] = []
    async with asyncio.timeout(limit_s):
        async for sample in source:
            out.append(sample)
    return out


async def wait_for(predicate: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Yield to the loop until ``predicate`` holds (bounded; the virtual link runs in this loop)."""
    async with asyncio.timeout(limit_s):
        while not predicate():
            await asyncio.sleep(0.005)


def on_loop(speed: float) -> ScaledClock:
    """Capture time ``speed`` times the running loop's clock (virtual under :func:`on_virtual_time`)."""
    return ScaledClock(speed, base=LoopClock())


def on_virtual_time(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run the async ``test`` on a :class:`tests.virtual_time.VirtualTimeLoop`; a ``chest_rig`` parameter gets the
    chest recording's virtual strap at x10, made (and closed) on that loop."""
    signature = inspect.signature(test)
    wants_rig = "chest_rig" in signature.parameters

    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        async def body() -> None:
            if not wants_rig:
                await test(*args, **kwargs)
                return
            rig = await VirtualRig.create(StrapScript.from_capture(CHEST), clock=on_loop(10.0))
            try:
                await test(*args, chest_rig=rig, **kwargs)
            finally:
                await rig.close()

        virtual_time.run(body())

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != "chest_rig"]
    )
    return run


# ----------------------------------------------------------------------------------------------- scanning


@on_virtual_time
async def test_scan_finds_the_virtual_strap_by_name(chest_rig: VirtualRig) -> None:
    results = await scan(0.3, backends=chest_rig.backends)
    name = advertised_name(chest_rig.strap.script.name)
    (found,) = [r for r in results if r.name == name]
    assert found.capabilities.heart_rate and found.capabilities.usable
    assert found.capabilities.pmd is None  # a Polar name: PMD likely, confirmed only after connecting
    assert found.service_uuids == (uuids.HEART_RATE_SERVICE,)
    device = await find_device(name="polar h10", timeout_s=2.0, backends=chest_rig.backends)
    assert device.address == found.address
    with pytest.raises(SensorNotFound) as caught:
        await find_device(name="Wahoo TICKR", timeout_s=0.3, backends=chest_rig.backends)
    assert found.label() in caught.value.seen
    assert "seen: " + found.label() in str(caught.value)


# ----------------------------------------------------------------------------------------------- streaming


@on_virtual_time
async def test_connect_subscribe_and_start_acc_at_100_hz(tmp_path: Path) -> None:
    source = VirtualSource(trimmed(CHEST, tmp_path / "cut.jsonl", 8.0), clock=on_loop(20.0), config=FAST)
    samples = await collect(source, 20.0)
    (connected,) = events(samples, "connected")
    assert connected.fields["mtu"] == 232 and connected.fields["reconnect"] == 0
    assert {e.fields["char"] for e in events(samples, "subscribed")} == {
        uuids.HEART_RATE_MEASUREMENT,
        uuids.BATTERY_LEVEL,
        uuids.PMD_DATA,
    }
    (started,) = events(samples, "pmd_started")
    assert started.fields["sample_rate_hz"] == 100 and started.fields["range_g"] == 8
    assert source.rig is not None
    requests = [PmdRequest.from_bytes(r) for r in source.rig.strap.pmd.requests]
    assert [r.op_code for r in requests[:2]] == [PmdOpCode.GET_SETTINGS, PmdOpCode.START]
    settings = requests[1].settings
    assert settings is not None and (settings.sample_rate_hz, settings.range, settings.resolution_bits) == (
        100,
        8,
        16,
    )
    acc = [s for s in samples if isinstance(s, AccBlock)]
    assert sum(len(b) for b in acc) > 500  # ~7 s at 100 Hz
    assert any(isinstance(s, HeartRateSample) for s in samples)
    assert source.capabilities_ is not None and source.capabilities_.pmd is True


@pytest.mark.parametrize("fixture", [CHEST, CHEST_RAW], ids=["compressed-acc", "raw-acc"])
@on_virtual_time
async def test_60_s_recorded_through_the_client_equal_the_fixture_byte_for_byte(
    fixture: Path, tmp_path: Path
) -> None:
    cut = trimmed(fixture, tmp_path / "cut.jsonl", 60.0)
    out = tmp_path / "recorded.jsonl"
    with CaptureWriter(out, source="test") as writer:
        source = VirtualSource(cut, clock=on_loop(20.0), capture=writer, config=FAST)
        await collect(source, 30.0)
    expected = streamed(read_capture(cut).payloads)
    got = streamed(read_capture(out).payloads)
    assert len(expected) > 150
    assert got == expected  # byte for byte, in order, none lost
    assert source.rig is not None and source.rig.strap.lost == 0
    assert source.drops_ == 0


@on_virtual_time
async def test_drop_every_20_s_reconnects_within_2_s_and_never_gives_up(tmp_path: Path) -> None:
    cut = trimmed(CHEST, tmp_path / "cut.jsonl", 121.0)
    out = tmp_path / "recorded.jsonl"
    # The in-process link connects in no virtual time: a first retry after 0.5 s makes the outage a real gap.
    first_retry_later = dataclasses.replace(FAST, policy=dataclasses.replace(FAST.policy, first_delay_s=0.5))
    with CaptureWriter(out, source="test") as writer:
        source = VirtualSource(
            cut, drop_every_s=20.0, clock=on_loop(10.0), capture=writer, config=first_retry_later
        )
        await collect(source, 60.0)
    assert source.rig is not None
    strap_drops = source.rig.strap.drops
    assert len(strap_drops) >= 5  # at 20, 40, 60, 80, 100 s of capture time
    capture = read_capture(out)
    evs = capture.events
    downs = [
        e for e in evs if e.event == "disconnected" and "connection timeout" in str(e.fields.get("reason"))
    ]
    ups = [e for e in evs if e.event == "connected" and e.fields.get("reconnect", 0) > 0]
    assert len(downs) == len(strap_drops) == source.drops_
    assert len(ups) == len(downs)
    data_t = [r.t for r in capture.payloads if r.char == uuids.PMD_DATA]
    for down, up in zip(downs, ups, strict=True):
        assert up.t > down.t
        assert up.t - down.t < 2.0, f"reconnected after {up.t - down.t:.2f} s"
        assert up.fields["outage_s"] == pytest.approx(up.t - down.t, abs=2e-6)
        # The gap is in the capture: no data between the drop and the reconnection, data again after it.
        assert not [t for t in data_t if down.t < t < up.t]
        assert [t for t in data_t if up.t < t < up.t + 5.0], "the stream did not resume"
    starts = [e for e in evs if e.event == "pmd_started"]
    assert len(starts) == len(ups) + 1  # restarted after every reconnection


# ----------------------------------------------------------------------------------------------- failures


@on_virtual_time
async def test_link_lost_during_a_control_point_write_is_retried(chest_rig: VirtualRig) -> None:
    strap = chest_rig.strap
    strap.cp_write_delay_s = 30.0  # the strap never answers the write...
    source = BleSource(
        name="Polar H10", clock=chest_rig.strap.clock, config=FAST, backends=chest_rig.backends
    )
    starting = asyncio.create_task(source.start())
    await asyncio.wait_for(strap.cp_written.wait(), 5.0)
    strap.cp_write_delay_s = 0.0
    assert await strap.drop_link()  # ...and the link drops while the write is pending
    await asyncio.wait_for(starting, 10.0)  # start() retried the set-up on a new connection
    samples = await _drain(source)
    failed = events(samples, "connect_failed")
    assert failed and "lost" in failed[0].fields["reason"]
    assert events(samples, "pmd_started")
    assert source.connected and source.connections_ == 2
    await source.aclose()


@on_virtual_time
async def test_connect_timeout_then_retry_with_backoff_until_the_strap_is_back(chest_rig: VirtualRig) -> None:
    strap = chest_rig.strap
    source = BleSource(name="Polar H10", clock=strap.clock, config=FAST, backends=chest_rig.backends)
    await source.start()
    await strap.stop_advertising()  # out of range: every connect attempt times out
    await strap.drop_link()
    await wait_for(lambda: source.reconnect_attempts_ >= 5, 20.0)
    assert not source.connected
    await strap.resume_advertising()
    await wait_for(lambda: source.connected, 10.0)
    samples = await _drain(source)
    failed = events(samples, "connect_failed")
    assert len(failed) >= 4 and "timed out" in failed[0].fields["reason"]
    # Every third failure rescans (BlueZ forgets devices): that one reports what the scan saw instead.
    assert all("timed out" in e.fields["reason"] or "advertised within" in e.fields["reason"] for e in failed)
    delays = [e.fields["delay_s"] for e in events(samples, "reconnect_attempt")]
    assert delays[:4] == [0.0, 0.5, 1.0, 2.0]  # FAST's policy: immediate, then doubling up to 2 s
    assert max(delays) == 2.0  # capped, and it kept going
    (again,) = [e for e in events(samples, "connected") if e.fields["reconnect"] == 1]
    assert again.fields["outage_s"] > 0
    await source.aclose()


@pytest.mark.parametrize("rate_hz", [300, 200])  # 300: no H10 rate; 200: an H10 rate, not the recording's
@on_virtual_time
async def test_a_rate_the_strap_does_not_offer_becomes_the_nearest_it_does(
    tmp_path: Path, rate_hz: int
) -> None:
    """The strap replays frames recorded at 100 Hz (8 G, 16 bit) and offers only that: the client reads the offer
    and asks for 100 Hz instead of getting no accelerometer at all; the capture says what was asked first."""
    config = ClientConfig(
        acc=AccConfig(sample_rate_hz=rate_hz),
        connect_timeout_s=2.0,
        request_timeout_s=2.0,
        start_timeout_s=5.0,
    )
    source = VirtualSource(trimmed(CHEST, tmp_path / "cut.jsonl", 12.0), clock=on_loop(20.0), config=config)
    samples = await collect(source, 20.0)
    assert not events(samples, "pmd_error") and source.pmd_error_ is None
    (started,) = events(samples, "pmd_started")
    assert started.fields["sample_rate_hz"] == 100
    assert started.fields["adjusted_from"] == f"{rate_hz} Hz, 8 G, 16 bit"
    blocks = [s for s in samples if isinstance(s, AccBlock)]
    t = np.concatenate([b.t_s for b in blocks])
    assert len(t) > 500 and float(np.median(np.diff(t))) == pytest.approx(1 / 100, rel=0.01)


@on_virtual_time
async def test_a_refused_start_gives_the_pmd_error_sentence_and_heart_rate_goes_on(tmp_path: Path) -> None:
    config = ClientConfig(connect_timeout_s=2.0, request_timeout_s=2.0, start_timeout_s=5.0)
    source = VirtualSource(trimmed(CHEST, tmp_path / "cut.jsonl", 12.0), clock=on_loop(20.0), config=config)
    # A strap that would wait 60 s for a client that never gets ready (its default is 5 s)...
    source.rig = await VirtualRig.create(source.script, clock=source.clock, ready_timeout_s=60.0)
    source.backends = source.rig.backends
    # ...and that needs notifications larger than any MTU the link can give: it refuses every start.
    source.rig.strap.pmd.max_notification_bytes = 10_000
    samples = await collect(source, 20.0)
    (error,) = events(samples, "pmd_error")
    assert error.fields["status_name"] == "ERROR_INVALID_MTU"
    text = error.fields["text"]
    assert "refused the start of the accelerometer at 100 Hz, 8 G, 16 bit" in text
    assert "it offers 100 Hz, 8 G, 16 bit" in text
    assert source.pmd_error_ == text
    assert not events(samples, "pmd_started")
    assert not [s for s in samples if isinstance(s, AccBlock)]
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    assert hr  # the session goes on with heart rate...
    # ...from the start: the refusal settles the strap's set-up, it does not wait for its ready timeout.
    assert hr[0].t < 30.0


def synthetic_capture(path: Path, rate_hz: int, seconds: float) -> Path:
    """A chest capture as `coach record` writes it, with ACC at ``rate_hz`` (a 1.8 Hz sway) and HR every second."""
    from sensors.clock import FakeClock
    from sensors.codecs import HeartRateMeasurement, build_acc_frame

    per_frame = 36
    with CaptureWriter(path, device={"name": "Polar H10 SYNTH"}, source="synthetic", clock=FakeClock()) as w:
        w.event(0.0, "connected", name="Polar H10 SYNTH")
        w.payload(0.4, uuids.PMD_CONTROL_POINT, bytes.fromhex(f"F0 01 02 00 00 {H10_ACC_SETTINGS.hex()}"))
        w.payload(0.5, uuids.PMD_CONTROL_POINT, bytes.fromhex("F0 02 02 00 00 01"))
        w.event(0.5, "pmd_started", measurement="acc", sample_rate_hz=rate_hz, resolution_bits=16, range_g=8)
        n, next_hr = 0, 1.0
        while n / rate_hz < seconds:
            rows = [
                (0, round(300 * math.sin(2 * math.pi * 1.8 * (n + i) / rate_hz)), 1000)
                for i in range(per_frame)
            ]
            n += per_frame
            t = 1.0 + n / rate_hz
            while next_hr <= t:
                w.payload(
                    next_hr, uuids.HEART_RATE_MEASUREMENT, bytes(HeartRateMeasurement(bpm=110, contact=True))
                )
                next_hr += 1.0
            frame = build_acc_frame(rows, 700_000_000 * 10**9 + round(n / rate_hz * 1e9), compressed=False)
            w.payload(t + 0.01, uuids.PMD_DATA, bytes(frame))
    return path


@on_virtual_time
async def test_without_a_config_the_client_asks_for_the_rate_the_strap_serves(tmp_path: Path) -> None:
    capture = synthetic_capture(tmp_path / "acc50.jsonl", 50, 6.0)
    source = VirtualSource(capture, clock=on_loop(20.0))  # no config: what `coach run --sensor virtual:` does
    assert source.rig is None and source.config.acc == AccConfig(sample_rate_hz=50)
    samples = await collect(source, 20.0)
    assert not events(samples, "pmd_error")
    (started,) = events(samples, "pmd_started")
    assert started.fields["sample_rate_hz"] == 50
    blocks = [s for s in samples if isinstance(s, AccBlock)]
    t = np.concatenate([b.t_s for b in blocks])
    assert len(t) > 200 and float(np.median(np.diff(t))) == pytest.approx(1 / 50, rel=0.01)


@on_virtual_time
async def test_a_failed_start_closes_the_rig(tmp_path: Path) -> None:
    config = ClientConfig(scan_timeout_s=0.3, connect_timeout_s=0.5, start_timeout_s=2.0)
    source = VirtualSource(trimmed(CHEST, tmp_path / "cut.jsonl", 8.0), clock=on_loop(20.0), config=config)
    rig = source.rig = await VirtualRig.create(source.script, clock=source.clock)
    source.backends = rig.backends
    await rig.strap.stop_advertising()  # out of range: the scan finds nothing
    with pytest.raises(SensorNotFound):
        await source.start()
    assert rig.strap._main is not None and rig.strap._main.done()  # no strap task, no link left behind
    assert rig.air.devices == [] and rig.closed
    await source.aclose()  # closing again is harmless


@pytest.mark.parametrize("pair", [True, False], ids=["pairs", "no-pair"])
@on_virtual_time
async def test_a_strap_that_wants_pairing_never_costs_heart_rate(pair: bool, tmp_path: Path) -> None:
    """The control point answers ATT 0x05 Insufficient Authentication (as Windows reports it): the client tries to
    pair (the virtual strap's backend cannot: NotImplementedError) or, with ``pair=False``, does not; either way the
    connection stays up with heart rate and one ``pmd_error`` says what is lost and what to do."""
    config = dataclasses.replace(FAST, pair=pair)
    source = VirtualSource(trimmed(CHEST, tmp_path / "cut.jsonl", 10.0), clock=on_loop(20.0), config=config)
    source.rig = await VirtualRig.create(source.script, clock=source.clock)
    source.backends = source.rig.backends
    source.rig.strap.cp_write_error = 0x05
    samples = await collect(source, 20.0)
    (error,) = events(samples, "pmd_error")
    text = error.fields["text"]
    assert text.startswith("No accelerometer: ") and "walk/run" in text and "bluetoothctl" in text
    assert ("pairing failed" in text) if pair else ("--no-pair" in text and "pairing failed" not in text)
    assert source.connections_ == 1 and source.drops_ == 0  # the link was never given up
    assert not events(samples, "pmd_started") and not events(samples, "paired")
    assert not [s for s in samples if isinstance(s, AccBlock)]
    assert len([s for s in samples if isinstance(s, HeartRateSample)]) >= 7


@on_virtual_time
async def test_hr_only_strap_serves_no_pmd(tmp_path: Path) -> None:
    source = VirtualSource(
        trimmed(CHEST, tmp_path / "cut.jsonl", 10.0), hr_only=True, clock=on_loop(20.0), config=FAST
    )
    samples = await collect(source, 20.0)
    assert source.capabilities_ is not None and source.capabilities_.pmd is False
    assert source.rig is not None and source.rig.strap.pmd.requests == []
    assert not events(samples, "pmd_started")
    # old firmware (or a strap without PMD): a warning and an event, and the session goes on with heart rate
    (error, *_) = events(samples, "pmd_error")
    assert error.fields["reason"] == "no_pmd_service" and "walk/run" in error.fields["text"]
    assert not [s for s in samples if isinstance(s, AccBlock)]
    hr = [s for s in samples if isinstance(s, HeartRateSample)]
    assert len(hr) >= 7 and all(s.contact for s in hr)


@on_virtual_time
async def test_strap_with_rsc_streams_foot_pod_samples(tmp_path: Path) -> None:
    cut = trimmed(RSC_FIXTURE, tmp_path / "cut.jsonl", 20.0)
    out = tmp_path / "recorded.jsonl"
    with CaptureWriter(out, source="test") as writer:
        source = VirtualSource(cut, clock=on_loop(20.0), capture=writer, config=FAST)
        samples = await collect(source, 20.0)
    assert source.capabilities_ is not None
    assert (source.capabilities_.rsc, source.capabilities_.pmd) == (True, False)
    pods = [s for s in samples if isinstance(s, FootPodSample)]
    assert len(pods) >= 15 and max(p.cadence_per_min for p in pods) > 100
    assert streamed(read_capture(out).payloads) == streamed(read_capture(cut).payloads)


async def _drain(source: BleSource) -> list[Sample]:
    """Everything the source has queued so far (without waiting for more)."""
    out: list[Sample] = []
    queue = source._queue  # test-only peek at what the session would have consumed
    while not queue.empty():
        item = queue.get_nowait()
        if isinstance(item, BaseException):
            raise item
        if item is not None:
            out.append(item)
    return out


@on_virtual_time
async def test_a_capture_that_cannot_be_written_ends_the_session_with_that_error(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "rec.jsonl", source="test")
    source = VirtualSource(
        trimmed(CHEST, tmp_path / "cut.jsonl", 20.0), clock=on_loop(20.0), capture=writer, config=FAST
    )
    seen = 0
    with pytest.raises(ValueError, match="closed"):
        async with asyncio.timeout(20.0):
            async for sample in source:
                seen += 1
                if isinstance(sample, HeartRateSample):
                    writer.close()  # as if the disk went away: the next payload cannot be recorded
    assert seen > 0 and isinstance(source.capture_error_, ValueError)
    assert source.rig is not None and not source.rig.strap.connected.is_set()  # closed down properly


@on_virtual_time
async def test_first_connection_times_out_then_start_retries(chest_rig: VirtualRig) -> None:
    strap = chest_rig.strap
    device = await find_device(name="Polar H10", timeout_s=2.0, backends=chest_rig.backends)
    await strap.stop_advertising()  # seen in the scan, then out of range
    source = BleSource(device=device, clock=strap.clock, config=FAST, backends=chest_rig.backends)
    starting = asyncio.create_task(source.start())
    await wait_for(lambda: source.reconnect_attempts_ >= 2, 10.0)
    assert not starting.done()
    await strap.resume_advertising()
    await asyncio.wait_for(starting, 10.0)
    samples = await _drain(source)
    assert "timed out" in events(samples, "connect_failed")[0].fields["reason"]
    assert events(samples, "connected") and source.connected
    await source.aclose()
    assert (
        not source.connected
        and events(await _drain(source), "disconnected")[0].fields["reason"] == "session ended"
    )


@on_virtual_time
async def test_an_unexpected_error_while_reconnecting_does_not_kill_the_supervisor(
    chest_rig: VirtualRig,
) -> None:
    # A backend may raise something bleak does not wrap (a KeyError, a RuntimeError): the supervisor logs it,
    # records connect_failed and tries again, instead of dying and leaving the session without its strap.
    strap = chest_rig.strap
    source = BleSource(name="Polar H10", clock=strap.clock, config=FAST, backends=chest_rig.backends)
    await source.start()
    real_connect = source._connect_once
    calls = 0

    async def flaky_connect(device: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("backend bug")
        await real_connect(device)

    source._connect_once = flaky_connect  # type: ignore[method-assign]
    assert await strap.drop_link()
    await wait_for(lambda: source.connections_ == 2, 10.0)
    failed = events(await _drain(source), "connect_failed")
    assert failed and "backend bug" in failed[0].fields["reason"]
    await source.aclose()
