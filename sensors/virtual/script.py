"""What a virtual strap serves, derived from a capture file. Pure: no bumble, no I/O beyond reading the file.

The strap streams the capture's *notifications* (Heart Rate Measurement, RSC Measurement, PMD data) at their
recorded times; reads (battery level, body sensor location) set the values it serves; the capture's own PMD
control-point responses, if any, give the ACC settings it offers (else a Polar H10's).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from sensors.capture import PayloadRecord, read_capture
from sensors.uuids import (
    BATTERY_LEVEL,
    BODY_SENSOR_LOCATION,
    HEART_RATE_MEASUREMENT,
    PMD_CONTROL_POINT,
    PMD_DATA,
    RSC_MEASUREMENT,
)

#: A Polar H10's answer to "get ACC settings" (Polar online measurement doc v1.0, p.12): 25/50/100/200 Hz,
#: 16 bit, 2/4/8 G. These are the settings TLV bytes after the 5-byte response header.
H10_ACC_SETTINGS = bytes.fromhex("00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00")
STREAMED_CHARS = frozenset({HEART_RATE_MEASUREMENT, RSC_MEASUREMENT, PMD_DATA})
DEFAULT_NAME = "coach virtual strap"


@dataclass(frozen=True, slots=True)
class StrapScript:
    """The strap's timeline and served values. ``stream`` holds the notifications in capture order."""

    name: str
    stream: tuple[PayloadRecord, ...]
    battery: tuple[PayloadRecord, ...]
    body_sensor_location: bytes
    acc_settings: bytes
    source: str = ""

    @property
    def has_hr(self) -> bool:
        return any(r.char == HEART_RATE_MEASUREMENT for r in self.stream)

    @property
    def has_rsc(self) -> bool:
        return any(r.char == RSC_MEASUREMENT for r in self.stream)

    @property
    def has_pmd(self) -> bool:
        return any(r.char == PMD_DATA for r in self.stream)

    @property
    def start_s(self) -> float:
        """Capture time of the first streamed notification."""
        return self.stream[0].t if self.stream else 0.0

    @property
    def duration_s(self) -> float:
        return self.stream[-1].t - self.stream[0].t if self.stream else 0.0

    @property
    def max_notification_bytes(self) -> int:
        return max((len(r.data) for r in self.stream), default=0)

    def without_pmd(self) -> StrapScript:
        """The same strap with no PMD service (``hr_only``)."""
        return StrapScript(
            name=self.name,
            stream=tuple(r for r in self.stream if r.char != PMD_DATA),
            battery=self.battery,
            body_sensor_location=self.body_sensor_location,
            acc_settings=self.acc_settings,
            source=self.source,
        )

    @classmethod
    def from_records(
        cls, records: Iterable[PayloadRecord], *, name: str | None = None, source: str = ""
    ) -> StrapScript:
        stream: list[PayloadRecord] = []
        battery: list[PayloadRecord] = []
        location = b"\x01"  # chest
        acc_settings = H10_ACC_SETTINGS
        for record in records:
            if record.char in STREAMED_CHARS:
                stream.append(record)
            elif record.char == BATTERY_LEVEL and len(record.data) == 1:
                battery.append(record)
            elif record.char == BODY_SENSOR_LOCATION and len(record.data) == 1:
                location = record.data
            elif record.char == PMD_CONTROL_POINT and record.data[:5] == bytes(
                [0xF0, 0x01, 0x02, 0x00, 0x00]
            ):
                # A recorded successful "get ACC settings" response: offer what the real strap offered.
                acc_settings = record.data[5:] or acc_settings
        return cls(
            name=name or DEFAULT_NAME,
            stream=tuple(stream),
            battery=tuple(battery),
            body_sensor_location=location,
            acc_settings=acc_settings,
            source=source,
        )

    @classmethod
    def from_capture(cls, path: str | os.PathLike[str], *, hr_only: bool = False) -> StrapScript:
        """Read ``path`` (raises :class:`~sensors.errors.CaptureError`) and build the strap that recorded it."""
        capture = read_capture(path)
        script = cls.from_records(capture.payloads, name=capture.header.device.name, source=os.fspath(path))
        return script.without_pmd() if hr_only else script

    def battery_at(self, t: float) -> bytes:
        """The battery level byte the strap reports at capture time ``t`` (100 % before any recorded read)."""
        value = self.battery[0].data if self.battery else b"\x64"
        for record in self.battery:
            if record.t > t:
                break
            value = record.data
        return value
