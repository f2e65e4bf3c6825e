"""The coached session, wired: sensor source -> signal -> engine -> voice / display -> session folder.

One asyncio task reads samples (live strap, virtual strap or replay) and turns them into gait seconds
(:class:`coach.signal.StreamingGaitEstimator`), heart rate and sensor state; a tick loop steps the
:class:`coach.engine.SessionEngine` with the session clock and hands its cues to a speaker task (so a slow speech
engine never stalls the signal or the timetable); everything that happens is written to the session folder
(:class:`coach.session_record.SessionRecord`, docs/formats/events.md).

Time: *session seconds* run ``speed`` times faster than the wall clock (``--speed``); sample times of a replay are
in the same session seconds. The voice and the engine work with the same :class:`SessionClock`.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from coach import cues as C
from coach.cues import Cue
from coach.engine import EngineConfig, SessionEngine, SignalState
from coach.errors import StorageError
from coach.programme import SessionPlan
from coach.session_record import SessionRecord
from sensors.clock import Clock, MonotonicClock

logger = logging.getLogger(__name__)


class SessionClock:
    """Session seconds from a wall clock: ``now() = (wall.now() - start) * speed``."""

    def __init__(self, wall: Clock | None = None, speed: float = 1.0) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a positive number (got {speed})")
        self.wall: Clock = wall or MonotonicClock()
        self.speed = speed
        self._t0 = self.wall.now()

    def now(self) -> float:
        return (self.wall.now() - self._t0) * self.speed

    def restart(self) -> None:
        """Session time 0 is now (called when the session really starts, after the voice is ready)."""
        self._t0 = self.wall.now()

    def wall_elapsed(self) -> float:
        return self.wall.now() - self._t0

    async def sleep(self, seconds: float) -> None:
        await self.wall.sleep(max(0.0, seconds) / self.speed)


class VoiceLike(Protocol):
    """What the runner needs from :class:`coach.voice.Voice`."""

    @property
    def busy(self) -> bool: ...

    async def prerender(self, texts: Any) -> None: ...

    async def say(self, text: str, *, planned_t: float | None = None, kind: str = "") -> Any: ...

    def interrupt(self) -> None: ...

    async def close(self) -> None: ...


class DisplayLike(Protocol):
    def update(self, snapshot: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


# ----------------------------------------------------------------------------------------------- signal


@dataclass
class SignalTracker:
    """Samples in, the engine's :class:`SignalState` and events.jsonl records out.

    ``sensor_timeout_s`` (session seconds) without any sample -> sensor "lost"; a disconnect event -> lost at once.
    Heart rate older than ``hr_max_age_s`` is forgotten. With no accelerometer (an HR-only strap with a foot pod),
    the foot pod's cadence and running flag give the mode.
    """

    sensor_timeout_s: float = 5.0
    hr_max_age_s: float = 5.0
    estimator: Any = None
    mode: str = "unknown"
    cadence_spm: float | None = None
    confidence: float | None = None
    hr_bpm: float | None = None
    hr_t: float = -math.inf
    battery_percent: int | None = None
    last_sample_t: float | None = None
    last_gait_t: float = -math.inf
    disconnected: bool = False
    sensor: str = "connected"
    gait_seconds: int = 0
    foot_pod_factor: float = 1.0  # 2.0 once the foot pod's cadence is found to be strides/min
    _records: list[dict[str, Any]] = field(default_factory=list)
    _pod_rows: list[tuple[float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.estimator is None:
            from coach.signal import StreamingGaitEstimator

            self.estimator = StreamingGaitEstimator()

    def feed(self, sample: Any) -> None:
        """One sample from the source (see :mod:`sensors.samples`)."""
        from sensors.samples import AccBlock, BatterySample, FootPodSample, HeartRateSample, SensorEvent

        t = float(getattr(sample, "t", math.nan))
        if isinstance(sample, SensorEvent):
            self._event(sample)
            return
        if math.isfinite(t):
            self.last_sample_t = t if self.last_sample_t is None else max(self.last_sample_t, t)
        self.disconnected = False
        if isinstance(sample, AccBlock):
            if len(sample):
                seconds = self.estimator.feed_acc(sample.t_s, sample.xyz_mg / 1000.0)
                for second in seconds:
                    self._gait(second)
        elif isinstance(sample, HeartRateSample):
            if sample.bpm > 0 and sample.contact is not False:
                self.hr_bpm = float(sample.bpm)
                self.hr_t = t
                self.estimator.feed_heart_rate(t, float(sample.bpm))
        elif isinstance(sample, FootPodSample):
            cadence = self._foot_pod_cadence(t, sample)
            self.estimator.feed_foot_pod(t, cadence)
            if t - self.last_gait_t > 3.0:  # no accelerometer: the foot pod decides
                self.cadence_spm = cadence if sample.cadence_spm else None
                self.mode = "run" if sample.running else ("walk" if sample.cadence_spm else "still")
                self.confidence = None
        elif isinstance(sample, BatterySample) and sample.percent != self.battery_percent:
            self.battery_percent = sample.percent
            self._records.append(
                {"t": round(t, 3), "kind": "sensor", "state": "battery", "battery_percent": sample.percent}
            )

    def _foot_pod_cadence(self, t: float, sample: Any) -> float:
        """The foot pod's cadence in steps/min: some pods and straps send strides in RSC (BRIEF). Over the first
        two minutes of moving samples the step length (speed / cadence) decides, as `coach analyze` does
        (:func:`coach.signal.device_cadence_unit`); once strides are found, every value is doubled."""
        if self.foot_pod_factor == 1.0 and len(self._pod_rows) < 120:
            self._pod_rows.append((t, float(sample.cadence_spm), float(sample.speed_mps)))
            from coach.signal import device_cadence_unit

            factor, note = device_cadence_unit(self._pod_rows)
            if factor != 1.0:
                self.foot_pod_factor = factor
                logger.warning("foot pod: %s", note)
        return float(sample.cadence_spm) * self.foot_pod_factor

    def _gait(self, second: Any) -> None:
        self.gait_seconds += 1
        self.mode = second.mode
        self.cadence_spm = second.cadence_spm
        self.confidence = second.confidence
        self.last_gait_t = second.t
        hr = self.hr_bpm if second.t - self.hr_t <= self.hr_max_age_s else None
        self._records.append(
            {
                "t": round(second.t, 3),
                "kind": "gait",
                "cadence_spm": None if second.cadence_spm is None else round(second.cadence_spm, 1),
                "mode": second.mode,
                "confidence": round(second.confidence, 3),
                "steps": len(second.steps),
                "hr_bpm": hr,
            }
        )

    def _event(self, event: Any) -> None:
        name = event.event
        if name in ("disconnected", "link_lost", "lost"):
            self.disconnected = True
        elif name in ("connected", "reconnected"):
            self.disconnected = False
        if name in ("connected", "disconnected", "reconnected", "reconnecting", "link_lost"):
            fields = {k: v for k, v in dict(event.fields).items() if k not in ("t", "kind", "state")}
            self._records.append({"t": round(event.t, 3), "kind": "sensor", "state": name, **fields})

    def state(self, now_s: float) -> SignalState:
        last = self.last_sample_t if self.last_sample_t is not None else 0.0
        lost = self.disconnected or now_s - last > self.sensor_timeout_s
        new = "lost" if lost else "connected"
        if new != self.sensor:
            self._records.append({"t": round(now_s, 3), "kind": "sensor", "state": new})
            self.sensor = new
        hr = self.hr_bpm if now_s - self.hr_t <= self.hr_max_age_s else None
        return SignalState(
            mode=self.mode,
            cadence_spm=self.cadence_spm,
            hr_bpm=hr,
            sensor=self.sensor,
            confidence=self.confidence,
        )

    def pop_records(self) -> list[dict[str, Any]]:
        out, self._records = self._records, []
        return out


# ----------------------------------------------------------------------------------------------- sources


def shift_sample(sample: Any, offset_s: float) -> Any:
    """A copy of ``sample`` with its time(s) moved by ``offset_s`` (for looping a recording)."""
    if offset_s == 0:
        return sample
    if hasattr(sample, "t_s"):
        return dataclasses.replace(sample, t_s=sample.t_s + offset_s)
    return dataclasses.replace(sample, t=sample.t + offset_s)


class CaptureMirror:
    """Copies a replayed capture's raw records into the session's capture.jsonl as the replay reaches them, so a
    replayed session's folder has its raw traffic like a live one (times moved by the loop offset)."""

    def __init__(self, source_path: Path, writer: Any) -> None:
        from sensors.capture import read_capture

        self.records = read_capture(source_path).records
        self.writer = writer
        self._i = 0
        self._offset = 0.0

    @property
    def duration_s(self) -> float:
        return self.records[-1].t if self.records else 0.0

    def restart(self, offset_s: float) -> None:
        self.advance(math.inf)
        self._i = 0
        self._offset = offset_s

    def advance(self, until_t: float) -> None:
        from sensors.capture import PayloadRecord

        while self._i < len(self.records) and self.records[self._i].t + self._offset <= until_t + 1e-6:
            rec = self.records[self._i]
            self._i += 1
            t = rec.t + self._offset
            if isinstance(rec, PayloadRecord):
                self.writer.payload(t, rec.char, rec.data)
            else:
                fields = {k: v for k, v in dict(rec.fields).items() if k not in ("t", "event", "char", "hex")}
                self.writer.event(t, rec.event, **fields)


