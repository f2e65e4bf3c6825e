"""What a virtual strap serves, derived from a capture file. Pure: no bumble, no I/O beyond reading the file.

The strap streams the capture's *notifications* (Heart Rate Measurement, RSC Measurement, PMD data) at their
recorded times; reads (battery level, body sensor location) set the values it serves.

ACC settings: the strap replays the recorded PMD frames as they are, so it can only serve the sample rate (and
range, resolution) they were recorded at. Its "get ACC settings" answer (Polar online measurement doc v1.0, p.12)
is the recorded strap's answer (else a Polar H10's), narrowed to one sample rate: the one of the recording's
``pmd_started`` event, else the rate measured from the frames' timestamps (snapped to the nearest rate the strap
offered, if within 10 %); and to the recorded range and resolution when the event names them. A start at any
other value is refused by :class:`~sensors.sources.virtual.pmd_server.PmdServer` (8 ERROR_INVALID_SAMPLE_RATE,
9 ERROR_INVALID_RANGE, 7 ERROR_INVALID_RESOLUTION), as a real strap refuses a value it does not offer.

Looping (:meth:`StrapScript.looped_stream`, ``coach run --loop``, the demo): the strap streams the recording
again :data:`LOOP_GAP_S` after its end, on the same connection, as a strap whose wearer keeps going would: each pass's
capture times and PMD frame timestamps continue from the last pass (the strap's clock runs on), so the client sees
no disconnection and no sensor clock jump.
"""

from __future__ import annotations

import itertools
import os
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sensors.capture import EventRecord, PayloadRecord, read_capture
from sensors.codecs.pmd import (
    HEADER_SIZE,
    MeasurementType,
    PmdDataFrame,
    PmdSettings,
    PmdSettingType,
    acc_wire_samples,
)
from sensors.errors import DecodeError
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
#: A measured rate this close (relative) to an offered one is that rate (a strap's clock runs some ppm off).
RATE_SNAP_TOLERANCE = 0.10
#: Capture seconds between the last notification of a looped recording and the first of its next pass (the
#: same pause as a looped replay's, :func:`coach.session.sources.source_samples`).
LOOP_GAP_S = 1.0


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
    def acc_sample_rates_hz(self) -> tuple[int, ...]:
        """The ACC sample rates the strap offers (one: the recording's, when it has PMD data)."""
        return tuple(
            int(v) for v in PmdSettings.from_bytes(self.acc_settings).values(PmdSettingType.SAMPLE_RATE)
        )

    def looped_stream(self, gap_s: float = LOOP_GAP_S) -> Iterator[PayloadRecord]:
        """The stream played again and again, endlessly (module docstring): pass ``k`` is :attr:`stream` with its
        times and its PMD frames' timestamps moved on by ``k`` periods of :attr:`duration_s` + ``gap_s``."""
        if gap_s < 0:
            raise ValueError("gap_s must be >= 0")
        if not self.stream:
            return
        period_s = self.duration_s + gap_s
        for k in itertools.count():
            offset_s = k * period_s
            for record in self.stream:
                if k == 0:
                    yield record
                    continue
                data = shift_pmd_timestamp(record.data, offset_s) if record.char == PMD_DATA else record.data
                yield PayloadRecord(record.t + offset_s, record.char, data, record.line)

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
        cls,
        records: Iterable[PayloadRecord | EventRecord],
        *,
        name: str | None = None,
        source: str = "",
    ) -> StrapScript:
        """The strap that recorded ``records`` (payloads and events, in capture order; see the module docstring)."""
        stream: list[PayloadRecord] = []
        started: Mapping[str, Any] | None = None
        battery: list[PayloadRecord] = []
        location = b"\x01"  # chest
        acc_settings = H10_ACC_SETTINGS
        for record in records:
            if isinstance(record, EventRecord):
                if (
                    started is None
                    and record.event == "pmd_started"
                    and record.fields.get("measurement") == "acc"
                ):
                    started = record.fields
                continue
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
                acc_settings = record.data[5:] if _settings_ok(record.data[5:]) else acc_settings
        pmd_frames = [r for r in stream if r.char == PMD_DATA]
        if pmd_frames:
            acc_settings = servable_acc_settings(acc_settings, started, pmd_frames)
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
        script = cls.from_records(capture.records, name=capture.header.device.name, source=os.fspath(path))
        return script.without_pmd() if hr_only else script

    def battery_at(self, t: float) -> bytes:
        """The battery level byte the strap reports at capture time ``t`` (100 % before any recorded read)."""
        value = self.battery[0].data if self.battery else b"\x64"
        for record in self.battery:
            if record.t > t:
                break
            value = record.data
        return value


