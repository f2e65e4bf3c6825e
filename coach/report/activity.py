"""A finished activity as plain data: 1 Hz records and laps. The exchange shape for FIT/TCX export and import.

Units are in the names. Cadence is always steps/min here; FIT and TCX store strides/min, and only the exporters
convert (see :func:`coach.report.export.spm_to_fit_cadence`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ACTIVITIES = ("run", "walk", "warmup", "cooldown", "other")


@dataclass(frozen=True)
class ActivityRecord:
    """One sample, normally one per second. ``t_s`` counts from the activity start."""

    t_s: float
    hr_bpm: float | None = None
    cadence_spm: float | None = None
    distance_m: float | None = None
    speed_mps: float | None = None


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
class Activity:
    start_time: datetime  # timezone-aware, UTC preferred
    records: tuple[ActivityRecord, ...]
    laps: tuple[ActivityLap, ...] = field(default_factory=tuple)
    name: str = "coach session"
    notes: str = ""

    def __post_init__(self) -> None:
        if self.start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")

    @property
    def duration_s(self) -> float:
        ends = [r.t_s for r in self.records] + [lap.end_s for lap in self.laps]
        return max(ends, default=0.0)

    def laps_or_whole(self) -> tuple[ActivityLap, ...]:
        """The laps, or one lap over the whole activity when there are none."""
        if self.laps:
            return self.laps
        return (ActivityLap(0.0, self.duration_s, "other", "whole session"),)
