"""Weekly moving minutes: the "moving" of the physio article (mobility + strength + moving), counted per week.

Pure. What counts as moving (docs/walking.md): the whole time of every real session, walks (``coach walk``, an
imported walk) and walk/run sessions alike: a walk/run session's walks and jogs both move the joints and raise blood
flow. The walks are also shown on their own, and so are the brisk-walking minutes (walking at
:data:`coach.session.adherence.BRISK_CADENCE_SPM` or more, in walks and in the walk breaks of runs, as
:func:`coach.session.adherence.brisk_walk_s` counted them). Rehearsals and exercise routines never count: the callers leave them out.

Weeks are calendar weeks, Monday to Sunday, of the runner's local dates. ``coach plan``, ``coach history`` and
``coach summary`` all count with :func:`weekly_moving`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from coach.plan.programme import MAX_BRISK_MINUTES, PlannedInterval, SessionPlan
from coach.vocabulary import SessionActivity

#: A session's activity as the report model names it (:func:`coach.report.model.session_activity_kind`).
WALK = SessionActivity.WALK
#: ``coach walk``'s plan: an easy start to get going, the brisk part, an easy finish. Every brisk second counts
#: wherever it falls, so the brisk part is the target and the easy minutes are the margin around it.
WALK_EASY_START_S = 180.0
WALK_EASY_END_S = 120.0
#: The plan's name in session_start's ``programme_title`` (a walk follows no programme stage: ``programme`` and
#: ``stage`` are null).
WALK_TITLE = "Brisk walk"


def walk_plan(brisk_minutes: float, *, step_name: str | None = None) -> SessionPlan:
    """The session plan of ``coach walk``: :data:`WALK_EASY_START_S` easy, ``brisk_minutes`` brisk,
    :data:`WALK_EASY_END_S` easy (cool-down). ``step_name``: the walking-base step it is (``W2``), for the title."""
    if not 0 < brisk_minutes <= MAX_BRISK_MINUTES:
        raise ValueError(f"brisk minutes must be more than 0 and at most {MAX_BRISK_MINUTES:g}")
    parts = [
        ("easy start", WALK_EASY_START_S),
        ("brisk", brisk_minutes * 60.0),
        ("cool-down", WALK_EASY_END_S),
    ]
    intervals = []
    start = 0.0
    for index, (label, duration) in enumerate(parts):
        intervals.append(PlannedInterval(index, "walk", duration, start, label=label))
        start += duration
    title = f"{brisk_minutes:g} min at brisk cadence" + (f" ({step_name})" if step_name else "")
    return SessionPlan(
        programme="walk",
        programme_title=WALK_TITLE,
        stage=0,
        stage_title=title,
        intervals=tuple(intervals),
    )


@dataclass(frozen=True)
class MovingSession:
    """One real session, as the weekly count needs it: its local date, ``walk`` or ``run`` (a walk/run session),
    its duration and its brisk-walking seconds (None when it had no cadence)."""

    day: date
    activity: str
    duration_s: float | None
    brisk_s: float | None = None


@dataclass(frozen=True)
class WeekMoving:
    """The moving minutes of one calendar week (``week_start`` is its Monday)."""

    week_start: date
    sessions: int = 0
    walks: int = 0
    moving_min: float = 0.0
    walk_min: float = 0.0
    brisk_min: float = 0.0
    run_session_min: float = 0.0

    def text(self) -> str:
        """``95 min moving: walks 60 min (2), run/walk sessions 35 min; 42 min brisk walking``."""
        if not self.sessions:
            return "no sessions"
        parts = [f"{self.moving_min:.0f} min moving: walks {self.walk_min:.0f} min ({self.walks})"]
        parts.append(f"run/walk sessions {self.run_session_min:.0f} min ({self.sessions - self.walks})")
        return ", ".join(parts) + f"; {self.brisk_min:.0f} min brisk walking"


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weekly_moving(
    sessions: Sequence[MovingSession], *, first: date | None = None, last: date | None = None
) -> list[WeekMoving]:
    """One :class:`WeekMoving` per calendar week from the week of ``first`` (default: the first session) to the
    week of ``last`` (default: the last session), oldest first, weeks without a session included."""
    if not sessions and (first is None or last is None):
        return []
    days = [s.day for s in sessions]
    start = week_start(first if first is not None else min(days))
    end = week_start(last if last is not None else max(days))
    out: list[WeekMoving] = []
    monday = start
    while monday <= end:
        inside = [s for s in sessions if week_start(s.day) == monday]
        walks = [s for s in inside if s.activity == WALK]
        runs = [s for s in inside if s.activity != WALK]
        out.append(
            WeekMoving(
                week_start=monday,
                sessions=len(inside),
                walks=len(walks),
                moving_min=round(sum(s.duration_s or 0.0 for s in inside) / 60.0, 1),
                walk_min=round(sum(s.duration_s or 0.0 for s in walks) / 60.0, 1),
                brisk_min=round(sum(s.brisk_s or 0.0 for s in inside) / 60.0, 1),
                run_session_min=round(sum(s.duration_s or 0.0 for s in runs) / 60.0, 1),
            )
        )
        monday += timedelta(days=7)
    return out


def this_week(sessions: Sequence[MovingSession], today: date) -> WeekMoving:
    """The week of ``today`` (Monday to today; later sessions are not counted)."""
    upto = [s for s in sessions if week_start(s.day) == week_start(today) and s.day <= today]
    weeks = weekly_moving(upto, first=today, last=today)
    return weeks[0]
