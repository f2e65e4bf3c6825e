"""The guided exercise session, wired: routine timeline -> voice / display -> session folder, strap optional.

What every session does around its engine is :mod:`coach.session.shell`'s, as for a run: the
:class:`coach.session.clock.SessionClock` (``--speed``), the voice (:func:`coach.voice.speaker.make_voice`,
``--voice``, ``--audio-out``), the display, the pause keys and the clean stop on Ctrl-C/SIGTERM
(:mod:`coach.session.controls`), the session folder (:class:`coach.store.record.SessionRecord`) and, with
``--sensor``, the session's samples (:func:`coach.session.sources.open_samples`) through the
:class:`coach.session.tracker.SignalTracker`, which writes heart rate into events.jsonl as in a run (no trunk-motion
features: the gait records are what the tracker writes, nothing is judged on them). This module keeps the routine
specifics: the timeline, the engine that releases it, the session_start and display fields of a routine.

Unlike a run, nothing is decided from the signal, so the exercise engine is stepped on the session clock itself:
every tick, :meth:`coach.session.exercise.ExerciseEngine.step` gets ``clock.now()``. A rehearsal (``--speed``) makes
the same cues at the same session times; only the speaker may fall behind (it then skips the counting cues, never a
set, a side switch, a rest or the end: :data:`coach.session.exercise.ALWAYS_SPOKEN`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from coach.plan.routine import Routine
from coach.session import exercise as X
from coach.session.cues import Cue
from coach.session.exercise import ExerciseConfig, ExerciseEngine, TimedCue, Timeline, timeline
from coach.session.shell import RunResult, SessionShell, ShellParts, open_session
from coach.vocabulary import SessionActivity
from sensors.clock import Clock, MonotonicClock
from sensors.samples import Sample

logger = logging.getLogger(__name__)

#: What an exercise session is in its session_start record and in the history (docs/formats/events.md).
ACTIVITY = SessionActivity.EXERCISE


class ExerciseRunner(SessionShell[tuple[Cue, TimedCue]]):
    """Runs one routine; build it with the pieces, then ``await runner.run()``."""

    ALWAYS_SPOKEN = X.ALWAYS_SPOKEN

    def __init__(
        self,
        tl: Timeline,
        *,
        samples: AsyncIterator[Sample] | None = None,
        **parts: Unpack[ShellParts],
    ) -> None:
        super().__init__(samples=samples, **parts)
        self.timeline = tl
        self.engine: ExerciseEngine = ExerciseEngine(tl)

    def _cue_fields(self, released: tuple[Cue, TimedCue]) -> tuple[Cue, Mapping[str, Any]]:
        cue, timed = released
        return cue, timed.fields()

    def _snapshot(self) -> dict[str, Any]:
        """The display state (field names of :class:`coach.session.display.DisplayState`)."""
        eng = self.engine
        block = self.timeline.block_at(eng.routine_t)
        state = self.tracker.state(self._now) if self.samples is not None else None
        return {
            "interval_name": block.name if block is not None else "Done",
            "interval_index": block.exercise if block is not None else None,
            "interval_count": len(self.timeline.routine.exercises),
            "time_left_s": max(0.0, block.end_s - eng.routine_t) if block is not None else 0.0,
            "next_interval": block.next_name if block is not None else "end",
            "hr_bpm": round(state.hr_bpm) if state is not None and state.hr_bpm is not None else None,
            "sensor": state.sensor if state is not None else "none",
            "battery_percent": self.tracker.battery_percent,
            "elapsed_s": self._now,
            "last_cue": self.cue_records[-1]["text"] if self.cue_records else None,
            "paused": eng.state_ == "paused",
        }

    async def _begin(self) -> None:
        tl = self.timeline
        routine = tl.routine
        self.record.start(
            activity=ACTIVITY,
            programme=None,
            stage=None,
            routine=routine.name,
            routine_title=routine.title,
            **routine.source_fields(),
            plan=[],
            exercises=[
                {
                    "index": i,
                    "name": ex.name,
                    "dose": ex.dose.describe(),
                    "sets": ex.dose.sets,
                    "reps": ex.dose.reps,
                    "tempo": str(ex.dose.tempo) if ex.dose.tempo is not None else None,
                    "hold_s": ex.dose.hold_s,
                    "sides": ex.sides,
                }
                for i, ex in enumerate(routine.exercises)
            ],
            planned_duration_s=tl.duration_s,
            **self.start_fields,
        )
        await self.voice.prerender(tl.phrases())
        self.clock.restart()

    def _tick(self) -> None:
        self._now = now = self.clock.now()
        self._apply_controls(now)
        if self.samples is not None:
            self.tracker.state(now)  # sensor lost / back records
        self._release(self.engine.step(now))

    def _end_fields(self) -> dict[str, Any]:
        return {"routine_t": round(self.engine.routine_t, 3)}


@dataclass
class ExerciseOptions:
    """What ``coach exercise`` asks for."""

    routine: Routine
    sensor: str | None = None
    speed: float = 1.0
    voice: str = "tts"
    audio_out: Path | None = None
    data_dir: Path | None = None
    config: ExerciseConfig | None = None
    display: bool = True
    keys: bool = True
    echo: Callable[[str], None] = print
    clock: Clock | None = None  # the wall clock (tests pass a fake one); None = the real one
    start_fields: dict[str, Any] | None = None  # more session_start fields (the dose notch)


async def run_exercise(opts: ExerciseOptions) -> RunResult:
    """Open the session folder, the voice, the strap (if any) and the display; run the routine; close everything.
    Ctrl-C and SIGTERM end it cleanly (folder written, exit 130), as a run."""
    from sensors.sources.moniker import check_sensor

    tl = timeline(opts.routine, opts.config)
    # a bad moniker fails before a folder is made
    moniker = check_sensor(opts.sensor) if opts.sensor else None
    async with open_session(opts, wall=opts.clock or MonotonicClock(), moniker=moniker) as session:
        samples, described = await session.open_samples(loop=False)
        runner = ExerciseRunner(tl, samples=samples, **session.parts(described))
        return await session.run(runner)
