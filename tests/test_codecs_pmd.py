"""Polar PMD codecs: settings, control point, data frames, delta compression, timestamps, fuzzing."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.codecs import (
    AccTimestamper,
    MeasurementType,
    PmdDataFrame,
    PmdFeatures,
    PmdOpCode,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    PmdStatus,
    build_acc_frame,
    decode_acc,
    decode_delta_samples,
    delta_blocks,
    encode_delta_samples,
    parse_control_point,
)
from sensors.codecs.pmd import (
    PMD_EPOCH_UNIX_NS,
    acc_wire_samples,
    nominal_timestamps,
    spread_timestamps,
    status_text,
)
from sensors.errors import DecodeError
from tests.realdata import BLE_VECTORS

# ---------------------------------------------------------------------------------------------------------------
# Settings and control point
# ---------------------------------------------------------------------------------------------------------------


def test_start_request_by_hand() -> None:
    data = bytes(
        [
            0x02,  # op: start
            0x02,  # measurement type: ACC
            0x00, 0x01, 0xC8, 0x00,  # SAMPLE_RATE, 1 value, uint16 200 Hz
            0x01, 0x01, 0x10, 0x00,  # RESOLUTION, 1 value, uint16 16 bit
            0x02, 0x01, 0x08, 0x00,  # RANGE, 1 value, uint16 8 G
        ]
    )  # fmt: skip
    request = PmdRequest.start(
        MeasurementType.ACC, PmdSettings.build(sample_rate_hz=200, resolution_bits=16, range=8)
    )
    assert bytes(request) == data
    assert PmdRequest.from_bytes(data) == request
    assert request.op_name == "start"
    assert request.settings is not None and request.settings.sample_rate_hz == 200


def test_settings_with_every_type_by_hand() -> None:
    data = bytes(
        [
            0x00, 0x02, 0x19, 0x00, 0x32, 0x00,  # SAMPLE_RATE, 2 values: 25, 50 Hz
            0x01, 0x01, 0x10, 0x00,  # RESOLUTION 16
            0x02, 0x01, 0x08, 0x00,  # RANGE 8
            0x03, 0x01, 0x40, 0x1F, 0x00, 0x00,  # RANGE_MILLIUNIT uint32 8000
            0x04, 0x01, 0x03,  # CHANNELS uint8 3
            0x05, 0x01, 0x00, 0x00, 0x80, 0x3F,  # FACTOR float32 1.0
        ]
    )  # fmt: skip
    s = PmdSettings.from_bytes(data)
    assert s.as_dict() == {
        "sample_rate_hz": [25, 50],
        "resolution_bits": [16],
        "range": [8],
        "range_milliunit": [8000],
        "channels": [3],
        "factor": [1.0],
    }
    assert (s.sample_rate_hz, s.resolution_bits, s.range, s.channels, s.factor) == (25, 16, 8, 3, 1.0)
    assert bytes(s) == data
    assert PmdSettings.build(
        sample_rate_hz=25, resolution_bits=16, range=8, range_milliunit=8000, channels=3, factor=1.0
    ).values(0) == (25,)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00",  # header cut off
        b"\x06\x01\x00",  # unknown setting type 6
        b"\x00\x02\x19\x00",  # 2 values announced, 1 present
        b"\x05\x01\x00\x00\xc0\x7f",  # factor NaN
        b"\x05\x01\x00\x00\x80\x7f",  # factor +inf
    ],
)
def test_bad_settings(data: bytes) -> None:
    with pytest.raises(DecodeError):
        PmdSettings.from_bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02",  # no type
        b"\x04\x02",  # unknown op code
        b"\x01\x02\x00",  # get settings with a trailing byte
        b"\x03\x02\x00\x01",  # stop with trailing bytes
        b"\x02\x02\x00\x01\xc8",  # start with a cut setting
    ],
)
def test_bad_requests(data: bytes) -> None:
    with pytest.raises(DecodeError):
        PmdRequest.from_bytes(data)


def test_response_for_request_and_status_texts() -> None:
    request = PmdRequest.get_settings(MeasurementType.ACC)
    offered = PmdSettings(((0, (25, 50, 100, 200)), (1, (16,)), (2, (2, 4, 8))))
    response = PmdResponse.for_request(request, settings=offered)
    assert bytes(response)[:5] == bytes([0xF0, 0x01, 0x02, 0x00, 0x00])
    assert PmdResponse.from_bytes(bytes(response)).settings == offered
    assert response.ok and response.status_name == "SUCCESS"
    refused = PmdResponse.for_request(PmdRequest.stop(MeasurementType.ACC), PmdStatus.ERROR_ALREADY_IN_STATE)
    assert bytes(refused) == bytes([0xF0, 0x03, 0x02, 0x06, 0x00])
    assert "already" in refused.status_text
    unknown = PmdResponse(1, 2, 99)
    assert unknown.status_name == "UNKNOWN_STATUS_99"
    assert "99" in unknown.status_text
    for code in PmdStatus:
        assert status_text(code).endswith(".")


def test_four_byte_response_round_trips() -> None:
    data = bytes([0xF0, 0x02, 0x02, 0x05])
    response = PmdResponse.from_bytes(data)
    assert response.more is None and bytes(response) == data


@pytest.mark.parametrize("data", [b"", b"\xf0\x01\x02", b"\xf1\x01\x02\x00\x00"])
def test_bad_responses(data: bytes) -> None:
    with pytest.raises(DecodeError):
        PmdResponse.from_bytes(data)


def test_features() -> None:
    features = PmdFeatures.for_types([MeasurementType.ECG, MeasurementType.ACC])
    assert bytes(features) == bytes([0x0F, 0x05]) + bytes(15)
    assert features.supports(MeasurementType.ACC) and not features.supports(MeasurementType.PPG)
    assert parse_control_point(bytes(features)) == features
    with pytest.raises(DecodeError):
        PmdFeatures.from_bytes(b"\x0f")


setting_entries = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([0, 1, 2]), st.lists(st.integers(0, 0xFFFF), max_size=5).map(tuple)),
        st.tuples(st.just(3), st.lists(st.integers(0, 0xFFFFFFFF), max_size=3).map(tuple)),
        st.tuples(st.just(4), st.lists(st.integers(0, 0xFF), max_size=3).map(tuple)),
        st.tuples(
            st.just(5),
            st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), max_size=2).map(tuple),
        ),
    ),
    max_size=6,
).map(lambda entries: PmdSettings(tuple(entries)))


@given(setting_entries)
def test_settings_round_trip(s: PmdSettings) -> None:
    assert PmdSettings.from_bytes(bytes(s)) == s


control_messages = st.one_of(
    st.builds(PmdRequest.get_settings, st.integers(0, 0xFF)),
    st.builds(PmdRequest.stop, st.integers(0, 0xFF)),
    st.builds(PmdRequest.start, st.integers(0, 0xFF), setting_entries),
    st.builds(
        PmdResponse,
        st.integers(0, 0xFF),
        st.integers(0, 0xFF),
        st.integers(0, 0xFF),
        st.integers(0, 0xFF),
        st.binary(max_size=20),
    ),
    st.builds(PmdFeatures, st.integers(0, 0xFFFF), st.just(17)),
)


@given(control_messages)
def test_control_point_round_trip(message: PmdRequest | PmdResponse | PmdFeatures) -> None:
    assert parse_control_point(bytes(message)) == message


@given(st.binary(max_size=40))
def test_control_point_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        message = parse_control_point(data)
    except DecodeError:
        return
    if isinstance(message, PmdRequest) and message.op_code == PmdOpCode.START and not message.settings:
        assert bytes(message) == data[:2]
    else:
        assert bytes(message) == data


# ---------------------------------------------------------------------------------------------------------------
# Data frames and delta compression
# ---------------------------------------------------------------------------------------------------------------


def test_data_frame_header_by_hand() -> None:
    data = bytes(
        [
            0x02,  # measurement type ACC
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  # uint64 timestamp = 2^63 + 1 ns
            0x81,  # frame type 1, compressed
            0xAA, 0xBB,  # payload
        ]
    )  # fmt: skip
    frame = PmdDataFrame.from_bytes(data)
    assert (frame.measurement_type, frame.timestamp_ns, frame.frame_type, frame.compressed) == (
        2,
        2**63 + 1,
        1,
        True,
    )
    assert frame.payload == b"\xaa\xbb"
    assert bytes(frame) == data


def test_compressed_frame_by_hand() -> None:
    payload = bytes(
        [
            0x0A, 0x00, 0xEC, 0xFF, 0xE8, 0x03,  # reference x=10, y=-20, z=1000 (int16 LE)
            0x02, 0x02,  # block: 2-bit deltas, 2 samples
            # deltas (+1, -1, 0), (-2, +1, +1) as 2-bit two's-complement fields 01 11 00 10 01 01, packed LSB
            # first: 1 | 3 << 2 | 0 << 4 | 2 << 6 | 1 << 8 | 1 << 10 = 0x058D -> 8D 05
            0x8D, 0x05,
        ]
    )  # fmt: skip
    samples = decode_delta_samples(payload, channels=3, resolution_bits=16)
    assert samples == [(10, -20, 1000), (11, -21, 1000), (9, -20, 1001)]
    assert encode_delta_samples(samples, resolution_bits=16) == payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x00\x00\x00\x00", "reference sample"),  # 5 of 6 reference bytes
        (bytes(6) + b"\x04", "header cut off"),  # lone byte after the reference
        (bytes(6) + b"\x00\x05", "bit width 0"),  # width 0, count 5: ambiguous
        (bytes(6) + b"\x21\x01" + bytes(13), "bit width 33"),
        (bytes(6) + b"\x08\x03" + bytes(8), "needs 9 bytes"),  # block runs past the end
        (bytes(6) + b"\x20\xff" + bytes(100), "needs 3060 bytes"),
        (b"\xff\x7f\x00\x00\x00\x00" + b"\x02\x01\x01", "leaves the 16-bit range"),  # 32767 + 1
    ],
)
def test_impossible_block_headers(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_delta_samples(payload, channels=3, resolution_bits=16)


def test_empty_blocks_are_harmless_and_bounded() -> None:
    payload = bytes(6) + b"\x08\x00" * 5000  # 5000 blocks of 0 samples
    assert decode_delta_samples(payload, channels=3, resolution_bits=16) == [(0, 0, 0)]


def test_reference_only_frame_is_one_sample() -> None:
    frame = build_acc_frame([(1, 2, 3)], 5)
    assert decode_acc(frame) == ((1, 2, 3),)


def test_encoder_picks_minimal_width_and_splits_blocks() -> None:
    samples = [(0, 0, 1000)] + [(k % 3 - 1, 0, 1000) for k in range(40)] + [(0, 300, 1000)]
    payload = encode_delta_samples(samples, max_block_samples=16)
    blocks = delta_blocks(payload, channels=3, resolution_bits=16)
    assert [b.count for b in blocks] == [16, 16, 9]
    assert [b.width for b in blocks] == [2, 2, 10]  # deltas within -2..1 need 2 bits; +300 needs 10
    assert decode_delta_samples(payload, channels=3, resolution_bits=16) == samples


@pytest.mark.parametrize(("lo", "hi", "width"), [(0, 0, 1), (-1, 0, 1), (-2, 1, 2), (-3, 1, 3), (0, 2, 3)])
def test_minimal_signed_width(lo: int, hi: int, width: int) -> None:
    samples = [(0, 0, 0), (lo, hi, 0), (lo, hi, 0)]  # deltas lo, hi, 0 then 0, 0, 0
    payload = encode_delta_samples(samples)
    assert delta_blocks(payload, channels=3, resolution_bits=16)[0].width == width


acc_samples = st.lists(
    st.tuples(st.integers(-32768, 32767), st.integers(-32768, 32767), st.integers(-32768, 32767)),
    min_size=1,
    max_size=80,
)
smooth_acc_samples = st.lists(
    st.tuples(st.integers(-40, 40), st.integers(-40, 40), st.integers(-40, 40)), min_size=1, max_size=120
).map(
    lambda deltas: [
        tuple(sum(d[c] for d in deltas[: i + 1]) + 1000 * c for c in range(3)) for i in range(len(deltas))
    ]
)


@given(st.one_of(acc_samples, smooth_acc_samples), st.integers(1, 255))
def test_delta_round_trip_with_minimal_widths(samples: list[tuple[int, int, int]], block: int) -> None:
    payload = encode_delta_samples(samples, max_block_samples=block)
    assert decode_delta_samples(payload, channels=3, resolution_bits=16) == samples
    first = 1
    for b in delta_blocks(payload, channels=3, resolution_bits=16):
        assert 1 <= b.count <= block
        deltas = [samples[i][c] - samples[i - 1][c] for i in range(first, first + b.count) for c in range(3)]
        first += b.count
        assert all(-(1 << (b.width - 1)) <= d < (1 << (b.width - 1)) for d in deltas)
        if b.width > 1:  # minimal: one bit less does not hold them all
            assert not all(-(1 << (b.width - 2)) <= d < (1 << (b.width - 2)) for d in deltas)
    assert first == len(samples)


@given(
    st.one_of(acc_samples, smooth_acc_samples),
    st.integers(0, 2**64 - 1),
    st.sampled_from([(True, 1), (True, 0), (False, 0), (False, 1), (False, 2)]),
)
def test_acc_frame_round_trip(samples: list[tuple[int, int, int]], ts: int, kind: tuple[bool, int]) -> None:
    compressed, frame_type = kind
    if (compressed, frame_type) == (False, 0):  # int8 frames
        samples = [
            (max(-128, min(127, x)), max(-128, min(127, y)), max(-128, min(127, z))) for x, y, z in samples
        ]
    frame = build_acc_frame(samples, ts, compressed=compressed, frame_type=frame_type)
    data = bytes(frame)
    again = PmdDataFrame.from_bytes(data)
    assert again == frame and bytes(again) == data
    assert list(acc_wire_samples(again)) == samples
    if (compressed, frame_type) != (True, 0):  # 0x80 needs a factor, see test_vectors
        assert list(decode_acc(again)) == samples


def test_build_acc_frame_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        build_acc_frame([(200, 0, 0)], 1, compressed=False, frame_type=0)
    with pytest.raises(ValueError):
        build_acc_frame([(40000, 0, 0)], 1)
    with pytest.raises(ValueError):
        build_acc_frame([(1, 2)], 1)


@pytest.mark.parametrize(("frame_type", "width"), [(0, 1), (1, 2), (2, 3)])
def test_raw_acc_frame_widths(frame_type: int, width: int) -> None:
    samples = [(-100, 0, 100), (-1, 1, 2)]
    frame = build_acc_frame(samples, 1, compressed=False, frame_type=frame_type)
    assert len(frame.payload) == 6 * width
    assert list(decode_acc(frame)) == samples
    cut = PmdDataFrame.from_bytes(bytes(frame)[:-1])
    with pytest.raises(DecodeError, match="not whole"):
        decode_acc(cut)


@pytest.mark.parametrize("byte9", [0x03, 0x7F, 0x82, 0xFF])
def test_unknown_acc_frame_types(byte9: int) -> None:
    frame = PmdDataFrame.from_bytes(bytes([2]) + bytes(8) + bytes([byte9]) + bytes(6))
    with pytest.raises(DecodeError, match="unknown"):
        decode_acc(frame)


def test_factor_for_compressed_type1_follows_the_sdk() -> None:
    frame = build_acc_frame([(1000, -1000, 3)], 1)
    assert decode_acc(frame, factor=1.0) == ((1000, -1000, 3),)
    assert decode_acc(frame, factor=0.5) == ((500, -500, 1),)


def test_timestamp_epoch() -> None:
    frame = PmdDataFrame(2, 0, 1, False)
    assert frame.timestamp.isoformat() == "2000-01-01T00:00:00+00:00"
    assert PMD_EPOCH_UNIX_NS == 946684800 * 10**9


def _vector_frames() -> list[bytes]:
    vectors = json.loads(BLE_VECTORS.read_text(encoding="utf-8"))
    return [bytes.fromhex(v["hex"]) for v in vectors["pmd_data_frames"] if "hex" in v]


@settings(max_examples=300)
@given(st.data())
def test_mutated_vector_frames_only_raise_decode_error(data: st.DataObject) -> None:
    frame_bytes = bytearray(data.draw(st.sampled_from(_vector_frames())))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and frame_bytes:
            i = data.draw(st.integers(0, len(frame_bytes) - 1))
            frame_bytes[i] = data.draw(st.integers(0, 255))
        elif action == "cut" and frame_bytes:
            frame_bytes = frame_bytes[: data.draw(st.integers(0, len(frame_bytes) - 1))]
        else:
            i = data.draw(st.integers(0, len(frame_bytes)))
            frame_bytes[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    _decode_everything(bytes(frame_bytes), data.draw(st.sampled_from([None, 0.000244, 1.0])))


@settings(max_examples=300)
@given(st.binary(max_size=80), st.sampled_from([None, 0.000244]), st.sampled_from([8, 14, 16, 22, 24]))
def test_random_frames_only_raise_decode_error(raw: bytes, factor: float | None, resolution: int) -> None:
    _decode_everything(raw, factor, resolution)
    _decode_everything(bytes([2]) + bytes(8) + bytes([0x81]) + raw, factor, resolution)
    _decode_everything(bytes([2]) + bytes(8) + bytes([0x80]) + raw, factor, resolution)


def _decode_everything(raw: bytes, factor: float | None, resolution: int = 16) -> None:
    try:
        frame = PmdDataFrame.from_bytes(raw)
        assert bytes(frame) == raw
        decode_acc(frame, factor=factor, resolution_bits=resolution)
    except DecodeError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------------------------


def test_spread_and_nominal_timestamps() -> None:
    assert spread_timestamps(10**9, 11 * 10**9, 10) == tuple(k * 10**9 for k in range(2, 12))
    assert spread_timestamps(100, 101, 2) == (100, 101)  # 100.5 rounds half to even, like the Polar SDK
    assert nominal_timestamps(10**9, 3, 100.0) == (980_000_000, 990_000_000, 10**9)


def _true_times_ns(rate_hz: float, n: int, start_ns: int) -> list[int]:
    return [start_ns + round(k * 1e9 / rate_hz) for k in range(n)]


def test_timestamper_follows_a_drifting_clock() -> None:
    # A "130 Hz" stream that really runs at 130.1 Hz for 10 minutes, 73 samples per frame.
    real_hz, nominal_hz, per_frame = 130.1, 130.0, 73
    frames = int(600 * real_hz) // per_frame
    truth = _true_times_ns(real_hz, frames * per_frame, 599_622_173_000_000_000)
    stamper = AccTimestamper(nominal_rate_hz=nominal_hz)
    got: list[int] = []
    for f in range(frames):
        got += stamper.stamp(truth[(f + 1) * per_frame - 1], per_frame)
    errors = [abs(a - b) for a, b in zip(got, truth, strict=True)]
    # First frame: laid out at the nominal rate, off by at most (n - 1) * (1/130 - 1/130.1) = 0.43 ms.
    assert max(errors[:per_frame]) < 0.5e6
    # Every later sample: within 1 ns of the truth (rounding), after 10 minutes too.
    assert max(errors[per_frame:]) <= 1
    assert stamper.rate_hz_ == pytest.approx(real_hz, rel=1e-6)
    assert stamper.gaps_ == 0
    # What the nominal rate alone would give after 10 minutes: 0.46 s off.
    naive_error_s = (len(truth) - 1) * (1 / nominal_hz - 1 / real_hz)
    assert naive_error_s > 0.4


def test_timestamper_does_not_stretch_over_a_lost_frame() -> None:
    stamper = AccTimestamper(nominal_rate_hz=100.0)
    stamper.stamp(10**9, 10)
    # Frame 2 is lost; frame 3 arrives 0.2 s later with 10 samples: lay it out at the nominal rate.
    stamps = stamper.stamp(10**9 + 200_000_000, 10)
    assert stamps[0] == 10**9 + 110_000_000
    assert stamper.gaps_ == 1
    # A timestamp going backwards (strap reset) is laid out at the nominal rate too.
    assert stamper.stamp(5, 1) == (5,)
    assert stamper.gaps_ == 2
    # A frame implying a rate far above nominal is still spread: times never go back before the previous frame.
    assert stamper.stamp(10, 2) == (7, 10)  # 5 + 2.5: the offset rounds half to even
    assert stamper.gaps_ == 2
    assert stamper.stamp(10, 0) == ()


def test_timestamper_rejects_bad_rate() -> None:
    with pytest.raises(ValueError):
        AccTimestamper(nominal_rate_hz=0)


@given(
    st.floats(10.0, 500.0),
    st.lists(st.tuples(st.integers(-(10**9), 3 * 10**9), st.integers(0, 80)), max_size=30),
)
def test_timestamper_follows_its_documented_rule(rate_hz: float, frames: list[tuple[int, int]]) -> None:
    stamper = AccTimestamper(nominal_rate_hz=rate_hz)
    ts = 10**15
    previous: int | None = None
    for step_ns, n in frames:
        ts += step_ns
        stamps = stamper.stamp(ts, n)
        assert len(stamps) == n
        if n == 0:
            continue
        assert stamps[-1] == ts  # the frame timestamp is its last sample's
        # Never backwards (ties only when a frame spans fewer ns than it has samples, as in the fuzzed input).
        assert all(a <= b for a, b in itertools.pairwise(stamps))
        spread = previous is not None and ts > previous and n * 1e9 / (ts - previous) * 1.5 >= rate_hz
        if spread:
            assert previous is not None
            assert stamps == spread_timestamps(previous, ts, n)
            assert stamps[0] >= previous
        else:
            assert stamps == nominal_timestamps(ts, n, rate_hz)
            if previous is not None and ts > previous:
                assert stamps[0] > previous  # a gap: times still move forward
        previous = ts


@given(
    st.builds(
        PmdDataFrame,
        st.integers(0, 0x3F),
        st.integers(0, 2**64 - 1),
        st.integers(0, 0x7F),
        st.booleans(),
        st.binary(max_size=40),
        st.sampled_from([0, 0x40, 0x80, 0xC0]),
    )
)
def test_data_frame_value_round_trip(frame: PmdDataFrame) -> None:
    assert PmdDataFrame.from_bytes(bytes(frame)) == frame


@pytest.mark.parametrize("frame_type", [0, 1])
@pytest.mark.parametrize("factor", [1e10, 3.0e38])
def test_a_factor_that_overflows_is_a_decode_error(frame_type: int, factor: float) -> None:
    # A FACTOR is any finite float32 on the wire; one that scales the samples past what a float32 or an int32 mG
    # holds is a bad frame (DecodeError), never an OverflowError escaping the decoder.
    frame = build_acc_frame([(30000, -30000, 1)], 123, frame_type=frame_type)
    with pytest.raises(DecodeError, match="factor"):
        decode_acc(frame, factor=factor)
