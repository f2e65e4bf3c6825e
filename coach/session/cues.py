"""What the coach says: the cue type, its words, its priority and how long it takes to say.

Pure. Every fixed phrase of a session can be listed before it starts (:func:`session_phrases`), so the voice can
render them all up front and an interval change is heard at once (issue 5, "render every fixed phrase").
The cue types and priorities are part of the events format (docs/formats/events.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from coach.plan.programme import PlannedInterval, SessionPlan

# Cue types. Priority 1 is the highest; interval changes are 1 and always win.
HEADS_UP = "heads_up"
COUNTDOWN = "countdown"
CHANGE = "change"
HALFWAY = "halfway"
SESSION_END = "session_end"
PROMPT_RUN = "prompt_run"
PROMPT_WALK = "prompt_walk"
HR_HIGH = "hr_high"
CADENCE = "cadence"
SENSOR_LOST = "sensor_lost"
SENSOR_BACK = "sensor_back"
PAUSED = "paused"
RESUMED = "resumed"
STOPPED = "stopped"

PRIORITY: dict[str, int] = {
    HEADS_UP: 1,
    COUNTDOWN: 1,
    CHANGE: 1,
    SESSION_END: 1,
    PAUSED: 1,
    RESUMED: 1,
    STOPPED: 1,
    PROMPT_RUN: 2,
    PROMPT_WALK: 2,
    HR_HIGH: 2,
    SENSOR_LOST: 2,
    HALFWAY: 3,
    SENSOR_BACK: 3,
    CADENCE: 4,
}
#: Cue types that belong to the plan's timetable (the engine protects them from advice).
TIMETABLE = frozenset({HEADS_UP, COUNTDOWN, CHANGE, SESSION_END})
#: Cue types the speaker never skips when it falls behind (a fast rehearsal): the changes and session control.
ALWAYS_SPOKEN = frozenset({CHANGE, SESSION_END, PAUSED, RESUMED, STOPPED})

FIXED_TEXT: dict[str, str] = {
    HALFWAY: "Halfway there.",
    SESSION_END: "That's the session done. Well done.",
    PROMPT_RUN: "Time to jog now, nice and easy.",
    PROMPT_WALK: "Ease back to a walk.",
    HR_HIGH: "Heart rate is high. Slow down a little.",
    CADENCE: "Quicker, lighter steps.",
    SENSOR_LOST: "Sensor signal lost. Keep following the plan.",
    SENSOR_BACK: "Sensor back.",
    PAUSED: "Paused.",
    RESUMED: "Resuming.",
    STOPPED: "Session stopped.",
}
COUNTDOWN_TEXT = {3: "Three.", 2: "Two.", 1: "One."}

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


@dataclass(frozen=True)
class Cue:
    """One thing to say. Times are session seconds; ``duration_s`` is the expected speaking time (wall seconds)."""

    type: str
    text: str
    priority: int
    planned_t: float
    interval_index: int | None = None
    duration_s: float = 1.0
    t: float | None = None  # when it started (set when the engine releases it)

    def started(self, t: float) -> Cue:
        return replace(self, t=t)

    def as_record(self, t: float | None = None, **extra: Any) -> dict[str, Any]:
        """The ``cue`` record of events.jsonl (docs/formats/events.md)."""
        start = self.t if t is None else t
        record: dict[str, Any] = {
            "t": round(start if start is not None else self.planned_t, 3),
            "kind": "cue",
            "planned_t": round(self.planned_t, 3),
            "type": self.type,
            "text": self.text,
            "priority": self.priority,
            "interval_index": self.interval_index,
            "duration_s": round(self.duration_s, 2),
        }
        record.update(extra)
        return record


def number_words(n: int) -> str:
    """0..999 in words: ``45`` -> ``"forty-five"``."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    return str(n)


