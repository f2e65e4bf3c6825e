"""The week ahead in ``coach plan``: which days to run (or walk the walking base), to do the routine, to move and to
rest; the healing-time window against the weeks since the start; what comes next, with reasons. Pure: ``today`` and
everything known are given (docs/progression.md, "The week").

The rules, each a named parameter:

* three key sessions a week (:data:`KEY_SESSIONS_PER_WEEK`: NHS Couch to 5K, the ASTEROID trial's three run-walk
  sessions a week), at least a day apart (:data:`DAYS_BETWEEN_KEY_SESSIONS`): a run at the programme's stage, or at
  the walking base the brisk walk of its step (``coach walk``);
* the first key day is today, unless the last key session was less than :data:`DAYS_BETWEEN_KEY_SESSIONS` days ago;
* the days between are for the mobility and strength routine (the physio article's step 2) and moving (an easy walk,
  a swim, a ride: anything that raises blood flow with only mild discomfort);
* one day of the seven is a rest day (:data:`REST_DAYS_PER_WEEK`): the last day that is not a key day;
* after "stop" (two flare-ups in a row), no runs: the key days become easy walks only if comfortable, and the plan
  says to see the physio first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from coach.plan.healing import HEALING
from coach.plan.moving import MovingSession, WeekMoving, this_week
from coach.plan.progression import Decision, ProgressionConfig, WalkingBaseDecision
from coach.plan.routine import TRUNK_STRENGTH, default_routine
from coach.text import mmss
from coach.vocabulary import SessionActivity

#: Key sessions (runs, or walking-base walks) a week: NHS Couch to 5K and the ASTEROID trial both use three.
KEY_SESSIONS_PER_WEEK = 3
#: Days from one key session to the next (2 = every other day: a day to recover between).
DAYS_BETWEEN_KEY_SESSIONS = 2
#: Rest days in the seven.
REST_DAYS_PER_WEEK = 1
#: Days the week shows, today first.
WEEK_DAYS = 7

#: The routine days' words; the mobility routine is the one for the injury category (:func:`routine_todo`).
ROUTINE = "mobility + strength routine: coach exercise {mobility}, coach exercise {strength}"
MOVE = "move: an easy walk, a swim or a ride, with only mild discomfort"
REST = "rest (gentle mobility only if it helps)"


@dataclass(frozen=True)
class Day:
    """One day of the week: its date, what kind of day it is (``run``, ``walk``, ``routine``, ``rest``), what to
    do, and what was already done that day (a session today)."""

    day: date
    kind: str
    todo: tuple[str, ...]
    done: str | None = None

    def line(self) -> str:
        text = "; ".join(self.todo)
        done = f"  [done: {self.done}]" if self.done else ""
        return f"{self.day.strftime('%a %Y-%m-%d')}  {text}{done}"


@dataclass(frozen=True)
class Week:
    """The week ahead and the words around it."""

    days: tuple[Day, ...]
    moving: WeekMoving
    healing: str
    next_steps: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        out = [f"The week ahead (from {self.days[0].day.isoformat()}):"]
        out += [f"  {d.line()}" for d in self.days]
        out.append(
            f"Moving this week (since Monday {self.moving.week_start.isoformat()}): {self.moving.text()}."
        )
        out.append(self.healing)
        out.append("What comes next:")
        out += [f"  - {s}" for s in self.next_steps]
        return out


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def healing_line(category: str | None, first_day: date | None, today: date) -> str:
    """The weeks since the first session against the healing window of the injury category (or how to set one)."""
    if category is None or category not in HEALING:
        return (
            "Healing time: tell coach your injury category (coach plan --injury "
            + "|".join(HEALING)
            + ") to see "
            "the weeks since your first session against its typical healing time."
        )
    window = HEALING[category]
    if first_day is None:
        return f"Healing time for {window.what}: typically {window.time}; no session yet to count the weeks from."
    weeks = (today - first_day).days / 7.0
    if weeks < window.min_weeks:
        where = "before that window: early days, go by how pain changes, not by the calendar"
    elif weeks <= window.max_weeks:
        where = "within that window"
    else:
        where = "past that window: if pain has not settled, see your physio"
    return (
        f"Healing time: week {int(weeks) + 1} since your first session ({first_day.isoformat()}); {window.what} "
        f"typically takes {window.time}: you are {where}."
    )


def routine_todo(injury: str | None) -> str:
    """A routine day in words: the mobility routine for the injury category
    (:func:`coach.plan.routine.default_routine`) and the trunk and hip strength routine."""
    return ROUTINE.format(mobility=default_routine(injury), strength=TRUNK_STRENGTH)


def build_week(
    *,
    today: date,
    decision: Decision,
    stage_text: str,
    gate: WalkingBaseDecision | None,
    key_days: Sequence[date],
    sessions: Sequence[MovingSession],
    first_day: date | None,
    injury: str | None,
    next_stage_text: str | None = None,
    walking_base: Sequence[float] = (),
    config: ProgressionConfig | None = None,
) -> Week:
    """The week from ``today``.

    ``decision``: the running progression's decision; ``stage_text``: its session in words (``stage 3 (2 min jog /
    3 min walk), 30:00``); ``gate``: the walking-base decision when the runner is at the walking base (None when
    past it or the programme has none); ``key_days``: the local dates of past key sessions (real runs, or walks at the
    walking base); ``sessions``: every real session (moving minutes); ``first_day``: the date of the first real
    session; ``injury``: the injury category; ``next_stage_text``: the stage after the next one, in words;
    ``walking_base``: the brisk minutes of the programme's walking-base steps (W1, W2 ...); ``config``: the
    progression thresholds the words name."""
    cfg = config or ProgressionConfig()
    at_base = gate is not None and not gate.ready
    stop = decision.action == "stop" and not at_base
    last_key = max((d for d in key_days if d <= today), default=None)
    first = today
    if last_key is not None and last_key != today:
        first = max(today, last_key + timedelta(days=DAYS_BETWEEN_KEY_SESSIONS))
    done_today = [s for s in sessions if s.day == today]
    keys: list[date] = []
    if last_key == today:  # today's key session is done: the next ones from the day after next
        first = today + timedelta(days=DAYS_BETWEEN_KEY_SESSIONS)
    k = first
    while len(keys) < KEY_SESSIONS_PER_WEEK and (k - today).days < WEEK_DAYS:
        keys.append(k)
        k += timedelta(days=DAYS_BETWEEN_KEY_SESSIONS)
    window = [today + timedelta(days=i) for i in range(WEEK_DAYS)]
    others = [d for d in window if d not in keys]
    rest = set(others[-REST_DAYS_PER_WEEK:]) if REST_DAYS_PER_WEEK else set()
    if gate is not None and not gate.ready:
        key_kind = "walk"
        key_todo = f"walking base {gate.step_name}: a walk with {gate.target_min:g} min at brisk cadence (coach walk)"
    elif stop:
        key_kind = "walk"
        key_todo = "no run: an easy walk only if comfortable; see your physio before running again"
    else:
        key_kind = "run"
        key_todo = f"run {stage_text} (coach run)"
    later_todo = key_todo
    if key_kind == "run":  # the run after next follows from how the next one goes
        later_todo = f"run: the stage coach plan gives after the run before (now {stage_text.split(' (')[0]})"
    days: list[Day] = []
    for d in window:
        done = None
        if d == today and done_today:
            done = ", ".join(
                f"{'walk' if s.activity == SessionActivity.WALK else 'run/walk'} {mmss(s.duration_s or 0.0)}"
                for s in done_today
            )
        if d in keys:
            days.append(Day(d, key_kind, (key_todo if d == keys[0] else later_todo,), done))
        elif d in rest:
            days.append(Day(d, "rest", (REST,), done))
        else:
            days.append(Day(d, "routine", (routine_todo(injury), MOVE), done))
    if last_key == today:
        days[0] = Day(
            today, "routine", ("key session done today: the routine if you feel like it", MOVE), days[0].done
        )
    steps: list[str] = []
    if gate is not None and not gate.ready:
        later = [f"W{k} ({m:g} min)" for k, m in enumerate(walking_base, start=1) if k > gate.step]
        ready = walking_base[-1] if walking_base else gate.target_min
        steps.append(
            f"After {gate.step_name}: "
            + (", ".join(later) + ", then " if later else "")
            + f"{stage_text}, once you have walked {ready:g} minutes at brisk cadence "
            f"{_times(cfg.walking_base_sessions)} with pain 0-{cfg.pain_safe_max:g}/10 during and after, settled "
            "by the next morning."
        )
    elif stop:
        steps.append(
            "See your physio before the next run; walk and do the routine only as far as is comfortable."
        )
    else:
        if gate is not None:
            steps.append("Walking base done: keep a brisk walk on some of the days between runs.")
        if next_stage_text and decision.action in ("start", "progress", "repeat", "step_back"):
            steps.append(
                f"After {stage_text.split(' (')[0]}: {next_stage_text}, once it is done as the rules ask "
                f"(pain within 0-{cfg.pain_acceptable_max:g}/10 and settled by the next morning; docs/progression.md)."
            )
        elif decision.action == "repeat" and next_stage_text is None:
            steps.append("This is the last stage: keep it, three times a week.")
    return Week(
        days=tuple(days),
        moving=this_week(sessions, today),
        healing=healing_line(injury, first_day, today),
        next_steps=tuple(steps),
    )
