"""The after-the-run estimator: the live estimator's per-second features and steps, re-read with both sides known.

The live estimator (:class:`coach.signal.StreamingGaitEstimator`) must answer for second ``t`` from data up to
``t + 1``: its cadence describes the trailing ``window_s`` (about ``[t - 4, t + 1]``, so it lags about 2 s), a
mode change waits ``switch_s`` seconds of agreement, and the first seconds of a bout are ``unknown`` while the
autocorrelation window still holds the standing seconds. After the run none of that is needed.
:class:`AfterRunEstimator` takes the live :class:`~coach.signal.GaitSecond` objects of a whole recording (every
one carries its hop's features, run score and steps) and re-decides each second from windows *centred* on it:

1. **Gait or not.** A second is in gait when it is active (its own vertical RMS at least ``still_rms_g``), an
   autocorrelation window that covers it (the hops ending up to ``window_s - 1`` seconds later) found a step
   rhythm, and a step event lies within ``step_reach_s`` of it; a single quiet or arrhythmic second between two
   gait seconds (a turn, a missed hop) is filled. So a bout starts at its first steps, not when the trailing
   window has filled, and ends within a second of the last step.
2. **Walk or run.** The per-second run score of the live rule (impact size and the flight phase, features over
   ``[t - 1, t + 1]``) is averaged over ``context_s`` seconds centred on the second, inside the bout, and the
   sign decides; a stretch of walk or run shorter than ``min_mode_s`` between two stretches of the other mode is
   merged into them. So one impact-like second inside a walk, or one soft second inside a run, does not flip the
   mode, and a real change is placed where the features change, not ``switch_s`` later.
3. **Cadence.** The autocorrelation period of the hop whose window is centred on the second (``window_s / 2``
   later, clamped to the bout) is blended (``step_cadence_weight``) with the step rate over whole strides in
   ``step_window_s`` centred on the second (stride intervals between ``consistent_stride_periods`` of the ACF
   stride, so a pause or a split step does not count), inside the bout. Where the rhythm is weak (confidence
   below ``relaxed_confidence``) or absent at the bout's edges, the steps alone give it.
4. **Still and unknown** keep the live per-second decision, with one-second blips between two equal modes
   removed; a gap keeps the bout's mode for up to ``gap_hold_s`` seconds, as live.

Steps are the live step events (each reported in the second it falls in). The result is one
:class:`~coach.signal.GaitSecond` per second, ``raw_mode`` the offline decision before the blip filter;
``features`` keep the live diagnostics of the second's own hop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from coach.signal.decision import GAIT_MODES, GaitGate
from coach.signal.gait import GaitSecond

__all__ = ["AfterRunEstimator"]


class AfterRunEstimator:
    """Re-decides a recording's live seconds with context on both sides (module docstring).

    Parameters are keyword-only; ``gate`` is the live :class:`~coach.signal.decision.GaitGate` (its
    ``still_rms_g``, ``min_confidence`` and gap rule are reused, one truth for "active" and "rhythm").
    """

    def __init__(
        self,
        *,
        window_s: float = 5.0,
        context_s: int = 5,
        min_mode_s: int = 3,
        step_reach_s: float = 1.0,
        step_window_s: float = 6.0,
        step_cadence_weight: float = 0.5,
        relaxed_confidence: float = 0.6,
        consistent_stride_periods: tuple[float, float] = (1.4, 2.8),
        min_strides: int = 2,
        gap_hold_s: int = 3,
    ) -> None:
        self.window_s = window_s
        self.context_s = context_s
        self.min_mode_s = min_mode_s
        self.step_reach_s = step_reach_s
        self.step_window_s = step_window_s
        self.step_cadence_weight = step_cadence_weight
        self.relaxed_confidence = relaxed_confidence
        self.consistent_stride_periods = consistent_stride_periods
        self.min_strides = min_strides
        self.gap_hold_s = gap_hold_s

    # ------------------------------------------------------------------ entry point
    def refine(self, seconds: Sequence[GaitSecond], gate: GaitGate) -> list[GaitSecond]:
        """The after-the-run seconds of a recording, from its live ``seconds`` (all of them, in order)."""
        n = len(seconds)
        if n == 0 or any(s.features is None for s in seconds):
            return list(seconds)
        hops = [s.features.hop for s in seconds if s.features is not None]
        t0 = seconds[0].t
        gap = np.array([gate.is_gap(f) for f in hops])
        rhythm = np.array([gate.in_gait(f) for f in hops])
        active = np.array([f.hop_rms_g >= gate.still_rms_g for f in hops]) & ~gap
        conf = np.array([f.confidence for f in hops])
        z = np.array(
            [
                np.nan if s.features is None or s.features.run_score is None else s.features.run_score
                for s in seconds
            ]
        )
        acf = np.array(
            [
                np.nan
                if s.features is None or s.features.cadence_acf_spm is None
                else s.features.cadence_acf_spm
                for s in seconds
            ]
        )
        steps = np.array(sorted(st - t0 for s in seconds for st in s.steps), dtype=np.float64)

        gait = self._gait(active, rhythm, gap, steps)
        bouts = _runs(gait)
        mode = np.array([_non_gait_mode(s.raw_mode) for s in seconds], dtype=object)
        cadence = np.full(n, np.nan)
        for a, b in bouts:
            mode[a:b] = self._walk_run(z, a, b, n)
            cadence[a:b] = self._cadence(acf, conf, rhythm, steps, a, b)
        raw = mode.copy()
        mode = self._hold_gaps(mode, gap, cadence)
        mode = _remove_blips(mode)
        for k in range(
            1, n
        ):  # a second that became walk or run by the blip filter keeps the cadence before it
            if mode[k] in GAIT_MODES and not math.isfinite(cadence[k]):
                cadence[k] = cadence[k - 1]
        out: list[GaitSecond] = []
        idx = np.searchsorted(steps, np.arange(n + 1), side="left")
        for k, s in enumerate(seconds):
            m = str(mode[k])
            c = cadence[k] if m in GAIT_MODES else math.nan
            out.append(
                replace(
                    s,
                    cadence_spm=round(float(c), 3) if math.isfinite(c) else None,
                    confidence=round(float(conf[k]) if gait[k] else 0.0, 4),
                    mode=m,
                    steps=tuple(t0 + float(x) for x in steps[idx[k] : idx[k + 1]]),
                    raw_mode=str(raw[k]),
                )
            )
        return out

    # ------------------------------------------------------------------ 1. gait or not
    def _gait(
        self,
        active: np.ndarray,
        rhythm: np.ndarray,
        gap: np.ndarray,
        steps: np.ndarray,
    ) -> np.ndarray:
        n = active.size
        ahead = max(0, math.ceil(self.window_s) - 1)  # hops whose ACF window covers this second
        covered = np.zeros(n, dtype=bool)
        for d in range(ahead + 1):
            covered[: n - d] |= rhythm[d:]
        k = np.arange(n, dtype=np.float64)
        lo = np.searchsorted(steps, k - self.step_reach_s, side="left")
        hi = np.searchsorted(steps, k + 1.0 + self.step_reach_s, side="left")
        near_step = hi > lo
        gait = (active & covered & near_step) | (rhythm & near_step)
        # a single quiet or arrhythmic second between two gait seconds (a turn, a missed hop) is gait
        fill = np.zeros(n, dtype=bool)
        fill[1:-1] = gait[:-2] & gait[2:] & ~gait[1:-1] & ~gap[1:-1]
        return gait | fill

    # ------------------------------------------------------------------ 2. walk or run
    def _walk_run(self, z: np.ndarray, a: int, b: int, n: int) -> np.ndarray:
        # hop k's features cover [k - 1, k + 1]: second k ([k, k + 1)) is centred between hops k and k + 1
        zc = np.empty(b - a)
        for i, k in enumerate(range(a, b)):
            vals = [z[j] for j in (k, k + 1) if j < n and a <= j < b + 1 and math.isfinite(z[j])]
            zc[i] = float(np.mean(vals)) if vals else math.nan
        if not np.isfinite(zc).any():
            return np.full(b - a, "walk", dtype=object)
        # seconds without a score take the nearest scored one
        ok = np.flatnonzero(np.isfinite(zc))
        pos = np.arange(b - a)
        nearest = ok[np.clip(np.searchsorted(ok, pos), 0, ok.size - 1)]
        before = ok[np.clip(np.searchsorted(ok, pos) - 1, 0, ok.size - 1)]
        pick = np.where(np.abs(before - pos) <= np.abs(nearest - pos), before, nearest)
        zc = zc[pick]
        half = self.context_s // 2
        csum = np.concatenate(([0.0], np.cumsum(zc)))
        lo = np.clip(pos - half, 0, b - a)
        hi = np.clip(pos + half + 1, 0, b - a)
        smooth = (csum[hi] - csum[lo]) / (hi - lo)
        run = smooth > 0
        # a stretch shorter than min_mode_s between two stretches of the other mode is merged into them
        for s0, s1 in _runs(run) + _runs(~run):
            if s1 - s0 < self.min_mode_s and s0 > 0 and s1 < run.size:
                run[s0:s1] = not run[s0]
        return np.where(run, "run", "walk").astype(object)

    # ------------------------------------------------------------------ 3. cadence
    def _cadence(
        self,
        acf: np.ndarray,
        conf: np.ndarray,
        rhythm: np.ndarray,
        steps: np.ndarray,
        a: int,
        b: int,
    ) -> np.ndarray:
        n = acf.size
        lead = round(self.window_s / 2.0 - 0.5)  # the hop whose ACF window is centred on the second
        ok = np.flatnonzero(rhythm[a : min(n, b + lead)] & np.isfinite(acf[a : min(n, b + lead)])) + a
        bout_steps = steps[(steps >= a - self.step_reach_s) & (steps < b + self.step_reach_s)]
        out = np.full(b - a, np.nan)
        half = self.step_window_s / 2.0
        w = self.step_cadence_weight
        lo_p, hi_p = self.consistent_stride_periods
        for i, k in enumerate(range(a, b)):
            c_acf = math.nan
            c_conf = 0.0
            if ok.size:
                j = int(ok[np.argmin(np.abs(ok - (k + lead)))])
                c_acf, c_conf = float(acf[j]), float(conf[j])
            centre = k + 0.5
            st = bout_steps[(bout_steps >= centre - half) & (bout_steps <= centre + half)]
            c_steps = math.nan
            if st.size >= 3:
                strides = st[2:] - st[:-2]
                if math.isfinite(c_acf):
                    period = 60.0 / c_acf
                    strides = strides[(strides >= lo_p * period) & (strides <= hi_p * period)]
                else:
                    med = float(np.median(strides))
                    strides = strides[(strides >= 0.7 * med) & (strides <= 1.4 * med)]
                if strides.size >= self.min_strides:
                    c_steps = 120.0 * strides.size / float(strides.sum())
            if math.isfinite(c_acf) and math.isfinite(c_steps):
                out[i] = w * c_steps + (1.0 - w) * c_acf if c_conf >= self.relaxed_confidence else c_steps
            elif math.isfinite(c_steps):
                out[i] = c_steps
            else:
                out[i] = c_acf
        return out

    # ------------------------------------------------------------------ 4. gaps
    def _hold_gaps(self, mode: np.ndarray, gap: np.ndarray, cadence: np.ndarray) -> np.ndarray:
        out = mode.copy()
        for a, b in _runs(gap):
            if a > 0 and out[a - 1] in GAIT_MODES:
                hold = min(b, a + self.gap_hold_s)
                out[a:hold] = out[a - 1]
                cadence[a:hold] = cadence[a - 1]
        return out


def _non_gait_mode(raw: str) -> str:
    return "still" if raw == "still" else "unknown"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of True in a boolean array."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _remove_blips(mode: np.ndarray) -> np.ndarray:
    """A one-second mode between two seconds of one same other mode takes that mode."""
    out = mode.copy()
    for k in range(1, out.size - 1):
        if out[k - 1] == out[k + 1] != out[k]:
            out[k] = out[k - 1]
    return out
