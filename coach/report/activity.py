"""A finished activity as plain data: 1 Hz records and laps. The exchange shape for FIT/TCX/GPX export and import.

Units are in the names. Cadence is always steps/min here; FIT, TCX and GPX store strides/min, and only the exporters
convert (see :func:`coach.report.export.spm_to_fit_cadence`).

What every exporter can rely on (so the FIT, TCX and GPX files of one activity agree with each other):

- **Time.** ``t_s`` counts from ``start_time``. Every file states times at whole seconds (FIT's ``date_time`` has no
  fraction), so :meth:`Activity.time_at` is the one place that turns a session time into a timestamp: the start
  and every record, lap start and lap end are floored to :data:`TIME_RESOLUTION_S` the same way in all formats.
- **Laps cover the whole activity.** ``Activity.laps`` always runs end to end from 0 to :attr:`Activity.duration_s`:
  the laps given (one per interval of the plan, or the laps of an imported file) are kept, and the time before the
  first, after the last and between two of them becomes a lap of its own (activity ``other``, a rest lap), unless it
  is no longer than :data:`LAP_GAP_ABSORB_S`, when the neighbouring lap is stretched over it.
- **Every record is in exactly one lap** (:meth:`Activity.lap_slices`): ``start_s <= t_s < end_s``, and the last
  lap also takes the record at its end. So a format that nests points in laps (TCX) writes every record, like one
  that does not (FIT).
- **Distance** is cumulative from the start (as FIT and TCX store it); a lap's distance is the cumulative distance
  at its last record minus that at the last record before it (0 at the start), so the laps add up to the total.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ACTIVITIES = ("run", "walk", "warmup", "cooldown", "other")

#: The resolution of every timestamp written to a file (FIT ``date_time`` is whole seconds).
TIME_RESOLUTION_S = 1.0
#: A gap between laps (or before the first, after the last) no longer than this stretches the neighbouring lap
#: instead of becoming a lap of its own: the second between two laps of a watch's FIT file (each lap ends at its
#: last record, the next starts at the next record), rounding in session times, a 1 Hz record's own second.
LAP_GAP_ABSORB_S = 2.0
#: The label of a lap made to cover time outside the laps given.
GAP_LABELS = {
    "before": "before the first interval",
    "between": "between intervals",
    "after": "after the last interval",
}


@dataclass(frozen=True)
class ActivityRecord:
    """One sample, normally one per second. ``t_s`` counts from the activity start.

    ``distance_m`` is cumulative from the activity start; ``lat_deg``/``lon_deg`` (WGS84) only when the recording
    had a position (a GPS run imported from a watch; coach's own sessions have none)."""

    t_s: float
    hr_bpm: float | None = None
    cadence_spm: float | None = None
    distance_m: float | None = None
    speed_mps: float | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None

    @property
    def has_position(self) -> bool:
        return self.lat_deg is not None and self.lon_deg is not None


@dataclass(frozen=True)
class ActivityLap:
    """One interval of the plan (or one lap of an imported file). ``activity`` is what was planned."""

    start_s: float
    end_s: float
    activity: str = "other"
    label: str = ""

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"lap ends ({self.end_s}) before it starts ({self.start_s})")
        if self.activity not in ACTIVITIES:
            raise ValueError(f"unknown lap activity {self.activity!r}; expected one of {ACTIVITIES}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def is_rest(self) -> bool:
        """Walks, warm-ups and cool-downs are rest laps in FIT/TCX terms; runs are active."""
        return self.activity != "run"


@dataclass(frozen=True)
class LapSlice:
    """A lap with the records inside it and the distance covered during it (None without distance)."""

    lap: ActivityLap
    records: tuple[ActivityRecord, ...]
    distance_m: float | None


@dataclass(frozen=True)
class Activity:
    """An activity. ``laps`` given here are completed to cover the whole activity (module docstring)."""

    start_time: datetime  # timezone-aware, UTC preferred
    records: tuple[ActivityRecord, ...]
    laps: tuple[ActivityLap, ...] = field(default_factory=tuple)
    name: str = "coach session"
    notes: str = ""

    def __post_init__(self) -> None:
        if self.start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")
        times = [r.t_s for r in self.records]
        if any(not math.isfinite(t) or t < 0 for t in times):
            raise ValueError("record times must be finite and count from the start (t_s >= 0)")
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError("records must be in time order")
        object.__setattr__(
            self, "laps", _covering_laps(self.laps, max([0.0, *times, *(x.end_s for x in self.laps)]))
        )

    @property
    def duration_s(self) -> float:
        """From the start to the last record or the end of the last lap given, whichever is later."""
        return self.laps[-1].end_s

    def time_at(self, t_s: float) -> datetime:
        """The UTC timestamp of session time ``t_s`` as every exporter writes it (floored to whole seconds)."""
        exact = self.start_time.astimezone(UTC) + timedelta(seconds=t_s)
        whole = math.floor(exact.timestamp() / TIME_RESOLUTION_S) * TIME_RESOLUTION_S
        return datetime.fromtimestamp(whole, UTC)

    def lap_slices(self) -> tuple[LapSlice, ...]:
        """Each lap with its records: every record in exactly one lap, in order (module docstring)."""
        out: list[LapSlice] = []
        k = 0
        n = len(self.records)
        before_m = 0.0  # cumulative distance at the last record before the lap
        for i, lap in enumerate(self.laps):
            last = i == len(self.laps) - 1
            start = k
            while k < n and (last or self.records[k].t_s < lap.end_s):
                k += 1
            recs = self.records[start:k]
            dists = [r.distance_m for r in recs if r.distance_m is not None]
            distance = None if not dists else max(0.0, dists[-1] - before_m)
            if dists:
                before_m = dists[-1]
            out.append(LapSlice(lap, recs, distance))
        return tuple(out)

    @property
    def distance_m(self) -> float | None:
        """The total distance (the last cumulative distance), or None without distance."""
        dists = [r.distance_m for r in self.records if r.distance_m is not None]
        return dists[-1] if dists else None


def _covering_laps(laps: tuple[ActivityLap, ...], end_s: float) -> tuple[ActivityLap, ...]:
    """``laps`` completed to run end to end over ``[0, end_s]`` (module docstring); overlaps are cut and empty
    laps dropped."""
    out: list[ActivityLap] = []
    cursor = 0.0
    for lap in sorted(laps, key=lambda lap: (lap.start_s, lap.end_s)):
        start, stop = max(lap.start_s, cursor), max(lap.end_s, cursor)
        if stop <= start:  # empty, or wholly inside the previous lap
            continue
        gap = start - cursor
        if gap > LAP_GAP_ABSORB_S:
            out.append(ActivityLap(cursor, start, "other", GAP_LABELS["between" if out else "before"]))
        elif gap > 0:
            start = cursor  # a sliver: the lap starts where the previous one ended
        out.append(ActivityLap(start, stop, lap.activity, lap.label))
        cursor = stop
    if not out:
        return (ActivityLap(0.0, end_s, "other", "whole session"),)
    if end_s - cursor > LAP_GAP_ABSORB_S:
        out.append(ActivityLap(cursor, end_s, "other", GAP_LABELS["after"]))
    elif end_s > cursor:
        last = out[-1]
        out[-1] = ActivityLap(last.start_s, end_s, last.activity, last.label)
    return tuple(out)
