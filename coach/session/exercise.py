"""A guided exercise routine: the routine -> a timeline of cues (pure), and the engine that releases them on the
session clock.

:func:`timeline` lays the routine out on session time from t = 0, from the routine file alone (and the announcement
lengths of :class:`ExerciseConfig`): the opening and the first exercise's how-to, then for every set its announcement
("Set 1 of 3: ten bridges."), the reps with their tempo words at each phase ("One: up." ... "Hold." ... "Down."),
or the holds with their countdown ("Hold for twenty seconds." ... "Ten seconds." ... "Three." "Two." "One."
"Relax."), "Switch sides" between the left and the right side, the rest timer between sets ("Rest for thirty
seconds." ... "Next set in ten seconds."), the rest after an exercise with the next one's how-to, the end and the pain
check (the rule: no pain during or after). Every timing in the routine file is kept exactly: a rep takes its tempo, a
hold its seconds, a rest its seconds; only where a rest is shorter than what must be said in it is it stretched to
that (a spoken how-to is never cut).

:class:`ExerciseEngine` is pure and synchronous like :class:`coach.session.engine.SessionEngine`: call
:meth:`ExerciseEngine.step` with the session time; it returns the cues that are due. *Routine time* stops while
paused, so a pause never eats into a hold or a rest. The runner that wires it to the voice, the display, the pause
keys and the session folder is :mod:`coach.session.exercise_runner`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from coach.plan.routine import Exercise, Routine
from coach.session.cues import Cue, duration_words, estimate_duration_s, number_words
from coach.vocabulary import RecordKind

# Cue types of an exercise session (docs/formats/events.md).
ROUTINE_START = "routine_start"
EXERCISE = "exercise"  # the next exercise and its how-to (in the rest before it, or at the start)
SET = "set"  # "Set 1 of 3: ten bridges."
PHASE = "phase"  # a tempo word: "One: up.", "Hold.", "Down."
HOLD = "hold"  # "Hold for twenty seconds."
HOLD_COUNT = "hold_count"  # "Ten seconds.", "Three.", "Two.", "One."
HOLD_END = "hold_end"  # "Relax."
SWITCH = "switch"  # "Switch sides: right side."
REST = "rest"  # "Rest for thirty seconds."
REST_COUNT = "rest_count"  # "Next set in ten seconds."
ROUTINE_END = "routine_end"
PAIN_CHECK = "pain_check"
PAUSED, RESUMED, STOPPED = "paused", "resumed", "stopped"
#: The cues a speaker that fell behind never skips: where the runner is in the routine, the end of a hold (it comes
#: at the same moment as a side switch or a rest, and must not be lost to it), and the controls.
ALWAYS_SPOKEN = frozenset(
    {EXERCISE, SET, HOLD_END, SWITCH, REST, ROUTINE_END, PAIN_CHECK, PAUSED, RESUMED, STOPPED}
)

ROUTINE_END_TEXT = "That's the routine done. Well done."
PAIN_CHECK_TEXT = "How is your back, from zero to ten? The rule: no pain during or after. Log it when asked, or with coach pain."
CONTROL_TEXT = {PAUSED: "Paused.", RESUMED: "Resuming.", STOPPED: "Session stopped."}
CONTROL_ACTION = {PAUSED: "pause", RESUMED: "resume", STOPPED: "stop"}
COUNTDOWN_WORDS = {3: "Three.", 2: "Two.", 1: "One."}


@dataclass(frozen=True)
class ExerciseConfig:
    """The lengths the routine file does not give: how long the coach takes to announce and to switch sides, and
    which counts it says. Seconds of session time."""

    get_ready_s: float = (
        10.0  # from the opening to the first set, at least (longer if the how-to takes longer)
    )
    announce_s: float = 4.0  # from a set's announcement to its first rep or hold
    switch_s: float = 5.0  # from "switch sides" to the first rep or hold of the other side
    gap_s: float = 0.5  # silence after a spoken how-to before the next cue
    hold_call_every_s: float = 10.0  # in a long hold, say the seconds left at each multiple of this
    countdown_from: int = 3  # "Three. Two. One." before a hold ends ...
    min_countdown_hold_s: float = 6.0  # ... in holds at least this long
    rest_call_s: float = 10.0  # "Next set in ten seconds." this long before a rest ends ...
    min_rest_call_s: float = 20.0  # ... in rests at least this long
    end_gap_s: float = 1.0  # from the end of the last set to "That's the routine done."


@dataclass(frozen=True)
class TimedCue:
    """One thing to say at session time ``t`` of the routine, and where in the routine it is."""

    t: float
    type: str
    text: str
    exercise: int | None = None  # 0-based
    set: int | None = None  # 1-based
    side: str | None = None  # "left" / "right" for sided exercises
    rep: int | None = None  # 1-based
    phase: str | None = None  # "up" / "hold" / "down" for tempo words

    def cue(self, duration_fn: Any = estimate_duration_s) -> Cue:
        return Cue(
            type=self.type,
            text=self.text,
            priority=1,
            planned_t=self.t,
            interval_index=self.exercise,
            duration_s=duration_fn(self.text),
        )

    def fields(self) -> dict[str, Any]:
        """The routine position kept with the ``cue`` record (docs/formats/events.md)."""
        keys = ("exercise", "set", "side", "rep", "phase")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class Block:
    """A stretch of the timeline the display names: an exercise's set (one side), a rest, the start, the end."""

    start_s: float
    end_s: float
    name: str
    exercise: int | None
    next_name: str