def _settings_ok(data: bytes) -> bool:
    """Whether ``data`` is a non-empty settings TLV list (a garbled recorded answer is ignored)."""
    try:
        return bool(PmdSettings.from_bytes(data).entries)
    except DecodeError:
        return False


def shift_pmd_timestamp(data: bytes, offset_s: float) -> bytes:
    """A PMD data frame with its timestamp (bytes 1-8, the last sample's sensor time in ns, Polar doc p.15) moved
    on by ``offset_s``; the rest of the bytes unchanged. Bytes too short for a frame header are returned as they
    are (the strap sends what was recorded)."""
    if len(data) < HEADER_SIZE:
        return data
    stamp = int.from_bytes(data[1:9], "little") + round(offset_s * 1e9)
    return data[:1] + (stamp % (1 << 64)).to_bytes(8, "little") + data[9:]


def measured_acc_rate_hz(frames: Iterable[PayloadRecord]) -> float | None:
    """The ACC sample rate of recorded PMD data frames: the median over consecutive frames of samples per second
    between their timestamps (the timestamp is the frame's last sample, Polar doc p.15), so gaps do not bias it.
    None when fewer than two frames decode (16-bit ACC, raw or delta-compressed)."""
    rates: list[float] = []
    previous_ns: int | None = None
    for record in frames:
        try:
            frame = PmdDataFrame.from_bytes(record.data)
            if frame.measurement_type != MeasurementType.ACC:
                continue
            n = len(acc_wire_samples(frame))
        except DecodeError:
            continue
        if previous_ns is not None and frame.timestamp_ns > previous_ns and n > 0:
            rates.append(n * 1e9 / (frame.timestamp_ns - previous_ns))
        previous_ns = frame.timestamp_ns
    return statistics.median(rates) if rates else None


def servable_acc_settings(
    offered: bytes, started: Mapping[str, Any] | None, frames: Iterable[PayloadRecord]
) -> bytes:
    """``offered`` (a get-settings TLV list) narrowed to what replaying ``frames`` can serve (module docstring).

    ``started`` holds the fields of the recording's ``pmd_started`` event (``sample_rate_hz``, ``range_g``,
    ``resolution_bits``), if any. Returns ``offered`` unchanged when the rate can be neither read nor measured.
    """
    try:
        menu = PmdSettings.from_bytes(offered)
    except DecodeError:  # a garbled recorded answer: start from an H10's
        menu = PmdSettings.from_bytes(H10_ACC_SETTINGS)
    narrowed: dict[int, int] = {}
    fields = started or {}
    for setting, key in (
        (PmdSettingType.SAMPLE_RATE, "sample_rate_hz"),
        (PmdSettingType.RESOLUTION, "resolution_bits"),
        (PmdSettingType.RANGE, "range_g"),
    ):
        value = fields.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 0xFFFF:
            narrowed[setting] = value
    if PmdSettingType.SAMPLE_RATE not in narrowed:
        measured = measured_acc_rate_hz(frames)
        if measured is None:
            return offered
        rates = [int(v) for v in menu.values(PmdSettingType.SAMPLE_RATE)]
        nearest = min(rates, key=lambda r: abs(r - measured), default=None)
        if nearest is not None and abs(nearest - measured) <= RATE_SNAP_TOLERANCE * nearest:
            narrowed[PmdSettingType.SAMPLE_RATE] = nearest
        else:
            narrowed[PmdSettingType.SAMPLE_RATE] = max(1, min(0xFFFF, round(measured)))
    entries: list[tuple[int, tuple[int | float, ...]]] = []
    for kind, values in menu.entries:
        if kind in narrowed:
            if any(k == kind for k, _ in entries):
                continue  # a repeated entry: already narrowed
            entries.append((kind, (narrowed[kind],)))
        else:
            entries.append((kind, values))
    for kind, value in sorted(narrowed.items()):
        if not any(k == kind for k, _ in entries):
            entries.append((kind, (value,)))
    return bytes(PmdSettings(tuple(entries)))
