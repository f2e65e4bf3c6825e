"""Heart Rate Measurement (0x2A37), Bluetooth SIG Heart Rate Service 1.0, section 3.1.1.

Layout (all little endian)::

    flags    uint8   bit0 HR format (0 = uint8, 1 = uint16)
                     bits1-2 sensor contact status (bit2 = supported, bit1 = detected; bit1 means
                             nothing when bit2 is clear: "not supported" is not "no contact")
                     bit3 energy expended present, bit4 RR intervals present, bits5-7 reserved
    hr       uint8 | uint16   beats per minute
    energy   uint16  kilojoules, only when bit3 is set
    rr       uint16 * n       RR intervals in 1/1024 s, only when bit4 is set, any number (n >= 0)
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Self

from sensors.errors import DecodeError

_WHAT = "heart rate measurement"


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    ``contact`` is ``None`` when the sensor does not support contact detection, else True/False.
    ``rr_1024`` holds the raw RR intervals (1/1024 s); ``rr_s`` gives them in seconds.
    ``uint16`` records the heart-rate field width used on the wire and ``extra_flags`` the flag bits that carry
    no meaning (reserved bits 5-7, the contact-status bit when contact is not supported, the RR bit when no RR
    value follows), so that decoding then encoding gives back the same bytes for every valid payload.
    """

    bpm: int
    contact: bool | None = None
    energy_kj: int | None = None
    rr_1024: tuple[int, ...] = ()
    uint16: bool = False
    extra_flags: int = 0

    class Flag(enum.IntFlag):
        """Flags byte of 0x2A37 (HRS 1.0, 3.1.1.1)."""

        UINT16_HR = 0x01
        CONTACT_DETECTED = 0x02
        CONTACT_SUPPORTED = 0x04
        ENERGY_EXPENDED = 0x08
        RR_INTERVALS = 0x10

    RESERVED_FLAGS = 0xE0

    def __post_init__(self) -> None:
        limit = 0xFFFF if self.uint16 else 0xFF
        if not 0 <= self.bpm <= limit:
            raise ValueError(f"bpm {self.bpm} does not fit a {'uint16' if self.uint16 else 'uint8'}")
        if self.energy_kj is not None and not 0 <= self.energy_kj <= 0xFFFF:
            raise ValueError(f"energy_kj {self.energy_kj} does not fit a uint16")
        if any(not 0 <= rr <= 0xFFFF for rr in self.rr_1024):
            raise ValueError(f"RR intervals {self.rr_1024} do not fit uint16 (1/1024 s)")
        allowed = self.RESERVED_FLAGS
        if self.contact is None:
            allowed |= self.Flag.CONTACT_DETECTED
        if not self.rr_1024:
            allowed |= self.Flag.RR_INTERVALS
        if self.extra_flags & ~allowed & 0xFF or not 0 <= self.extra_flags <= 0xFF:
            raise ValueError(f"extra_flags {self.extra_flags:#04x} would change the meaning of the payload")

    @property
    def rr_s(self) -> tuple[float, ...]:
        """RR intervals in seconds."""
        return tuple(rr / 1024.0 for rr in self.rr_1024)

    @property
    def contact_supported(self) -> bool:
        return self.contact is not None

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a 0x2A37 payload; raises :class:`DecodeError` for anything that is not one."""
        data = bytes(data)
        if not data:
            raise DecodeError(_WHAT, data, "empty payload")
        flags = data[0]
        uint16 = bool(flags & cls.Flag.UINT16_HR)
        offset = 1
        need = offset + (2 if uint16 else 1)
        if len(data) < need:
            raise DecodeError(_WHAT, data, f"{len(data)} bytes, the flags announce at least {need}")
        bpm = int.from_bytes(data[offset:need], "little")
        offset = need
        extra = flags & cls.RESERVED_FLAGS
        contact: bool | None
        if flags & cls.Flag.CONTACT_SUPPORTED:
            contact = bool(flags & cls.Flag.CONTACT_DETECTED)
        else:
            contact = None
            extra |= flags & cls.Flag.CONTACT_DETECTED
        energy: int | None = None
        if flags & cls.Flag.ENERGY_EXPENDED:
            if len(data) < offset + 2:
                raise DecodeError(_WHAT, data, "energy expended announced but missing")
            energy = int.from_bytes(data[offset : offset + 2], "little")
            offset += 2
        rest = data[offset:]
        rr: tuple[int, ...] = ()
        if flags & cls.Flag.RR_INTERVALS:
            if len(rest) % 2:
                raise DecodeError(_WHAT, data, "odd number of bytes in the RR intervals")
            rr = tuple(v for (v,) in struct.iter_unpack("<H", rest))
            if not rr:
                extra |= cls.Flag.RR_INTERVALS
        elif rest:
            raise DecodeError(_WHAT, data, f"{len(rest)} trailing bytes that no flag announces")
        return cls(bpm=bpm, contact=contact, energy_kj=energy, rr_1024=rr, uint16=uint16, extra_flags=extra)

    @classmethod
    def from_values(
        cls,
        bpm: int,
        *,
        rr_s: tuple[float, ...] = (),
        contact: bool | None = None,
        energy_kj: int | None = None,
    ) -> Self:
        """Build a measurement from physical values (RR in seconds, rounded to 1/1024 s; uint16 only if needed)."""
        rr = tuple(round(r * 1024.0) for r in rr_s)
        return cls(bpm=bpm, contact=contact, energy_kj=energy_kj, rr_1024=rr, uint16=bpm > 0xFF)

    def __bytes__(self) -> bytes:
        flags = self.extra_flags
        out = bytearray()
        if self.uint16:
            flags |= self.Flag.UINT16_HR
            out += self.bpm.to_bytes(2, "little")
        else:
            out.append(self.bpm)
        if self.contact is not None:
            flags |= self.Flag.CONTACT_SUPPORTED
            if self.contact:
                flags |= self.Flag.CONTACT_DETECTED
        if self.energy_kj is not None:
            flags |= self.Flag.ENERGY_EXPENDED
            out += self.energy_kj.to_bytes(2, "little")
        if self.rr_1024:
            flags |= self.Flag.RR_INTERVALS
            out += b"".join(rr.to_bytes(2, "little") for rr in self.rr_1024)
        return bytes([flags]) + bytes(out)