@dataclass(frozen=True)
class Timeline:
    routine: Routine
    cues: tuple[TimedCue, ...]
    blocks: tuple[Block, ...]
    duration_s: float

    def block_at(self, t: float) -> Block | None:
        for block in self.blocks:
            if block.start_s <= t < block.end_s:
                return block
        return None

    def phrases(self) -> list[str]:
        """Every text of the session, once, for pre-rendering."""
        seen: dict[str, None] = dict.fromkeys(c.text for c in self.cues)
        seen.update(dict.fromkeys(CONTROL_TEXT.values()))
        return list(seen)


def set_text(ex: Exercise, k: int) -> str:
    """``"Set 1 of 3: ten bridges."``; holds: ``"Set 1 of 2: side plank, three holds of ten seconds."``;
    sided exercises add ``" Each side, left first."``"""
    dose = ex.dose
    head = f"Set {k} of {dose.sets}: "
    if dose.tempo is not None:
        body = f"{number_words(dose.reps)} {ex.say}" if dose.reps != 1 else f"one {ex.name.lower()}"
    else:
        assert dose.hold_s is not None
        hold = duration_words(dose.hold_s)
        body = (
            f"{ex.name.lower()}, {number_words(dose.reps)} holds of {hold}"
            if dose.reps > 1
            else f"{ex.name.lower()}, hold {hold}"
        )
    tail = " Each side, left first." if ex.sided else ""
    return f"{head}{body}.{tail}"


def exercise_text(routine: Routine, i: int, *, first: bool) -> str:
    ex = routine.exercises[i]
    n = len(routine.exercises)
    lead = "First" if first else "Next"
    return f"{lead}, exercise {i + 1} of {n}: {ex.name}. {ex.how}"


def _say_s(text: str, cfg: ExerciseConfig) -> float:
    return estimate_duration_s(text) + cfg.gap_s


