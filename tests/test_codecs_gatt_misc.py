"""Body Sensor Location (0x2A38) and Battery Level (0x2A19)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.codecs import BatteryLevel, BodySensorLocation
from sensors.errors import DecodeError


@pytest.mark.parametrize(
    ("code", "name"),
    [(0, "other"), (1, "chest"), (2, "wrist"), (5, "ear_lobe"), (6, "foot"), (7, "reserved")],
)
def test_body_sensor_location_names(code: int, name: str) -> None:
    loc = BodySensorLocation.from_bytes(bytes([code]))
    assert loc.name == name
    assert bytes(loc) == bytes([code])


@pytest.mark.parametrize("data", [b"", b"\x01\x02"])
def test_body_sensor_location_bad_length(data: bytes) -> None:
    with pytest.raises(DecodeError):
        BodySensorLocation.from_bytes(data)


@pytest.mark.parametrize("percent", [0, 1, 57, 100])
def test_battery_level(percent: int) -> None:
    level = BatteryLevel.from_bytes(bytes([percent]))
    assert level.percent == percent
    assert bytes(level) == bytes([percent])


@pytest.mark.parametrize("data", [b"", b"\x64\x00", b"\x65", b"\xff"])
def test_battery_level_bad_payloads(data: bytes) -> None:
    with pytest.raises(DecodeError):
        BatteryLevel.from_bytes(data)


@pytest.mark.parametrize("percent", [-1, 101])
def test_battery_level_range_check(percent: int) -> None:
    with pytest.raises(ValueError):
        BatteryLevel(percent)


def test_body_sensor_location_range_check() -> None:
    with pytest.raises(ValueError):
        BodySensorLocation(256)


@given(st.binary(max_size=3))
def test_random_bytes_round_trip_or_decode_error(data: bytes) -> None:
    for codec in (BatteryLevel, BodySensorLocation):
        try:
            value = codec.from_bytes(data)
        except DecodeError:
            continue
        assert bytes(value) == data


@given(st.integers(0, 100), st.integers(0, 255))
def test_value_round_trip(percent: int, location: int) -> None:
    assert BatteryLevel.from_bytes(bytes(BatteryLevel(percent))) == BatteryLevel(percent)
    assert BodySensorLocation.from_bytes(bytes(BodySensorLocation(location))) == BodySensorLocation(location)
