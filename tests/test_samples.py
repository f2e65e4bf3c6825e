"""SampleDecoder and decode_record: raw notifications -> typed samples / JSON-able records."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors import uuids
from sensors.codecs import (
    HeartRateMeasurement,
    MeasurementType,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    RscMeasurement,
    build_acc_frame,
)
from sensors.errors import DecodeError
from sensors.samples import (
    AccBlock,
    BatterySample,
    FootPodSample,
    HeartRateSample,
    PmdState,
    SampleDecoder,
    SensorEvent,
    decode_record,
)

START_100HZ = PmdRequest.start(
    MeasurementType.ACC, PmdSettings.build(sample_rate_hz=100, resolution_bits=16, range=8)
)
START_OK = PmdResponse.for_request(START_100HZ)
T0_NS = 599_622_173_760_485_265  # a real H10 clock value (2019)


def test_heart_rate_rsc_battery_and_location() -> None:
    dec = SampleDecoder()
    hr = bytes.fromhex("164854 01EC02".replace(" ", ""))  # uint8 72 bpm, contact, RR 340 and 748 / 1024 s
    assert dec.feed(1.5, "2A37", hr) == [HeartRateSample(1.5, 72, (340 / 1024, 748 / 1024), True, None)]
    rsc = bytes(RscMeasurement(speed_mps=2.5, cadence_per_min=150, stride_length_m=1.0, running=True))
    assert dec.feed(2.0, uuids.RSC_MEASUREMENT.upper(), rsc) == [
        FootPodSample(2.0, 2.5, 150, 1.0, None, True)
    ]
    assert dec.feed(3.0, "00002a19-0000-1000-8000-00805f9b34fb", b"\x57") == [BatterySample(3.0, 87)]
    [event] = dec.feed(3.0, uuids.BODY_SENSOR_LOCATION, b"\x01")
    assert isinstance(event, SensorEvent) and event.fields == {"location": "chest"}
    assert dec.feed(4.0, uuids.MODEL_NUMBER, b"H10") == []
    assert dec.feed(4.0, "not a uuid", b"\x00") == []


def test_bad_payload_becomes_an_event_not_an_exception() -> None:
    dec = SampleDecoder()
    [event] = dec.feed(7.0, uuids.HEART_RATE_MEASUREMENT, b"\x10\x3c\x01")  # odd RR byte
    assert isinstance(event, SensorEvent) and event.event == "decode_error"
    assert event.fields["hex"] == "103c01" and "odd" in event.fields["reason"]
    assert dec.errors_ == 1
    with pytest.raises(DecodeError):
        SampleDecoder(strict=True).feed(7.0, uuids.HEART_RATE_MEASUREMENT, b"\x10\x3c\x01")


def _acc_stream(
    real_hz: float, per_frame: int, frames: int, latency_s: float = 0.03, jitter_s: float = 0.0
) -> list[tuple[float, bytes, list[int]]]:
    """(arrival t, frame bytes, true sample times ns) of a strap whose clock starts at T0_NS at session t=0."""
    rng = random.Random(1)
    out = []
    for f in range(frames):
        times = [T0_NS + round((f * per_frame + k) * 1e9 / real_hz) for k in range(per_frame)]
        samples = [(k, -k, 1000) for k in range(per_frame)]
        frame = build_acc_frame(samples, times[-1])
        arrival = (times[-1] - T0_NS) / 1e9 + latency_s + rng.uniform(0, jitter_s)
        out.append((arrival, bytes(frame), times))
    return out


def test_acc_blocks_follow_the_sensor_clock_not_the_arrival_jitter() -> None:
    dec = SampleDecoder()
    dec.feed(0.0, uuids.PMD_CONTROL_POINT, bytes(START_100HZ))
    [response_event] = dec.feed(0.01, uuids.PMD_CONTROL_POINT, bytes(START_OK))
    assert isinstance(response_event, SensorEvent) and response_event.fields["status_name"] == "SUCCESS"
    assert dec.pmd.sample_rate_hz == 100.0
    stream = _acc_stream(real_hz=100.08, per_frame=36, frames=200, latency_s=0.03, jitter_s=0.05)
    blocks: list[AccBlock] = []
    for t, data, _ in stream:
        out = dec.feed(t, uuids.PMD_DATA, data)
        assert len(out) == 1 and isinstance(out[0], AccBlock)
        blocks.append(out[0])
    first_t, _, first_times = stream[0]
    # Anchor: the first frame's last sample sits at its arrival time.
    assert blocks[0].t == pytest.approx(first_t, abs=1e-9)
    t_all = np.concatenate([b.t_s for b in blocks])
    truth = np.concatenate([np.array(times) for _, _, times in stream])
    offset = first_t - (first_times[-1] - T0_NS) / 1e9
    err = t_all - ((truth - T0_NS) / 1e9 + offset)
    # After the first frame, sample times are the sensor's (drift included) to within rounding, whatever the jitter.
    assert np.max(np.abs(err[36:])) < 1e-6
    assert np.all(np.diff(t_all) > 0)
    assert dec.reanchors_ == 0
    assert blocks[5].xyz_mg.shape == (36, 3) and blocks[5].xyz_mg[3].tolist() == [3, -3, 1000]
    assert blocks[5].timestamp_ns == stream[5][2][-1]


def test_strap_reset_re_anchors() -> None:
    dec = SampleDecoder(default_acc_rate_hz=100.0)
    stream = _acc_stream(real_hz=100.0, per_frame=10, frames=5)
    for t, data, _ in stream:
        dec.feed(t, uuids.PMD_DATA, data)
    # The strap reboots: its clock restarts near 0 while the session goes on at t = 10 s.
    frame = build_acc_frame([(0, 0, 1000)] * 10, 5 * 10**9)
    out = dec.feed(10.0, uuids.PMD_DATA, bytes(frame))
    assert [type(o) for o in out] == [SensorEvent, AccBlock]
    assert isinstance(out[0], SensorEvent) and out[0].event == "pmd_reanchored"
    assert isinstance(out[1], AccBlock) and out[1].t == pytest.approx(10.0)
    assert dec.reanchors_ == 1
    # Small latency changes (< 2 s) never re-anchor.
    frame2 = build_acc_frame([(0, 0, 1000)] * 10, 5 * 10**9 + 100_000_000)
    [block] = dec.feed(11.5, uuids.PMD_DATA, bytes(frame2))
    assert isinstance(block, AccBlock) and block.t == pytest.approx(10.1)


def test_first_frame_uses_the_nominal_rate_from_the_start_request() -> None:
    dec = SampleDecoder(default_acc_rate_hz=25.0)
    dec.feed(0.0, uuids.PMD_CONTROL_POINT, bytes(START_100HZ))  # no response recorded
    [block] = dec.feed(1.0, uuids.PMD_DATA, bytes(build_acc_frame([(0, 0, 0)] * 5, T0_NS)))
    assert isinstance(block, AccBlock)
    assert np.diff(block.t_s) == pytest.approx([0.01] * 4)


def test_failed_start_keeps_the_old_rate_and_pmd_started_event_sets_it() -> None:
    dec = SampleDecoder()
    dec.feed(0.0, uuids.PMD_CONTROL_POINT, bytes(START_100HZ))
    refused = PmdResponse.for_request(START_100HZ, status=8)
    [event] = dec.feed(0.1, uuids.PMD_CONTROL_POINT, bytes(refused))
    assert isinstance(event, SensorEvent) and event.fields["status_name"] == "ERROR_INVALID_SAMPLE_RATE"
    assert dec.pmd.sample_rate_hz is None
    [ev] = dec.feed_event(0.2, "pmd_started", {"sample_rate_hz": 52, "range_g": 8})
    assert isinstance(ev, SensorEvent) and ev.event == "pmd_started"
    assert (dec.pmd.sample_rate_hz, dec.pmd.range_g) == (52.0, 8)


def test_factor_from_the_start_response_decodes_compressed_type0() -> None:
    dec = SampleDecoder()
    # Verity Sense start response carrying FACTOR float32 0x397FDA40 (0.000244 G per LSB), from the Polar doc.
    dec.feed(0.0, uuids.PMD_CONTROL_POINT, bytes.fromhex("F00202000005 0140DA7F39".replace(" ", "")))
    assert dec.pmd.factor == pytest.approx(0.000244)
    frame = build_acc_frame([(4096, 0, -4096)], T0_NS, frame_type=0)
    [block] = dec.feed(1.0, uuids.PMD_DATA, bytes(frame))
    assert isinstance(block, AccBlock) and block.xyz_mg.tolist() == [[999, 0, -999]]
    # Without the factor the same frame is a decode error event, not a crash.
    [event] = SampleDecoder().feed(1.0, uuids.PMD_DATA, bytes(frame))
    assert isinstance(event, SensorEvent) and event.event == "decode_error"


def test_non_acc_pmd_frames_are_ignored() -> None:
    ecg = bytes([0]) + T0_NS.to_bytes(8, "little") + bytes([0]) + bytes(9)
    assert SampleDecoder().feed(1.0, uuids.PMD_DATA, ecg) == []


def test_acc_block_shape_check() -> None:
    with pytest.raises(ValueError):
        AccBlock(np.zeros(3), np.zeros((2, 3)), 0)
    assert np.isnan(AccBlock(np.zeros(0), np.zeros((0, 3)), 0).t)


# ---------------------------------------------------------------------------------------------------------------
# decode_record
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "data", "want"),
    [
        (
            uuids.HEART_RATE_MEASUREMENT,
            bytes(HeartRateMeasurement(bpm=60, rr_1024=(1024,))),
            {
                "kind": "heart_rate",
                "bpm": 60,
                "rr_s": [1.0],
                "rr_1024": [1024],
                "energy_kj": None,
                "contact": None,
            },
        ),
        (
            uuids.RSC_MEASUREMENT,
            bytes.fromhex("020005 50FFFF0001".replace(" ", "")),
            {
                "kind": "rsc",
                "speed_mps": 5.0,
                "cadence_per_min": 80,
                "stride_length_m": None,
                "total_distance_m": 1684275.1,
                "running": False,
            },
        ),
        (uuids.BATTERY_LEVEL, b"\x64", {"kind": "battery", "percent": 100}),
        (
            uuids.BODY_SENSOR_LOCATION,
            b"\x01",
            {"kind": "body_sensor_location", "location": "chest", "code": 1},
        ),
        (uuids.MODEL_NUMBER, b"H10", {"kind": "unknown", "hex": "483130"}),
        (
            uuids.PMD_DATA,
            bytes(build_acc_frame([(1, 2, 3), (4, 5, 6)], 77)),
            {
                "kind": "pmd_acc",
                "timestamp_ns": 77,
                "measurement_type": 2,
                "frame_type": 1,
                "compressed": True,
                "samples_mg": [[1, 2, 3], [4, 5, 6]],
            },
        ),
    ],
)
def test_decode_record(char: str, data: bytes, want: dict[str, object]) -> None:
    record = decode_record(char, data)
    assert record == want
    json.dumps(record)


def test_decode_record_pmd_control_and_ecg() -> None:
    response = decode_record(uuids.PMD_CONTROL_POINT, bytes.fromhex("F001060700"))
    assert response["kind"] == "pmd_control" and response["message"] == "response"
    assert (response["op"], response["type"], response["status"]) == (1, 6, 7)
    assert response["status_name"] == "ERROR_INVALID_RESOLUTION"
    assert response["status_text"] == "The sensor does not offer this resolution."
    request = decode_record(uuids.PMD_CONTROL_POINT, bytes(START_100HZ))
    assert request["message"] == "request" and request["status"] is None
    assert request["settings"] == {"sample_rate_hz": [100], "resolution_bits": [16], "range": [8]}
    features = decode_record(uuids.PMD_CONTROL_POINT, bytes.fromhex("0F05" + "00" * 15))
    assert features["measurement_types"] == ["ECG", "ACC"]
    ecg = decode_record(uuids.PMD_DATA, bytes([0]) + bytes(8) + bytes([0]) + bytes.fromhex("7A0000 FFFFFF"))
    assert ecg["kind"] == "pmd_ecg" and ecg["samples_uv"] == [122, -1]
    for record in (response, request, features, ecg):
        json.dumps(record)


def test_decode_record_uses_one_pmd_state_for_a_capture() -> None:
    state = PmdState()
    decode_record(uuids.PMD_CONTROL_POINT, bytes.fromhex("F00202000005 0140DA7F39".replace(" ", "")), state)
    frame = bytes(build_acc_frame([(4096, 0, 0)], 1, frame_type=0))
    assert decode_record(uuids.PMD_DATA, frame, state)["samples_mg"] == [[999, 0, 0]]
    with pytest.raises(DecodeError):
        decode_record(uuids.PMD_DATA, frame)  # no state: the factor is unknown
    with pytest.raises(DecodeError):
        decode_record(uuids.HEART_RATE_MEASUREMENT, b"")


CHARS = [
    uuids.HEART_RATE_MEASUREMENT,
    uuids.RSC_MEASUREMENT,
    uuids.BATTERY_LEVEL,
    uuids.BODY_SENSOR_LOCATION,
    uuids.PMD_CONTROL_POINT,
    uuids.PMD_DATA,
    uuids.MODEL_NUMBER,
]


@given(st.lists(st.tuples(st.sampled_from(CHARS), st.binary(max_size=60)), max_size=12))
def test_random_traffic_never_raises_from_feed(traffic: list[tuple[str, bytes]]) -> None:
    dec = SampleDecoder()
    for i, (char, data) in enumerate(traffic):
        out = dec.feed(float(i), char, data)
        assert isinstance(out, list)
        try:
            record = decode_record(char, data)
        except DecodeError:
            assert any(isinstance(o, SensorEvent) and o.event == "decode_error" for o in out) or char in (
                uuids.PMD_DATA,
                uuids.PMD_CONTROL_POINT,
            )
            continue
        json.dumps(record)


def test_a_disconnection_ends_the_run_of_frames() -> None:
    dec = SampleDecoder(default_acc_rate_hz=100.0)
    dec.feed(0.1, uuids.PMD_DATA, bytes(build_acc_frame([(0, 0, 0)] * 10, T0_NS)))
    dec.feed_event(0.15, "disconnected", {"reason": "test"})
    # 0.13 s later, 10 samples: spread, this would look like a 77 Hz stream (within the gap tolerance);
    # after the disconnection it is laid out at the nominal 100 Hz, ending on its timestamp.
    [block] = dec.feed(0.23, uuids.PMD_DATA, bytes(build_acc_frame([(0, 0, 0)] * 10, T0_NS + 130_000_000)))
    assert isinstance(block, AccBlock)
    assert np.diff(block.t_s) == pytest.approx([0.01] * 9)
    assert block.t == pytest.approx(0.23)


@pytest.mark.parametrize(
    "fields",
    [{"sample_rate_hz": 1e-300}, {"sample_rate_hz": 1e300}, {"sample_rate_hz": 0.5}, {"factor": 1e30}],
)
def test_absurd_pmd_started_fields_never_crash_the_decoder(fields: dict[str, float]) -> None:
    # A capture's event fields are plain JSON: an absurd rate or factor is ignored or makes a decode_error event,
    # it never raises out of feed() (replay and `coach analyze` would die with a traceback).
    dec = SampleDecoder()
    dec.feed_event(0.0, "pmd_started", {"sample_rate_hz": 100, "resolution_bits": 16, "range_g": 8})
    dec.feed_event(0.5, "pmd_started", fields)
    assert dec.pmd.sample_rate_hz == 100.0
    frame = build_acc_frame([(1000, -1000, 3)] * 10, T0_NS, frame_type=1)
    out = dec.feed(1.0, uuids.PMD_DATA, bytes(frame))
    out += dec.feed(
        1.1, uuids.PMD_DATA, bytes(build_acc_frame([(1, 2, 3)] * 10, T0_NS + 10**8, frame_type=1))
    )
    for sample in out:
        assert isinstance(sample, AccBlock | SensorEvent)