def timeline(routine: Routine, config: ExerciseConfig | None = None) -> Timeline:
    """The whole routine on session time (pure; see the module docstring)."""
    cfg = config or ExerciseConfig()
    cues: list[TimedCue] = []
    blocks: list[Block] = []
    n = len(routine.exercises)
    opening = f"{routine.title}. {number_words(n).capitalize()} exercise{'s' if n != 1 else ''}."
    cues.append(TimedCue(0.0, ROUTINE_START, opening))
    intro = exercise_text(routine, 0, first=True)
    intro_t = _say_s(opening, cfg)
    cues.append(TimedCue(round(intro_t, 3), EXERCISE, intro, exercise=0))
    t = max(cfg.get_ready_s, intro_t + _say_s(intro, cfg))
    blocks.append(Block(0.0, t, "Get ready", None, routine.exercises[0].name))
    for i, ex in enumerate(routine.exercises):
        dose = ex.dose
        nxt = routine.exercises[i + 1].name if i + 1 < n else "end"
        for k in range(1, dose.sets + 1):
            at: dict[str, Any] = {"exercise": i, "set": k}
            text = set_text(ex, k)
            cues.append(TimedCue(round(t, 3), SET, text, **at))
            # the display's block: the left side's starts with the set's announcement, the right's with the switch
            block_start = t
            t += max(cfg.announce_s, _say_s(text, cfg))
            for side in ("left", "right") if ex.sided else (None,):
                if side == "right":
                    block_start = t
                    cues.append(TimedCue(round(t, 3), SWITCH, "Switch sides: right side.", side=side, **at))
                    t += cfg.switch_s
                t = _work(cues, ex, t, cfg, side=side, **at)
                label = f"{ex.name}, set {k} of {dose.sets}" + (f", {side} side" if side else "")
                blocks.append(Block(block_start, t, label, i, nxt))
            if k < dose.sets:
                rest = ex.rest_s
                if rest > 0:
                    cues.append(TimedCue(round(t, 3), REST, f"Rest for {duration_words(rest)}.", **at))
                    if rest >= cfg.min_rest_call_s:
                        when = t + rest - cfg.rest_call_s
                        text = f"Next set in {duration_words(cfg.rest_call_s)}."
                        cues.append(TimedCue(round(when, 3), REST_COUNT, text, **at))
                    blocks.append(Block(t, t + rest, "Rest", i, f"{ex.name}, set {k + 1}"))
                    t += rest
        if i + 1 < n:
            head = f"Rest for {duration_words(ex.rest_after_s)}. " if ex.rest_after_s > 0 else ""
            text = head + exercise_text(routine, i + 1, first=False)
            rest = max(ex.rest_after_s, _say_s(text, cfg))
            cues.append(TimedCue(round(t, 3), EXERCISE, text, exercise=i + 1))
            if rest >= cfg.min_rest_call_s:
                when = t + rest - cfg.rest_call_s
                text = f"{routine.exercises[i + 1].name} in {duration_words(cfg.rest_call_s)}."
                cues.append(TimedCue(round(when, 3), REST_COUNT, text, exercise=i + 1))
            blocks.append(Block(t, t + rest, "Rest", i, routine.exercises[i + 1].name))
            t += rest
    last_set_end = t
    t += cfg.end_gap_s
    cues.append(TimedCue(round(t, 3), ROUTINE_END, ROUTINE_END_TEXT))
    pain_t = t + _say_s(ROUTINE_END_TEXT, cfg)
    cues.append(TimedCue(round(pain_t, 3), PAIN_CHECK, PAIN_CHECK_TEXT))
    end = pain_t + _say_s(PAIN_CHECK_TEXT, cfg)
    blocks.append(Block(last_set_end, end, "Pain check", None, "end"))
    cues.sort(key=lambda c: c.t)  # stable: cues at the same time keep the order they were laid out in
    return Timeline(routine, tuple(cues), tuple(blocks), round(end, 3))


