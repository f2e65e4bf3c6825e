"""After-the-run step recovery: the steps the live detector missed, found with the bout's own step period.

The live step detector (:class:`coach.signal.steps.StepDetector`) runs on a causal signal (gravity from the past
``gravity_window_s``, a delayed low-pass) and only while the live gate is convinced, so it misses the first and last
steps of a bout and, inside a bout, a step whose peak fell under its threshold (a weak step between two strong ones,
a turn). After the run the whole recording is known. :class:`StepRecovery`:

1. rebuilds the vertical signal without delay: the acceleration on a uniform ``internal_rate_hz`` grid (linear
   interpolation, samples further than ``gap_s`` from a real one invalid), gravity as its *centred* Hann average
   over ``gravity_window_s`` (placement- and mounting-independent: the axis is where gravity points, whatever the
   sensor's axes are), the projection on it minus the gravity magnitude, then a zero-phase low-pass
   (``lowpass_hz``; the same linear-phase FIR as live, applied centred);
2. takes its loading peaks as candidate steps, each timed like a live step: where the rising edge before the
   peak crosses ``rise_fraction`` x its height (McCamley et al. 2012, initial contact before the loading peak),
   searched back at most ``rise_search_s``;
3. per stretch of gait (a walk or run stretch of the after-the-run timeline, with its step period), keeps the live
   steps and adds a candidate only where the rhythm says a step is missing:
   - *at the edges:* one step before the first live step (and after the last one), the edge interval earlier
     (later), when that interval is regular (within ``regular_periods`` of the period); at most
     ``max_edge_steps`` steps and not beyond ``edge_reach_s`` outside the stretch. Extrapolated from one side
     only, an edge step must also keep the bout's rhythm and phase: within ``edge_match_periods`` x the period
     of one period beyond the edge step *and* of one stride (two periods) beyond the step before it, the same
     foot's last contact (a long interval is followed by a short one: left and right alternate, the stride
     holds). Where the wearer stops or handles the sensor, the live detector's last steps drift off the rhythm
     and the signal's peaks after them do not fit it;
   - *inside:* between two live steps ``gap_periods`` apart (about two periods: one step missing) in regular
     walking (the intervals on both sides regular), one step due halfway;
   a step is the highest candidate within ``match_periods`` x the period of where it is due, at least
   ``min_distance_periods`` from its neighbours, and its peak at least
   ``min_height_fraction`` x the median peak of the stretch's live steps
   (so the sway of standing or a weight shift is not a step). A stretch with fewer than ``min_live_steps`` live
   steps is left as it is (no rhythm to go by).

Live steps are never moved or removed: the live detector's timing is already centred (a step is confirmed one
period after it), and removing the steps outside the after-the-run bouts was measured to lose (docs/signal.md).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from coach.signal.dsp import FloatArray, lowpass_fir, median, sorted_unique
from coach.signal.gait import GRAVITY_BLOCKS_PER_S, MIN_GRAVITY_G, StreamingGaitEstimator
from coach.signal.steps import StepDetector

__all__ = ["Rebuilt", "StepRecovery"]

#: Samples within this fraction of a grid interval of the grid are used as they are (no interpolation).
UNIFORM_TOLERANCE = 0.1

#: The vertical signal rebuilt around a group of stretches: (start_s, end_s, t_grid, y, valid).
Rebuilt = tuple[float, float, FloatArray, FloatArray, np.ndarray]


def _defaults(cls: type) -> dict[str, Any]:
    """The keyword defaults of ``cls``: the signal and step parameters are the live ones, defined once there."""
    return {name: p.default for name, p in inspect.signature(cls).parameters.items()}


_LIVE = _defaults(StreamingGaitEstimator)
_LIVE_STEPS = _defaults(StepDetector)


class StepRecovery:
    """Adds the steps the live detector missed, after the run (module docstring). Keyword-only parameters; the
    signal's (``internal_rate_hz`` .. ``gap_s``) and the step timing's (``rise_fraction``,
    ``min_distance_periods``) default to the live estimator's and step detector's own."""

    def __init__(
        self,
        *,
        internal_rate_hz: int = _LIVE["internal_rate_hz"],
        gravity_window_s: float = _LIVE["gravity_window_s"],
        lowpass_hz: float = _LIVE["lowpass_hz"],
        lowpass_length_s: float = _LIVE["lowpass_length_s"],
        gap_s: float = _LIVE["gap_s"],
        rise_fraction: float = _LIVE_STEPS["step_rise_fraction"],
        rise_search_s: float = 0.4,
        match_periods: float = 0.3,
        edge_match_periods: float = 0.2,
        min_distance_periods: float = _LIVE_STEPS["step_min_distance_periods"],
        gap_periods: tuple[float, float] = (1.6, 2.6),
        min_height_fraction: float = 0.3,
        max_edge_steps: int = 3,
        edge_reach_s: float = 1.0,
        min_live_steps: int = 3,
        regular_periods: tuple[float, float] = (0.75, 1.33),
    ) -> None:
        self.internal_rate_hz = int(internal_rate_hz)
        self.gravity_window_s = gravity_window_s
        self.lowpass_hz = lowpass_hz
        self.lowpass_length_s = lowpass_length_s
        self.gap_s = gap_s
        self.rise_fraction = rise_fraction
        self.rise_search_s = rise_search_s
        self.match_periods = match_periods
        self.edge_match_periods = edge_match_periods
        self.min_distance_periods = min_distance_periods
        self.gap_periods = gap_periods
        self.min_height_fraction = min_height_fraction
        self.max_edge_steps = max_edge_steps
        self.edge_reach_s = edge_reach_s
        self.min_live_steps = min_live_steps
        self.regular_periods = regular_periods

    # ------------------------------------------------------------------ entry point
    def steps(
        self,
        t_s: FloatArray,
        xyz_g: FloatArray,
        live_steps: FloatArray,
        stretches: Sequence[tuple[float, float, float]],
        rebuilt: list[Rebuilt] | None = None,
    ) -> FloatArray:
        """The live steps plus the recovered ones, sorted (times on ``t_s``'s clock). ``stretches`` are
        ``(start_s, end_s, period_s)``; ``rebuilt``: :meth:`rebuild` of them, if already made."""
        if rebuilt is None:
            rebuilt = self.rebuild(t_s, xyz_g, [(t0, t1) for t0, t1, _ in stretches])
        cand_t: list[FloatArray] = []
        cand_h: list[FloatArray] = []
        for g0, g1, tg, y, valid in rebuilt:
            ct, ch = self.candidates(tg, y, valid)
            keep = (ct >= g0 - self.edge_reach_s) & (ct < g1 + self.edge_reach_s)
            cand_t.append(ct[keep])
            cand_h.append(ch[keep])
        if not cand_t:
            return np.sort(np.asarray(live_steps, dtype=np.float64))
        return self.recover(live_steps, stretches, np.concatenate(cand_t), np.concatenate(cand_h))

    def rebuild(
        self, t_s: FloatArray, xyz_g: FloatArray, spans: Sequence[tuple[float, float]]
    ) -> list[Rebuilt]:
        """The vertical signal (:meth:`vertical`) rebuilt around ``spans`` (``(start_s, end_s)``): each group of
        nearby spans once, with the filters' reach on each side (the gravity window and the low-pass, beyond the
        edge reach), so memory and time follow the gait, not the recording's length or its gaps. One
        ``(start_s, end_s, t_grid, y, valid)`` per group (the group's spans' extent, then :meth:`vertical`)."""
        t = np.asarray(t_s, dtype=np.float64)
        x = np.asarray(xyz_g, dtype=np.float64)
        pad = self.edge_reach_s + self.gravity_window_s + self.lowpass_length_s
        groups: list[list[float]] = []
        for t0, t1 in sorted(spans):
            if groups and t0 - pad <= groups[-1][1] + pad:
                groups[-1][1] = max(groups[-1][1], t1)
            else:
                groups.append([t0, t1])
        out: list[Rebuilt] = []
        for g0, g1 in groups:
            lo, hi = np.searchsorted(t, [g0 - pad, g1 + pad])
            if hi - lo >= 3:
                out.append((g0, g1, *self.vertical(t[lo:hi], x[lo:hi])))
        return out

    # ------------------------------------------------------------------ 1. the vertical signal
    def vertical(self, t_s: FloatArray, xyz_g: FloatArray) -> tuple[FloatArray, FloatArray, np.ndarray]:
        """``(t_grid, y, valid)``: the zero-phase low-passed dynamic vertical acceleration (g) on a uniform grid."""
        t = np.asarray(t_s, dtype=np.float64)
        x = np.asarray(xyz_g, dtype=np.float64)
        fs = float(self.internal_rate_hz)
        n = math.floor((t[-1] - t[0]) * fs) + 1
        tg = t[0] + np.arange(n) / fs
        if t.size == n and float(np.max(np.abs(t - tg))) <= UNIFORM_TOLERANCE / fs:
            xg, valid = x, np.ones(n, dtype=bool)  # already on the grid (a steady internal_rate_hz stream)
        else:
            # linear interpolation of the three axes at once; a grid point between two real samples further
            # apart than gap_s is not interpolated over: invalid
            j = np.clip(np.searchsorted(t, tg, side="right"), 1, t.size - 1)
            span = t[j] - t[j - 1]
            valid = span <= self.gap_s
            w = np.clip((tg - t[j - 1]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
            xg = x[j - 1] + w[:, None] * (x[j] - x[j - 1])
        # gravity: a centred Hann average of block means (as live: 1 / GRAVITY_BLOCKS_PER_S s), held per block
        blk = max(1, round(fs / GRAVITY_BLOCKS_PER_S))
        nb = max(1, n // blk)
        means = xg[: nb * blk].reshape(nb, -1, 3).mean(axis=1) if n >= blk else xg.mean(axis=0)[None, :]
        taps = max(3, round(self.gravity_window_s * GRAVITY_BLOCKS_PER_S) | 1)
        h = np.hanning(taps + 2)[1:-1]
        h /= h.sum()
        gb = np.column_stack([_centred(means[:, i], h) for i in range(3)])
        gb_norm = np.maximum(np.sqrt(np.einsum("ij,ij->i", gb, gb)), MIN_GRAVITY_G)
        block = np.minimum(np.arange(n) // blk, nb - 1)
        unit = (gb / gb_norm[:, None])[block]
        dyn = np.einsum("ij,ij->i", xg, unit) - gb_norm[block]
        dyn = np.where(valid, dyn, 0.0)
        y = _centred(dyn, lowpass_fir(self.lowpass_hz, fs, self.lowpass_length_s))
        return tg, y, valid

    # ------------------------------------------------------------------ 2. candidate steps
    def candidates(self, tg: FloatArray, y: FloatArray, valid: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """``(times, heights)`` of the loading peaks (local maxima above 0), each timed at its rise point."""
        fs = float(self.internal_rate_hz)
        m = y[1:-1]
        pk = np.flatnonzero((m > y[:-2]) & (m >= y[2:]) & (m > 0.0) & valid[1:-1]) + 1
        h = y[pk]
        if pk.size == 0:
            return np.zeros(0), np.zeros(0)
        back = max(2, round(self.rise_search_s * fs))
        offs = np.arange(-back, 1)
        win = y[np.clip(pk[:, None] + offs[None, :], 0, y.size - 1)]
        level = self.rise_fraction * h
        below = win < level[:, None]
        has = below[:, :-1].any(axis=1)
        a = back - 1 - np.argmax(below[:, -2::-1], axis=1)  # the last sample below the level, before the peak
        rows = np.arange(pk.size)
        ya, yb = win[rows, a], win[rows, a + 1]
        frac = np.clip(np.where(yb > ya, (level - ya) / np.where(yb > ya, yb - ya, 1.0), 0.0), 0.0, 1.0)
        times = np.where(has, tg[pk] + (offs[a] + frac) / fs, tg[pk])
        return np.asarray(times, dtype=np.float64), np.asarray(h, dtype=np.float64)

    # ------------------------------------------------------------------ 3. recovery
    def recover(
        self,
        live_steps: FloatArray,
        stretches: Sequence[tuple[float, float, float]],
        cand_t: FloatArray,
        cand_h: FloatArray,
    ) -> FloatArray:
        """The live steps plus the recovered ones, sorted. ``stretches`` are ``(start_s, end_s, period_s)``."""
        live = np.sort(np.asarray(live_steps, dtype=np.float64))
        added: list[float] = []
        if cand_t.size == 0:
            return live
        for t0, t1, period in stretches:
            if not (math.isfinite(period) and period > 0):
                continue
            st = live[(live >= t0 - self.edge_reach_s) & (live < t1 + self.edge_reach_s)]
            if st.size >= max(2, self.min_live_steps):
                added.extend(self._stretch(st, t0, t1, period, cand_t, cand_h))
        if not added:
            return live
        return sorted_unique(np.concatenate((live, np.asarray(added))))

    def _stretch(
        self, st: FloatArray, t0: float, t1: float, period: float, cand_t: FloatArray, cand_h: FloatArray
    ) -> list[float]:
        """The steps recovered in one stretch ``[t0, t1)`` of step period ``period`` with live steps ``st``."""
        # the live steps' own peaks (the candidate nearest each) set the height a recovered step must reach
        j = np.clip(np.searchsorted(cand_t, st), 1, cand_t.size - 1)
        jj = np.where(np.abs(cand_t[j - 1] - st) <= np.abs(cand_t[j] - st), j - 1, j)
        floor = self.min_height_fraction * median(cand_h[jj])
        tol = self.match_periods * period
        edge_tol = self.edge_match_periods * period
        min_d = self.min_distance_periods * period
        r_lo, r_hi = self.regular_periods
        iv = np.diff(st)
        regular = (iv >= r_lo * period) & (iv <= r_hi * period)
        added: list[float] = []
        # the edges: one step period (the edge interval's own, when it is regular) beyond the first live step,
        # and beyond the last one, up to max_edge_steps and edge_reach_s outside the stretch
        for first in (True, False):
            k = 0 if first else iv.size - 1
            if not regular[k]:
                continue
            sign = -1.0 if first else 1.0
            cur, prev = (float(st[0]), float(st[1])) if first else (float(st[-1]), float(st[-2]))
            for _ in range(self.max_edge_steps):
                lo, hi = (
                    (t0 - self.edge_reach_s, cur - min_d) if first else (cur + min_d, t1 + self.edge_reach_s)
                )
                # due one edge interval beyond the edge step (its own rhythm), and within the edge tolerance of
                # one period beyond it and one stride beyond the step before it (the same foot: the bout's phase)
                local = cur + (cur - prev)
                lo, hi = max(lo, local - tol), min(hi, local + tol)
                got = _strongest(
                    cand_t, cand_h, cur + sign * period, edge_tol, lo, hi, floor, prev + sign * 2.0 * period
                )
                if got is None:
                    break
                added.append(got)
                prev, cur = cur, got
        # inside: one step missing between two live steps about two periods apart, in regular walking (the
        # intervals on both sides regular), due halfway
        g_lo, g_hi = self.gap_periods
        for i in range(1, iv.size - 1):
            if regular[i - 1] and regular[i + 1] and g_lo * period < iv[i] < g_hi * period:
                a, b = float(st[i]), float(st[i + 1])
                got = _strongest(cand_t, cand_h, (a + b) / 2.0, tol, a + min_d, b - min_d, floor)
                if got is not None:
                    added.append(got)
        return added


def _strongest(
    cand_t: FloatArray,
    cand_h: FloatArray,
    due: float,
    tol: float,
    lo: float,
    hi: float,
    floor: float,
    also_due: float | None = None,
) -> float | None:
    """The time of the highest candidate within ``tol`` of ``due`` (and of ``also_due`` when given), inside
    ``[lo, hi]`` and at least ``floor`` high, or ``None``."""
    near = np.abs(cand_t - due) <= tol
    if also_due is not None:
        near &= np.abs(cand_t - also_due) <= tol
    k = np.flatnonzero(near & (cand_t >= lo) & (cand_t <= hi) & (cand_h >= floor))
    return None if k.size == 0 else float(cand_t[k[np.argmax(cand_h[k])]])


def _centred(x: FloatArray, h: FloatArray) -> FloatArray:
    """Zero-phase FIR: ``x`` convolved with the symmetric ``h`` centred on each sample, edges held."""
    pad = h.size // 2
    return np.asarray(np.convolve(np.pad(x, pad, mode="edge"), h, mode="valid"), dtype=np.float64)
