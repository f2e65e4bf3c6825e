"""Gait analysis of a whole recording, after the run or as live, plus segments and a summary.

:class:`GaitAnalysis` feeds the recording through :class:`StreamingGaitEstimator` (its results do not depend on
how the samples are split into blocks, so ``estimator="live"`` gives exactly what the live coach saw) and, by
default (``estimator="after-run"``), re-reads those seconds with context on both sides
(:class:`coach.signal.offline.AfterRunEstimator`: centred cadence, walk/run with context, bouts from their first
step, the steps the live detector missed recovered by :class:`coach.signal.offline_steps.StepRecovery`). This is
the one place where after-the-run figures are computed from a recording (``coach analyze``, the importer, and
through it the report and exports). Recordings without accelerometer (FIT files) get a timeline
built from the device's cadence stream instead (see :func:`device_cadence_timeline`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from coach.signal.decision import ModeHysteresis
from coach.signal.dsp import median
from coach.signal.gait import MODES, GaitSecond, StreamingGaitEstimator
from coach.signal.offline import AfterRunEstimator
from coach.signal.offline_steps import StepRecovery
from sensors.units import cadence_unit

logger = logging.getLogger(__name__)

_BLOCK_SAMPLES = 60_000
#: The two estimators: ``after-run`` (centred, the default of every after-the-run figure) and ``live`` (causal).
ESTIMATORS = ("after-run", "live")


class GaitAnalysis:
    """Cadence, steps, walk/run/still timeline, segments and summary of one recording.

    ``GaitAnalysis(estimator=..., **params).analyze(t_s, xyz_g, foot_pod=..., heart_rate=...)`` where
    ``params`` are those of :class:`StreamingGaitEstimator` and ``estimator`` is ``"after-run"`` (the default:
    the live seconds re-read with context on both sides, :class:`~coach.signal.offline.AfterRunEstimator`) or
    ``"live"`` (exactly the live timeline). Results (times in seconds from the first sample):
    ``sampling_rate_hz_``, ``duration_s_``, ``timeline_`` (one dict per second: ``t``, ``cadence_spm``, ``mode``,
    ``confidence``), ``steps_``, ``segments_`` (``start``, ``end``, ``mode``, ``cadence_spm``), ``summary_``,
    ``seconds_`` (the raw :class:`GaitSecond` objects), ``source_`` (``"accelerometer"`` or ``"device"``) and
    ``notes_`` (what the analysis assumed).

    ``foot_pod`` rows are ``(t_s, cadence_spm[, speed_mps])`` in steps/min: whether a device counts strides is
    decided once, at ingest (:func:`sensors.units.cadence_unit`, applied by :mod:`coach.signal.io`).
    """

    def __init__(self, *, estimator: str = "after-run", **params: Any) -> None:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
        self.estimator = estimator
        self.params = params
        StreamingGaitEstimator(**params)  # validate early

    def analyze(
        self,
        t_s: Sequence[float] | np.ndarray | None,
        xyz_g: Any,
        *,
        foot_pod: Sequence[Sequence[float]] | None = None,
        heart_rate: Sequence[Sequence[float]] | None = None,
    ) -> GaitAnalysis:
        foot_pod = list(foot_pod or [])
        heart_rate = list(heart_rate or [])
        self.notes_: list[str] = []
        if xyz_g is None or t_s is None or len(t_s) == 0:
            return self._analyze_device(foot_pod, heart_rate)
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        x = np.asarray(xyz_g, dtype=np.float64)
        if x.ndim != 2 or x.shape != (t.size, 3):
            raise ValueError(f"xyz_g must have shape (n, 3) matching t_s, got {x.shape} for {t.size} times")
        if t.size < 2:
            raise ValueError("need at least two samples")
        est = StreamingGaitEstimator(**self.params)
        for row in foot_pod:
            est.feed_foot_pod(float(row[0]), float(row[1]))
        for row in heart_rate:
            est.feed_heart_rate(float(row[0]), float(row[1]))
        seconds: list[GaitSecond] = []
        # Blocks of a few minutes bound the memory of the vectorised per-second stage; results do not depend
        # on the block size (the estimator is block-invariant, see tests/test_signal_gait.py).
        for start in range(0, t.size, _BLOCK_SAMPLES):
            seconds.extend(est.feed_acc(t[start : start + _BLOCK_SAMPLES], x[start : start + _BLOCK_SAMPLES]))
        t0 = float(t[0])
        dt = np.diff(t)
        dt = dt[(dt > 0) & (dt <= est.gap_s)]
        self.sampling_rate_hz_ = 1.0 / median(dt) if dt.size else float("nan")
        self.duration_s_ = float(t[-1] - t0)
        self.source_ = "accelerometer"
        self.live_seconds_ = seconds
        if self.estimator == "after-run":
            after = AfterRunEstimator(window_s=est.window_s, gap_hold_s=est.gap_hold_s)
            recovery = StepRecovery(
                internal_rate_hz=est.internal_rate_hz,
                gravity_window_s=est.gravity_window_s,
                lowpass_hz=est.lowpass_hz,
                lowpass_length_s=est.lowpass_length_s,
                gap_s=est.gap_s,
                rise_fraction=est.step_rise_fraction,
                min_distance_periods=est.step_min_distance_periods,
                edge_reach_s=after.step_reach_s,
            )
            seconds = after.refine(
                seconds,
                est.gate,
                est.foot_pod_blend,
                signal=(t, x),
                recovery=recovery,
                run_score=est.run_score,
            )
        self._finish(seconds, t0)
        return self

    def _analyze_device(
        self, foot_pod: list[Sequence[float]], heart_rate: list[Sequence[float]]
    ) -> GaitAnalysis:
        if not foot_pod:
            raise ValueError("no accelerometer and no device cadence: nothing to analyse")
        # foot_pod is steps/min: steps vs strides was decided at ingest (coach.signal.io, sensors.units)
        seconds, t0, duration = device_cadence_timeline(foot_pod)
        self.sampling_rate_hz_ = 1.0
        self.duration_s_ = duration
        self.source_ = "device"
        self._finish(seconds, t0)
        return self

    def _finish(self, seconds: list[GaitSecond], t0: float) -> None:
        self.seconds_ = seconds
        self.timeline_ = [
            {
                "t": round(s.t - t0, 3),
                "cadence_spm": s.cadence_spm,
                "mode": s.mode,
                "confidence": s.confidence,
            }
            for s in seconds
        ]
        self.steps_ = [round(st - t0, 4) for s in seconds for st in s.steps]
        self.segments_ = segments_from_timeline(self.timeline_, self.steps_)
        self.summary_ = summarize(self.timeline_, self.steps_, self.segments_)


def segments_from_timeline(timeline: list[dict[str, Any]], steps: Sequence[float]) -> list[dict[str, Any]]:
    """Runs of equal mode. A gait segment's cadence is from its steps (count / time) when it has enough of
    them, else the median of its per-second cadence."""
    segs: list[dict[str, Any]] = []
    st = np.asarray(steps, dtype=np.float64)
    for row in timeline:
        if segs and segs[-1]["mode"] == row["mode"] and abs(segs[-1]["end"] - row["t"]) < 1e-6:
            segs[-1]["end"] = row["t"] + 1.0
            segs[-1]["_cad"].append(row["cadence_spm"])
        else:
            segs.append(
                {"start": row["t"], "end": row["t"] + 1.0, "mode": row["mode"], "_cad": [row["cadence_spm"]]}
            )
    out = []
    for s in segs:
        cads = [c for c in s.pop("_cad") if c is not None]
        cad: float | None = None
        if s["mode"] in ("walk", "run") and cads:
            cad = median(cads)
            inside = st[(st >= s["start"]) & (st < s["end"])]
            if inside.size >= 6:
                span = float(inside[-1] - inside[0])
                from_steps = 60.0 * (inside.size - 1) / span if span > 0 else math.nan
                if math.isfinite(from_steps) and abs(from_steps / cad - 1.0) < 0.1:
                    cad = from_steps
        s["cadence_spm"] = None if cad is None else round(cad, 2)
        out.append(s)
    return out


def summarize(
    timeline: list[dict[str, Any]], steps: Sequence[float], segments: list[dict[str, Any]]
) -> dict[str, Any]:
    seconds: dict[str, int] = dict.fromkeys(MODES, 0)
    cad: dict[str, list[float]] = {"walk": [], "run": []}
    for row in timeline:
        seconds[row["mode"]] += 1
        if row["mode"] in cad and row["cadence_spm"] is not None:
            cad[row["mode"]].append(row["cadence_spm"])
    gait = [s for s in segments if s["mode"] in ("walk", "run")]
    return {
        "seconds_walking": seconds["walk"],
        "seconds_running": seconds["run"],
        "seconds_still": seconds["still"],
        "seconds_unknown": seconds["unknown"],
        "cadence_walk_spm": round(median(cad["walk"]), 2) if cad["walk"] else None,
        "cadence_run_spm": round(median(cad["run"]), 2) if cad["run"] else None,
        "step_count": len(steps),
        "walk_segments": sum(1 for s in gait if s["mode"] == "walk"),
        "run_segments": sum(1 for s in gait if s["mode"] == "run"),
    }


def device_cadence_unit(foot_pod: Sequence[Sequence[float]], **params: Any) -> tuple[float, str | None]:
    """``(factor, note)`` of the one steps-vs-strides rule, :func:`sensors.units.cadence_unit` (``params`` are
    its keyword parameters): ``(2.0, why)`` when the ``(t_s, cadence[, speed_mps])`` rows look like strides/min,
    else ``(1.0, None)``. Kept for the live foot pod's call site (coach/session/runner.py); new code calls the rule."""
    decision = cadence_unit(foot_pod, **params)
    return decision.factor, decision.note


