"""RSC Measurement (0x2A53) codec: hand-built fixtures, optional field combinations, properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.codecs import RscMeasurement
from sensors.errors import DecodeError


def test_full_measurement_by_hand() -> None:
    data = bytes(
        [
            0x07,  # flags: stride present | distance present | running
            0x00, 0x03,  # speed uint16 = 768 / 256 = 3.0 m/s
            0xA8,  # cadence uint8 = 168 /min
            0x7D, 0x00,  # stride length uint16 = 125 / 100 = 1.25 m
            0x39, 0x30, 0x00, 0x00,  # total distance uint32 = 12345 / 10 = 1234.5 m
        ]
    )  # fmt: skip
    rsc = RscMeasurement.from_bytes(data)
    assert rsc == RscMeasurement(
        speed_mps=3.0, cadence_per_min=168, stride_length_m=1.25, total_distance_m=1234.5, running=True
    )
    assert bytes(rsc) == data


@pytest.mark.parametrize(
    ("stride", "distance", "running"),
    list(itertools.product([None, 0, 131], [None, 0, 4_000_000_000], [False, True])),
)
def test_every_combination_of_optional_fields(
    stride: int | None, distance: int | None, running: bool
) -> None:
    flags = 0x04 if running else 0
    body = (640).to_bytes(2, "little") + bytes([150])  # speed 2.5 m/s, cadence 150
    if stride is not None:
        flags |= 0x01
        body += stride.to_bytes(2, "little")  # stride, cm
    if distance is not None:
        flags |= 0x02
        body += distance.to_bytes(4, "little")  # distance, dm
    data = bytes([flags]) + body
    rsc = RscMeasurement.from_bytes(data)
    assert rsc.speed_mps == 2.5 and rsc.cadence_per_min == 150 and rsc.running is running
    assert rsc.stride_length_m == (None if stride is None else stride / 100)
    assert rsc.total_distance_m == (None if distance is None else distance / 10)
    assert bytes(rsc) == data


def test_reserved_flag_bits_round_trip() -> None:
    data = bytes([0xF8, 0x00, 0x01, 90])
    assert bytes(RscMeasurement.from_bytes(data)) == data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x01",  # no cadence
        b"\x01\x00\x01\x5a",  # stride announced, missing
        b"\x02\x00\x01\x5a\x00\x00\x00",  # distance announced, 3 of 4 bytes
        b"\x00\x00\x01\x5a\x00",  # trailing byte no flag announces
    ],
)
def test_bad_payloads_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        RscMeasurement.from_bytes(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"speed_mps": -0.1, "cadence_per_min": 0},
        {"speed_mps": 256.0, "cadence_per_min": 0},
        {"speed_mps": float("nan"), "cadence_per_min": 0},
        {"speed_mps": float("inf"), "cadence_per_min": 0},
        {"speed_mps": 1.0, "cadence_per_min": 256},
        {"speed_mps": 1.0, "cadence_per_min": 90, "stride_length_m": 655.36},
        {"speed_mps": 1.0, "cadence_per_min": 90, "total_distance_m": -1.0},
        {"speed_mps": 1.0, "cadence_per_min": 90, "extra_flags": 0x01},
    ],
)
def test_out_of_range_values_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RscMeasurement(**kwargs)  # type: ignore[arg-type]


def test_values_are_quantised_on_encode() -> None:
    rsc = RscMeasurement(speed_mps=3.123, cadence_per_min=160, stride_length_m=1.234, total_distance_m=10.06)
    back = RscMeasurement.from_bytes(bytes(rsc))
    assert back.speed_mps == round(3.123 * 256) / 256
    assert back.stride_length_m == 1.23 and back.total_distance_m == 10.1


measurements = st.builds(
    lambda speed, cadence, stride, distance, running, reserved: RscMeasurement(
        speed_mps=speed / 256,
        cadence_per_min=cadence,
        stride_length_m=None if stride is None else stride / 100,
        total_distance_m=None if distance is None else distance / 10,
        running=running,
        extra_flags=reserved,
    ),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFF),
    st.none() | st.integers(0, 0xFFFF),
    st.none() | st.integers(0, 0xFFFFFFFF),
    st.booleans(),
    st.sampled_from([0, 0x08, 0x80, 0xF8]),
)


@given(measurements)
def test_round_trip_value_bytes_value(rsc: RscMeasurement) -> None:
    assert RscMeasurement.from_bytes(bytes(rsc)) == rsc


@given(st.binary(max_size=16))
def test_random_bytes_decode_and_round_trip_or_raise_decode_error(data: bytes) -> None:
    try:
        rsc = RscMeasurement.from_bytes(data)
    except DecodeError:
        return
    assert bytes(rsc) == data
