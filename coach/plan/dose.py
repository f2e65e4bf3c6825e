"""Exercise dose that progresses with pain: pure rules, documented thresholds (docs/routines.md, "Dose").

A routine file sets each exercise's starting dose (your physio's). After ``sessions_to_progress`` pain-free
sessions of that routine in a row, the whole routine moves up one *notch*; when pain rises, it moves back one. One
notch changes each exercise's dose by one step, in this order, each up to its cap:

1. reps: ``+rep_step`` up to ``max_reps`` (moving reps, and holds done more than once a set);
2. hold seconds: ``+hold_step_s`` up to ``max_hold_s`` (holds);
3. sets: ``+1`` up to ``max_sets``.

So notch 0 is the file's dose, notch 1 its reps a step higher, and so on; a dose already at or above a cap in the
file is never changed on that count. The pain of a session is the highest score logged for it (during, after, the
next morning: ``coach pain``, or the pain check at the end of ``coach exercise``). The rule for exercise is "no pain
during or after":

* pain at most ``pain_free_max`` (0): a pain-free session, counted towards the next notch;
* above that, up to ``step_back_above`` (2): stay at this notch, and count pain-free sessions again from here;
* above ``step_back_above``: back one notch (never below the file's dose: then see your physio);
* a session with no pain score, a session stopped early, or a rehearsal (``--speed``) does not count.

The thresholds live in the ``[exercise]`` table of the same progression.toml as the running progression's
(:func:`dose_config_from_toml`), so a physio can change them without touching code.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from coach.errors import InputError
from coach.plan.routine import Dose, Exercise, Routine

DoseAction = Literal["start", "up", "stay", "down", "top"]
#: The table of progression.toml this module reads.
TABLE = "exercise"


@dataclass(frozen=True)
class DoseConfig:
    sessions_to_progress: int = 3  # pain-free sessions in a row before a notch up
    pain_free_max: float = 0.0  # "no pain during or after"
    step_back_above: float = 2.0  # pain above this: back a notch (the running progression's "safe" limit)
    rep_step: int = 2  # reps added by a notch
    max_reps: int = 15
    hold_step_s: float = 5.0  # hold seconds added by a notch
    max_hold_s: float = 45.0
    max_sets: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.pain_free_max <= self.step_back_above <= 10:
            raise ValueError(
                "exercise pain thresholds must satisfy 0 <= pain_free_max <= step_back_above <= 10"
            )


#: field -> (type, lowest, highest) for validation of the [exercise] table.
CONFIG_FIELDS: dict[str, tuple[type, float, float]] = {
    "sessions_to_progress": (int, 1, 20),
    "pain_free_max": (float, 0, 10),
    "step_back_above": (float, 0, 10),
    "rep_step": (int, 1, 10),
    "max_reps": (int, 1, 50),
    "hold_step_s": (float, 1, 60),
    "max_hold_s": (float, 1, 300),
    "max_sets": (int, 1, 10),
}


def dose_config_from_toml(text: str, source: str = "progression.toml") -> DoseConfig:
    """The :class:`DoseConfig` from the ``[exercise]`` table of a progression.toml (missing table or key = the
    default). Pure. A bad value is an :class:`InputError` naming ``source`` and the field, e.g.
    ``progression.toml: exercise.max_reps: must be between 1 and 50 (got 80)``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    table = data.get(TABLE, {})
    if not isinstance(table, dict):
        raise InputError(f"{source}: {TABLE}: expected a table ([{TABLE}])")
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{source}: {TABLE}.{key}"
        if key not in CONFIG_FIELDS:
            raise InputError(f"{where}: unknown field (expected one of: {', '.join(sorted(CONFIG_FIELDS))})")
        kind, lo, hi = CONFIG_FIELDS[key]
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise InputError(
                f"{where}: expected {'a whole number' if kind is int else 'a number'} (got {value!r})"
            )
        if not (math.isfinite(value) and lo <= value <= hi):
            raise InputError(f"{where}: must be between {lo:g} and {hi:g} (got {value!r})")
        kwargs[key] = kind(value)
    try:
        return DoseConfig(**kwargs)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None


# --- the notches -------------------------------------------------------------------------------------------


