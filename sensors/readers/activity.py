"""What every activity reader (FIT, TCX, GPX) gives: an :class:`ActivityFile` of legs of points, cadence in steps/min.

The format readers know their format's quirks (FIT strides, TCX ``RunCadence``, GPX ``cad``); once they have turned
them into this record, one code path decides what the file is (:mod:`sensors.readers.sport`) and how it becomes a
coach recording (:mod:`coach.signal.io`). Cadence is steps/min here, turned so by the one unit rule
(:func:`sensors.units.cadence_unit`) at the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sensors.units import CadenceUnit


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One sample of an activity (a FIT ``record``, a TCX ``Trackpoint``, a GPX ``trkpt``); ``None`` = not there.
    ``lat_deg``/``lon_deg`` are the position in WGS84 degrees (FIT semicircles converted at the reader)."""

    timestamp: datetime
    heart_rate_bpm: float | None
    cadence_spm: float | None
    speed_mps: float | None
    distance_m: float | None
    lat_deg: float | None = None
    lon_deg: float | None = None


@dataclass(frozen=True)
class ActivityLeg:
    """One activity (or one leg of a multisport file): its sport in FIT's names, its points and what the file
    states about it. ``steps`` are the file's own total (FIT: ``total_strides`` x 2), ``steps_note`` says how."""

    sport: str | None
    sub_sport: str | None
    points: tuple[TrackPoint, ...]
    laps: tuple[tuple[datetime, float], ...] = ()
    distance_m: float | None = None
    elapsed_s: float | None = None
    avg_speed_mps: float | None = None
    steps: int | None = None
    steps_note: str | None = None

    @property
    def start(self) -> datetime | None:
        """When the leg began: its first point, or its first lap's start when the laps begin before it (a file
        whose first seconds carry no point, as a coach export of a session whose sensor data came late)."""
        times = [p.timestamp for p in self.points[:1]] + [start for start, _ in self.laps]
        return min(times) if times else None

    @property
    def duration_s(self) -> float:
        if self.elapsed_s is not None:
            return self.elapsed_s
        if len(self.points) < 2:
            return 0.0
        return (self.points[-1].timestamp - self.points[0].timestamp).total_seconds()


@dataclass(frozen=True)
class ActivityFile:
    """A read activity file. ``clock_set`` is ``False`` when its times are not dates (a FIT device clock never
    set): the start is then unknown. ``recovery`` says what was recovered from a damaged file."""

    path: Path
    format: str
    legs: tuple[ActivityLeg, ...]
    device: str | None = None
    #: The device's product name alone (``"edge500"``): a bike computer is a ride (:mod:`sensors.readers.sport`).
    product: str | None = None
    clock_set: bool = True
    recovery: str | None = None
    cadence_unit: CadenceUnit = "steps"
    notes: tuple[str, ...] = field(default_factory=tuple)
