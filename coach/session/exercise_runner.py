"""The guided exercise session, wired: routine timeline -> voice / display -> session folder, strap optional.

The run machinery reused as it is: the :class:`coach.session.clock.SessionClock` (``--speed``), the voice
(:func:`coach.voice.speaker.make_voice`, ``--voice``, ``--audio-out``), the display, the pause keys and the clean
stop on Ctrl-C/SIGTERM (:mod:`coach.session.controls`), the session folder (:class:`coach.store.record.SessionRecord`)
and, with ``--sensor``, the session's samples (:func:`coach.session.sources.open_samples`) through the
:class:`coach.session.tracker.SignalTracker`, which writes heart rate into events.jsonl as in a run (no trunk-motion
features: the gait records are what the tracker writes, nothing is judged on them).

Unlike a run, nothing is decided from the signal, so the exercise engine is stepped on the session clock itself:
every tick, :meth:`coach.session.exercise.ExerciseEngine.step` gets ``clock.now()``. A rehearsal (``--speed``) makes
the same cues at the same session times; only the speaker may fall behind (it then skips the counting cues, never a
set, a side switch, a rest or the end: :data:`coach.session.exercise.ALWAYS_SPOKEN`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coach.plan.routine import Routine
from coach.session import exercise as X
from coach.session.clock import SessionClock
from coach.session.controls import (
    StopSwitch,
    install_key_reader,
    install_stop_handler,
    remove_key_reader,
    remove_stop_handler,
)
from coach.session.cues import Cue
from coach.session.exercise import ExerciseConfig, ExerciseEngine, TimedCue, Timeline, timeline
from coach.session.runner import (
    STORAGE_ERRNOS,
    DisplayLike,
    RunResult,
    VoiceLike,
    speech_record,
    storage_error,
)
from coach.session.tracker import SignalTracker
from coach.store.record import SessionRecord
from coach.vocabulary import RecordKind, SessionActivity
from sensors.clock import Clock, MonotonicClock
from sensors.samples import Sample

logger = logging.getLogger(__name__)

#: What an exercise session is in its session_start record and in the history (docs/formats/events.md).
ACTIVITY = SessionActivity.EXERCISE


class ExerciseRunner:
    """Runs one routine; build it with the pieces, then ``await runner.run()``."""

    def __init__(
        self,
        tl: Timeline,
        *,
        record: SessionRecord,
        voice: VoiceLike,
        clock: SessionClock,
        samples: AsyncIterator[Sample] | None = None,
        tracker: SignalTracker | None = None,
        display: DisplayLike | None = None,
        start_fields: dict[str, Any] | None = None,
        tick_s: float = 0.05,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.timeline = tl
        self.engine = ExerciseEngine(tl)
        self.record = record
        self.voice = voice
        self.clock = clock
        self.samples = samples
        self.tracker = tracker or SignalTracker()
        self.display = display
        self.start_fields = start_fields or {}
        self.tick_s = tick_s
        self.echo = echo
        self.cue_records: list[dict[str, Any]] = []
        self.stopped_by_signal: str | None = None
        self._control: list[str] = []
        self._stop_reason = "stopped"
        self._queue: asyncio.Queue[Cue | None] = asyncio.Queue()
        self._waiting = 0
        self._now = 0.0

    # -- control (keys, signals)

    def pause(self) -> None:
        self._control.append("pause")

    def resume(self) -> None:
        self._control.append("resume")

    def stop(self, reason: str = "stopped", *, signal_name: str | None = None) -> None:
        self._stop_reason = reason
        if signal_name is not None and self.stopped_by_signal is None:
            self.stopped_by_signal = signal_name
        self._control.append("stop")

    def _apply_controls(self, now: float) -> None:
        while self._control:
            action = self._control.pop(0)
            if action == "pause":
                self._release(self.engine.pause(now))
            elif action == "resume":
                self._release(self.engine.resume(now))
            else:
                self._release(self.engine.stop(now, self._stop_reason))

    def _release(self, cues: list[tuple[Cue, TimedCue]]) -> None:
        self._flush()
        for cue, timed in cues:
            rec = cue.as_record(t=cue.t, wall_t=round((cue.t or 0.0) / self.clock.speed, 3), **timed.fields())
            self.cue_records.append(rec)
            self.record.write(rec)
            self._waiting += 1
            self._queue.put_nowait(cue)

    def _flush(self) -> None:
        for rec in self.tracker.pop_records():
            self.record.write(rec)
        for rec in self.engine.pop_records():
            self.record.write(rec)

    # -- tasks

    async def _read_source(self) -> None:
        assert self.samples is not None
        try:
            async for sample in self.samples:
                self.tracker.feed(sample)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the routine goes on without the strap
            logger.warning("sensor source failed: %s", exc)
            self.record.write(
                {"t": round(self._now, 3), "kind": RecordKind.SENSOR, "state": "error", "reason": str(exc)}
            )

    async def _speaker(self) -> None:
        """Say the released cues; behind (a fast rehearsal), skip a counting cue that has a newer one waiting (it
        still goes on the tape at its session time)."""
        while True:
            cue = await self._queue.get()
            if cue is None:
                return
            self._waiting -= 1
            if self._waiting > 0 and cue.type not in X.ALWAYS_SPOKEN:
                self._speech(cue, None, "skipped", why="a newer cue was due")
                with contextlib.suppress(Exception):
                    self.voice.tape_only(cue.text, at_s=cue.t)
                continue
            try:
                spoken = await self.voice.say(cue.text, planned_t=cue.planned_t, kind=cue.type, at_s=cue.t)
                self._speech(cue, spoken, "played")
            except Exception as exc:
                logger.warning("could not say %r: %s", cue.text, exc)
                self._speech(cue, None, "failed", why=str(exc))

    def _speech(self, cue: Cue, spoken: Any, outcome: str, *, why: str | None = None) -> None:
        self.record.write(speech_record(cue, spoken, outcome, now=self.clock.now(), why=why))

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

    async def run(self) -> RunResult:
        tl, record = self.timeline, self.record
        routine = tl.routine
        record.start(
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
        reader = asyncio.create_task(self._read_source()) if self.samples is not None else None
        speaker = asyncio.create_task(self._speaker(), name="coach-speaker")
        end_reason = "completed"
        wall0 = time.monotonic()
        try:
            while True:
                self._now = now = self.clock.now()
                self._apply_controls(now)
                if self.samples is not None:
                    self.tracker.state(now)  # sensor lost / back records
                self._release(self.engine.step(now))
                if self.display is not None:
                    self.display.update(self._snapshot())
                record.tick()
                if self.engine.done and self._queue.empty():
                    break
                await self.clock.sleep(self.tick_s * self.clock.speed)
            end_reason = self.engine.end_reason_ or "completed"
        except asyncio.CancelledError:
            end_reason = "interrupted"
            raise
        finally:
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(speaker, 30.0)
            if end_reason == "interrupted":
                self.engine.stop(self._now, "interrupted", say=False)
            self._flush()
            with contextlib.suppress(Exception):
                await self.voice.close()
            record.write(
                {
                    "t": round(self._now, 3),
                    "kind": RecordKind.SESSION_END,
                    "reason": self.engine.end_reason_ or end_reason,
                    "ended_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "duration_s": round(self._now, 3),
                    "routine_t": round(self.engine.routine_t, 3),
                    "wall_duration_s": round(time.monotonic() - wall0, 3),
                    **({"signal": self.stopped_by_signal} if self.stopped_by_signal else {}),
                }
            )
            summary = record.close(complete=True)
            if self.display is not None:
                with contextlib.suppress(Exception):
                    self.display.close()
        return RunResult(
            session_id=record.session_id,
            folder=record.folder,
            summary=summary,
            end_reason=self.engine.end_reason_ or end_reason,
            cues=self.cue_records,
            wall_duration_s=round(time.monotonic() - wall0, 3),
            stopped_by_signal=self.stopped_by_signal,
        )


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
    from coach.session.display import Display
    from coach.session.sources import open_samples
    from coach.store.record import resolve_data_dir
    from coach.voice.speaker import make_voice
    from sensors.capture import CaptureWriter
    from sensors.sources.moniker import check_sensor

    tl = timeline(opts.routine, opts.config)
    moniker = (
        check_sensor(opts.sensor) if opts.sensor else None
    )  # a bad moniker fails before a folder is made
    data_dir = resolve_data_dir(opts.data_dir)
    wall = opts.clock or MonotonicClock()
    clock = SessionClock(wall, opts.speed)
    record = SessionRecord(data_dir, wall_clock=wall.now)
    capture = (
        CaptureWriter(record.capture_path, source=opts.sensor, clock=wall)
        if opts.sensor is not None
        else None
    )
    display = Display() if opts.display else None
    echo = display.message if display is not None else opts.echo
    voice = make_voice(
        opts.voice,  # type: ignore[arg-type]
        cache_dir=data_dir / "voice-cache",
        audio_out=opts.audio_out,
        clock=clock,
        echo=echo,
    )
    switch = StopSwitch()
    install_stop_handler(switch)
    keys = False
    try:
        async with AsyncExitStack() as stack:
            samples: AsyncIterator[Sample] | None = None
            described: dict[str, Any] = {}
            if moniker is not None and capture is not None:  # the strap is optional
                samples, described = await stack.enter_async_context(
                    open_samples(moniker, capture=capture, clock=clock, loop=False)
                )
            runner = ExerciseRunner(
                tl,
                record=record,
                voice=voice,
                clock=clock,
                samples=samples,
                display=display,
                start_fields={
                    "source": opts.sensor,
                    **described,
                    "speed": opts.speed,
                    "voice": opts.voice,
                    "voice_backend": getattr(voice, "backend_name", None),
                    **(opts.start_fields or {}),
                },
                echo=echo,
            )
            switch.attach(runner)
            keys = install_key_reader(runner, echo) if opts.keys else False
            return await runner.run()
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, record.folder) from None
        raise
    finally:
        remove_stop_handler()
        if keys:
            remove_key_reader()
        if capture is not None:
            with contextlib.suppress(OSError):
                capture.close()
        if display is not None:
            display.close()
        if not record.closed:
            with contextlib.suppress(Exception):
                await voice.close()
            with contextlib.suppress(OSError):
                if record.records:
                    record.close(complete=False)
                else:
                    record.discard()
