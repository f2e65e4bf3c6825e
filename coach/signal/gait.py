"""Streaming step cadence, step events and walk/run/still from a body-worn accelerometer.

The method is described, with its references and parameters, in docs/signal.md. In short, once per second of
signal time (one *hop*):

1. the raw samples (any rate 25..200 Hz, jitter, drift, gaps) are linearly resampled onto a uniform internal
   grid anchored at the first sample; grid points inside a gap longer than ``gap_s`` are invalid and reset the
   filters and the gait state;
2. gravity is the low-passed acceleration vector; the *vertical* signal is the projection of the acceleration
   on it (orientation free, Moe-Nilssen 1998), in g, about 1 at rest;
3. the step period comes from the unbiased autocorrelation of the band-passed vertical acceleration over the
   last ``window_s`` seconds: the first dominant peak in the plausible lag range is the step (Moe-Nilssen &
   Helbostad 2004: first peak = step, second = stride), refined by parabolic interpolation at the step and
   stride lags;
4. step events: one loading peak of the band-passed vertical acceleration per step (at most one per 0.6 step
   period), reported at the half-rise point before it, next to initial contact;
5. still = low dynamic acceleration; run vs walk = a three-feature logistic rule (vertical range, vertical
   minimum near free fall, cadence as a weak supporting feature), with hysteresis.

All per-hop quantities are computed vectorised over every hop completed by a call, so one call with a whole
recording and many calls with small blocks give identical results (:class:`coach.signal.GaitAnalysis` relies on
this: batch analysis *is* the streaming estimator).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import logging
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

MODES = ("walk", "run", "still", "unknown")

FloatArray = NDArray[np.float64]


GRID_CHUNK_S = 60  # seconds of internal grid built per step (bounds memory across long gaps)


@dataclass(frozen=True, slots=True)
class GaitSecond:
    """What the estimator says about one second of signal.

    ``t`` is the start of the second in the time base of the samples fed in (the second covers ``[t, t + 1)``
    and is computed from data up to ``t + 1``). ``cadence_spm`` is in steps (not strides) per minute, ``None``
    when not walking or running. ``steps`` are the foot-contact times confirmed during this second (they can
    be up to a few seconds older than ``t``: a step is confirmed once the next one is seen).
    """

    t: float
    cadence_spm: float | None
    confidence: float
    mode: str
    steps: tuple[float, ...] = ()
    # Diagnostics (not part of the stable contract): raw per-second decision before hysteresis, features.
    raw_mode: str = "unknown"
    features: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


def lowpass_fir(cutoff_hz: float, fs: float, length_s: float) -> FloatArray:
    """Linear-phase windowed-sinc (Hamming) low-pass FIR, odd length, unit gain at 0 Hz."""
    n = round(length_s * fs) | 1
    k = np.arange(n) - (n - 1) / 2
    h = np.sinc(2.0 * cutoff_hz / fs * k) * np.hamming(n)
    return np.asarray(h / h.sum(), dtype=np.float64)


class _TimedValues:
    """Time-stamped readings (foot pod, heart rate), looked up by time; older ones are pruned as time goes on,
    so memory stays bounded live, while a batch run may hand over a whole recording's readings up front."""

    def __init__(self) -> None:
        self._t: list[float] = []
        self._v: list[float] = []
        self._start = 0

    def add(self, t_s: float, value: float) -> None:
        if not self._t or t_s >= self._t[-1]:
            self._t.append(t_s)
            self._v.append(value)
        else:
            i = bisect.bisect_right(self._t, t_s, lo=self._start)
            self._t.insert(i, t_s)
            self._v.insert(i, value)

    def latest(self, t_s: float, max_age_s: float) -> float | None:
        """The last reading at or before ``t_s`` if it is at most ``max_age_s`` old."""
        i = bisect.bisect_right(self._t, t_s, lo=self._start) - 1
        if i < self._start or t_s - self._t[i] > max_age_s:
            return None
        return self._v[i]

    def prune(self, before_s: float) -> None:
        self._start = bisect.bisect_left(self._t, before_s, lo=self._start)
        if self._start > 256:
            del self._t[: self._start]
            del self._v[: self._start]
            self._start = 0


