"""The walk/run session, wired: sensor source -> signal -> engine -> voice / display -> session folder.

One asyncio task reads samples (live strap, virtual strap or replay; :func:`coach.session.sources.open_samples`)
into the :class:`coach.session.tracker.SignalTracker` and steps the :class:`coach.session.engine.SessionEngine` on
the samples' own session times (see :class:`SessionRunner`, "one session clock"); a speaker task says the cues on
the wall clock (so a slow speech engine never stalls the signal or the timetable); everything that happens is
written to the session folder (:class:`coach.store.record.SessionRecord`, docs/formats/events.md). What every
session does around its engine (opening and closing, controls, speaker, session_end) is
:mod:`coach.session.shell`'s; this module keeps the walk/run specifics: the plan, the engine and its grid.

Time: *session seconds* run ``speed`` times faster than the wall clock (``--speed``); sample times of a replay are
in the same session seconds. The voice and the display work with the same :class:`SessionClock`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from coach.plan.programme import SessionPlan
from coach.session import cues as C
from coach.session.adherence import live_status
from coach.session.cues import Cue
from coach.session.engine import EngineConfig, SessionEngine, SignalState
from coach.session.shell import RunResult, SessionShell, ShellParts, open_session
from coach.text import mmss
from sensors.clock import Clock, MonotonicClock
from sensors.events import SensorEventName
from sensors.samples import Sample, SensorEvent
from sensors.sources.moniker import check_sensor

#: The engine's step on the session timeline (session seconds): fine enough for a 3-2-1 countdown.
ENGINE_STEP_S = 0.25
#: A live strap silent this long (wall seconds) no longer holds the session back: the engine moves on by the clock.
STALL_WALL_S = 1.5

logger = logging.getLogger(__name__)


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


class SessionRunner(SessionShell[Cue]):
    """Runs one walk/run session; build it with the pieces, then ``await runner.run()``. What every session does
    around its engine (controls, speaker, source task, session_end) is :class:`coach.session.shell.SessionShell`'s.

    **One session clock.** The engine is stepped on a fixed grid of session time (every ``step_s``), and each step
    is judged on exactly the samples whose own time is up to it: a sample at time ``t`` first moves the engine over
    every grid mark before ``t``, then is fed to the tracker. So the engine makes the same decisions at the same
    session times whether a replay runs at x1, x4 or x100, and whatever the machine's load. Only when the source is
    silent for ``stall_wall_s`` of *wall* time (a live strap that stopped sending) does the engine move on by the
    clock, with the sensor lost; a rehearsal (replay, virtual strap) passes None, its data is its clock. The voice
    plays what the engine released, on the wall clock; when it cannot keep up (a fast rehearsal) it skips or delays
    on the speaker only: events.jsonl and the audio tape hold the cues at the session times the engine gave them
    (docs/voice.md, "Speed").
    """

    ALWAYS_SPOKEN = C.ALWAYS_SPOKEN
    TIMETABLE = C.TIMETABLE

    def __init__(
        self,
        plan: SessionPlan,
        samples: AsyncIterator[Sample],
        *,
        engine_config: EngineConfig | None = None,
        step_s: float = ENGINE_STEP_S,
        stall_wall_s: float | None = STALL_WALL_S,
        stop_when_source_ends: bool = True,
        restart_clock: bool = True,
        **parts: Unpack[ShellParts],
    ) -> None:
        super().__init__(samples=samples, **parts)
        self.restart_clock = restart_clock
        self.plan = plan
        self.engine: SessionEngine = SessionEngine(plan, config=engine_config or EngineConfig())
        self.step_s = step_s
        self.stall_wall_s = stall_wall_s
        self.stop_when_source_ends = stop_when_source_ends
        self._warned: set[str] = set()  # sensor warnings already printed (once per session)
        self._mark = 0  # the next grid mark is _mark * step_s
        self._data_t = -math.inf  # the latest sample time seen
        self._last_data_wall = 0.0
        self._state = SignalState()

    # -- the session timeline (``_now``: the session time the engine has reached)

    def _advance_to(self, t: float) -> None:
        """Step the engine over every grid mark before session time ``t``."""
        while self._mark * self.step_s < t - 1e-9 and not self.engine.done:
            self._step_engine(round(self._mark * self.step_s, 6))
            self._mark += 1

    def _step_engine(self, now: float) -> None:
        state = self.tracker.state(now)
        self._state = state
        self._now = max(self._now, now)
        self._release(self.engine.step(now, state))

    def _cue_fields(self, released: Cue) -> tuple[Cue, Mapping[str, Any]]:
        return released, {}

    def _take(self, sample: Sample) -> None:
        t = float(sample.t)
        if math.isfinite(t):
            self._advance_to(t)  # judge every earlier grid mark on what came before this sample
            self._data_t = max(self._data_t, t)
        self._last_data_wall = self.clock.wall.now()
        if isinstance(sample, SensorEvent) and sample.event == SensorEventName.PMD_ERROR:
            self._warn_once(str(sample.fields.get("text")))  # what is lost, what to do
        self.tracker.feed(sample)

    def _warn_once(self, text: str) -> None:
        """A sensor warning, printed once per session however often the strap repeats it (each reconnection)."""
        if text not in self._warned:
            self._warned.add(text)
            self.echo(f"coach: warning: {text}")

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
            "elapsed_s": self._now,
            "last_cue": self.cue_records[-1]["text"] if self.cue_records else None,
            "paused": eng.state_ == "paused",
        }

    async def _begin(self) -> None:
        config = self.engine.config
        plan_fields: dict[str, Any] = {
            "programme": self.plan.programme,
            "programme_title": self.plan.programme_title,
            **self.plan.source_fields(),  # a programme file: its path and a copy of its text
            "stage": self.plan.stage,
            "stage_title": self.plan.stage_title,
        }
        # start_fields win: a walk (``coach walk``) follows no programme stage and says so
        plan_fields.update((k, self.start_fields[k]) for k in plan_fields.keys() & self.start_fields.keys())
        self.record.start(
            **plan_fields,
            targets={
                "hr_ceiling_bpm": self.engine.hr_ceiling_bpm,
                "cadence_baseline_spm": self.engine.cadence_baseline_spm_,
                "cadence_rise_pct": self.engine.cadence_rise_pct,
            },
            plan=[i.as_record() for i in self.plan.intervals],
            planned_duration_s=self.plan.duration_s,
            engine={"heads_up_s": config.heads_up_s, "countdown": config.countdown, "step_s": self.step_s},
            **{k: v for k, v in self.start_fields.items() if k not in plan_fields},
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

    def _tick(self) -> None:
        self._apply_controls(self._now)
        if self.source_ended and self.engine.state_ != "ended":
            end_t = max(self._now, self._data_t)
            if self.stop_when_source_ends:
                self._advance_to(end_t)
                self._step_engine(end_t)
                self._release(self.engine.stop(self._now, "source_ended"))
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

    def _end_fields(self) -> dict[str, Any]:
        return {"plan_duration_done_s": round(self.engine.plan_t, 3)}


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
    start_fields: dict[str, Any] | None = None  # more session_start fields (coach walk: activity, no stage)


async def run_session(opts: SessionOptions) -> RunResult:
    """Load the plan, open the session folder, the voice, the sensor and the display; run; close everything.

    Ctrl-C (SIGINT) and SIGTERM (``systemctl stop``) end the session cleanly from the moment this starts: the
    folder and summary are written, the session is marked stopped and :attr:`RunResult.stopped_by_signal` names the
    signal (the CLI exits 130, docs/raspberry-pi.md). A second Ctrl-C interrupts at once.
    """
    from coach.plan.programme import load_programme

    plan = opts.plan or load_programme(opts.programme).plan(opts.stage)
    # a bad moniker or a missing file fails before a session folder is made
    moniker = check_sensor(opts.sensor)
    config = EngineConfig(
        heads_up_s=opts.heads_up_s,
        countdown=opts.countdown,
        hr_ceiling_bpm=opts.hr_ceiling_bpm,
        cadence_baseline_spm=opts.cadence_baseline_spm,
    )
    async with open_session(opts, wall=opts.clock or MonotonicClock(), moniker=moniker) as session:
        # Render every phrase before the sensor starts streaming, so the first change is heard on time.
        await session.voice.prerender(
            C.session_phrases(plan, heads_up_s=config.heads_up_s, countdown=config.countdown)
        )
        session.clock.restart()
        samples, described = await session.open_samples(loop=opts.loop, pair=opts.pair)
        assert samples is not None  # a run always has its sensor
        runner = SessionRunner(
            plan,
            samples,
            engine_config=config,
            stall_wall_s=STALL_WALL_S if moniker.kind == "ble" else None,
            stop_when_source_ends=not opts.loop,
            restart_clock=False,
            **session.parts(described, demo=opts.demo, note=opts.note),
        )
        return await session.run(runner)
