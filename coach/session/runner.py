"""The coached session, wired: sensor source -> signal -> engine -> voice / display -> session folder.

One asyncio task reads samples (live strap, virtual strap or replay; :func:`open_samples`) into the
:class:`coach.session.tracker.SignalTracker` and steps the :class:`coach.session.engine.SessionEngine` on the samples' own session
times (see :class:`SessionRunner`, "one session clock"); a speaker task says the cues on the wall clock (so a slow
speech engine never stalls the signal or the timetable); everything that happens is written to the session folder
(:class:`coach.store.record.SessionRecord`, docs/formats/events.md).

Time: *session seconds* run ``speed`` times faster than the wall clock (``--speed``); sample times of a replay are
in the same session seconds. The voice and the display work with the same :class:`SessionClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from coach.errors import StorageError
from coach.plan.programme import SessionPlan
from coach.session import cues as C
from coach.session.adherence import live_status
from coach.session.clock import SessionClock
from coach.session.controls import (
    StopSwitch,
    install_key_reader,
    install_stop_handler,
    remove_key_reader,
    remove_stop_handler,
)
from coach.session.cues import Cue
from coach.session.engine import EngineConfig, SessionEngine, SignalState
from coach.session.sources import open_samples
from coach.session.tracker import SignalTracker
from coach.store.record import SessionRecord
from coach.text import mmss
from coach.vocabulary import RecordKind
from sensors.clock import Clock, MonotonicClock
from sensors.events import SensorEventName
from sensors.samples import Sample, SensorEvent
from sensors.sources.moniker import check_sensor

#: The engine's step on the session timeline (session seconds): fine enough for a 3-2-1 countdown.
ENGINE_STEP_S = 0.25
#: A live strap silent this long (wall seconds) no longer holds the session back: the engine moves on by the clock.
STALL_WALL_S = 1.5

logger = logging.getLogger(__name__)


class VoiceLike(Protocol):
    """What the runner needs from :class:`coach.voice.speaker.Voice`."""

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


# ----------------------------------------------------------------------------------------------- signal


# ----------------------------------------------------------------------------------------------- the session


def rendered_durations(voice: Any, phrases: list[str]) -> dict[str, float]:
    """Seconds each pre-rendered phrase really takes (tts mode with a speech engine), else {}."""
    if getattr(voice, "mode", None) != "tts":
        return {}
    backend = getattr(voice, "backend_name", None)
    if backend not in ("pyttsx3", "espeak-ng"):
        return {}
    out: dict[str, float] = {}
    try:
        for text in phrases:
            path = voice.cache.path_for(backend, text, voice.voice_id, voice.rate_wpm)
            hit = voice.cache.get(path, backend)
            if hit is not None:
                out[text] = round(float(hit.duration_s) + 0.1, 2)
    except (AttributeError, OSError) as exc:
        logger.debug("no rendered durations: %s", exc)
        return {}
    return out


def _interval_name(interval: Any) -> str:
    if interval.label == "warm-up":
        return "Warm-up walk"
    if interval.label == "cool-down":
        return "Cool-down"
    return "Run" if interval.activity == "run" else "Walk"


@dataclass
class RunResult:
    session_id: str
    folder: Path
    summary: dict[str, Any]
    end_reason: str
    cues: list[dict[str, Any]]
    wall_duration_s: float
    stopped_by_signal: str | None = None  # "SIGINT" / "SIGTERM": the CLI exits 130 (docs/raspberry-pi.md)


class SessionRunner:
    """Runs one session; build it with the pieces, then ``await runner.run()``.

    **One session clock.** The engine is stepped on a fixed grid of session time (every ``step_s``), and each step
    is judged on exactly the samples whose own time is up to it: a sample at time ``t`` first moves the engine over
    every grid mark before ``t``, then is fed to the tracker. So the engine makes the same decisions at the same
    session times whether a replay runs at x1, x4 or x100, and whatever the machine's load. Only when the source is
    silent for ``stall_wall_s`` of *wall* time (a live strap that stopped sending) does the engine move on by the
    clock, with the sensor lost; a rehearsal (replay, virtual strap) passes None, its data is its clock. The voice plays what the engine released, on the wall clock; when it cannot keep up
    (a fast rehearsal) it skips or delays on the speaker only: events.jsonl and the audio tape hold the cues at the
    session times the engine gave them (docs/voice.md, "Speed").
    """

    def __init__(
        self,
        plan: SessionPlan,
        samples: AsyncIterator[Sample],
        *,
        record: SessionRecord,
        voice: VoiceLike,
        clock: SessionClock,
        engine_config: EngineConfig | None = None,
        tracker: SignalTracker | None = None,
        display: DisplayLike | None = None,
        start_fields: dict[str, Any] | None = None,
        tick_s: float = 0.05,
        step_s: float = ENGINE_STEP_S,
        stall_wall_s: float | None = STALL_WALL_S,
        stop_when_source_ends: bool = True,
        restart_clock: bool = True,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.restart_clock = restart_clock
        self.plan = plan
        self.samples = samples
        self.record = record
        self.voice = voice
        self.clock = clock
        self.engine = SessionEngine(plan, config=engine_config or EngineConfig())
        self.tracker = tracker or SignalTracker()
        self.display = display
        self.start_fields = start_fields or {}
        self.tick_s = tick_s
        self.step_s = step_s
        self.stall_wall_s = stall_wall_s
        self.stop_when_source_ends = stop_when_source_ends
        self.echo = echo
        self._warned: set[str] = set()
        self.source_ended = False
        self.source_error: BaseException | None = None
        self.storage_error: OSError | None = None  # writing the capture failed (disk full): the session stops
        self._speak_queue: asyncio.Queue[Cue | None] = asyncio.Queue()
        self._waiting = 0  # cues in the speaker's queue
        self._playing = ""  # type of the cue said last
        self._control: list[str] = []
        self._stop_reason: str | None = None
        self.stopped_by_signal: str | None = None  # "SIGINT" / "SIGTERM" when a signal ended the session
        self.cue_records: list[dict[str, Any]] = []
        self._mark = 0  # the next grid mark is _mark * step_s
        self._engine_t = 0.0  # session time the engine has reached
        self._data_t = -math.inf  # the latest sample time seen
        self._last_data_wall = 0.0
        self._state = SignalState()

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

    # -- the session timeline

    def _advance_to(self, t: float) -> None:
        """Step the engine over every grid mark before session time ``t``."""
        while self._mark * self.step_s < t - 1e-9 and not self.engine.done:
            self._step_engine(round(self._mark * self.step_s, 6))
            self._mark += 1

    def _step_engine(self, now: float) -> None:
        state = self.tracker.state(now)
        self._state = state
        self._engine_t = max(self._engine_t, now)
        self._release(self.engine.step(now, state))

    def _apply_controls(self) -> None:
        now = self._engine_t
        cues: list[Cue] = []
        while self._control:
            action = self._control.pop(0)
            if action == "pause":
                cues += self.engine.pause(now)
            elif action == "resume":
                cues += self.engine.resume(now)
            elif action == "stop":
                cues += self.engine.stop(now, self._stop_reason or "stopped")
        self._release(cues)

    def _release(self, cues: list[Cue]) -> None:
        """Write what the engine decided (records, then each cue at its session time) and hand the cues to the
        speaker."""
        self._flush_records()
        for cue in cues:
            rec = cue.as_record(t=cue.t, wall_t=round((cue.t or 0.0) / self.clock.speed, 3))
            self.cue_records.append(rec)
            self.record.write(rec)
            self._say(cue)

    def _warn_once(self, text: str) -> None:
        """A sensor warning, printed once per session however often the strap repeats it (each reconnection)."""
        if text not in self._warned:
            self._warned.add(text)
            self.echo(f"coach: warning: {text}")

    def _say(self, cue: Cue) -> None:
        self._waiting += 1
        self._speak_queue.put_nowait(cue)

    # -- tasks

    async def _read_source(self) -> None:
        try:
            async for sample in self.samples:
                t = float(sample.t)
                if math.isfinite(t):
                    self._advance_to(t)  # judge every earlier grid mark on what came before this sample
                    self._data_t = max(self._data_t, t)
                self._last_data_wall = self.clock.wall.now()
                if isinstance(sample, SensorEvent) and sample.event == SensorEventName.PMD_ERROR:
                    self._warn_once(str(sample.fields.get("text")))  # what is lost, what to do
                self.tracker.feed(sample)
        except asyncio.CancelledError:
            raise
        except OSError as exc:  # the capture cannot be written (disk full): stop, keep what is recorded
            self.storage_error = exc
            self.stop("storage_error")
        except Exception as exc:  # the session goes on; the sensor is "lost" from now on
            logger.warning("sensor source failed: %s", exc)
            self.source_error = exc
            self.record.write(
                {
                    "t": round(self._engine_t, 3),
                    "kind": RecordKind.SENSOR,
                    "state": "error",
                    "reason": str(exc),
                }
            )
        finally:
            self.source_ended = True

    async def _speaker(self) -> None:
        """Say the released cues on the wall clock. Behind (a fast rehearsal, a slow engine): a cue with a newer one
        already waiting is skipped on the speaker unless it is an interval change or a control cue; it is still on
        the tape at its session time."""
        while True:
            cue = await self._speak_queue.get()
            if cue is None:
                return
            self._waiting -= 1
            if self._waiting > 0 and cue.type not in C.ALWAYS_SPOKEN:
                self._speech_record(cue, None, "skipped", why="a newer cue was due")
                with contextlib.suppress(Exception):
                    self.voice.tape_only(cue.text, at_s=cue.t)
                continue
            advice_playing = bool(self._playing) and self._playing not in C.TIMETABLE
            if cue.type in C.TIMETABLE and advice_playing and self.voice.busy:
                self.voice.interrupt()  # the timetable wins over advice still playing (longer than planned)
            self._playing = cue.type
            try:
                spoken = await self.voice.say(cue.text, planned_t=cue.planned_t, kind=cue.type, at_s=cue.t)
                self._speech_record(cue, spoken, "played")
            except Exception as exc:
                logger.warning("could not say %r: %s", cue.text, exc)
                self._speech_record(cue, None, "failed", why=str(exc))

    def _speech_record(self, cue: Cue, spoken: Any, outcome: str, *, why: str | None = None) -> None:
        now = float(getattr(spoken, "t_start", self.clock.now()))
        rec: dict[str, Any] = {
            "t": round(now, 3),
            "kind": RecordKind.SPEECH,
            "cue_t": cue.t,
            "type": cue.type,
            "outcome": outcome,
            "backend": getattr(spoken, "backend", None),
        }
        if why is not None:
            rec["why"] = why
        self.record.write(rec)

    def _flush_records(self) -> None:
        for rec in self.tracker.pop_records():
            self.record.write(rec)
        for rec in self.engine.pop_records():
            self.record.write(rec)

    def _snapshot(self) -> dict[str, Any]:
        """The display state (field names of :class:`coach.session.display.DisplayState`), at the engine's session time."""
        eng = self.engine
        state = self._state
        cur = eng.current
        intervals = self.plan.intervals
        nxt = intervals[cur.index + 1] if cur is not None and cur.index + 1 < len(intervals) else None
        mode = eng.stable_mode
        return {
            "interval_name": _interval_name(cur) if cur is not None else "Done",
            "interval_index": cur.index if cur is not None else None,
            "interval_count": len(intervals),
            "time_left_s": max(0.0, cur.end_s - eng.plan_t) if cur is not None else 0.0,
            "next_interval": f"{_interval_name(nxt)} {mmss(nxt.duration_s)}" if nxt is not None else "end",
            "hr_bpm": round(state.hr_bpm) if state.hr_bpm is not None else None,
            "cadence_spm": state.cadence_spm,
            "mode": mode if mode != "unknown" else None,
            "adherence": live_status(mode, cur.activity if cur is not None else None, state.sensor),
            "sensor": state.sensor,
            "battery_percent": self.tracker.battery_percent,
            "elapsed_s": self._engine_t,
            "last_cue": self.cue_records[-1]["text"] if self.cue_records else None,
            "paused": eng.state_ == "paused",
        }

    async def run(self) -> RunResult:
        record = self.record
        config = self.engine.config
        record.start(
            programme=self.plan.programme,
            programme_title=self.plan.programme_title,
            **self.plan.source_fields(),  # a programme file: its path and a copy of its text
            stage=self.plan.stage,
            stage_title=self.plan.stage_title,
            targets={
                "hr_ceiling_bpm": self.engine.hr_ceiling_bpm,
                "cadence_baseline_spm": self.engine.cadence_baseline_spm_,
                "cadence_rise_pct": self.engine.cadence_rise_pct,
            },
            plan=[i.as_record() for i in self.plan.intervals],
            planned_duration_s=self.plan.duration_s,
            engine={"heads_up_s": config.heads_up_s, "countdown": config.countdown, "step_s": self.step_s},
            **self.start_fields,
        )
        phrases = C.session_phrases(self.plan, heads_up_s=config.heads_up_s, countdown=config.countdown)
        await self.voice.prerender(phrases)
        rendered = rendered_durations(self.voice, phrases)
        if rendered:  # plan with the real length of each rendered phrase
            estimate = config.duration_fn
            config = dataclasses.replace(
                config, duration_fn=lambda text: rendered.get(text) or estimate(text)
            )
            self.engine = SessionEngine(self.plan, config=config)
        if self.restart_clock:
            self.clock.restart()  # t = 0: the voice is ready, the source starts now
        self._last_data_wall = self.clock.wall.now()
        self._step_engine(0.0)  # the session starts now: the first change is said at once
        self._mark = 1
        reader = asyncio.create_task(self._read_source(), name="coach-source")
        speaker = asyncio.create_task(self._speaker(), name="coach-speaker")
        end_reason = "completed"
        wall0 = time.monotonic()
        try:
            while True:
                self._apply_controls()
                if self.source_ended and self.engine.state_ != "ended":
                    end_t = max(self._engine_t, self._data_t)
                    if self.stop_when_source_ends:
                        self._advance_to(end_t)
                        self._step_engine(end_t)
                        self._release(self.engine.stop(self._engine_t, "source_ended"))
                    else:  # a looped source that failed: the plan goes on, on the clock, sensor lost
                        self._advance_to(self.clock.now())
                elif (
                    self.stall_wall_s is not None
                    and not self.source_ended
                    and self.clock.wall.now() - self._last_data_wall > self.stall_wall_s
                ):
                    self._advance_to(self.clock.now())  # a silent strap: time goes on, the sensor is lost
                if self.engine.state_ == "ended" and not self.engine.done and self.source_ended:
                    # the plan is over but its end cue waits for the cue before it: with no samples left to move
                    # the timeline, it moves on by the grid (session time, one mark a tick)
                    self._advance_to(self._mark * self.step_s + self.step_s / 2)
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
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self._speak_queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(speaker, 30.0)
            if end_reason == "interrupted" and self.engine.state_ != "ended":
                self.engine.stop(self._engine_t, "interrupted", say=False)
            self._flush_records()
            with contextlib.suppress(Exception):
                await self.voice.close()
            now = self._engine_t
            record.write(
                {
                    "t": round(now, 3),
                    "kind": RecordKind.SESSION_END,
                    "reason": self.engine.end_reason_ or end_reason,
                    "ended_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "duration_s": round(now, 3),
                    "plan_duration_done_s": round(self.engine.plan_t, 3),
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


@dataclass
class SessionOptions:
    """What ``coach run`` / ``coach demo`` ask for."""

    sensor: str
    programme: str = "back-pain"
    stage: int = 1
    speed: float = 1.0
    voice: str = "tts"
    audio_out: Path | None = None
    data_dir: Path | None = None
    heads_up_s: float = 10.0
    countdown: bool = False
    hr_ceiling_bpm: int | None = None
    cadence_baseline_spm: float | None = None
    loop: bool = False
    # a live strap that wants pairing for its accelerometer may be paired (--no-pair: False)
    pair: bool = True
    demo: bool = False
    note: str | None = None
    plan: SessionPlan | None = None  # overrides programme + stage (the demo's compressed plan)
    display: bool = True
    keys: bool = True  # p / r / q + Enter on a terminal
    echo: Callable[[str], None] = print
    clock: Clock | None = None  # the wall clock (tests pass a FakeClock); None = the real one


async def run_session(opts: SessionOptions) -> RunResult:
    """Load the plan, open the session folder, the voice, the sensor and the display; run; close everything.

    Ctrl-C (SIGINT) and SIGTERM (``systemctl stop``) end the session cleanly from the moment this starts: the
    folder and summary are written, the session is marked stopped and :attr:`RunResult.stopped_by_signal` names the
    signal (the CLI exits 130, docs/raspberry-pi.md). A second Ctrl-C interrupts at once.
    """
    from coach.plan.programme import load_programme
    from coach.session.display import Display
    from coach.store.record import resolve_data_dir
    from coach.voice.speaker import make_voice
    from sensors.capture import CaptureWriter

    plan = opts.plan or load_programme(opts.programme).plan(opts.stage)
    # a bad moniker or a missing file fails before a session folder is made
    moniker = check_sensor(opts.sensor)
    data_dir = resolve_data_dir(opts.data_dir)
    wall = opts.clock or MonotonicClock()
    clock = SessionClock(wall, opts.speed)
    record = SessionRecord(data_dir, wall_clock=wall.now)
    capture = CaptureWriter(record.capture_path, source=opts.sensor, clock=wall)
    display = Display() if opts.display else None
    echo = display.message if display is not None else opts.echo
    config = EngineConfig(
        heads_up_s=opts.heads_up_s,
        countdown=opts.countdown,
        hr_ceiling_bpm=opts.hr_ceiling_bpm,
        cadence_baseline_spm=opts.cadence_baseline_spm,
    )
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
        # Render every phrase before the sensor starts streaming, so the first change is heard on time.
        await voice.prerender(
            C.session_phrases(plan, heads_up_s=config.heads_up_s, countdown=config.countdown)
        )
        clock.restart()
        async with open_samples(moniker, capture=capture, clock=clock, loop=opts.loop, pair=opts.pair) as (
            samples,
            described,
        ):
            runner = SessionRunner(
                plan,
                samples,
                record=record,
                voice=voice,
                clock=clock,
                engine_config=config,
                display=display,
                start_fields={
                    **described,
                    "speed": opts.speed,
                    "demo": opts.demo,
                    "note": opts.note,
                    "voice": opts.voice,
                    "voice_backend": getattr(voice, "backend_name", None),
                },
                stall_wall_s=STALL_WALL_S if moniker.kind == "ble" else None,
                stop_when_source_ends=not opts.loop,
                restart_clock=False,
                echo=echo,
            )
            switch.attach(runner)
            keys = install_key_reader(runner, echo) if opts.keys else False
            return await runner.run()
    except OSError as exc:  # disk full or an I/O error while recording: one line, what is written stays
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, record.folder) from None
        raise
    finally:
        remove_stop_handler()
        if keys:
            remove_key_reader()
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


#: OS errors that mean "the session cannot be written" (disk full, quota, read-only, I/O error).
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


def storage_error(exc: OSError, folder: Path) -> StorageError:
    """The one-line error for a session that could not be written to the end (disk full, I/O error)."""
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    hint = "the disk is full; free some space" if exc.errno == errno.ENOSPC else "check the disk"
    return StorageError(
        f"cannot write the session{where} ({exc.strerror or exc}): {hint}. What was recorded up to then is kept "
        f"in {folder}"
    )
