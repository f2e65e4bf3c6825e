"""RSC Measurement (0x2A53), Bluetooth SIG Running Speed and Cadence Service 1.0, section 3.1.

Layout (all little endian)::

    flags          uint8   bit0 instantaneous stride length present, bit1 total distance present,
                           bit2 walking (0) or running (1), bits3-7 reserved
    speed          uint16  instantaneous speed, 1/256 m/s
    cadence        uint8   instantaneous cadence, 1/min (what the sensor counts: most report steps/min)
    stride length  uint16  1/100 m, only when bit0 is set
    total distance uint32  1/10 m, only when bit1 is set
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Self

from sensors.errors import DecodeError

_WHAT = "RSC measurement"


def _to_raw(value: float, scale: float, limit: int, name: str) -> int:
    if not math.isfinite(value):
        raise ValueError(f"{name} {value} is not a finite number")
    raw = round(value * scale)
    if not 0 <= raw <= limit:
        raise ValueError(f"{name} {value} is outside 0..{limit / scale:g}")
    return raw


@dataclass(frozen=True)
class RscMeasurement:
    """One RSC Measurement notification, in SI units.

    Values are quantised to the wire resolution when encoded (speed 1/256 m/s, stride 1 cm, distance 1 dm), so
    decode -> encode gives back the same bytes. ``extra_flags`` keeps the reserved flag bits 3-7 for that purpose.
    """

    speed_mps: float
    #: Instantaneous Cadence "per minute" as sent: steps for most foot pods, strides for some straps (BRIEF), so the
    #: unit is not in the name; it is decided once at ingest (:func:`sensors.units.cadence_unit`).
    cadence_per_min: int
    stride_length_m: float | None = None
    total_distance_m: float | None = None
    running: bool = False
    extra_flags: int = 0

    class Flag(enum.IntFlag):
        """Flags byte of 0x2A53 (RSCS 1.0, 3.1.1.1)."""

        STRIDE_LENGTH = 0x01
        TOTAL_DISTANCE = 0x02
        RUNNING = 0x04

    RESERVED_FLAGS = 0xF8

    def __post_init__(self) -> None:
        _to_raw(self.speed_mps, 256.0, 0xFFFF, "speed_mps")
        if not 0 <= self.cadence_per_min <= 0xFF:
            raise ValueError(f"cadence_per_min {self.cadence_per_min} does not fit a uint8")
        if self.stride_length_m is not None:
            _to_raw(self.stride_length_m, 100.0, 0xFFFF, "stride_length_m")
        if self.total_distance_m is not None:
            _to_raw(self.total_distance_m, 10.0, 0xFFFFFFFF, "total_distance_m")
        if self.extra_flags & ~self.RESERVED_FLAGS:
            raise ValueError(f"extra_flags {self.extra_flags:#04x} may only hold reserved bits 3-7")

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a 0x2A53 payload; raises :class:`DecodeError` for anything that is not one."""
        data = bytes(data)
        if len(data) < 4:
            raise DecodeError(_WHAT, data, f"{len(data)} bytes, need at least 4 (flags, speed, cadence)")
        flags = data[0]
        need = (
            4 + (2 if flags & cls.Flag.STRIDE_LENGTH else 0) + (4 if flags & cls.Flag.TOTAL_DISTANCE else 0)
        )
        if len(data) != need:
            raise DecodeError(_WHAT, data, f"{len(data)} bytes, the flags {flags:#04x} announce {need}")
        speed = int.from_bytes(data[1:3], "little") / 256.0
        cadence = data[3]
        offset = 4
        stride: float | None = None
        if flags & cls.Flag.STRIDE_LENGTH:
            stride = int.from_bytes(data[offset : offset + 2], "little") / 100.0
            offset += 2
        distance: float | None = None
        if flags & cls.Flag.TOTAL_DISTANCE:
            distance = int.from_bytes(data[offset : offset + 4], "little") / 10.0
        return cls(
            speed_mps=speed,
            cadence_per_min=cadence,
            stride_length_m=stride,
            total_distance_m=distance,
            running=bool(flags & cls.Flag.RUNNING),
            extra_flags=flags & cls.RESERVED_FLAGS,
        )

    def __bytes__(self) -> bytes:
        flags = self.extra_flags
        out = bytearray(_to_raw(self.speed_mps, 256.0, 0xFFFF, "speed_mps").to_bytes(2, "little"))
        out.append(self.cadence_per_min)
        if self.stride_length_m is not None:
            flags |= self.Flag.STRIDE_LENGTH
            out += _to_raw(self.stride_length_m, 100.0, 0xFFFF, "stride_length_m").to_bytes(2, "little")
        if self.total_distance_m is not None:
            flags |= self.Flag.TOTAL_DISTANCE
            out += _to_raw(self.total_distance_m, 10.0, 0xFFFFFFFF, "total_distance_m").to_bytes(4, "little")
        if self.running:
            flags |= self.Flag.RUNNING
        return bytes([flags]) + bytes(out)