def device_cadence_timeline(
    foot_pod: list[Sequence[float]],
    *,
    run_cadence_spm: float = 140.0,
    run_speed_mps: float = 2.2,
    max_age_s: float = 5.0,
    switch_s: int = 2,
) -> tuple[list[GaitSecond], float, float]:
    """Per-second timeline from a device cadence stream (FIT records): ``(t_s, cadence_spm[, speed_mps])``.

    Without an accelerometer there are no impact features: the mode comes from cadence and, when present,
    speed (run when cadence >= ``run_cadence_spm`` or speed >= ``run_speed_mps``; still when the cadence is
    missing or below 40), with the same hysteresis as the accelerometer path. Steps are not available.
    """
    rows = sorted((float(r[0]), r[1], r[2] if len(r) > 2 else None) for r in foot_pod)
    t0 = rows[0][0]
    t_last = rows[-1][0]
    n = math.floor(t_last - t0) + 1
    times = np.array([r[0] for r in rows])
    out: list[GaitSecond] = []
    hysteresis = ModeHysteresis(switch_s=switch_s, switch_still_s=switch_s)
    for k in range(n):
        t = t0 + k
        j = int(np.searchsorted(times, t + 1.0, side="left")) - 1
        cad = spd = None
        if j >= 0 and t + 1.0 - times[j] <= max_age_s:
            cad, spd = rows[j][1], rows[j][2]
        if cad is None or not math.isfinite(float(cad)):
            raw = "unknown"
        elif cad < 40:
            raw = "still"
        elif cad >= run_cadence_spm or (spd is not None and spd >= run_speed_mps):
            raw = "run"
        else:
            raw = "walk"
        mode = hysteresis.update(raw)
        c_out = float(cad) if mode in ("walk", "run") and cad is not None and cad >= 40 else None
        out.append(
            GaitSecond(t=t, cadence_spm=c_out, confidence=0.5 if c_out else 0.0, mode=mode, raw_mode=raw)
        )
    return out, t0, t_last - t0