class StreamingGaitEstimator:
    """Live cadence, steps and walk/run/still from accelerometer blocks (see the module docstring).

    Parameters are keyword-only; defaults are documented in docs/signal.md. Feed accelerometer blocks in time
    order with :meth:`feed_acc`; each call returns the :class:`GaitSecond` objects of the seconds it completed.
    Foot-pod cadence and heart rate are optional extra inputs (:meth:`feed_foot_pod`, :meth:`feed_heart_rate`),
    looked up by sample time. Memory is bounded: only the last few seconds of signal are kept.
    """

    def __init__(
        self,
        *,
        internal_rate_hz: int = 100,
        gravity_window_s: float = 3.0,
        lowpass_hz: float = 5.0,
        lowpass_length_s: float = 0.4,
        window_s: float = 5.0,
        min_cadence_spm: float = 60.0,
        max_cadence_spm: float = 240.0,
        first_peak_fraction: float = 0.3,
        min_confidence: float = 0.15,
        still_rms_g: float = 0.03,
        active_fraction: float = 0.3,
        gap_s: float = 0.5,
        gap_hold_s: int = 3,
        switch_s: int = 2,
        switch_still_s: int = 2,
        feature_lowpass_hz: float = 10.0,
        run_range_g: float = 1.7,
        run_min_g: float = 0.25,
        run_weights: tuple[float, float, float] = (6.0, 3.0, 0.6),
        half_lag_max_r: float = 0.0,
        comb_asymmetry: float = 0.3,
        quarter_lag_r: float = 0.3,
        max_walk_cadence_spm: float = 150.0,
        step_cadence_window_s: float = 6.0,
        step_cadence_weight: float = 0.5,
        step_cadence_relaxed_conf: float = 0.6,
        still_max_rms_g: float = 0.1,
        step_rise_fraction: float = 0.5,
        step_min_distance_periods: float = 0.6,
        step_threshold_std: float = 0.3,
        step_lookback_s: float = 3.0,
        foot_pod_max_age_s: float = 3.0,
        foot_pod_weight: float = 0.3,
        heart_rate_weight: float = 0.4,
    ) -> None:
        self.internal_rate_hz = int(internal_rate_hz)
        self.gravity_window_s = gravity_window_s
        self.lowpass_hz = lowpass_hz
        self.lowpass_length_s = lowpass_length_s
        self.window_s = window_s
        self.min_cadence_spm = min_cadence_spm
        self.max_cadence_spm = max_cadence_spm
        self.first_peak_fraction = first_peak_fraction
        self.min_confidence = min_confidence
        self.still_rms_g = still_rms_g
        self.active_fraction = active_fraction
        self.gap_s = gap_s
        self.gap_hold_s = gap_hold_s
        self.switch_s = switch_s
        self.switch_still_s = switch_still_s
        self.feature_lowpass_hz = feature_lowpass_hz
        self.run_range_g = run_range_g
        self.run_min_g = run_min_g
        self.run_weights = run_weights
        self.step_min_distance_periods = step_min_distance_periods
        self.step_rise_fraction = step_rise_fraction
        self.half_lag_max_r = half_lag_max_r
        self.comb_asymmetry = comb_asymmetry
        self.quarter_lag_r = quarter_lag_r
        self.max_walk_cadence_spm = max_walk_cadence_spm
        self.step_cadence_window_s = step_cadence_window_s
        self.step_cadence_weight = step_cadence_weight
        self.step_cadence_relaxed_conf = step_cadence_relaxed_conf
        self.still_max_rms_g = still_max_rms_g
        self.step_threshold_std = step_threshold_std
        self.step_lookback_s = step_lookback_s
        self.foot_pod_max_age_s = foot_pod_max_age_s
        self.foot_pod_weight = foot_pod_weight
        self.heart_rate_weight = heart_rate_weight
        self._setup()

    # ------------------------------------------------------------------ set-up
    def get_params(self) -> dict[str, Any]:
        """The keyword parameters this estimator was made with (``StreamingGaitEstimator(**get_params())``)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def _setup(self) -> None:
        fs = self.internal_rate_hz
        if fs % 10 or not 20 <= fs <= 400:
            raise ValueError("internal_rate_hz must be a multiple of 10 within 20..400")
        if not 0 < self.min_cadence_spm < self.max_cadence_spm:
            raise ValueError("need 0 < min_cadence_spm < max_cadence_spm")
        self._fs = fs
        self._blk = fs // 10  # gravity is estimated from 0.1-s block means
        n_g = max(3, round(self.gravity_window_s * 10))
        self._w_g = np.hanning(n_g + 2)[1:-1].copy()
        self._h_lp = lowpass_fir(min(self.lowpass_hz, 0.4 * fs), fs, self.lowpass_length_s)
        self._lp_delay_s = (self._h_lp.size - 1) / 2 / fs
        flp = self.feature_lowpass_hz
        # a short FIR (0.2 s, 0.1-s delay): a smoother that makes the impact/flight features the same at 25-200 Hz
        self._h_feat = lowpass_fir(min(flp, 0.4 * fs), fs, 0.2) if flp > 0 else np.ones(1)
        self._win_n = round(self.window_s * fs)
        self._lag_min = max(2, math.floor(60.0 / self.max_cadence_spm * fs))
        self._lag_max = math.ceil(60.0 / self.min_cadence_spm * fs)
        self._lag_n = min(int(2.4 * self._lag_max) + 2, self._win_n - fs)
        self._nfft = 1 << math.ceil(math.log2(self._win_n + self._lag_n + 1))
        self._feat_n = 2 * fs  # run/walk features over the last 2 s
        self._keep_n = self._win_n + 2 * fs
        # state
        self.t0_s: float | None = None
        self._tail_t: float | None = None
        self._tail_x: FloatArray | None = None
        self._next_i = 0
        self._next_hop = 0
        self._reset_filters = True
        self._pend_x = np.zeros((0, 3))
        self._pend_valid = np.zeros(0, dtype=bool)
        self._hist_bm = np.zeros((n_g - 1, 3))  # last block means (gravity FIR state)
        self._hist_bw = np.zeros(n_g - 1)  # their weights (0 = not valid / before a reset)
        self._hist_av = np.zeros(self._h_lp.size - 1)  # low-pass FIR state
        self._hist_vf = np.ones(self._h_feat.size - 1)  # feature low-pass FIR state (vertical, in g)
        n0 = self._keep_n
        self._buf_i0 = -n0
        self._bp = np.zeros(n0)
        self._vr = np.zeros(n0)
        self._dyn = np.zeros(n0)
        self._valid = np.zeros(n0, dtype=bool)
        # sequential state
        self._mode = "unknown"
        self._pending_mode = "unknown"
        self._pending_count = 0
        self._gap_hops = 0  # consecutive seconds that were mostly gap
        self._period_s: float | None = None
        self._last_step_t: float | None = None
        self._peak_pending: tuple[float, float] | None = None  # (time relative to t0, height)
        self._recent_peaks: deque[tuple[float, float]] = deque(maxlen=64)
        self._step_hist: deque[float] = deque(maxlen=32)
        self._foot_pod = _TimedValues()
        self._heart_rate = _TimedValues()
        self._hr_walk: float | None = None

    # ------------------------------------------------------------------ inputs
    def feed_foot_pod(self, t_s: float, cadence_spm: float) -> None:
        """A foot-pod (RSC) cadence reading in steps/min (a value half the accelerometer's is read as strides)."""
        if cadence_spm is not None and math.isfinite(cadence_spm):
            self._foot_pod.add(float(t_s), float(cadence_spm))

    def feed_heart_rate(self, t_s: float, bpm: float) -> None:
        """A heart-rate reading; only a weak cue for run vs walk, never decisive on its own."""
        if bpm is not None and math.isfinite(bpm) and bpm > 0:
            self._heart_rate.add(float(t_s), float(bpm))

    def feed_acc(self, t_s: Sequence[float] | FloatArray, xyz_g: Any) -> list[GaitSecond]:
        """Feed accelerometer samples (times in s, ``(n, 3)`` in g); returns the seconds completed by them."""
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        x = np.asarray(xyz_g, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 3 or x.shape[0] != t.shape[0]:
            raise ValueError(f"xyz_g must have shape (n, 3) matching t_s, got {x.shape} and {t.shape}")
        if t.size == 0:
            return []
        keep = np.isfinite(t) & np.isfinite(x).all(axis=1)
        if not keep.all():
            t, x = t[keep], x[keep]
        if t.size and self._tail_t is not None:
            later = t > self._tail_t
            if not later.all():
                t, x = t[later], x[later]
        if t.size > 1:
            inc = np.empty(t.size, dtype=bool)
            inc[0] = True
            inc[1:] = np.diff(t) > 0
            if not inc.all():  # drop duplicate / backwards stamps within the block
                t, x = t[inc], x[inc]
        if t.size == 0:
            return []
        if self.t0_s is None:
            self.t0_s = float(t[0])
            self._tail_t = float(t[0])
            self._tail_x = x[0].copy()
            t, x = t[1:], x[1:]
            if t.size == 0:
                return self._process_hops()
        assert self._tail_t is not None and self._tail_x is not None
        tr = np.concatenate(([self._tail_t], t))
        xr = np.concatenate((self._tail_x[None, :], x))
        self._tail_t = float(tr[-1])
        self._tail_x = xr[-1].copy()
        # The grid is built and processed a minute at a time, so a long gap between two samples (a strap lost for
        # an hour, a hole in a file) costs bounded memory; any split gives the same results (streaming == batch).
        last_i = self._grid_last_index(float(tr[-1]))
        out: list[GaitSecond] = []
        while self._next_i <= last_i:
            self._emit_grid(tr, xr, min(last_i, self._next_i + GRID_CHUNK_S * self._fs - 1))
            out += self._process_hops()
        return out + self._process_hops()

    # ------------------------------------------------------------------ stage 1: resample + filter
    def _grid_last_index(self, t_last: float) -> int:
        """Index of the last grid point strictly before the last raw sample: each grid point is interpolated
        between the same two raw samples whatever the block boundaries, so streaming and batch agree bit for bit."""
        assert self.t0_s is not None
        fs = self._fs
        last_i = math.ceil((t_last - self.t0_s) * fs)
        while last_i >= 0 and self.t0_s + last_i / fs >= t_last:
            last_i -= 1
        while self.t0_s + (last_i + 1) / fs < t_last:
            last_i += 1
        return last_i

    def _emit_grid(self, tr: FloatArray, xr: FloatArray, last_i: int) -> None:
        """Resample grid points ``_next_i .. last_i`` from the raw samples, filter them and append them."""
        assert self.t0_s is not None
        fs = self._fs
        idx = np.arange(self._next_i, last_i + 1)
        tg = self.t0_s + idx / fs
        j = np.searchsorted(tr, tg, side="right") - 1
        j = np.clip(j, 0, tr.size - 2)
        dt = tr[j + 1] - tr[j]
        w = ((tg - tr[j]) / dt)[:, None]
        xg = xr[j] + w * (xr[j + 1] - xr[j])
        valid = dt <= self.gap_s
        self._next_i = last_i + 1
        x_all = np.concatenate((self._pend_x, xg))
        v_all = np.concatenate((self._pend_valid, valid))
        blk = self._blk
        n_full = (x_all.shape[0] // blk) * blk
        self._pend_x, self._pend_valid = x_all[n_full:], v_all[n_full:]
        if n_full == 0:
            return
        x_all, v_all = x_all[:n_full], v_all[:n_full]
        bvalid = v_all.reshape(-1, blk).all(axis=1)
        v_all = np.repeat(bvalid, blk)  # a block with any gap sample is invalid as a whole
        n = n_full
        bp = np.zeros(n)
        gn = np.ones(n)
        dyn = np.zeros(n)
        if bvalid.all():
            runs = [(0, bvalid.size)]
        else:
            edges = np.flatnonzero(np.diff(np.concatenate(([0], bvalid.view(np.int8), [0]))))
            runs = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
        pos = 0
        for a, b in runs:
            if a > pos:
                self._reset_filters = True
            sl = slice(a * blk, b * blk)
            self._filter_blocks(x_all[sl], bp[sl], gn[sl], dyn[sl])
            pos = b
        if pos < bvalid.size:
            self._reset_filters = True
        self._append(bp, gn, dyn, v_all)

    def _filter_blocks(self, x: FloatArray, bp: FloatArray, v_out: FloatArray, dyn: FloatArray) -> None:
        """Gravity from a Hann-weighted causal average of 0.1-s block means, vertical projection, low-pass."""
        blk = self._blk
        if self._reset_filters:
            self._hist_bm[:] = 0.0
            self._hist_bw[:] = 0.0
            self._hist_av[:] = 0.0
            self._hist_vf[:] = 1.0
            self._reset_filters = False
        m = x.shape[0] // blk
        xb = x.reshape(m, blk, 3)
        bm = xb[:, 0, :].copy()
        for j in range(1, blk):
            bm += xb[:, j, :]
        bm *= 1.0 / blk
        all_bm = np.concatenate((self._hist_bm, bm))
        all_bw = np.concatenate((self._hist_bw, np.ones(m)))
        w = self._w_g
        den = _fir_valid(all_bw, w)
        g = _fir_valid(all_bm * all_bw[:, None], w) / den[:, None]
        keep = w.size - 1
        self._hist_bm = all_bm[-keep:].copy()
        self._hist_bw = all_bw[-keep:].copy()
        gnb = np.sqrt(g[:, 0] * g[:, 0] + g[:, 1] * g[:, 1] + g[:, 2] * g[:, 2])
        gnb = np.maximum(gnb, 1e-6)
        u = g / gnb[:, None]
        ur = np.repeat(u, blk, axis=0)
        gr = np.repeat(g, blk, axis=0)
        gn = np.repeat(gnb, blk)
        v = x[:, 0] * ur[:, 0] + x[:, 1] * ur[:, 1] + x[:, 2] * ur[:, 2]
        d = x - gr
        dyn[:] = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
        av = np.concatenate((self._hist_av, v - gn))
        bp[:] = _fir_valid(av, self._h_lp)
        self._hist_av = av[-(self._h_lp.size - 1) :].copy()
        if self._h_feat.size > 1:
            vf = np.concatenate((self._hist_vf, v))
            self._hist_vf = vf[-(self._h_feat.size - 1) :].copy()
            v = _fir_valid(vf, self._h_feat)
        v_out[:] = v

    def _append(self, bp: FloatArray, gn: FloatArray, dyn: FloatArray, valid: NDArray[np.bool_]) -> None:
        self._bp = np.concatenate((self._bp, bp))
        self._vr = np.concatenate((self._vr, gn))
        self._dyn = np.concatenate((self._dyn, dyn))
        self._valid = np.concatenate((self._valid, valid))

    def _trim(self) -> None:
        extra = self._bp.size - self._keep_n
        if extra > 0:
            self._bp = self._bp[extra:]
            self._vr = self._vr[extra:]
            self._dyn = self._dyn[extra:]
            self._valid = self._valid[extra:]
            self._buf_i0 += extra

    # ------------------------------------------------------------------ stage 2: per-hop features (vectorised)
    def _process_hops(self) -> list[GaitSecond]:
        fs = self._fs
        n_hops = (self._next_i - self._pend_x.shape[0]) // fs - self._next_hop
        if n_hops <= 0:
            self._trim()
            return []
        hops = np.arange(self._next_hop, self._next_hop + n_hops)
        ends = (hops + 1) * fs - self._buf_i0  # local index one past each hop's last sample
        feats = self._hop_features(ends)
        comb = np.where(
            np.isfinite(feats["period_s"]) & (feats["asymmetry"] > self.comb_asymmetry),
            np.rint(np.nan_to_num(feats["period_s"]) * fs),
            0,
        ).astype(np.int64)
        cand = self._peak_candidates(ends, comb, feats["period_s"] * fs)
        out = [self._decide(int(h), {k: v[i] for k, v in feats.items()}, cand[i]) for i, h in enumerate(hops)]
        self._next_hop += n_hops
        self._trim()
        if self.t0_s is not None:
            horizon = self.t0_s + self._next_hop - 2.0 * self.foot_pod_max_age_s
            self._foot_pod.prune(horizon)
            self._heart_rate.prune(horizon)
        return out

    def _windows(self, arr: NDArray[Any], ends: NDArray[np.int64], n: int) -> NDArray[Any]:
        view = np.lib.stride_tricks.sliding_window_view(arr, n)
        return view[ends - n]

    def _hop_features(self, ends: NDArray[np.int64]) -> dict[str, FloatArray]:
        fs = self._fs
        win_n = self._win_n
        m = self._windows(self._valid, ends, win_n).astype(np.float64)
        x = self._windows(self._bp, ends, win_n) * m
        nfft = self._nfft
        fx = np.fft.rfft(x, nfft, axis=1)
        r = np.fft.irfft(fx.real * fx.real + fx.imag * fx.imag, nfft, axis=1)[:, : self._lag_n + 1]
        # number of valid sample pairs per lag: win_n - lag for a full window, by FFT for windows with gaps
        c = np.tile(np.arange(win_n, win_n - self._lag_n - 1, -1, dtype=np.float64), (m.shape[0], 1))
        partial = ~(m > 0).all(axis=1)
        if partial.any():
            fm = np.fft.rfft(m[partial], nfft, axis=1)
            cp = np.fft.irfft(fm.real * fm.real + fm.imag * fm.imag, nfft, axis=1)[:, : self._lag_n + 1]
            c[partial] = np.rint(cp)
        enough = c >= fs  # at least 1 s of overlap for a lag to count
        r = np.where(enough, r / np.maximum(c, 1.0), 0.0)
        r0 = r[:, 0].copy()
        valid_n = c[:, 0]
        rn = np.where(r0[:, None] > 0, r / np.where(r0 > 0, r0, 1.0)[:, None], 0.0)
        period, conf, double, asym = self._period_from_acf(rn)
        hop_valid = self._windows(self._valid, ends, fs).mean(axis=1)
        dyn = self._windows(self._dyn, ends, fs)
        dyn_rms = np.sqrt(np.mean(dyn * dyn, axis=1))
        b1 = self._windows(self._bp, ends, fs)
        hop_rms = np.sqrt(np.mean(b1 * b1, axis=1))
        vl = self._windows(self._vr, ends, self._feat_n)
        vm = self._windows(self._valid, ends, self._feat_n)
        # robust extremes (2nd / 98th percentile) of the vertical acceleration over the last 2 s (valid samples)
        vl_hi = np.where(vm, vl, -np.inf)
        vl_lo = np.where(vm, vl, np.inf)
        k = max(1, self._feat_n // 50)  # 2nd percentile from each end
        hi = -np.partition(-vl_hi, k, axis=1)[:, k]
        lo = np.partition(vl_lo, k, axis=1)[:, k]
        ok = np.isfinite(hi) & np.isfinite(lo)
        hi = np.where(ok, hi, 1.0)
        lo = np.where(ok, lo, 1.0)
        return {
            "period_s": period / fs,
            "double_period_s": double / fs,
            "asymmetry": asym,
            "confidence": conf,
            "bp_std": np.sqrt(np.maximum(r0, 0.0)),
            "valid_s": valid_n / fs,
            "hop_valid": hop_valid,
            "dyn_rms_g": dyn_rms,
            "hop_rms_g": hop_rms,
            "v_hi_g": hi,
            "v_lo_g": lo,
        }

    def _period_from_acf(self, rn: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Step period (in samples, fractional) and confidence from normalised unbiased ACF rows."""
        h, nl = rn.shape
        lo, hi = self._lag_min, min(self._lag_max, nl - 2)
        mid = rn[:, 1:-1]
        is_pk = (mid > rn[:, :-2]) & (mid >= rn[:, 2:])
        is_pk = np.concatenate((np.zeros((h, 1), bool), is_pk, np.zeros((h, 1), bool)), axis=1)
        in_range = np.zeros(nl, dtype=bool)
        in_range[lo : hi + 1] = True
        pk = is_pk & in_range[None, :] & (rn > 0.0)
        wide = np.zeros(nl, dtype=bool)
        wide[lo : min(2 * hi, nl - 2) + 1] = True
        pk_wide = is_pk & wide[None, :] & (rn > 0.0)
        pk_vals = np.where(pk_wide, rn, -np.inf)
        best = pk_vals.max(axis=1)
        has = np.isfinite(best)
        best_lag = np.argmax(pk_vals, axis=1)
        # A step lag c has the signal in anti-phase at c/2 (r(c/2) < 0); a half-step artefact (double bump
        # within a step) does not. Among those, the first peak within a fraction of the best one is the step.
        half_r = rn[:, np.arange(nl) // 2]
        strong = pk & (rn >= self.first_peak_fraction * best[:, None])
        cand = strong & (half_r < self.half_lag_max_r)
        cand = np.where(cand.any(axis=1)[:, None], cand, strong)
        l1 = np.where(cand.any(axis=1), np.argmax(cand, axis=1), best_lag)
        rows = np.arange(h)
        l1 = np.where(has, l1, lo + 1)
        # Strong left/right asymmetry (a limp, a loose strap) can push the ACF at the step lag down to about 0
        # while the stride peak dominates; the step still shows as a local maximum at half the chosen lag with
        # the signal in anti-phase at a quarter and three quarters of it.
        half = l1 // 2
        wq = np.maximum(2, half // 6)
        offs_h = np.arange(-8, 9)
        gl_h = np.clip(half[:, None] + offs_h[None, :], 1, nl - 2)
        in_win = np.abs(offs_h)[None, :] <= wq[:, None]
        hv = np.where(in_win, rn[rows[:, None], gl_h], -np.inf)
        jh = np.argmax(hv, axis=1)
        lh = gl_h[rows, jh]
        is_local = (rn[rows, lh] > rn[rows, lh - 1]) & (rn[rows, lh] >= rn[rows, lh + 1])
        q1 = rn[rows, np.clip(l1 // 4, 0, nl - 1)]
        q3 = rn[rows, np.clip((3 * l1) // 4, 0, nl - 1)]
        use_half = has & (half >= lo) & is_local & (q1 < -self.quarter_lag_r) & (q3 < -self.quarter_lag_r)
        l1 = np.where(use_half, lh, l1)
        has = has & (l1 <= hi)
        l1 = np.where(has, l1, lo + 1)
        p1 = l1 + _parabolic(rn, rows, l1)
        r1 = rn[rows, l1]
        # stride lag near 2*l1: the highest sample within +-20 %
        w = max(2, int(0.2 * hi))
        offs = np.arange(-w, w + 1)
        centre = np.clip(2 * l1, w + 1, nl - w - 2)
        gl = centre[:, None] + offs[None, :]
        gv = rn[rows[:, None], gl]
        j = np.argmax(gv, axis=1)
        l2 = gl[rows, j]
        interior = (j > 0) & (j < offs.size - 1) & (2 * l1 + w < nl - 1)
        p2 = l2 + _parabolic(rn, rows, l2)
        r2 = rn[rows, l2]
        period = np.where(interior & (r2 > 0), (p1 + 2.0 * p2) / 5.0, p1)
        conf = np.clip(np.maximum(r1, np.where(interior, r2, 0.0)), 0.0, 1.0)
        period = np.where(has, period, np.nan)
        conf = np.where(has, conf, 0.0)
        double = np.where(has & interior & (r2 > 0), p2, np.nan)
        # left/right asymmetry: the stride peak well above the step peak
        asym = np.where(has & interior, r2 - r1, 0.0)
        return period, conf, double, asym

    def _peak_candidates(
        self, ends: NDArray[np.int64], comb: NDArray[np.int64], period_samples: FloatArray
    ) -> list[list[tuple[float, float]]]:
        """Local maxima of the low-passed vertical signal, per hop: (time since t0 in s, height).

        Where the stride component dominates (``comb`` > 0, the step period in samples), the signal is first
        averaged with itself one step earlier, which cancels the stride component (odd multiples of half the
        step frequency) and keeps the step's: then the weaker foot's step is a maximum of its own.
        """
        fs = self._fs
        first = int(ends[0]) - fs - 1
        last = int(ends[-1]) - 1  # peaks need a right neighbour: hop k owns local indices [start-1, end-1)
        idx = np.arange(first - 1, last + 1)
        hop_idx = np.clip((idx - first) // fs, 0, ends.size - 1)
        lag = comb[hop_idx]
        seg = self._bp[idx]
        val = self._valid[idx]
        if (lag > 0).any():
            back = np.maximum(idx - lag, 0)
            seg = np.where(lag > 0, 0.5 * (seg + self._bp[back]), seg)
            val = val & self._valid[back]
        mid = seg[1:-1]
        pk = (mid > seg[:-2]) & (mid >= seg[2:]) & val[1:-1] & val[:-2] & val[2:]
        loc = np.flatnonzero(pk)
        y0, y1, y2 = seg[loc], seg[loc + 1], seg[loc + 2]
        den = y0 - 2 * y1 + y2
        delta = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
        height = y1 - 0.25 * (y0 - y2) * delta
        local_idx = first + loc  # index into buffer of the peak sample
        # times as (integer global sample index, fraction) so that they do not depend on the buffer offset
        g_idx = local_idx + self._buf_i0
        t_frac = delta
        if self.step_rise_fraction < 1.0 and loc.size:
            # Initial contact precedes the loading peak: the vertical velocity is lowest (most downward) where
            # the vertical acceleration crosses zero upwards (McCamley et al. 2012). The landmark is where the
            # rising edge before the peak crosses ``step_rise_fraction`` x the peak height (0 = that zero
            # crossing, 1 = the peak itself), searched back at most half a step period.
            per = period_samples[np.clip(loc // fs, 0, ends.size - 1)]
            back_n = max(2, int(0.5 * self._lag_max))
            max_back = np.minimum(np.where(np.isfinite(per), 0.5 * per, 0.25 * fs), back_n)
            offs = np.arange(-back_n, 1)
            gi = np.clip(local_idx[:, None] + offs[None, :], 0, self._bp.size - 1)
            w = self._bp[gi]
            level = (self.step_rise_fraction * height)[:, None]
            below = (w < level) & (-offs[None, :] <= max_back[:, None])
            has_b = below.any(axis=1)
            k = back_n - np.argmax(below[:, ::-1], axis=1)  # last sample below the level
            k = np.clip(k, 0, back_n - 1)
            ya = w[np.arange(loc.size), k]
            yb = w[np.arange(loc.size), k + 1]
            frac = np.where(yb > ya, (level[:, 0] - ya) / np.where(yb > ya, yb - ya, 1.0), 0.0)
            rise_before = has_b & (offs[k] + np.clip(frac, 0.0, 1.0) <= delta)
            g_idx = np.where(rise_before, g_idx + offs[k], g_idx)
            t_frac = np.where(rise_before, np.clip(frac, 0.0, 1.0), t_frac)
        t_rel = (g_idx + t_frac) / fs - self._lp_delay_s
        hop_of = (local_idx - first) // fs
        out: list[list[tuple[float, float]]] = [[] for _ in range(ends.size)]
        for hop_i, tt, hh in zip(hop_of.tolist(), t_rel.tolist(), height.tolist(), strict=True):
            out[min(hop_i, ends.size - 1)].append((tt, hh))
        return out

    # ------------------------------------------------------------------ stage 3: sequential decisions
    def _decide(self, hop: int, f: dict[str, float], cands: list[tuple[float, float]]) -> GaitSecond:
        assert self.t0_s is not None
        t_start = float(hop)
        t_end = float(hop + 1)
        period_s = f["period_s"]
        conf = float(f["confidence"])
        gap = f["hop_valid"] < 0.5
        enough = f["valid_s"] >= 2.0
        in_gait = (
            not gap
            and enough
            and math.isfinite(period_s)
            and conf >= self.min_confidence
            and f["hop_rms_g"] >= self.still_rms_g
            and f["hop_rms_g"] >= self.active_fraction * f["bp_std"]
        )
        features = {k: float(v) for k, v in f.items()}
        hr = self._heart_rate.latest(self.t0_s + t_end, self.foot_pod_max_age_s)
        cadence: float | None = None
        z = -math.inf
        if in_gait:
            z = self._run_score(f, 60.0 / period_s, hr)
            if z <= 0 and 60.0 / period_s > self.max_walk_cadence_spm and math.isfinite(f["double_period_s"]):
                # A walking-like signal (no impact, no flight) at a running cadence: the ACF locked onto a
                # harmonic within the step; the step is the next peak.
                period_s = f["double_period_s"]
                z = self._run_score(f, 60.0 / period_s, hr)
            cadence = 60.0 / period_s
            features["cadence_acf_spm"] = cadence
            fp = self._foot_pod.latest(self.t0_s + t_end, self.foot_pod_max_age_s)
            if fp is not None and fp > 0:
                ratio = fp / cadence
                if abs(ratio - 0.5) < 0.06:  # strides reported as cadence
                    fp *= 2.0
                    ratio *= 2.0
                if abs(ratio - 1.0) < 0.06:
                    w = self.foot_pod_weight
                    cadence = (1.0 - w) * cadence + w * fp
                    z = self._run_score(f, cadence, hr)
                features["foot_pod_spm"] = fp
            features["run_score"] = z
        # raw mode
        if gap:
            raw = "unknown"
        elif in_gait:
            raw = "run" if z > 0 else "walk"
        elif f["hop_rms_g"] < self.still_max_rms_g:
            raw = "still"  # not stepping: standing, sitting, fidgeting
        else:
            raw = "unknown"  # large movement without a step rhythm
        # hysteresis
        if gap:
            # A short gap (a lost notification or a quick reconnect) holds the walk/run mode and its cadence:
            # the runner does not change what they do because the link did. A longer one is unknown.
            self._gap_hops += 1
            if self._mode not in ("walk", "run") or self._gap_hops > self.gap_hold_s:
                self._mode = "unknown"
            self._pending_mode = "unknown"
            self._pending_count = 0
            self._peak_pending = None
            self._recent_peaks.clear()
        elif raw != self._mode:
            if raw == self._pending_mode:
                self._pending_count += 1
            else:
                self._pending_mode = raw
                self._pending_count = 1
            need = self.switch_still_s if raw == "still" else self.switch_s
            if self._pending_count >= need:
                self._mode = raw
                self._pending_count = 0
        else:
            self._pending_mode = raw
            self._pending_count = 0
        if not gap:
            self._gap_hops = 0
        mode = self._mode
        if mode == "walk" and hr is not None:
            self._hr_walk = hr if self._hr_walk is None else 0.9 * self._hr_walk + 0.1 * hr
        # steps
        steps = self._steps(t_end, cands, in_gait, period_s if in_gait else None, f["bp_std"])
        self._step_hist.extend(steps)
        if cadence is not None and self.step_cadence_window_s > 0:
            lo_t = t_end - self.step_cadence_window_s
            recent = [st for st in self._step_hist if st >= lo_t]
            if len(recent) % 2 == 0:
                recent = recent[1:]  # whole strides only: left/right asymmetry alternates step intervals
            p_acf = 60.0 / cadence
            span = recent[-1] - recent[0] if len(recent) >= 3 else 0.0
            ivs = [b - a for a, b in itertools.pairwise(recent)]
            if len(recent) >= 5 and span > 0 and all(0.7 * p_acf <= iv <= 1.4 * p_acf for iv in ivs):
                c_steps = 60.0 * (len(recent) - 1) / span
                features["cadence_steps_spm"] = c_steps
                w = self.step_cadence_weight
                cadence = (1.0 - w) * cadence + w * c_steps
            elif conf < self.step_cadence_relaxed_conf and "foot_pod_spm" not in features:
                # Weak rhythm (turns, hesitant or irregular stepping): the ACF period is unreliable, the steps
                # themselves are the better estimate: the mean step rate over the step intervals of the window,
                # leaving out pauses (intervals over 2.5 ACF periods) and split steps (under half of one).
                ivs_all = [b - a for a, b in itertools.pairwise(st for st in self._step_hist if st >= lo_t)]
                kept = [iv for iv in ivs_all if 0.5 * p_acf <= iv <= 2.5 * p_acf]
                if len(kept) >= 2:
                    c_steps = 60.0 * len(kept) / sum(kept)
                    if self.min_cadence_spm <= c_steps <= self.max_cadence_spm:
                        features["cadence_steps_spm"] = c_steps
                        cadence = c_steps
        out_cadence = cadence if mode in ("walk", "run") and cadence is not None else None
        if mode in ("walk", "run") and out_cadence is None and self._period_s is not None:
            out_cadence = 60.0 / self._period_s  # brief loss of rhythm inside a bout: hold the last value
        if in_gait:
            self._period_s = period_s
        elif mode not in ("walk", "run"):
            self._period_s = None
        return GaitSecond(
            t=self.t0_s + t_start,
            cadence_spm=None if out_cadence is None else round(float(out_cadence), 3),
            confidence=round(conf if in_gait else 0.0, 4),
            mode=mode,
            steps=tuple(self.t0_s + s for s in steps),
            raw_mode=raw,
            features=features,
        )

    def _steps(
        self,
        t_end: float,
        cands: list[tuple[float, float]],
        in_gait: bool,
        period_s: float | None,
        std: float,
    ) -> list[float]:
        """Non-maximum suppression of peak candidates at ``step_min_distance_periods`` x the step period."""
        p = period_s if period_s is not None else self._period_s
        min_d = self.step_min_distance_periods * (p if p is not None else 0.5)
        confirmed: list[tuple[float, float]] = []
        for tt, hh in cands:
            pend = self._peak_pending
            if pend is None:
                self._peak_pending = (tt, hh)
            elif tt - pend[0] < min_d:
                if hh > pend[1]:
                    self._peak_pending = (tt, hh)
            else:
                confirmed.append(pend)
                self._peak_pending = (tt, hh)
        pend = self._peak_pending
        if pend is not None and t_end - pend[0] >= min_d:
            confirmed.append(pend)
            self._peak_pending = None
        thr = self.step_threshold_std * std
        for tt, hh in confirmed:
            self._recent_peaks.append((tt, hh))
        while self._recent_peaks and self._recent_peaks[0][0] < t_end - self.step_lookback_s - 1.0:
            self._recent_peaks.popleft()
        if not in_gait:
            return []
        out: list[float] = []
        last = self._last_step_t
        keep: deque[tuple[float, float]] = deque(maxlen=self._recent_peaks.maxlen)
        for tt, hh in self._recent_peaks:
            if tt < t_end - self.step_lookback_s - 1.0:
                continue
            if hh >= thr and (last is None or tt - last >= min_d):
                out.append(tt)
                last = tt
            elif last is not None and tt <= last:
                continue
            else:
                keep.append((tt, hh))
        self._recent_peaks = keep
        self._last_step_t = last
        return out

    def _run_score(self, f: dict[str, float], cadence_spm: float, hr_bpm: float | None) -> float:
        """Logistic run-vs-walk score (> 0 = run): vertical range and minimum (impact and flight), cadence as a
        weak supporting feature, heart rate above the walking level as a weaker one."""
        w_r, w_m, w_c = self.run_weights
        z = (
            w_r * (f["v_hi_g"] - f["v_lo_g"] - self.run_range_g)
            + w_m * (self.run_min_g - f["v_lo_g"])
            + w_c * max(-1.5, min(1.5, (cadence_spm - 140.0) / 20.0))
        )
        if hr_bpm is not None and self._hr_walk is not None:
            z += self.heart_rate_weight * max(-1.0, min(1.0, (hr_bpm - self._hr_walk - 15.0) / 15.0))
        return z


def _fir_valid(x: FloatArray, h: FloatArray) -> FloatArray:
    """``np.convolve(x, h, "valid")`` along axis 0, summed tap by tap in a fixed order.

    np.convolve's inner loop may sum in an order that depends on memory alignment, so the same sample could
    come out a few ulps different depending on how the stream was split into blocks; this keeps streaming and
    batch results bit-identical.
    """
    n = x.shape[0] - h.size + 1
    taps = h[::-1]
    y = taps[0] * x[0:n]
    for k in range(1, h.size):
        y = y + taps[k] * x[k : k + n]
    return np.asarray(y, dtype=np.float64)


def _parabolic(r: FloatArray, rows: NDArray[np.int64], lag: NDArray[np.int64]) -> FloatArray:
    n = r.shape[1]
    lag = np.clip(lag, 1, n - 2)
    y0 = r[rows, lag - 1]
    y1 = r[rows, lag]
    y2 = r[rows, lag + 1]
    den = y0 - 2.0 * y1 + y2
    safe = np.where(den < 0, den, -1.0)
    d = np.where(den < 0, 0.5 * (y0 - y2) / safe, 0.0)
    return np.asarray(np.clip(d, -0.5, 0.5), dtype=np.float64)
