"""The FIT activity reader: a FIT file is read ONCE into a :class:`FitFile` (fitdecode underneath).

What coach uses of a FIT activity (FIT SDK profile, "record", "lap", "session", "hrv", "event", "file_id" messages):

- ``record`` messages with a timestamp -> :class:`FitRecord`: heart rate, cadence, speed, distance, activity type.
  Cadence is kept in the file's own unit, named honestly: ``cadence_strides_per_min`` = ``cadence`` +
  ``fractional_cadence`` (FIT running cadence is strides/min, :data:`CADENCE_UNIT`); :attr:`FitRecord.cadence_spm`
  is steps/min by the one unit rule (:func:`sensors.units.cadence_unit`);
- ``hrv`` beat intervals (seconds, 0.2-3 s kept) -> :attr:`FitFile.rr_s`;
- ``lap`` start times and elapsed times -> :attr:`FitFile.laps`;
- the sport and sub-sport (first ``sport`` or ``session`` message), the product (``file_id``) and the timer-start
  events.

:func:`read_fit` raises :class:`~sensors.readers.ReaderError` ("FILE: not a readable FIT file: ...") for a file
fitdecode cannot read, whatever it trips on (:func:`fit_read_errors`).
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sensors.readers._common import ReaderError
from sensors.units import CadenceUnit, cadence_unit

#: What FIT running cadence counts (FIT profile: ``record.cadence`` in rpm, strides per minute when running).
CADENCE_UNIT: CadenceUnit = "strides"
#: ``hrv`` intervals outside this range (seconds) are not beats (FIT writes 65.535 s for "invalid").
RR_RANGE_S = (0.2, 3.0)


def fit_read_errors() -> tuple[type[BaseException], ...]:
    """What reading a corrupt FIT file with fitdecode can raise: it trips anywhere, not only in FitError."""
    import fitdecode

    return (
        fitdecode.FitError,
        ValueError,
        KeyError,
        EOFError,
        IndexError,
        TypeError,
        OverflowError,
        AssertionError,
        struct.error,
    )


@dataclass(frozen=True, slots=True)
class FitRecord:
    """One ``record`` message; ``None`` = not recorded. ``timestamp`` is aware (UTC)."""

    timestamp: datetime
    heart_rate_bpm: float | None
    cadence_strides_per_min: float | None
    speed_mps: float | None
    distance_m: float | None
    activity_type: str | None

    @property
    def cadence_spm(self) -> float | None:
        """Steps/min: the FIT cadence times the factor of the one unit rule (strides -> x 2)."""
        if self.cadence_strides_per_min is None:
            return None
        return cadence_unit((), declared=CADENCE_UNIT).factor * self.cadence_strides_per_min


@dataclass(frozen=True, slots=True)
class FitLap:
    """One ``lap`` message: its start and ``total_elapsed_time`` (s)."""

    start: datetime
    elapsed_s: float


@dataclass(frozen=True)
class FitFile:
    """Everything coach reads from one FIT activity, in file order (records as written)."""

    path: Path
    records: tuple[FitRecord, ...]
    laps: tuple[FitLap, ...]
    rr_s: tuple[float, ...]
    timer_starts: tuple[datetime, ...]
    sport: str | None
    sub_sport: str | None
    product: str | None

    cadence_unit: CadenceUnit = CADENCE_UNIT

    @property
    def first_record_time(self) -> datetime | None:
        return self.records[0].timestamp if self.records else None

    def laps_s(self) -> list[tuple[float, float]]:
        """The laps as ``(start_s, end_s)`` relative to the first record (a start before it counts as 0)."""
        first = self.first_record_time
        if first is None:
            return []
        out = []
        for lap in self.laps:
            s = max(0.0, (lap.start - first).total_seconds())
            out.append((s, s + lap.elapsed_s))
        return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _field(frame: Any, name: str) -> Any:
    try:
        if frame.has_field(name):
            return frame.get_value(name)
    except (KeyError, ValueError, TypeError):
        return None
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_fit(path: str | os.PathLike[str]) -> FitFile:
    """Read ``path`` once (CRC mismatches are tolerated, as watches write them); see the module docstring."""
    import fitdecode

    source = Path(path)
    records: list[FitRecord] = []
    laps: list[FitLap] = []
    rr_s: list[float] = []
    starts: list[datetime] = []
    sport = sub_sport = product = None
    lo, hi = RR_RANGE_S
    try:
        with fitdecode.FitReader(str(source), check_crc=fitdecode.CrcCheck.WARN) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                name = frame.name
                if name == "record":
                    ts = _field(frame, "timestamp")
                    if not isinstance(ts, datetime):
                        continue
                    cad = _number(_field(frame, "cadence"))
                    frac = _number(_field(frame, "fractional_cadence")) or 0.0
                    speed = _number(_field(frame, "enhanced_speed"))
                    if speed is None:
                        speed = _number(_field(frame, "speed"))
                    activity = _field(frame, "activity_type")
                    records.append(
                        FitRecord(
                            timestamp=_aware(ts),
                            heart_rate_bpm=_number(_field(frame, "heart_rate")),
                            cadence_strides_per_min=None if cad is None else cad + frac,
                            speed_mps=speed,
                            distance_m=_number(_field(frame, "distance")),
                            activity_type=activity if isinstance(activity, str) else None,
                        )
                    )
                elif name == "lap":
                    st, dur = _field(frame, "start_time"), _number(_field(frame, "total_elapsed_time"))
                    if isinstance(st, datetime) and dur is not None:
                        laps.append(FitLap(_aware(st), dur))
                elif name == "hrv":
                    times = _field(frame, "time")
                    seq = times if isinstance(times, tuple | list) else (times,)
                    rr_s.extend(v for v in map(_number, seq) if v is not None and lo <= v <= hi)
                elif name == "event":
                    if _field(frame, "event") == "timer" and _field(frame, "event_type") == "start":
                        ts = _field(frame, "timestamp")
                        if isinstance(ts, datetime):
                            starts.append(_aware(ts))
                elif name in ("sport", "session") and sport is None:
                    sport = _text(_field(frame, "sport"))
                    sub_sport = _text(_field(frame, "sub_sport"))
                elif name == "file_id" and product is None:
                    product = _text(_field(frame, "garmin_product")) or _text(_field(frame, "product"))
    except fit_read_errors() as exc:
        raise ReaderError(f"{source}: not a readable FIT file: {exc}") from exc
    return FitFile(
        path=source,
        records=tuple(records),
        laps=tuple(laps),
        rr_s=tuple(rr_s),
        timer_starts=tuple(starts),
        sport=sport,
        sub_sport=sub_sport,
        product=product,
    )