def _work(
    cues: list[TimedCue],
    ex: Exercise,
    t: float,
    cfg: ExerciseConfig,
    *,
    side: str | None,
    exercise: int,
    set: int,
) -> float:
    """Lay out one side of one set from ``t``; returns when it ends."""
    dose = ex.dose
    at: dict[str, Any] = dict(exercise=exercise, set=set, side=side)
    if dose.tempo is not None:
        tempo = dose.tempo
        up, hold, down = ex.words
        for rep in range(1, dose.reps + 1):
            cues.append(
                TimedCue(
                    round(t, 3), PHASE, f"{number_words(rep).capitalize()}: {up}.", rep=rep, phase="up", **at
                )
            )
            if tempo.hold_s > 0:
                cues.append(
                    TimedCue(
                        round(t + tempo.up_s, 3), PHASE, f"{hold.capitalize()}.", rep=rep, phase="hold", **at
                    )
                )
            cues.append(
                TimedCue(
                    round(t + tempo.up_s + tempo.hold_s, 3),
                    PHASE,
                    f"{down.capitalize()}.",
                    rep=rep,
                    phase="down",
                    **at,
                )
            )
            t += tempo.rep_s
        return t
    assert dose.hold_s is not None
    hold_s = dose.hold_s
    for rep in range(1, dose.reps + 1):
        cues.append(TimedCue(round(t, 3), HOLD, f"Hold for {duration_words(hold_s)}.", rep=rep, **at))
        calls = math.ceil(hold_s / cfg.hold_call_every_s) - 1
        for c in range(calls, 0, -1):
            left = c * cfg.hold_call_every_s
            if left > cfg.countdown_from:
                text = f"{duration_words(left).capitalize()}."
                cues.append(TimedCue(round(t + hold_s - left, 3), HOLD_COUNT, text, rep=rep, **at))
        if hold_s >= cfg.min_countdown_hold_s:
            for left_n in range(cfg.countdown_from, 0, -1):
                text = COUNTDOWN_WORDS.get(left_n, f"{number_words(left_n).capitalize()}.")
                cues.append(TimedCue(round(t + hold_s - left_n, 3), HOLD_COUNT, text, rep=rep, **at))
        t += hold_s
        cues.append(TimedCue(round(t, 3), HOLD_END, "Relax.", rep=rep, **at))
        if rep < dose.reps:
            t += dose.relax_s
    return t


@dataclass
class ExerciseEngine:
    """Releases the timeline's cues on session time; pause/resume/stop. Pure: call :meth:`step` with the session
    time (seconds since the start); it returns the cues due since the last call, each started at ``now``."""

    timeline: Timeline
    duration_fn: Any = estimate_duration_s
    routine_t: float = 0.0  # routine time reached (stops while paused)
    state_: str = "running"  # running / paused / ended
    end_reason_: str | None = None
    _next: int = 0
    _last_now: float = 0.0
    _records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state_ == "ended"

    def _advance(self, now: float) -> None:
        if self.state_ == "running":
            self.routine_t += max(0.0, now - self._last_now)
        self._last_now = max(self._last_now, now)

    def step(self, now: float) -> list[tuple[Cue, TimedCue]]:
        self._advance(now)
        out: list[tuple[Cue, TimedCue]] = []
        if self.state_ != "running":
            return out
        cues = self.timeline.cues
        while self._next < len(cues) and cues[self._next].t <= self.routine_t + 1e-9:
            timed = cues[self._next]
            out.append((timed.cue(self.duration_fn).started(now), timed))
            self._next += 1
        if self.routine_t >= self.timeline.duration_s - 1e-9 and self._next >= len(cues):
            self._end(now, "completed")
        return out

    def _control(self, now: float, kind: str, **fields: Any) -> tuple[Cue, TimedCue]:
        """The ``control`` record (``action``: pause / resume / stop, as a run's) and the cue that says it."""
        timed = TimedCue(round(self.routine_t, 3), kind, CONTROL_TEXT[kind])
        record = {"t": round(now, 3), "kind": RecordKind.CONTROL, "action": CONTROL_ACTION[kind]}
        self._records.append(record | fields | {"routine_t": round(self.routine_t, 3)})
        return timed.cue(self.duration_fn).started(now), timed

    def pause(self, now: float) -> list[tuple[Cue, TimedCue]]:
        self._advance(now)
        if self.state_ != "running":
            return []
        self.state_ = "paused"
        return [self._control(now, PAUSED)]

    def resume(self, now: float) -> list[tuple[Cue, TimedCue]]:
        self._advance(now)
        if self.state_ != "paused":
            return []
        self.state_ = "running"
        return [self._control(now, RESUMED)]

    def stop(self, now: float, reason: str = "stopped", *, say: bool = True) -> list[tuple[Cue, TimedCue]]:
        self._advance(now)
        if self.state_ == "ended":
            return []
        out = [self._control(now, STOPPED, reason=reason)] if say else []
        self._end(now, reason)
        return out

    def _end(self, now: float, reason: str) -> None:
        self.state_ = "ended"
        self.end_reason_ = reason

    def pop_records(self) -> list[dict[str, Any]]:
        out, self._records = self._records, []
        return out