def _up(dose: Dose, cfg: DoseConfig) -> Dose:
    """One notch up: reps, then hold seconds, then sets, each to its cap; the same dose when all are capped."""
    counts_reps = dose.tempo is not None or dose.reps > 1
    if counts_reps and dose.reps < cfg.max_reps:
        return replace(dose, reps=min(cfg.max_reps, dose.reps + cfg.rep_step))
    if dose.hold_s is not None and dose.hold_s < cfg.max_hold_s:
        return replace(dose, hold_s=min(cfg.max_hold_s, dose.hold_s + cfg.hold_step_s))
    if dose.sets < cfg.max_sets:
        return replace(dose, sets=dose.sets + 1)
    return dose


def notched(dose: Dose, level: int, cfg: DoseConfig) -> Dose:
    """``dose`` (the file's) moved up ``level`` notches."""
    for _ in range(max(0, level)):
        dose = _up(dose, cfg)
    return dose


def top_level(routine: Routine, cfg: DoseConfig) -> int:
    """The highest notch that still changes some exercise's dose (every dose capped above it)."""
    level = 0
    while any(notched(e.dose, level + 1, cfg) != notched(e.dose, level, cfg) for e in routine.exercises):
        level += 1
    return level


def at_level(routine: Routine, level: int, cfg: DoseConfig) -> Routine:
    """The routine with every exercise's dose moved up ``level`` notches."""
    exercises: tuple[Exercise, ...] = tuple(
        replace(e, dose=notched(e.dose, level, cfg)) for e in routine.exercises
    )
    return replace(routine, exercises=exercises)


# --- the decision ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseOutcome:
    """What the dose rules need from one session of the routine (rehearsals are left out by the caller)."""

    completed: bool = True
    pain: float | None = (
        None  # the highest pain logged for it (during / after / next morning); None = not logged
    )


@dataclass(frozen=True)
class DoseDecision:
    level: int  # the notch of the next session (0 = the routine file's dose)
    action: DoseAction
    pain_free_streak: int  # pain-free sessions in a row at this notch
    reasons: tuple[str, ...]

    def explain(self) -> str:
        return " ".join(self.reasons)


def decide_dose(
    history: Sequence[ExerciseOutcome], cfg: DoseConfig, *, top: int | None = None
) -> DoseDecision:
    """The notch of the next session from the routine's sessions so far, oldest first (pure; the module docstring
    gives the rules). ``top``: the highest useful notch (:func:`top_level`); None = no cap."""
    level, streak, action = 0, 0, "start"
    reasons: list[str] = []
    if not history:
        return DoseDecision(
            0, "start", 0, ("First session of this routine: the dose your routine file sets.",)
        )
    for outcome in history:
        reasons = []
        if outcome.pain is not None and outcome.pain > cfg.step_back_above:
            if level > 0:
                level, action = level - 1, "down"
                reasons.append(
                    f"Pain {outcome.pain:g}/10 last time (above {cfg.step_back_above:g}): back a notch."
                )
            else:
                action = "stay"
                reasons.append(
                    f"Pain {outcome.pain:g}/10 last time (above {cfg.step_back_above:g}) at the dose your routine "
                    "file sets: take it easy, and if it does not settle, see your physio."
                )
            streak = 0
        elif not outcome.completed or outcome.pain is None:
            action = "stay"
            why = "was stopped early" if not outcome.completed else "has no pain score (coach pain N)"
            reasons.append(f"The last session {why}: it does not count towards the next notch.")
        elif outcome.pain > cfg.pain_free_max:
            action, streak = "stay", 0
            reasons.append(
                f"Pain {outcome.pain:g}/10 last time: the rule is no pain during or after, so the dose stays and "
                "the pain-free sessions count again from here."
            )
        else:
            streak += 1
            if streak >= cfg.sessions_to_progress and (top is None or level < top):
                level, streak, action = level + 1, 0, "up"
                reasons.append(f"{cfg.sessions_to_progress} pain-free sessions in a row: up a notch.")
            elif top is not None and level >= top:
                action = "top"
                reasons.append(
                    "Pain-free, and every exercise is at its cap: ask your physio for the next step."
                )
            else:
                action = "stay"
                left = cfg.sessions_to_progress - streak
                reasons.append(
                    f"{streak} pain-free session{'s' if streak != 1 else ''} in a row: {left} more before the next "
                    "notch."
                )
    return DoseDecision(level, action, streak, tuple(reasons))  # type: ignore[arg-type]
