"""The virtual strap's pure parts: its PMD control point answers, what it serves from a capture, its adverts."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors import uuids
from sensors.capture import EventRecord, PayloadRecord
from sensors.codecs.pmd import (
    PmdDataFrame,
    PmdFeatures,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    PmdSettingType,
    PmdStatus,
    build_acc_frame,
)
from sensors.samples import AccBlock, SampleDecoder, SensorEvent
from sensors.sources.ble.client import AccConfig
from sensors.sources.virtual.clock import ScaledClock
from sensors.sources.virtual.pmd_server import FEATURES_ACC_ONLY, PmdServer
from sensors.sources.virtual.script import (
    H10_ACC_SETTINGS,
    LOOP_GAP_S,
    StrapScript,
    measured_acc_rate_hz,
    shift_pmd_timestamp,
)
from sensors.sources.virtual.source import servable_acc_config
from sensors.sources.virtual.strap import advertised_name, advertising_data

REPO = Path(__file__).resolve().parents[1]
ACC = 0x02
H10 = PmdSettings.from_bytes(H10_ACC_SETTINGS)


def start(rate: int = 100, resolution: int = 16, range_g: int = 8) -> bytes:
    return bytes(
        PmdRequest.start(
            ACC, PmdSettings.build(sample_rate_hz=rate, resolution_bits=resolution, range=range_g)
        )
    )


def answer(server: PmdServer, request: bytes, mtu: int = 232) -> PmdResponse:
    return PmdResponse.from_bytes(server.handle(request, mtu=mtu))


def test_get_settings_answers_like_an_h10() -> None:
    # Polar online measurement doc v1.0 p.12: the H10's ACC settings response, byte for byte.
    raw = PmdServer(H10).handle(bytes.fromhex("01 02"), mtu=232)
    assert raw == bytes.fromhex(
        "F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00"
    )


def test_start_and_stop() -> None:
    server = PmdServer(H10)
    # doc p.13: a successful H10 start is answered F0 02 02 00 00 01 (one reserved byte).
    assert server.handle(start(200), mtu=232) == bytes.fromhex("F0 02 02 00 00 01")
    assert server.started is not None and server.started.sample_rate_hz == 200
    assert answer(server, start()).status == PmdStatus.ERROR_ALREADY_IN_STATE
    assert server.handle(bytes.fromhex("03 02"), mtu=232) == bytes.fromhex("F0 03 02 00 00")
    assert server.started is None
    assert answer(server, bytes.fromhex("03 02")).status == PmdStatus.ERROR_ALREADY_IN_STATE
    server.handle(start(), mtu=232)
    server.reset()  # the link dropped
    assert server.started is None
    assert len(server.requests) == 5


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (start(rate=300), PmdStatus.ERROR_INVALID_SAMPLE_RATE),
        (start(resolution=14), PmdStatus.ERROR_INVALID_RESOLUTION),
        (start(range_g=16), PmdStatus.ERROR_INVALID_RANGE),
        (bytes.fromhex("02 02"), PmdStatus.ERROR_INVALID_PARAMETER),  # a real H10: start without settings
        (bytes.fromhex("02 02 00 01 64 00"), PmdStatus.ERROR_INVALID_PARAMETER),  # resolution missing
        (bytes.fromhex("02 02 00 01 64"), PmdStatus.ERROR_INVALID_LENGTH),  # TLV cut short
        (bytes.fromhex("02 00 00 01 82 00 01 01 0E 00"), PmdStatus.ERROR_NOT_SUPPORTED),  # ECG: not served
        (bytes.fromhex("07 02"), PmdStatus.ERROR_INVALID_OP_CODE),
        (bytes.fromhex("01"), PmdStatus.ERROR_INVALID_LENGTH),
    ],
)
def test_refusals_use_the_documented_codes(request_bytes: bytes, status: int) -> None:
    server = PmdServer(H10)
    response = answer(server, request_bytes)
    assert response.status == status and not response.ok
    assert response.op_code == (request_bytes[0] if request_bytes else 0)
    assert server.started is None
    assert server.refused == (status if request_bytes[0] == 0x02 else None)  # a refused start is remembered


def test_frames_larger_than_the_mtu_allows_are_refused() -> None:
    server = PmdServer(H10, max_notification_bytes=202)
    assert answer(server, start(), mtu=23).status == PmdStatus.ERROR_INVALID_MTU
    assert answer(server, start(), mtu=232).ok


def test_features_read_offers_acc_only() -> None:
    features = PmdFeatures.from_bytes(FEATURES_ACC_ONLY)
    assert features.measurement_types == (ACC,) and len(FEATURES_ACC_ONLY) == 17


def test_script_from_the_chest_fixture() -> None:
    script = StrapScript.from_capture(REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl")
    assert script.name.startswith("Polar H10")
    assert script.has_hr and script.has_pmd and not script.has_rsc
    assert {r.char for r in script.stream} == {uuids.HEART_RATE_MEASUREMENT, uuids.PMD_DATA}
    # The recorded H10 answer (25/50/100/200 Hz, 2/4/8 G) narrowed to what the frames were recorded at
    # (the pmd_started event: 100 Hz, 16 bit, 8 G): replayed frames cannot be served at another rate.
    assert PmdSettings.from_bytes(script.acc_settings) == PmdSettings.build(
        sample_rate_hz=100, resolution_bits=16, range=8
    )
    assert script.acc_sample_rates_hz == (100,)
    assert script.body_sensor_location == b"\x01"
    assert 1.0 <= script.start_s < 2.1 and script.duration_s > 290
    assert script.max_notification_bytes <= 229
    hr_only = script.without_pmd()
    assert not hr_only.has_pmd and hr_only.has_hr and len(hr_only.stream) < len(script.stream)


def test_a_looped_recording_runs_on_as_one_stream() -> None:
    """Looping (``--loop``, the demo): each pass's times and PMD timestamps continue from the last pass, so the
    client's decoder sees one sensor clock (no re-anchoring) and the ACC rate holds across the seam."""
    script = StrapScript.from_capture(REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl")
    n = len(script.stream)
    looped = list(itertools.islice(script.looped_stream(), 2 * n + 5))
    period_s = script.duration_s + LOOP_GAP_S
    assert looped[:n] == list(script.stream)  # the first pass is the recording as it is
    for first, again in zip(script.stream, looped[n : 2 * n], strict=True):
        assert again.t == pytest.approx(first.t + period_s) and again.char == first.char
        if first.char == uuids.PMD_DATA:
            moved = (
                PmdDataFrame.from_bytes(again.data).timestamp_ns
                - PmdDataFrame.from_bytes(first.data).timestamp_ns
            )
            assert moved == round(period_s * 1e9)
            assert again.data[9:] == first.data[9:]  # the samples themselves are the recording's
        else:
            assert again.data == first.data
    assert looped[2 * n].t == pytest.approx(script.stream[0].t + 2 * period_s)
    assert all(b.t > a.t for a, b in itertools.pairwise(looped[n - 1 : n + 1]))
    decoder = SampleDecoder()
    out = [s for r in looped[: 2 * n] for s in decoder.feed(r.t, r.char, r.data)]
    assert decoder.reanchors_ == 0 and not any(isinstance(s, SensorEvent) for s in out)
    blocks = [s for s in out if isinstance(s, AccBlock)]
    seam = script.stream[-1].t
    assert any(b.t_s[0] > seam for b in blocks)
    times = [t for b in blocks for t in b.t_s]
    assert all(b > a for a, b in itertools.pairwise(times))  # sample times never step back at the seam
    pmd = [r for r in looped[: 2 * n] if r.char == uuids.PMD_DATA]
    assert measured_acc_rate_hz(pmd) == pytest.approx(measured_acc_rate_hz(script.stream), rel=1e-6)


def test_shift_pmd_timestamp_moves_only_the_timestamp() -> None:
    frame = PmdDataFrame(ACC, 1_000_000_000, 0x01, False, b"\x01\x02\x03")
    moved = PmdDataFrame.from_bytes(shift_pmd_timestamp(bytes(frame), 2.5))
    assert moved == PmdDataFrame(ACC, 3_500_000_000, 0x01, False, b"\x01\x02\x03")
    assert shift_pmd_timestamp(b"\x02\x00", 1.0) == b"\x02\x00"  # not a frame: sent as recorded


def test_the_strap_refuses_a_rate_its_recording_cannot_serve() -> None:
    script = StrapScript.from_capture(REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl")
    server = PmdServer(PmdSettings.from_bytes(script.acc_settings))
    offered = answer(server, bytes.fromhex("01 02")).settings
    assert offered is not None and offered.values(PmdSettingType.SAMPLE_RATE) == (100,)
    # Polar doc / ble-vectors error codes: 8 ERROR_INVALID_SAMPLE_RATE, 9 ERROR_INVALID_RANGE.
    assert answer(server, start(rate=200)).status == PmdStatus.ERROR_INVALID_SAMPLE_RATE
    assert answer(server, start(rate=50)).status == PmdStatus.ERROR_INVALID_SAMPLE_RATE
    assert answer(server, start(range_g=2)).status == PmdStatus.ERROR_INVALID_RANGE
    assert server.started is None
    assert server.refused == PmdStatus.ERROR_INVALID_RANGE
    assert answer(server, start(rate=100)).ok and server.refused is None


def acc_records(
    rate_hz: float, seconds: float, *, per_frame: int = 36, gap_after_s: float | None = None
) -> list[PayloadRecord]:
    """PMD ACC data payloads (raw int16 frames) of a stream at ``rate_hz``; ``gap_after_s`` drops 3 s of frames."""
    out: list[PayloadRecord] = []
    n = 0
    t0_ns = 700_000_000 * 10**9
    while n / rate_hz < seconds:
        n += per_frame
        t = n / rate_hz
        if gap_after_s is not None and gap_after_s < t < gap_after_s + 3.0:
            continue
        rows = [(0, 10 * (i % 7), 1000) for i in range(per_frame)]
        frame = build_acc_frame(rows, t0_ns + round(t * 1e9), compressed=False)
        out.append(PayloadRecord(1.0 + t + 0.02, uuids.PMD_DATA, bytes(frame)))
    return out


H10_SETTINGS_RESPONSE = PayloadRecord(
    0.4, uuids.PMD_CONTROL_POINT, bytes.fromhex("F0 01 02 00 00") + H10_ACC_SETTINGS
)


@pytest.mark.parametrize(
    ("rate_hz", "offered_hz"),
    [(50.03, 50), (200.0, 200), (25.0, 25), (130.1, 130)],  # 130 Hz: offered by no H10, served as recorded
)
def test_without_a_pmd_started_event_the_rate_is_measured_from_the_frames(
    rate_hz: float, offered_hz: int
) -> None:
    records = [H10_SETTINGS_RESPONSE, *acc_records(rate_hz, 20.0, gap_after_s=8.0)]
    assert measured_acc_rate_hz(records[1:]) == pytest.approx(
        rate_hz, rel=1e-6
    )  # the 3 s gap does not bias it
    script = StrapScript.from_records(records)
    settings = PmdSettings.from_bytes(script.acc_settings)
    assert settings.values(PmdSettingType.SAMPLE_RATE) == (offered_hz,)
    assert settings.values(PmdSettingType.RANGE) == (2, 4, 8)  # not recorded: the strap's own offer stands


def test_the_pmd_started_event_names_rate_range_and_resolution() -> None:
    started = EventRecord(
        0.6, "pmd_started", {"measurement": "acc", "sample_rate_hz": 200, "resolution_bits": 16, "range_g": 4}
    )
    script = StrapScript.from_records([H10_SETTINGS_RESPONSE, started, *acc_records(200.0, 5.0)])
    assert PmdSettings.from_bytes(script.acc_settings) == PmdSettings.build(
        sample_rate_hz=200, resolution_bits=16, range=4
    )
    assert servable_acc_config(script) == AccConfig(sample_rate_hz=200, range_g=4, resolution_bits=16)
    # No PMD data: nothing to narrow, the strap serves no PMD anyway.
    assert StrapScript.from_records([H10_SETTINGS_RESPONSE, started]).acc_settings == H10_ACC_SETTINGS
    assert servable_acc_config(StrapScript.from_records([])) == AccConfig()  # H10 menu: the client's default
    garbled = PayloadRecord(0.4, uuids.PMD_CONTROL_POINT, bytes.fromhex("F0 01 02 00 00 00 04 19"))
    assert StrapScript.from_records([garbled]).acc_settings == H10_ACC_SETTINGS  # cut short: ignored


def test_battery_follows_the_recorded_reads() -> None:
    records = [
        PayloadRecord(0.5, uuids.BATTERY_LEVEL, b"\x57"),
        PayloadRecord(60.0, uuids.BATTERY_LEVEL, b"\x56"),
        PayloadRecord(1.0, uuids.HEART_RATE_MEASUREMENT, b"\x06\x48"),
    ]
    script = StrapScript.from_records(records)
    assert (script.battery_at(0.0), script.battery_at(30.0), script.battery_at(61.0)) == (
        b"\x57",
        b"\x57",
        b"\x56",
    )
    assert StrapScript.from_records([]).battery_at(5.0) == b"\x64"
    assert script.name == "coach virtual strap"


def test_advertising_data_fits_31_bytes_and_shortens_long_names() -> None:
    short = advertising_data("Polar H10 A1")
    assert len(short) <= 31 and b"Polar H10 A1" in short and advertised_name("Polar H10 A1") == "Polar H10 A1"
    long_name = "Polar H10 (Hexoskin 005hexoskin re-encoded)"
    data = advertising_data(long_name, rsc=True)
    assert len(data) == 31
    assert long_name.startswith(advertised_name(long_name, rsc=True))
    assert len(advertised_name(long_name, rsc=True)) < len(advertised_name(long_name))
    assert bytes.fromhex("0d18 1418") in data  # 16-bit Heart Rate and RSC service UUIDs, little endian


def test_scaled_clock() -> None:
    class Manual:
        def __init__(self) -> None:
            self.t = 100.0
            self.slept: list[float] = []

        def now(self) -> float:
            return self.t

        async def sleep(self, seconds: float) -> None:
            self.slept.append(seconds)

    base = Manual()
    clock = ScaledClock(20.0, base)
    base.t += 1.5
    assert clock.now() == pytest.approx(30.0) and clock.to_wall_s(2.0) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        ScaledClock(0.0)


@given(st.binary(max_size=40), st.integers(min_value=23, max_value=517))
def test_any_control_point_write_gets_a_wellformed_answer(request_bytes: bytes, mtu: int) -> None:
    server = PmdServer(H10, max_notification_bytes=229)
    response = PmdResponse.from_bytes(server.handle(request_bytes, mtu=mtu))
    assert response.op_code == (request_bytes[0] if request_bytes else 0)
    assert (server.started is not None) == (response.ok and response.op_code == 0x02)
