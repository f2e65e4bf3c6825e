"""Small GATT characteristics: Body Sensor Location (0x2A38) and Battery Level (0x2A19).

- Body Sensor Location: Heart Rate Service 1.0, section 3.2: one uint8, 0 other, 1 chest, 2 wrist, 3 finger,
  4 hand, 5 ear lobe, 6 foot, 7-255 reserved for future use (decoded, named "reserved").
- Battery Level: Battery Service 1.0, section 3.1: one uint8, percent 0-100; 101-255 are prohibited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Self

from sensors.errors import DecodeError


@dataclass(frozen=True)
class BodySensorLocation:
    """Where the sensor is worn (0x2A38). ``location`` is the raw code; ``name`` its lowercase name."""

    location: int

    class Location(enum.IntEnum):
        OTHER = 0
        CHEST = 1
        WRIST = 2
        FINGER = 3
        HAND = 4
        EAR_LOBE = 5
        FOOT = 6

    def __post_init__(self) -> None:
        if not 0 <= self.location <= 0xFF:
            raise ValueError(f"body sensor location {self.location} does not fit a uint8")

    @property
    def name(self) -> str:
        try:
            return self.Location(self.location).name.lower()
        except ValueError:
            return "reserved"

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) != 1:
            raise DecodeError("body sensor location", data, f"{len(data)} bytes, expected 1")
        return cls(location=data[0])

    def __bytes__(self) -> bytes:
        return bytes([self.location])


@dataclass(frozen=True)
class BatteryLevel:
    """Battery charge in percent (0x2A19)."""

    percent: int

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValueError(f"battery level {self.percent} is outside 0..100 %")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) != 1:
            raise DecodeError("battery level", data, f"{len(data)} bytes, expected 1")
        if data[0] > 100:
            raise DecodeError(
                "battery level", data, f"{data[0]} % is above 100 (values 101-255 are prohibited)"
            )
        return cls(percent=data[0])

    def __bytes__(self) -> bytes:
        return bytes([self.percent])