def duration_words(seconds: float) -> str:
    """``60`` -> ``"one minute"``, ``90`` -> ``"one and a half minutes"``, ``45`` -> ``"forty-five seconds"``,
    ``75`` -> ``"one minute fifteen"``, ``1800`` -> ``"thirty minutes"``."""
    total = round(seconds)
    if total < 60:
        return f"{number_words(total)} second" + ("" if total == 1 else "s")
    minutes, secs = divmod(total, 60)
    if secs == 0:
        return f"{number_words(minutes)} minute" + ("" if minutes == 1 else "s")
    if secs == 30:
        return f"{number_words(minutes)} and a half minutes"
    return f"{number_words(minutes)} minute" + ("" if minutes == 1 else "s") + f" {number_words(secs)}"


#: The spoken verb of the labelled parts of a walk (``coach walk``: an easy start, the brisk part).
WALK_LABELS: dict[str, str] = {"easy start": "Easy walk", "brisk": "Brisk walk"}


def _verb(interval: PlannedInterval) -> str:
    if interval.activity == "run":
        return "Run"
    if interval.label == "warm-up":
        return "Warm-up: brisk walk"
    if interval.label == "cool-down":
        return "Cool-down: walk"
    if interval.label in WALK_LABELS:  # coach walk's parts (coach.plan.moving.walk_plan)
        return WALK_LABELS[interval.label]
    return "Walk"


def is_last_repeat(interval: PlannedInterval) -> bool:
    """The last run of a repeated set (its change cue carries the last-repeat note)."""
    return bool(interval.repeats) and interval.repeat == interval.repeats and interval.activity == "run"


def change_text(interval: PlannedInterval) -> str:
    """``"Run for one minute."`` / ``"Walk for four minutes."`` / ``"Warm-up: brisk walk for five minutes."``;
    the last run of a repeated set starts with the last-repeat note: ``"Last run. Run for one minute."``"""
    text = f"{_verb(interval)} for {duration_words(interval.duration_s)}."
    return f"Last run. {text}" if is_last_repeat(interval) else text


def heads_up_text(next_interval: PlannedInterval | None, lead_s: float) -> str:
    """``"Run in 10 seconds."``; before the end of the session ``"Ten seconds to go."``"""
    lead = number_words(round(lead_s))
    if next_interval is None:
        return f"{lead.capitalize()} seconds to go."
    if next_interval.activity == "run":
        what = "Run"
    elif next_interval.label == "cool-down":
        what = "Cool-down"
    elif next_interval.label in WALK_LABELS:
        what = WALK_LABELS[next_interval.label]
    else:
        what = "Walk"
    return f"{what} in {lead} seconds."


def estimate_duration_s(text: str, chars_per_s: float = 14.0) -> float:
    """Expected speaking time of ``text`` in seconds, from its length.

    Measured with espeak-ng at 170 words/min (the voice's default rate): 13.2-15.2 characters a second over the
    cue texts ("Run for one minute." 1.33 s, "Warm-up: brisk walk for one and a half minutes." 3.17 s). 14/s plus
    0.2 s errs on the long side, so cues planned with it do not overlap.
    """
    return round(0.2 + len(text.strip()) / chars_per_s, 2)


def session_phrases(plan: SessionPlan, *, heads_up_s: float = 10.0, countdown: bool = False) -> list[str]:
    """Every text the engine can say in this session, fixed before it starts (for pre-rendering)."""
    phrases: list[str] = []
    intervals = plan.intervals
    for i, interval in enumerate(intervals):
        phrases.append(change_text(interval))
        nxt = intervals[i + 1] if i + 1 < len(intervals) else None
        if heads_up_s > 0:
            phrases.append(heads_up_text(nxt, heads_up_s))
    if countdown:
        phrases.extend(COUNTDOWN_TEXT.values())
    phrases.extend(FIXED_TEXT.values())
    seen: set[str] = set()
    unique = []
    for phrase in phrases:
        if phrase not in seen:
            seen.add(phrase)
            unique.append(phrase)
    return unique
