"""The session engine: runs a session plan against the live signal and decides what to say and when.

Pure and synchronous; the clock is injected by calling :meth:`SessionEngine.step` with the current session time, so
tests drive it with a fake clock. Implements issue 5 ("Session engine"):

- the timetable: a heads-up ``heads_up_s`` before each change, an optional 3-2-1, the change itself, halfway and
  last-repeat notes, the end of the session;
- adherence: a gentle prompt when the runner is still walking ``grace_run_s`` into a run interval (or still running
  ``grace_walk_s`` into a walk interval); time to comply after each change is measured and recorded;
- advice: heart rate above the ceiling -> slow down; cadence in run intervals well under the runner's *own* baseline
  + ``cadence_rise_pct`` (Heiderscheit et al. 2011; never a fixed 180) -> "quicker, lighter steps", rarely;
  sensor lost / back;
- cues never overlap (each cue's expected speaking time is known), timetable cues always win (advice that would
  still be speaking at the next timetable cue waits or is dropped; pending advice is dropped at every change);
- pause / resume / stop.

Times: ``now_s`` is session seconds (t = 0 at the start). *Plan time* stops while paused. One session clock: the
engine accounts every whole session second that passes exactly once, with the signal it was given for it, however
often or rarely :meth:`SessionEngine.step` is called, and a cue occupies its real speaking time (at speed 1) whatever
the replay speed. So a rehearsal at ``--speed 40`` makes the decisions of a real-time session at the same session
times; only the speaker may fall behind (docs/voice.md, "Speed"). Per-interval figures come from
:func:`coach.session.adherence.interval_stats` over the seconds the engine accounted.
Records for events.jsonl (docs/formats/events.md) are collected and handed out by :meth:`pop_records`.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coach.plan.programme import PlannedInterval, SessionPlan
from coach.session import cues as C
from coach.session.adherence import GaitRow, event_figures, interval_stats
from coach.session.cues import Cue
from coach.vocabulary import MODES, RecordKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignalState:
    """What the engine knows about the runner right now."""

    mode: str = "unknown"  # walk / run / still / unknown (the estimator's latest second)
    cadence_spm: float | None = None
    hr_bpm: float | None = None
    sensor: str = "connected"  # connected / lost
    confidence: float | None = None


@dataclass(frozen=True)
class EngineConfig:
    heads_up_s: float = 10.0  # lead of the heads-up before each change (0 = none)
    countdown: bool = False  # say 3-2-1 before each change
    halfway: bool = True
    gap_s: float = 0.4  # seconds of silence kept between two cues
    mode_hold_s: float = 3.0  # a detected mode must last this long to count (debounce)
    grace_run_s: float = 15.0  # run interval: prompt if still walking this long after the change
    grace_walk_s: float = 20.0  # walk interval: prompt if still running this long after the change
    prompt_repeat_s: float = 60.0
    max_prompts_per_interval: int = 2
    prompt_min_left_s: float = 10.0  # no prompt when the interval ends sooner than this
    hr_ceiling_bpm: float | None = None  # None = the plan's target
    hr_hold_s: float = 10.0
    hr_repeat_s: float = 120.0
    cadence_baseline_spm: float | None = None  # None = the plan's target, else measured
    cadence_rise_pct: float | None = None  # None = the plan's target (default 5 %)
    cadence_baseline_window_s: float = 60.0  # seconds of running used to measure the baseline
    cadence_window_s: float = 20.0  # recent running seconds compared with the target
    cadence_tolerance_pct: float = 2.0  # "well under": below target by more than this
    cadence_repeat_s: float = 300.0
    cadence_max: int = 3
    min_confidence: float = 0.3  # gait seconds below this confidence are not used for cadence
    sensor_hold_s: float = (
        3.0  # lost this long before "sensor lost" is said (the runner's timeout comes first)
    )
    sensor_repeat_s: float = 30.0
    advice_gap_s: float = 20.0  # session seconds between two advice cues at least
    duration_fn: Callable[[str], float] = field(default=C.estimate_duration_s)


@dataclass
class _IntervalStats:
    interval: PlannedInterval
    start_t: float  # session time of the actual start
    rows: list[GaitRow] = field(default_factory=list)  # one per session second accounted in this interval
    elapsed_s: float = 0.0
    comply_s: float | None = None
    prompts: int = 0
    last_prompt_p: float = -math.inf
    used_for_baseline: bool = False


def _whole(t: float) -> int:
    """The whole second at or after ``t`` (a hair under it counts as it)."""
    return math.ceil(t - 1e-9)


class SessionEngine:
    """Run ``plan``; call :meth:`step` often (every 50-100 ms of wall time); say the cues it returns."""

    def __init__(self, plan: SessionPlan, *, config: EngineConfig | None = None) -> None:
        if not plan.intervals:
            raise ValueError("the session plan has no intervals")
        self.plan = plan
        self.config = config or EngineConfig()
        cfg = self.config
        self.hr_ceiling_bpm = (
            cfg.hr_ceiling_bpm if cfg.hr_ceiling_bpm is not None else plan.targets.hr_ceiling_bpm
        )
        self.cadence_rise_pct = (
            cfg.cadence_rise_pct if cfg.cadence_rise_pct is not None else plan.targets.cadence_rise_pct
        )
        self.cadence_baseline_spm_: float | None = (
            cfg.cadence_baseline_spm
            if cfg.cadence_baseline_spm is not None
            else plan.targets.cadence_baseline_spm
        )
        self.baseline_source_ = "configured" if self.cadence_baseline_spm_ is not None else None
        self.state_ = "ready"  # ready / running / paused / ended
        self.end_reason_: str | None = None
        self.cues_: list[Cue] = []  # every cue released, in order
        self.dropped_: list[Cue] = []
        self.intervals_: list[dict[str, Any]] = []  # interval_end records
        self._records: list[dict[str, Any]] = []
        self._timetable = self._build_timetable()
        self._advice: list[tuple[Cue, float]] = []  # (cue, expires at plan time)
        self._busy_until = -math.inf  # session time when the current cue ends
        self._offset_s = 0.0
        self._last_now: float | None = None
        self._p = 0.0  # plan time
        self._pause_started: float | None = None
        self._index = -1
        self._stats: _IntervalStats | None = None
        self._candidate = "unknown"
        self._candidate_since_p = 0.0
        self._stable = "unknown"
        self._stable_since_p = 0.0
        self._next_second = 1  # the next whole plan second to account (second k-1..k is accounted at p >= k)
        self._baseline_samples: list[float] = []
        self._recent_run_cadence: list[tuple[float, float]] = []  # (plan t, spm)
        self._hr_over_since: float | None = None
        self._last_hr_cue = -math.inf
        self._last_cadence_cue = -math.inf
        self._cadence_cues = 0
        self._last_advice_p = -math.inf
        self._sensor = "connected"
        self._lost_since: float | None = None
        self._sensor_cued_lost = False
        self._last_sensor_cue = -math.inf

    # --- public ---------------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True when the session has ended and the last cue has been released."""
        return self.state_ == "ended" and not self._pending_end_cue()

    @property
    def plan_t(self) -> float:
        return self._p

    @property
    def current(self) -> PlannedInterval | None:
        if 0 <= self._index < len(self.plan.intervals):
            return self.plan.intervals[self._index]
        return None

    @property
    def stable_mode(self) -> str:
        return self._stable

    def busy_until(self) -> float:
        return self._busy_until

    def pop_records(self) -> list[dict[str, Any]]:
        """The events.jsonl records made since the last call (interval_start/_end, mode, comply, control,
        baseline). Cue records are written by whoever plays the cue, with the time it really started."""
        out, self._records = self._records, []
        return out

    def start(self, now_s: float) -> list[Cue]:
        if self.state_ != "ready":
            return []
        self.state_ = "running"
        self._offset_s = now_s
        self._last_now = now_s
        self._enter(0, now_s)
        return self._release(now_s)

    def step(self, now_s: float, signal: SignalState | None = None) -> list[Cue]:
        """Advance to session time ``now_s``; ``signal`` is what was detected over the time since the last step.

        Returns the cues to start, each with its session time ``t`` (a long step may release several). The engine
        moves at most one session second at a time, so a step of 5 s does what five steps of 1 s do with the same
        signal; a caller that wants each second judged on its own signal steps once per second (the runner does).
        """
        if self.state_ == "ready":
            cues = self.start(now_s)
            if signal is not None:
                self._observe(now_s, 0.0, signal)
            return cues
        if self._last_now is not None and now_s < self._last_now:
            now_s = self._last_now  # time never goes backwards
        dt = now_s - (self._last_now if self._last_now is not None else now_s)
        self._last_now = now_s
        if self.state_ == "running":
            return self._advance(now_s, dt, signal or SignalState())
        return self._release(now_s)

    def pause(self, now_s: float) -> list[Cue]:
        cues = self.step(now_s)
        if self.state_ != "running":
            return cues
        self.state_ = "paused"
        self._pause_started = now_s
        self._records.append({"t": round(now_s, 3), "kind": RecordKind.CONTROL, "action": "pause"})
        self._advice.clear()
        return cues + self._say_now(now_s, C.PAUSED)

    def resume(self, now_s: float) -> list[Cue]:
        if self.state_ != "paused":
            return self.step(now_s)
        now_s = max(now_s, self._last_now if self._last_now is not None else now_s)
        if self._pause_started is not None:
            self._offset_s += now_s - self._pause_started
        self._last_now = now_s
        self.state_ = "running"
        self._pause_started = None
        self._records.append({"t": round(now_s, 3), "kind": RecordKind.CONTROL, "action": "resume"})
        cues = self._say_now(now_s, C.RESUMED)
        return cues + self.step(now_s)

    def stop(self, now_s: float, reason: str = "stopped", *, say: bool = True) -> list[Cue]:
        """End the session early (``reason``: stopped, source_ended, interrupted, error)."""
        if self.state_ == "ended":
            return []
        cues = self.step(now_s) if self.state_ == "running" else []
        if self.state_ == "ended":
            return cues
        self._records.append(
            {"t": round(now_s, 3), "kind": RecordKind.CONTROL, "action": "stop", "reason": reason}
        )
        self._end_interval(now_s, "stopped")
        self.state_ = "ended"
        self.end_reason_ = reason
        self._timetable.clear()
        self._advice.clear()
        return cues + (self._say_now(now_s, C.STOPPED) if say else [])

    def next_wakeup(self) -> float | None:
        """Session time of the next timetable cue (a hint for the caller's tick), None if none is left."""
        if not self._timetable:
            return None
        return min(c.planned_t for c in self._timetable) + self._offset()

    # --- timetable ------------------------------------------------------------------------------------------

    def _cue(self, kind: str, text: str, planned_p: float, index: int | None) -> Cue:
        return Cue(
            type=kind,
            text=text,
            priority=C.PRIORITY[kind],
            planned_t=planned_p,  # plan time while queued; converted to session time on release
            interval_index=index,
            duration_s=self.config.duration_fn(text),
        )

    def _build_timetable(self) -> list[Cue]:
        cfg = self.config
        intervals = self.plan.intervals
        table: list[Cue] = []
        for i, interval in enumerate(intervals):
            table.append(self._cue(C.CHANGE, C.change_text(interval), interval.start_s, i))
            if i > 0 and cfg.heads_up_s > 0:
                planned = max(intervals[i - 1].start_s, interval.start_s - cfg.heads_up_s)
                table.append(self._cue(C.HEADS_UP, C.heads_up_text(interval, cfg.heads_up_s), planned, i))
            if i > 0 and cfg.countdown:
                for k in (3, 2, 1):
                    if interval.start_s - k > intervals[i - 1].start_s:
                        table.append(self._cue(C.COUNTDOWN, C.COUNTDOWN_TEXT[k], interval.start_s - k, i))
        end = self.plan.duration_s
        if cfg.heads_up_s > 0 and intervals[-1].duration_s > cfg.heads_up_s:
            table.append(
                self._cue(C.HEADS_UP, C.heads_up_text(None, cfg.heads_up_s), end - cfg.heads_up_s, None)
            )
        table.append(self._cue(C.SESSION_END, C.FIXED_TEXT[C.SESSION_END], end, None))
        if cfg.halfway and len(intervals) > 1:
            table.append(self._cue(C.HALFWAY, C.FIXED_TEXT[C.HALFWAY], end / 2, None))
        table.sort(key=lambda c: (c.planned_t, c.priority))
        return table

    def _offset(self) -> float:
        """Session time minus plan time (the start time plus the time spent paused)."""
        return self._offset_s

    def _second_p(self) -> float:
        """Plan time of the end of the whole second being observed: a change seen anywhere inside a second counts
        from that second's end, so it does not matter how finely the caller steps."""
        return float(_whole(self._p))

    def _speech_session_s(self, cue: Cue) -> float:
        """Session seconds a cue occupies: its real speaking time, whatever the replay speed (one session clock)."""
        return cue.duration_s + self.config.gap_s

    # --- progress -------------------------------------------------------------------------------------------

    def _advance(self, now_s: float, dt: float, signal: SignalState) -> list[Cue]:
        """Move plan time on by ``dt`` in pieces that end at every whole plan second and interval boundary; after
        each piece, update the advice and release what is due at that piece's session time."""
        cues: list[Cue] = []
        remaining = dt
        t = now_s - remaining
        while True:
            current = self.plan.intervals[self._index]
            piece = min(remaining, max(0.0, current.end_s - self._p), max(0.0, self._next_second - self._p))
            self._observe(t + piece, piece, signal)
            remaining -= piece
            t = now_s - remaining
            if self._p >= current.end_s - 1e-9:
                self._end_interval(t, "completed")
                if self._index + 1 < len(self.plan.intervals):
                    self._enter(self._index + 1, t)
                else:
                    self.state_ = "ended"
                    self.end_reason_ = "completed"
                    self._p = self.plan.duration_s
            self._update_advice()
            cues += self._release(t)
            if remaining <= 1e-9 or self.state_ != "running":
                return cues

    def _observe(self, t_s: float, dt: float, signal: SignalState) -> None:
        """Account ``dt`` seconds (at most up to the next whole plan second) of ``signal`` ending at ``t_s``."""
        self._p += dt
        stats = self._stats
        lost = signal.sensor == "lost"
        mode = signal.mode if not lost and signal.mode in MODES else "unknown"
        if stats is not None:
            stats.elapsed_s += dt
        self._track_sensor(signal.sensor)
        self._track_mode(t_s, mode)
        while self._p >= self._next_second - 1e-9:
            self._account_second(self._next_second - 1, signal, mode)
            self._next_second += 1
        if signal.hr_bpm is not None and not lost and self.hr_ceiling_bpm is not None:
            if signal.hr_bpm > self.hr_ceiling_bpm:
                if self._hr_over_since is None:
                    self._hr_over_since = self._second_p()
            else:
                self._hr_over_since = None

    def _account_second(self, second: int, signal: SignalState, mode: str) -> None:
        """One whole plan second (``second`` .. ``second + 1``) with ``signal``: a row for the interval's figures, and
        the running cadence used for the baseline and the cadence advice."""
        stats = self._stats
        if stats is None:
            return
        lost = signal.sensor == "lost"
        confident = signal.confidence is None or signal.confidence >= self.config.min_confidence
        cadence = None if lost or signal.cadence_spm is None or not confident else float(signal.cadence_spm)
        stats.rows.append(
            GaitRow(
                t=second + 1 + self._offset(),  # when it was known: at the end of the second
                mode=mode,
                cadence_spm=cadence,
                hr_bpm=None if lost or signal.hr_bpm is None else float(signal.hr_bpm),
            )
        )
        if cadence is None or not (
            mode == "run" and self._stable == "run" and stats.interval.activity == "run"
        ):
            return
        self._recent_run_cadence.append((self._p, cadence))
        cutoff = self._p - self.config.cadence_window_s
        self._recent_run_cadence = [(p, c) for p, c in self._recent_run_cadence if p > cutoff]
        if self.cadence_baseline_spm_ is not None:
            return
        self._baseline_samples.append(cadence)
        stats.used_for_baseline = True
        if len(self._baseline_samples) >= self.config.cadence_baseline_window_s:  # one sample per second
            self.cadence_baseline_spm_ = round(statistics.median(self._baseline_samples), 1)
            self.baseline_source_ = "measured"
            self._records.append(
                {
                    "t": round(self._p + self._offset(), 3),
                    "kind": RecordKind.BASELINE,
                    "cadence_baseline_spm": self.cadence_baseline_spm_,
                    "source": "measured",
                    "seconds": len(self._baseline_samples),
                }
            )

    def _track_sensor(self, sensor: str) -> None:
        if sensor == self._sensor:
            return
        self._sensor = sensor
        if sensor == "lost":
            self._lost_since = self._second_p()
            return
        self._lost_since = None
        lost_pending = [c for c, _ in self._advice if c.type == C.SENSOR_LOST]
        if lost_pending:  # it came back before we said it was lost: say nothing
            self._advice = [(c, e) for c, e in self._advice if c.type != C.SENSOR_LOST]
        elif self._sensor_cued_lost:
            self._queue(C.SENSOR_BACK, expires_in=20.0)
        self._sensor_cued_lost = False

    def _track_mode(self, t_s: float, mode: str) -> None:
        if mode != self._candidate:
            self._candidate = mode
            self._candidate_since_p = self._second_p()
        held = self._p - self._candidate_since_p >= self.config.mode_hold_s - 1e-9
        if self._candidate != self._stable and held:
            previous = self._stable
            self._stable = self._candidate
            self._stable_since_p = self._candidate_since_p
            since_t = self._candidate_since_p + self._offset()
            self._records.append(
                {"t": round(since_t, 3), "kind": RecordKind.MODE, "mode": self._stable, "previous": previous}
            )
        stats = self._stats
        if stats is not None and stats.comply_s is None and self._stable == stats.interval.activity:
            began_p = max(self._stable_since_p, stats.interval.start_s)
            stats.comply_s = round(began_p - stats.interval.start_s, 3)
            self._records.append(
                {
                    "t": round(began_p + self._offset(), 3),
                    "kind": RecordKind.COMPLY,
                    "interval_index": stats.interval.index,
                    "activity": stats.interval.activity,
                    "change_t": round(stats.start_t, 3),
                    "time_to_comply_s": stats.comply_s,
                }
            )

    def _enter(self, index: int, t_s: float) -> None:
        self._index = index
        interval = self.plan.intervals[index]
        self._stats = _IntervalStats(interval=interval, start_t=t_s)
        self._advice.clear()  # the change wins: advice about the last interval is stale
        self._records.append(
            {
                "t": round(t_s, 3),
                "kind": RecordKind.INTERVAL_START,
                "index": index,
                "activity": interval.activity,
                "planned_duration_s": interval.duration_s,
                "label": interval.label,
                "repeat": interval.repeat,
                "repeats": interval.repeats,
                "planned_t": round(interval.start_s, 3),
            }
        )
        # Comply check at once: the runner may already be doing it.
        self._track_mode(t_s, self._candidate)

    def _end_interval(self, t_s: float, reason: str) -> None:
        stats = self._stats
        if stats is None:
            return
        self._stats = None
        figures = event_figures(interval_stats(stats.rows, stats.start_t, math.inf, stats.interval.activity))
        record = {
            "t": round(t_s, 3),
            "kind": RecordKind.INTERVAL_END,
            "index": stats.interval.index,
            "activity": stats.interval.activity,
            "planned_duration_s": stats.interval.duration_s,
            "actual_duration_s": round(stats.elapsed_s, 3),
            "reason": reason,
            **figures,
            "prompts": stats.prompts,
            "label": stats.interval.label,
            "start_t": round(stats.start_t, 3),
        }
        self._records.append(record)
        self.intervals_.append(record)

    # --- advice ---------------------------------------------------------------------------------------------

    def _queue(self, kind: str, *, expires_in: float, text: str | None = None) -> None:
        if any(c.type == kind for c, _ in self._advice):
            return
        index = self.current.index if self.current is not None else None
        cue = self._cue(kind, text or C.FIXED_TEXT[kind], self._p, index)
        self._advice.append((cue, self._p + expires_in))

    def _update_advice(self) -> None:
        """Decide which advice is due now (adherence, heart rate, cadence)."""
        stats = self._stats
        cfg = self.config
        if stats is None or self.state_ != "running":
            return
        interval = stats.interval
        left = interval.end_s - self._p
        stable = self._stable
        mismatch = (interval.activity == "run" and stable in ("walk", "still")) or (
            interval.activity == "walk" and stable == "run"
        )
        if mismatch and left >= cfg.prompt_min_left_s and stats.prompts < cfg.max_prompts_per_interval:
            since = max(self._stable_since_p, interval.start_s)
            grace = cfg.grace_run_s if interval.activity == "run" else cfg.grace_walk_s
            if self._p - since >= grace and self._p - stats.last_prompt_p >= cfg.prompt_repeat_s:
                kind = C.PROMPT_RUN if interval.activity == "run" else C.PROMPT_WALK
                if not any(c.type == kind for c, _ in self._advice):
                    self._queue(kind, expires_in=min(10.0, left))
                    stats.prompts += 1
                    stats.last_prompt_p = self._p
        if (
            self._lost_since is not None
            and not self._sensor_cued_lost
            and self._p - self._lost_since >= cfg.sensor_hold_s
            and self._p - self._last_sensor_cue >= cfg.sensor_repeat_s
        ):
            self._queue(C.SENSOR_LOST, expires_in=60.0)
        if (
            self._hr_over_since is not None
            and self._p - self._hr_over_since >= cfg.hr_hold_s
            and self._p - self._last_hr_cue >= cfg.hr_repeat_s
        ):
            self._queue(C.HR_HIGH, expires_in=30.0)
            self._last_hr_cue = self._p
        baseline = self.cadence_baseline_spm_
        if (
            baseline is not None
            and interval.activity == "run"
            and stable == "run"
            and not stats.used_for_baseline
            and self._cadence_cues < cfg.cadence_max
            and self._p - self._last_cadence_cue >= cfg.cadence_repeat_s
            and self._p - max(self._stable_since_p, interval.start_s) >= cfg.cadence_window_s
            and len(self._recent_run_cadence) >= cfg.cadence_window_s * 0.75
            and left >= cfg.prompt_min_left_s
        ):
            recent = statistics.median(c for _, c in self._recent_run_cadence)
            target = baseline * (1 + self.cadence_rise_pct / 100)
            if recent < target * (1 - cfg.cadence_tolerance_pct / 100):
                self._queue(C.CADENCE, expires_in=15.0)
                self._last_cadence_cue = self._p
                self._cadence_cues += 1

    # --- releasing cues -------------------------------------------------------------------------------------

    def _pending_end_cue(self) -> bool:
        return any(c.type == C.SESSION_END for c in self._timetable)

    def _drop(self, cue: Cue, now_s: float, why: str) -> None:
        logger.debug("dropped cue %s (%s)", cue.type, why)
        dropped = Cue(**{**cue.__dict__, "planned_t": cue.planned_t + self._offset()})
        self.dropped_.append(dropped)
        self._records.append(dropped.as_record(t=now_s, dropped=True, why=why))

    def _release(self, now_s: float) -> list[Cue]:
        if self.state_ == "paused":
            return []
        p = self._p
        # Drop timetable cues that can no longer be said in time.
        keep: list[Cue] = []
        for cue in self._timetable:
            if cue.planned_t > p + 1e-9:
                keep.append(cue)
                continue
            target = self.plan.intervals[cue.interval_index] if cue.interval_index is not None else None
            change_p = target.start_s if target is not None else self.plan.duration_s
            if cue.type in (C.HEADS_UP, C.COUNTDOWN) and (
                p >= change_p - 1e-9 or p + self._speech_session_s(cue) > change_p + 1e-9
            ):
                self._drop(cue, now_s, "no time left before the change")
            elif cue.type == C.CHANGE and target is not None and p >= target.end_s - 1e-9:
                self._drop(cue, now_s, "the interval is over")
            elif cue.type == C.HALFWAY and p - cue.planned_t > 20.0:
                self._drop(cue, now_s, "too late")
            else:
                keep.append(cue)
        self._timetable = keep
        live: list[tuple[Cue, float]] = []
        for cue, expires in self._advice:
            if expires > p:
                live.append((cue, expires))
            else:
                self._drop(cue, now_s, "expired")
        self._advice = live
        if now_s < self._busy_until - 1e-9:
            return []
        upcoming = [c.planned_t for c in self._timetable if c.type in C.TIMETABLE and c.planned_t > p + 1e-9]
        next_fixed = min(upcoming) if upcoming else math.inf
        due = [c for c in self._timetable if c.planned_t <= p + 1e-9]
        # Timetable cues go at once; notes (halfway) only if they end before the next timetable cue.
        due = [c for c in due if c.type in C.TIMETABLE or p + self._speech_session_s(c) <= next_fixed + 1e-9]
        if due:
            cue = min(due, key=lambda c: (c.priority, c.planned_t))
            self._timetable.remove(cue)
            return [self._start(cue, now_s, cue.planned_t + self._offset())]
        if self.state_ != "running" or not self._advice:
            return []
        if p - self._last_advice_p < self.config.advice_gap_s and self._last_advice_p > -math.inf:
            return []
        for cue, expires in sorted(self._advice, key=lambda ce: (ce[0].priority, ce[0].planned_t)):
            if p + self._speech_session_s(cue) <= next_fixed + 1e-9:
                self._advice.remove((cue, expires))
                self._last_advice_p = p
                if cue.type == C.SENSOR_LOST:
                    self._sensor_cued_lost = True
                    self._last_sensor_cue = p
                return [self._start(cue, now_s, cue.planned_t + self._offset())]
        return []

    def _start(self, cue: Cue, now_s: float, planned_t: float) -> Cue:
        started = Cue(**{**cue.__dict__, "planned_t": round(planned_t, 3), "t": round(now_s, 3)})
        self._busy_until = now_s + self._speech_session_s(cue)
        self.cues_.append(started)
        return started

    def _say_now(self, now_s: float, kind: str) -> list[Cue]:
        """A control cue (paused, resumed, stopped): said as soon as the current cue ends."""
        index = self.current.index if self.current is not None else None
        cue = self._cue(kind, C.FIXED_TEXT[kind], self._p, index)
        start = max(now_s, self._busy_until)
        started = Cue(**{**cue.__dict__, "planned_t": round(now_s, 3), "t": round(start, 3)})
        self._busy_until = start + self._speech_session_s(cue)
        self.cues_.append(started)
        return [started]
