"""The session shell: what every coached session does around its engine, written once.

A walk/run (:class:`coach.session.runner.SessionRunner`, ``coach run`` / ``walk`` / ``demo``) and a guided routine
(:class:`coach.session.exercise_runner.ExerciseRunner`, ``coach exercise``) differ in their engine and in how its
timeline moves (on the samples' own times, or on the session clock). Everything around the engine is the same and
lives here:

- :func:`open_session`: the session folder (:class:`coach.store.record.SessionRecord`) and the capture of the
  strap's raw traffic, the :class:`coach.session.clock.SessionClock` (``--speed``), the voice
  (:func:`coach.voice.speaker.make_voice`), the display, the clean stop on Ctrl-C/SIGTERM and the pause keys
  (:mod:`coach.session.controls`), the session's samples (:func:`coach.session.sources.open_samples`), and the
  closing of all of it, also when the session fails before it starts; a full disk becomes one line
  (:func:`storage_error`).
- :class:`SessionShell`: the base of both runners. The controls (pause / resume / stop), the cues the engine
  releases (a ``cue`` record each, then the speaker), the speaker task and its ``speech`` records, the source task,
  the tick loop (display, fsync), and the end: ``session_end``, summary.json and the :class:`RunResult`.

A runner says what is its own through a few methods: :meth:`SessionShell._begin` (the session_start record, the
phrases to pre-render, session time 0), :meth:`SessionShell._tick` (move the engine on), :meth:`SessionShell._snapshot`
(the display), :meth:`SessionShell._end_fields` (its part of session_end) and, where it needs them,
:meth:`SessionShell._take` (a sample) and :meth:`SessionShell._source_failed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Required, TypedDict, TypeVar

from coach.errors import StorageError
from coach.session.clock import SessionClock
from coach.session.controls import (
    StopSwitch,
    install_key_reader,
    install_stop_handler,
    remove_key_reader,
    remove_stop_handler,
)
from coach.session.cues import Cue
from coach.session.tracker import SignalTracker
from coach.store.record import SessionRecord
from coach.vocabulary import RecordKind
from sensors.clock import Clock
from sensors.samples import Sample

if TYPE_CHECKING:
    from coach.session.display import Display
    from coach.voice.speaker import Voice
    from sensors.capture import CaptureWriter
    from sensors.sources.moniker import SensorMoniker

logger = logging.getLogger(__name__)

#: How long (wall seconds) the end of a session waits for the speaker to finish the cue it is saying.
SPEAKER_DRAIN_WALL_S = 30.0
#: Wall seconds between two ticks of a session's loop (at ``--speed`` 1; the loop sleeps ``tick_s`` session
#: seconds times the speed): how often the controls are read, the display drawn and the folder synced.
TICK_S = 0.05
#: OS errors that mean "the session cannot be written" (disk full, quota, read-only, I/O error).
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


class VoiceLike(Protocol):
    """What a runner needs from :class:`coach.voice.speaker.Voice`."""

    @property
    def busy(self) -> bool: ...

    async def prerender(self, texts: Any) -> None: ...

    async def say(
        self, text: str, *, planned_t: float | None = None, kind: str = "", at_s: float | None = None
    ) -> Any: ...

    def tape_only(self, text: str, *, at_s: float | None) -> None: ...

    def interrupt(self) -> None: ...

    async def close(self) -> None: ...


class DisplayLike(Protocol):
    def update(self, snapshot: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


#: What an engine releases: a cue (walk/run) or a cue with the timeline entry it came from (exercise).
Released = TypeVar("Released")
Released_co = TypeVar("Released_co", covariant=True)


class EngineLike(Protocol[Released_co]):
    """What the shell needs from an engine (:class:`coach.session.engine.SessionEngine`,
    :class:`coach.session.exercise.ExerciseEngine`): the controls, its records, and whether it is over."""

    @property
    def done(self) -> bool: ...

    @property
    def end_reason_(self) -> str | None: ...

    def pause(self, now: float, /) -> Sequence[Released_co]: ...

    def resume(self, now: float, /) -> Sequence[Released_co]: ...

    def stop(self, now: float, reason: str = ..., /, *, say: bool = ...) -> Sequence[Released_co]: ...

    def pop_records(self) -> list[dict[str, Any]]: ...


@dataclass
class RunResult:
    session_id: str
    folder: Path
    summary: dict[str, Any]
    end_reason: str
    cues: list[dict[str, Any]]
    wall_duration_s: float
    stopped_by_signal: str | None = None  # "SIGINT" / "SIGTERM": the CLI exits 130 (docs/raspberry-pi.md)


def speech_record(
    cue: Cue, spoken: Any, outcome: str, *, now: float, why: str | None = None
) -> dict[str, Any]:
    """The ``speech`` record of what the speaker did with ``cue`` (docs/formats/events.md): ``played`` (``spoken``
    is the voice's :class:`coach.voice.speaker.SpokenCue`, its start time is the record's), ``skipped`` or
    ``failed`` (at ``now``, session seconds)."""
    rec: dict[str, Any] = {
        "t": round(float(getattr(spoken, "t_start", now)), 3),
        "kind": RecordKind.SPEECH,
        "cue_t": cue.t,
        "type": cue.type,
        "outcome": outcome,
        "backend": getattr(spoken, "backend", None),
    }
    if why is not None:
        rec["why"] = why
    return rec


def is_storage_error(exc: OSError, capture_path: Path) -> bool:
    """Whether ``exc`` means the session cannot be written: a :data:`STORAGE_ERRNOS` error, or any OS error on
    the capture file itself (a strap's connection error is an OS error too, and is not one of these)."""
    return exc.errno in STORAGE_ERRNOS or (
        isinstance(exc.filename, str) and Path(exc.filename) == capture_path
    )


def storage_error(exc: OSError, folder: Path) -> StorageError:
    """The one-line error for a session that could not be written to the end (disk full, I/O error)."""
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    hint = "the disk is full; free some space" if exc.errno == errno.ENOSPC else "check the disk"
    return StorageError(
        f"cannot write the session{where} ({exc.strerror or exc}): {hint}. What was recorded up to then is kept "
        f"in {folder}"
    )


class ShellParts(TypedDict, total=False):
    """The pieces every runner is built with (keyword arguments of :class:`SessionShell` and its runners)."""

    record: Required[SessionRecord]
    voice: Required[VoiceLike]
    clock: Required[SessionClock]
    tracker: SignalTracker | None  # None: a new SignalTracker()
    display: DisplayLike | None
    start_fields: dict[str, Any] | None  # more session_start fields (source, speed, voice, ...)
    tick_s: float  # wall seconds between two ticks of the loop (at --speed 1)
    echo: Callable[[str], None]


class SessionShell(ABC, Generic[Released]):
    """The base of a runner: build it with the pieces, then ``await runner.run()``.

    Subclasses set :attr:`engine` (before :meth:`run`), :attr:`ALWAYS_SPOKEN` and, if some cues may cut advice short,
    :attr:`TIMETABLE`; they implement :meth:`_begin`, :meth:`_tick`, :meth:`_snapshot`, :meth:`_end_fields` and
    :meth:`_cue_fields`.
    ``_now`` is the session time the session has reached: the time of the shell's own records (a sensor error,
    the controls, session_end).
    """

    #: Cue types the speaker says even when it is behind (a newer cue waiting); the others are skipped on the
    #: speaker only (still on the tape at their session time).
    ALWAYS_SPOKEN: ClassVar[frozenset[str]] = frozenset()
    #: Cue types that interrupt a cue of another type still playing (the timetable wins over advice).
    TIMETABLE: ClassVar[frozenset[str]] = frozenset()

    engine: EngineLike[Released]

    def __init__(
        self,
        *,
        samples: AsyncIterator[Sample] | None,
        record: SessionRecord,
        voice: VoiceLike,
        clock: SessionClock,
        tracker: SignalTracker | None = None,
        display: DisplayLike | None = None,
        start_fields: dict[str, Any] | None = None,
        tick_s: float = TICK_S,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.record = record
        self.voice = voice
        self.clock = clock
        self.samples = samples
        self.tracker = tracker or SignalTracker()
        self.display = display
        self.start_fields = start_fields or {}
        self.tick_s = tick_s
        self.echo = echo
        self.source_ended = False
        self.source_error: BaseException | None = None
        self.storage_error: OSError | None = None  # writing the capture failed (disk full): the session stops
        self.stopped_by_signal: str | None = None  # "SIGINT" / "SIGTERM" when a signal ended the session
        self.cue_records: list[dict[str, Any]] = []
        self._now = 0.0
        self._speak_queue: asyncio.Queue[Cue | None] = asyncio.Queue()
        self._waiting = 0  # cues in the speaker's queue
        self._playing = ""  # type of the cue said last
        self._control: list[str] = []
        self._stop_reason = "stopped"

    # -- what a runner says for itself

    @abstractmethod
    async def _begin(self) -> None:
        """Write session_start, pre-render the phrases, start session time 0 (and the engine, if it starts on
        its own)."""
        raise NotImplementedError

    @abstractmethod
    def _tick(self) -> None:
        """One tick of the loop: apply the controls and move the engine on (releasing what it says)."""
        raise NotImplementedError

    @abstractmethod
    def _snapshot(self) -> dict[str, Any]:
        """The display state (field names of :class:`coach.session.display.DisplayState`)."""
        raise NotImplementedError

    @abstractmethod
    def _end_fields(self) -> dict[str, Any]:
        """The runner's own fields of the session_end record (how far its timeline got)."""
        raise NotImplementedError

    @abstractmethod
    def _cue_fields(self, released: Released) -> tuple[Cue, Mapping[str, Any]]:
        """The cue in what the engine released, and the extra fields of its ``cue`` record."""
        raise NotImplementedError

    def _take(self, sample: Sample) -> None:
        """A sample from the source, in the order it came."""
        self.tracker.feed(sample)

    def _source_failed(self, exc: Exception) -> None:
        """The source raised. The capture could not be written (:func:`is_storage_error`: disk full): the session
        stops at once, what is recorded stays, and :meth:`run` raises the one-line :func:`storage_error`. Anything
        else (the strap's trouble): the session goes on, the sensor is "lost" from now on."""
        if isinstance(exc, OSError) and is_storage_error(exc, self.record.capture_path):
            self.storage_error = exc
            self.stop("storage_error")
            return
        logger.warning("sensor source failed: %s", exc)
        self.source_error = exc
        self.record.write(
            {"t": round(self._now, 3), "kind": RecordKind.SENSOR, "state": "error", "reason": str(exc)}
        )

    # -- control (from the CLI: keys, signals)

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
        """The controls asked for since the last tick, in order, at session time ``now``; writes the records waiting
        (every tick, also without a control), then the controls' cues."""
        released: list[Released] = []
        while self._control:
            action = self._control.pop(0)
            if action == "pause":
                released += self.engine.pause(now)
            elif action == "resume":
                released += self.engine.resume(now)
            elif action == "stop":
                released += self.engine.stop(now, self._stop_reason)
        self._release(released)

    # -- what the engine decided

    def _release(self, released: Iterable[Released]) -> None:
        """Write what the engine decided (records, then each cue at its session time) and hand the cues to the
        speaker."""
        self._flush_records()
        for item in released:
            cue, fields = self._cue_fields(item)
            rec = cue.as_record(t=cue.t, wall_t=round((cue.t or 0.0) / self.clock.speed, 3), **fields)
            self.cue_records.append(rec)
            self.record.write(rec)
            self._say(cue)

    def _flush_records(self) -> None:
        for rec in self.tracker.pop_records():
            self.record.write(rec)
        for rec in self.engine.pop_records():
            self.record.write(rec)

    def _say(self, cue: Cue) -> None:
        self._waiting += 1
        self._speak_queue.put_nowait(cue)

    # -- tasks

    async def _read_source(self) -> None:
        assert self.samples is not None
        try:
            async for sample in self.samples:
                self._take(sample)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._source_failed(exc)
        finally:
            self.source_ended = True

    async def _speaker(self) -> None:
        """Say the released cues on the wall clock. Behind (a fast rehearsal, a slow engine): a cue with a newer one
        already waiting is skipped on the speaker unless it is :attr:`ALWAYS_SPOKEN`; it is still on the tape at its
        session time."""
        while True:
            cue = await self._speak_queue.get()
            if cue is None:
                return
            self._waiting -= 1
            if self._waiting > 0 and cue.type not in self.ALWAYS_SPOKEN:
                self._speech_record(cue, None, "skipped", why="a newer cue was due")
                with contextlib.suppress(Exception):
                    self.voice.tape_only(cue.text, at_s=cue.t)
                continue
            advice_playing = bool(self._playing) and self._playing not in self.TIMETABLE
            if cue.type in self.TIMETABLE and advice_playing and self.voice.busy:
                self.voice.interrupt()  # the timetable wins over advice still playing (longer than planned)
            self._playing = cue.type
            try:
                spoken = await self.voice.say(cue.text, planned_t=cue.planned_t, kind=cue.type, at_s=cue.t)
                self._speech_record(cue, spoken, "played")
            except Exception as exc:
                logger.warning("could not say %r: %s", cue.text, exc)
                self._speech_record(cue, None, "failed", why=str(exc))

    def _speech_record(self, cue: Cue, spoken: Any, outcome: str, *, why: str | None = None) -> None:
        self.record.write(speech_record(cue, spoken, outcome, now=self.clock.now(), why=why))

    # -- the session

    async def run(self) -> RunResult:
        record = self.record
        await self._begin()
        reader = (
            asyncio.create_task(self._read_source(), name="coach-source")
            if self.samples is not None
            else None
        )
        speaker = asyncio.create_task(self._speaker(), name="coach-speaker")
        end_reason = "completed"
        wall0 = time.monotonic()
        try:
            while True:
                self._tick()
                if self.display is not None:
                    self.display.update(self._snapshot())
                record.tick()
                if self.engine.done and self._speak_queue.empty():
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
            self._speak_queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(speaker, SPEAKER_DRAIN_WALL_S)
            if end_reason == "interrupted":  # an engine that has ended already ignores this
                self.engine.stop(self._now, "interrupted", say=False)
            self._flush_records()
            with contextlib.suppress(Exception):
                await self.voice.close()
            now = self._now
            record.write(
                {
                    "t": round(now, 3),
                    "kind": RecordKind.SESSION_END,
                    "reason": self.engine.end_reason_ or end_reason,
                    "ended_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "duration_s": round(now, 3),
                    **self._end_fields(),
                    "wall_duration_s": round(time.monotonic() - wall0, 3),
                    **({"signal": self.stopped_by_signal} if self.stopped_by_signal else {}),
                }
            )
            summary = record.close(complete=True)
            if self.display is not None:
                with contextlib.suppress(Exception):
                    self.display.close()
        if self.storage_error is not None:
            raise storage_error(self.storage_error, record.folder)
        return RunResult(
            session_id=record.session_id,
            folder=record.folder,
            summary=summary,
            end_reason=self.engine.end_reason_ or end_reason,
            cues=self.cue_records,
            wall_duration_s=round(time.monotonic() - wall0, 3),
            stopped_by_signal=self.stopped_by_signal,
        )


# ----------------------------------------------------------------------------------------------- opening, closing


class ShellOptions(Protocol):
    """What :func:`open_session` reads of a command's options (:class:`coach.session.runner.SessionOptions`,
    :class:`coach.session.exercise_runner.ExerciseOptions`)."""

    @property
    def sensor(self) -> str | None: ...

    @property
    def speed(self) -> float: ...

    @property
    def voice(self) -> str: ...

    @property
    def audio_out(self) -> Path | None: ...

    @property
    def data_dir(self) -> Path | None: ...

    @property
    def display(self) -> bool: ...

    @property
    def keys(self) -> bool: ...

    @property
    def echo(self) -> Callable[[str], None]: ...

    @property
    def start_fields(self) -> dict[str, Any] | None: ...


@dataclass
class OpenSession:
    """The pieces :func:`open_session` opened, for the runner to be built with (:meth:`parts`)."""

    opts: ShellOptions
    clock: SessionClock
    record: SessionRecord
    voice: Voice
    display: Display | None
    echo: Callable[[str], None]
    moniker: SensorMoniker | None
    capture: CaptureWriter | None
    switch: StopSwitch = field(default_factory=StopSwitch)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    keys_installed: bool = False

    async def open_samples(
        self, *, loop: bool = False, pair: bool = True
    ) -> tuple[AsyncIterator[Sample] | None, dict[str, Any]]:
        """The session's samples and their description for session_start (``source``: the moniker; None without
        a strap, then only ``source``: what ``--sensor`` said, if anything); the samples close with the session.
        ``pair=False`` (``--no-pair``) forbids a live strap's client to pair."""
        from coach.session.sources import open_samples

        if self.moniker is None or self.capture is None:  # the strap is optional (coach exercise)
            return None, {"source": self.opts.sensor}
        return await self.stack.enter_async_context(
            open_samples(self.moniker, capture=self.capture, clock=self.clock, loop=loop, pair=pair)
        )

    def parts(self, described: dict[str, Any], **fields: Any) -> ShellParts:
        """The shell's pieces for a runner. Its session_start fields: ``described`` (where the samples come from),
        the speed, the runner's own ``fields``, the voice, then the command's ``start_fields`` (which win)."""
        return ShellParts(
            record=self.record,
            voice=self.voice,
            clock=self.clock,
            display=self.display,
            echo=self.echo,
            start_fields={
                **described,
                "speed": self.opts.speed,
                **fields,
                "voice": self.opts.voice,
                "voice_backend": getattr(self.voice, "backend_name", None),
                **(self.opts.start_fields or {}),
            },
        )

    async def run(self, runner: SessionShell[Any]) -> RunResult:
        """Hand the controls (a stop signal that came already, the pause keys) to ``runner`` and run it."""
        self.switch.attach(runner)
        self.keys_installed = install_key_reader(runner, self.echo) if self.opts.keys else False
        return await runner.run()


@asynccontextmanager
async def open_session(
    opts: ShellOptions, *, wall: Clock, moniker: SensorMoniker | None
) -> AsyncIterator[OpenSession]:
    """Open the session folder, the capture (with a strap), the voice and the display on one session clock over
    ``wall``; from here on Ctrl-C (SIGINT) and SIGTERM end the session cleanly (the folder and summary are written,
    :attr:`RunResult.stopped_by_signal` names the signal, the CLI exits 130; a second Ctrl-C interrupts at once).

    On the way out everything is closed; a session that never started (a strap not found) leaves no folder, or an
    incomplete one if something was written; a full disk is one line (:func:`storage_error`). ``moniker`` is checked
    by the caller, before anything is opened."""
    from coach.session.display import Display
    from coach.store.record import resolve_data_dir
    from coach.voice.speaker import make_voice
    from sensors.capture import CaptureWriter

    data_dir = resolve_data_dir(opts.data_dir)
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
    session = OpenSession(opts, clock, record, voice, display, echo, moniker, capture)
    install_stop_handler(session.switch)
    try:
        async with session.stack:
            yield session
    except OSError as exc:  # disk full or an I/O error while recording: one line, what is written stays
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, record.folder) from None
        raise
    finally:
        remove_stop_handler()
        if session.keys_installed:
            remove_key_reader()
        if capture is not None:
            try:
                capture.close()
            except OSError as exc:
                logger.debug("closing %s: %s", record.capture_path, exc)
        if display is not None:
            display.close()
        if not record.closed:  # failed before the session started (strap not found), or disk full
            with contextlib.suppress(Exception):
                await voice.close()
            with contextlib.suppress(OSError, StorageError):
                if record.records:
                    record.close(complete=False)
                else:
                    record.discard()
