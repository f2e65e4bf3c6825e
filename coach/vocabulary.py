"""The coach's shared words: detected gait modes and the record kinds of events.jsonl.

One home for names that the signal pipeline, the engine, the session record, the report and the display all use.
Each is a ``StrEnum``: a member *is* its string (``Mode.RUN == "run"``), so it serialises as that string in
events.jsonl and summary.json, and code that still compares with plain strings keeps working.

Sensor events (``connected``, ``disconnected``, ``pmd_started`` ...) are named in :mod:`sensors.events`; planned
activities (walk / run) in :mod:`coach.plan.programme`. This module imports nothing from the project, so every layer,
the pure core included, can use it.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """What the signal pipeline detects each second (docs/signal.md)."""

    WALK = "walk"
    RUN = "run"
    STILL = "still"
    #: No decision: no signal, too little of it, or the sensor is lost.
    UNKNOWN = "unknown"


#: Every mode, in the order reports and tallies list them.
MODES: tuple[Mode, ...] = tuple(Mode)


def as_mode(value: object) -> Mode:
    """``value`` as a :class:`Mode`; anything that is not one (None, a misspelt or newer name) is ``UNKNOWN``."""
    return Mode(value) if isinstance(value, str) and value in MODES else Mode.UNKNOWN


class RecordKind(StrEnum):
    """The ``kind`` of an events.jsonl record (docs/formats/events.md); readers ignore kinds they do not know."""

    SESSION_START = "session_start"
    INTERVAL_START = "interval_start"
    INTERVAL_END = "interval_end"
    CUE = "cue"
    #: What the speaker did with a cue (played, skipped because it fell behind, failed): docs/formats/events.md.
    SPEECH = "speech"
    COMPLY = "comply"
    GAIT = "gait"
    MODE = "mode"
    SENSOR = "sensor"
    BASELINE = "baseline"
    CONTROL = "control"
    SESSION_END = "session_end"


class SessionActivity(StrEnum):
    """What a session is, in the ``activity`` field of its session_start record (docs/formats/events.md) and of the
    report and the history: a coached walk/run (the default when the field is absent), a walk (``coach walk``, or
    an import that was one: :func:`coach.report.model.session_activity_kind`) or a guided exercise routine
    (``coach exercise``)."""

    RUN = "run"
    WALK = "walk"
    EXERCISE = "exercise"