async def replay_samples(
    source: Any,
    *,
    wall_clock: Clock,
    loop: bool = False,
    gap_s: float = 1.0,
    mirror: CaptureMirror | None = None,
) -> AsyncIterator[Any]:
    """Samples of a :class:`sensors.replay.ReplaySource` (paced by its own clock and speed); with ``loop``, the
    recording starts again (times continuing) each time it ends."""
    offset = 0.0
    speed = source.speed or 1.0
    while True:
        last_t = offset
        async for sample in source:
            sample = shift_sample(sample, offset)
            t = float(getattr(sample, "t", math.nan))
            if math.isfinite(t):
                last_t = max(last_t, t)
                if mirror is not None:
                    mirror.advance(t)
            yield sample
        if mirror is not None:
            mirror.advance(math.inf)
        if not loop:
            return
        offset = last_t + gap_s
        if mirror is not None:
            mirror.restart(offset)
        await wall_clock.sleep(gap_s / speed)


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


def _mmss(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


@dataclass
class RunResult:
    session_id: str
    folder: Path
    summary: dict[str, Any]
    end_reason: str
    cues: list[dict[str, Any]]
    wall_duration_s: float


class SessionRunner:
    """Runs one session; build it with the pieces, then ``await runner.run()``."""

    def __init__(
        self,
        plan: SessionPlan,
        samples: AsyncIterator[Any],
        *,
        record: SessionRecord,
        voice: VoiceLike,
        clock: SessionClock,
        engine_config: EngineConfig | None = None,
        tracker: SignalTracker | None = None,
        display: DisplayLike | None = None,
        start_fields: dict[str, Any] | None = None,
        tick_s: float = 0.05,
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
        config = engine_config or EngineConfig()
        if config.time_scale != clock.speed:
            config = dataclasses.replace(config, time_scale=clock.speed)
        self.engine = SessionEngine(plan, config=config)
        # At high replay speeds the gap between two deliveries is longer in session seconds: keep 1.5 s of wall time.
        self.tracker = tracker or SignalTracker(sensor_timeout_s=max(5.0, 1.5 * clock.speed))
        self.display = display
        self.start_fields = start_fields or {}
        self.tick_s = tick_s
        self.stop_when_source_ends = stop_when_source_ends
        self.echo = echo
        self.source_ended = False
        self.source_error: BaseException | None = None
        self.storage_error: OSError | None = None  # writing the capture failed (disk full): the session stops
        self._speak_queue: asyncio.Queue[Cue | None] = asyncio.Queue()
        self._playing = ""  # type of the cue said last
        self._control: list[str] = []
        self._stop_reason: str | None = None
        self.cue_records: list[dict[str, Any]] = []

    # -- control (from the CLI: keys, signals)

    def pause(self) -> None:
        self._control.append("pause")

    def resume(self) -> None:
        self._control.append("resume")

    def stop(self, reason: str = "stopped") -> None:
        self._stop_reason = reason
        self._control.append("stop")

    # -- tasks

    async def _read_source(self) -> None:
        try:
            async for sample in self.samples:
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
                {"t": round(self.clock.now(), 3), "kind": "sensor", "state": "error", "reason": str(exc)}
            )
        finally:
            self.source_ended = True

    async def _speaker(self) -> None:
        while True:
            cue = await self._speak_queue.get()
            if cue is None:
                return
            advice_playing = bool(self._playing) and self._playing not in C.TIMETABLE
            if cue.type in C.TIMETABLE and advice_playing and self.voice.busy:
                self.voice.interrupt()  # the timetable wins over advice still playing (longer than planned)
            self._playing = cue.type
            try:
                spoken = await self.voice.say(cue.text, planned_t=cue.planned_t, kind=cue.type)
                t_start = float(getattr(spoken, "t_start", self.clock.now()))
                backend = getattr(spoken, "backend", None)
                duration = getattr(spoken, "duration_s", cue.duration_s)
            except Exception as exc:
                logger.warning("could not say %r: %s", cue.text, exc)
                t_start, backend, duration = self.clock.now(), "failed", cue.duration_s
            rec = cue.as_record(
                t=t_start,
                engine_t=cue.t,
                wall_t=round(t_start / self.clock.speed, 3),
                backend=backend,
            )
            rec["duration_s"] = round(float(duration), 2)
            self.cue_records.append(rec)
            self.record.write(rec)

    def _flush_records(self) -> None:
        for rec in self.tracker.pop_records():
            self.record.write(rec)
        for rec in self.engine.pop_records():
            self.record.write(rec)

    def _snapshot(self, now: float, state: SignalState) -> dict[str, Any]:
        """The display state (field names of :class:`coach.display.DisplayState`)."""
        eng = self.engine
        cur = eng.current
        intervals = self.plan.intervals
        nxt = intervals[cur.index + 1] if cur is not None and cur.index + 1 < len(intervals) else None
        mode = eng.stable_mode
        if cur is None or mode == "unknown" or state.sensor == "lost":
            adherence = None
        elif mode == cur.activity:
            adherence = "ok"
        elif cur.activity == "run":
            adherence = "still walking" if mode == "walk" else "stopped"
        else:
            adherence = "ease back" if mode == "run" else "ok"
        return {
            "interval_name": _interval_name(cur) if cur is not None else "Done",
            "interval_index": cur.index if cur is not None else None,
            "interval_count": len(intervals),
            "time_left_s": max(0.0, cur.end_s - eng.plan_t) if cur is not None else 0.0,
            "next_interval": f"{_interval_name(nxt)} {_mmss(nxt.duration_s)}" if nxt is not None else "end",
            "hr_bpm": round(state.hr_bpm) if state.hr_bpm is not None else None,
            "cadence_spm": state.cadence_spm,
            "mode": mode if mode != "unknown" else None,
            "adherence": adherence,
            "sensor": state.sensor,
            "battery_percent": self.tracker.battery_percent,
            "elapsed_s": now,
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
            engine={
                "heads_up_s": config.heads_up_s,
                "countdown": config.countdown,
                "time_scale": config.time_scale,
            },
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
        reader = asyncio.create_task(self._read_source(), name="coach-source")
        speaker = asyncio.create_task(self._speaker(), name="coach-speaker")
        end_reason = "completed"
        wall0 = time.monotonic()
        try:
            while True:
                now = self.clock.now()
                state = self.tracker.state(now)
                cues: list[Cue] = []
                while self._control:
                    action = self._control.pop(0)
                    if action == "pause":
                        cues += self.engine.pause(now)
                    elif action == "resume":
                        cues += self.engine.resume(now)
                    elif action == "stop":
                        cues += self.engine.stop(now, self._stop_reason or "stopped")
                if self.source_ended and self.stop_when_source_ends and self.engine.state_ != "ended":
                    cues += self.engine.stop(now, "source_ended")
                cues += self.engine.step(now, state)
                self._flush_records()
                for cue in cues:
                    self._speak_queue.put_nowait(cue)
                if cues:
                    await asyncio.sleep(0)  # let the speaker start them before time moves on
                if self.display is not None:
                    self.display.update(self._snapshot(now, state))
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
                self.engine.stop(self.clock.now(), "interrupted", say=False)
            self._flush_records()
            with contextlib.suppress(Exception):
                await self.voice.close()
            now = self.clock.now()
            record.write(
                {
                    "t": round(now, 3),
                    "kind": "session_end",
                    "reason": self.engine.end_reason_ or end_reason,
                    "ended_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "duration_s": round(now, 3),
                    "plan_duration_done_s": round(self.engine.plan_t, 3),
                    "wall_duration_s": round(time.monotonic() - wall0, 3),
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
        )


# ----------------------------------------------------------------------------------------------- from options


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
    demo: bool = False
    note: str | None = None
    plan: SessionPlan | None = None  # overrides programme + stage (the demo's compressed plan)
    display: bool = True
    keys: bool = True  # p / r / q + Enter on a terminal
    echo: Callable[[str], None] = print
    clock: Clock | None = None  # the wall clock (default: MonotonicClock); tests pass one on virtual time


class OffsetCapture:
    """A capture writer seen through a time offset: each loop of a virtual strap starts its own clock at 0, the
    session capture keeps counting."""

    def __init__(self, writer: Any, offset_s: float) -> None:
        self.writer = writer
        self.offset_s = offset_s

    def payload(self, t: float, char: Any, data: bytes) -> None:
        self.writer.payload(t + self.offset_s, char, data)

    def event(self, t: float, name: str, /, **fields: Any) -> None:
        self.writer.event(t + self.offset_s, name, **fields)

    def sync_if_due(self) -> bool:
        return bool(self.writer.sync_if_due())


async def radio_samples(
    moniker: Any, *, capture: Any, clock: SessionClock, speed: float, loop: bool = False
) -> AsyncIterator[Any]:
    """Samples of a ``ble:`` or ``virtual:`` source (:func:`sensors.ble.open_source`), on the session clock; with
    ``loop`` (virtual only) the strap is started again when its recording ends, times continuing."""
    from sensors.ble import open_source

    while True:
        offset = clock.now()
        source: Any = open_source(
            moniker, capture_writer=cast(Any, OffsetCapture(capture, offset)), clock=clock, speed=speed
        )
        try:
            if hasattr(source, "start"):
                await source.start()
            async for sample in source:
                yield shift_sample(sample, offset)
        finally:
            if hasattr(source, "aclose"):
                await source.aclose()
        if not loop:
            return


@contextlib.asynccontextmanager
async def open_samples(
    opts: SessionOptions, *, capture: Any, clock: SessionClock, first_sample_timeout_s: float = 60.0
) -> AsyncIterator[tuple[AsyncIterator[Any], dict[str, Any]]]:
    """The sample stream for ``opts.sensor`` and a description for the session record.

    ``replay:`` goes through :class:`sensors.replay.ReplaySource` paced on the wall clock (sample times are the
    recording's seconds, the session clock runs at the same speed), its raw records mirrored into the session's
    capture; ``ble:`` and ``virtual:`` go through :func:`sensors.ble.open_source` on the session clock.
    """
    from coach.errors import InputError
    from sensors.ble.moniker import parse_sensor_moniker

    moniker = parse_sensor_moniker(opts.sensor)
    if moniker.kind == "replay":
        assert moniker.path is not None
        if not moniker.path.is_file():
            raise InputError(f"{moniker.path}: no such capture file")
        from sensors.replay import ReplaySource

        source = ReplaySource(
            moniker.path, speed=opts.speed, clock=clock.wall
        )  # reads and checks the file now
        mirror = CaptureMirror(moniker.path, capture)
        stream = replay_samples(source, wall_clock=clock.wall, loop=opts.loop, mirror=mirror)
        try:
            yield stream, {"source": moniker.text, "recording_s": round(mirror.duration_s, 1)}
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return
    if moniker.kind == "ble" and opts.speed != 1.0:
        raise InputError(
            f"--speed works with replay: and virtual: sensors only ({moniker.text} runs in real time)"
        )
    if moniker.kind == "ble" and opts.loop:
        raise InputError("--loop works with replay: and virtual: sensors only")
    if moniker.kind == "virtual":
        assert moniker.path is not None
        if not moniker.path.is_file():
            raise InputError(f"{moniker.path}: no such capture file")
    stream = radio_samples(moniker, capture=capture, clock=clock, speed=opts.speed, loop=opts.loop)
    # Connect now (a missing strap fails before the session starts): take the first sample.
    try:
        first = await asyncio.wait_for(anext(stream), first_sample_timeout_s)
    except (TimeoutError, StopAsyncIteration):
        from coach.errors import SensorUnavailable

        await stream.aclose()  # type: ignore[attr-defined]
        raise SensorUnavailable(
            f"{moniker.text} sent no data within {first_sample_timeout_s:g} s; is the strap worn (wet the "
            "electrodes) and switched on?"
        ) from None

    async def chained() -> AsyncIterator[Any]:
        yield first
        async for sample in stream:
            yield sample

    chain = chained()
    try:
        yield chain, {"source": moniker.text}
    finally:
        await chain.aclose()  # type: ignore[attr-defined]
        await stream.aclose()  # type: ignore[attr-defined]


def check_sensor(text: str) -> None:
    """Raise the one-line error for a bad ``--sensor`` value or a capture file that is not there."""
    from coach.errors import InputError
    from sensors.ble.moniker import parse_sensor_moniker

    moniker = parse_sensor_moniker(text)
    if moniker.path is not None and not moniker.path.is_file():
        raise InputError(f"{moniker.path}: no such capture file")


def fit_heads_up_s(heads_up_s: float, speed: float, gap_s: float = EngineConfig.gap_s) -> float:
    """The heads-up lead (session seconds) to use at ``speed``: the configured one if its words ("Walk in twenty
    seconds.") can be said before the change at that speed, else the next multiple of 5 s that can. 0 stays 0."""
    if heads_up_s <= 0 or speed <= 1:
        return heads_up_s
    from coach.programme import PlannedInterval

    walk = PlannedInterval(index=1, activity="walk", duration_s=60.0, start_s=0.0)
    lead = heads_up_s
    while (C.estimate_duration_s(C.heads_up_text(walk, lead)) + gap_s) * speed > lead:
        lead = float(math.floor(lead / 5.0) * 5 + 5)
    return lead


async def run_session(opts: SessionOptions) -> RunResult:
    """Load the plan, open the session folder, the voice, the sensor and the display; run; close everything."""
    from coach.display import Display
    from coach.programme import load_programme
    from coach.session_record import resolve_data_dir
    from coach.voice import make_voice
    from sensors.capture import CaptureWriter

    plan = opts.plan or load_programme(opts.programme).plan(opts.stage)
    check_sensor(opts.sensor)  # a bad moniker or a missing file fails before a session folder is made
    heads_up_s = fit_heads_up_s(opts.heads_up_s, opts.speed)
    if heads_up_s != opts.heads_up_s:
        opts.echo(
            f"note: at --speed {opts.speed:g} a {opts.heads_up_s:g} s heads-up is too short to be said before the "
            f"change; using {heads_up_s:g} s"
        )
    data_dir = resolve_data_dir(opts.data_dir)
    wall = opts.clock or MonotonicClock()
    clock = SessionClock(wall, opts.speed)
    record = SessionRecord(data_dir)
    capture = CaptureWriter(record.capture_path, source=opts.sensor, clock=wall)
    display = Display() if opts.display else None
    echo = display.message if display is not None else opts.echo
    config = EngineConfig(
        heads_up_s=heads_up_s,
        countdown=opts.countdown,
        time_scale=opts.speed,
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
    try:
        # Render every phrase before the sensor starts streaming, so the first change is heard on time.
        await voice.prerender(
            C.session_phrases(plan, heads_up_s=config.heads_up_s, countdown=config.countdown)
        )
        clock.restart()
        async with open_samples(opts, capture=capture, clock=clock) as (samples, described):
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
                stop_when_source_ends=not opts.loop,
                restart_clock=False,
                echo=echo,
            )
            _install_stop_handler(runner)
            keys = _install_key_reader(runner, echo) if opts.keys else False
            try:
                return await runner.run()
            finally:
                _remove_stop_handler()
                if keys:
                    _remove_key_reader()
    except OSError as exc:  # disk full or an I/O error while recording: one line, what is written stays
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, record.folder) from None
        raise
    finally:
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


def _install_stop_handler(runner: SessionRunner) -> None:
    """The first Ctrl-C ends the session cleanly (folder written); a second one interrupts at once."""
    import signal

    loop = asyncio.get_running_loop()

    def first() -> None:
        runner.stop("interrupted")
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, first)
        loop.add_signal_handler(signal.SIGTERM, lambda: runner.stop("interrupted"))


def _install_key_reader(runner: SessionRunner, echo: Callable[[str], None]) -> bool:
    """On a terminal: ``p`` + Enter pauses, ``r`` + Enter resumes, ``q`` + Enter stops the session."""
    import sys

    if not sys.stdin.isatty():
        return False
    loop = asyncio.get_running_loop()

    def on_line() -> None:
        line = sys.stdin.readline().strip().lower()
        if line.startswith("p"):
            runner.pause()
        elif line.startswith("r"):
            runner.resume()
        elif line.startswith("q"):
            runner.stop("stopped")

    try:
        loop.add_reader(sys.stdin.fileno(), on_line)
    except (NotImplementedError, OSError, ValueError):
        return False
    echo("keys: p + Enter pause, r + Enter resume, q + Enter stop (Ctrl-C stops too)")
    return True


def _remove_key_reader() -> None:
    import sys

    with contextlib.suppress(NotImplementedError, OSError, ValueError):
        asyncio.get_running_loop().remove_reader(sys.stdin.fileno())


def _remove_stop_handler() -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)
