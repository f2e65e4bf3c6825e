"""Streaming step cadence, step events and walk/run/still from a body-worn accelerometer: the pipeline.

The method is described, with its references and parameters, in docs/signal.md. In short, once per second of
signal time (one *hop*):

1. the raw samples (any rate 25..200 Hz, jitter, drift, gaps) are linearly resampled onto a uniform internal
   grid anchored at the first sample; grid points inside a gap longer than ``gap_s`` are invalid and reset the
   filters and the gait state;
2. gravity is the low-passed acceleration vector; the *vertical* signal is the projection of the acceleration
   on it (orientation free, Moe-Nilssen 1998), in g, about 1 at rest;
3. per-hop features (:mod:`coach.signal.features`): the step period from the unbiased autocorrelation of the
   band-passed vertical acceleration over the last ``window_s`` seconds
   (:class:`~coach.signal.cadence.AcfStepPeriod`), RMS and robust extremes;
4. step events (:class:`~coach.signal.steps.StepDetector`): one loading peak of the band-passed vertical
   acceleration per step, reported at the half-rise point before it, next to initial contact;
5. the decision (:mod:`coach.signal.decision`): gait or not (:class:`~coach.signal.decision.GaitGate`), run vs
   walk by a logistic rule (:class:`~coach.signal.decision.WalkRunScore`), and the mode hysteresis
   (:class:`~coach.signal.decision.ModeHysteresis`); the cadence is refined with a foot pod
   (:class:`~coach.signal.cadence.FootPodBlend`) and the step events (:class:`~coach.signal.cadence.StepRateCadence`).

:class:`StreamingGaitEstimator` owns the stream (resampling, filters, buffers) and composes those pieces from its
keyword parameters. All per-hop quantities are computed vectorised over every hop completed by a call, so one call
with a whole recording and many calls with small blocks give identical results (:class:`coach.signal.GaitAnalysis`
relies on this: batch analysis *is* the streaming estimator).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import logging
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coach.signal.cadence import AcfStepPeriod, FootPodBlend, StepRateCadence
from coach.signal.decision import GAIT_MODES, GaitGate, ModeHysteresis, WalkRunScore
from coach.signal.dsp import FloatArray, fir_valid, lowpass_fir
from coach.signal.features import GaitFeatures, HopFeatureExtractor, HopFeatures
from coach.signal.steps import Peak, StepDetector
from coach.vocabulary import MODES

logger = logging.getLogger(__name__)


__all__ = ["MODES", "GaitSecond", "StreamingGaitEstimator", "lowpass_fir"]

#: Seconds of internal grid built and processed per step: bounds memory across long gaps (a 3-h gap peaks at
#: about 25 MB) while amortising the vectorised per-hop stage (1 h of 100 Hz: the live pass ~20 % less CPU than
#: with 60 s). Results do not depend on it (tests/test_signal_gait.py: any split gives the same seconds).
GRID_CHUNK_S = 300
#: Gravity is estimated from block means, this many blocks a second (the internal rate is a multiple of it).
GRAVITY_BLOCKS_PER_S = 10
#: Low-pass cut-offs are capped at this fraction of the internal rate (under its Nyquist frequency).
MAX_CUTOFF_FRACTION = 0.4
#: Length (s) of the short FIR that smooths the vertical signal for the walk/run features (0.1-s delay).
FEATURE_LOWPASS_LENGTH_S = 0.2
#: Seconds of vertical signal the walk/run features look at (range and minimum).
FEATURE_WINDOW_S = 2.0
#: Seconds of signal kept beyond the ACF window (the feature window and the step candidates' look-back).
EXTRA_KEEP_S = 2
#: The gravity estimate has settled after a reset once its window holds this share of its full weight (before,
#: its direction is not used for the gravity swing: one block mean in motion is not gravity).
GRAVITY_SETTLED_FRACTION = 0.5
#: Floor of the gravity magnitude (g) before dividing by it.
MIN_GRAVITY_G = 1e-6


@dataclass(frozen=True, slots=True)
class GaitSecond:
    """What the estimator says about one second of signal.

    ``t`` is the start of the second in the time base of the samples fed in (the second covers ``[t, t + 1)``
    and is computed from data up to ``t + 1``). ``cadence_spm`` is in steps (not strides) per minute, ``None``
    when not walking or running, or not yet known (a bout's first second seen from its loading peaks alone).
    ``steps`` are the foot-contact times confirmed during this second (they can be up to a few seconds older
    than ``t``: a step is confirmed once the next one is seen).
    """

    t: float
    cadence_spm: float | None
    confidence: float
    mode: str
    steps: tuple[float, ...] = ()
    # Diagnostics (not part of the stable contract): raw per-second decision before hysteresis, features.
    raw_mode: str = "unknown"
    features: GaitFeatures | None = field(default=None, compare=False, repr=False)


_COMPACT_AFTER = 256  # pruned readings dropped from the lists once there are this many


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
        if self._start > _COMPACT_AFTER:
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
        switch_start_s: int = 2,
        switch_evident_s: int = 1,
        switch_stop_evident_s: int = 1,
        stop_quiet_periods: float = 1.0,
        stop_falling_s: int = 3,
        peak_start: bool = True,
        start_min_range_g: float = 0.25,
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
        step_start_gap_periods: float = 3.5,
        step_start_min_steps: int = 3,
        foot_pod_max_age_s: float = 3.0,
        foot_pod_weight: float = 0.3,
        heart_rate_weight: float = 0.4,
        walk_range_g: float = 1.0,
        max_run_swing_deg: float = 25.0,
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
        self.switch_start_s = switch_start_s
        self.switch_evident_s = switch_evident_s
        self.switch_stop_evident_s = switch_stop_evident_s
        self.stop_quiet_periods = stop_quiet_periods
        self.stop_falling_s = stop_falling_s
        self.peak_start = peak_start
        self.start_min_range_g = start_min_range_g
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
        self.step_start_gap_periods = step_start_gap_periods
        self.step_start_min_steps = step_start_min_steps
        self.foot_pod_max_age_s = foot_pod_max_age_s
        self.foot_pod_weight = foot_pod_weight
        self.heart_rate_weight = heart_rate_weight
        self.walk_range_g = walk_range_g
        self.max_run_swing_deg = max_run_swing_deg
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
        if self.stop_falling_s < 1:
            raise ValueError("stop_falling_s must be at least 1")
        # the pieces (see docs/signal.md for each one's parameters)
        self._step_period = AcfStepPeriod(
            min_cadence_spm=self.min_cadence_spm,
            max_cadence_spm=self.max_cadence_spm,
            first_peak_fraction=self.first_peak_fraction,
            half_lag_max_r=self.half_lag_max_r,
            quarter_lag_r=self.quarter_lag_r,
        )
        self._features = HopFeatureExtractor(
            step_period=self._step_period,
            window_s=self.window_s,
            feature_window_s=FEATURE_WINDOW_S,
        )
        self._step_detector = StepDetector(
            step_rise_fraction=self.step_rise_fraction,
            step_min_distance_periods=self.step_min_distance_periods,
            step_threshold_std=self.step_threshold_std,
            step_lookback_s=self.step_lookback_s,
            step_start_gap_periods=self.step_start_gap_periods,
            step_start_min_steps=self.step_start_min_steps,
            comb_asymmetry=self.comb_asymmetry,
        )
        self._gate = GaitGate(
            min_confidence=self.min_confidence,
            still_rms_g=self.still_rms_g,
            active_fraction=self.active_fraction,
            still_max_rms_g=self.still_max_rms_g,
            max_run_swing_deg=self.max_run_swing_deg,
        )
        self._run_score = WalkRunScore(
            run_range_g=self.run_range_g,
            run_min_g=self.run_min_g,
            run_weights=self.run_weights,
            max_walk_cadence_spm=self.max_walk_cadence_spm,
            heart_rate_weight=self.heart_rate_weight,
            walk_range_g=self.walk_range_g,
            verify_min_confidence=self.step_cadence_relaxed_conf,
        )
        self._hysteresis = ModeHysteresis(
            switch_s=self.switch_s,
            switch_still_s=self.switch_still_s,
            gap_hold_s=self.gap_hold_s,
            switch_start_s=self.switch_start_s,
            switch_evident_s=self.switch_evident_s if self.switch_evident_s > 0 else None,
            switch_stop_evident_s=self.switch_stop_evident_s if self.switch_stop_evident_s > 0 else None,
        )
        self._foot_pod_blend = FootPodBlend(foot_pod_weight=self.foot_pod_weight)
        self._step_rate = StepRateCadence(
            step_cadence_window_s=self.step_cadence_window_s,
            step_cadence_weight=self.step_cadence_weight,
            step_cadence_relaxed_conf=self.step_cadence_relaxed_conf,
            min_cadence_spm=self.min_cadence_spm,
            max_cadence_spm=self.max_cadence_spm,
        )
        # the stream: internal rate, filters, buffer sizes
        self._fs = fs
        self._block_n = fs // GRAVITY_BLOCKS_PER_S  # gravity is estimated from 0.1-s block means
        n_gravity = max(3, round(self.gravity_window_s * GRAVITY_BLOCKS_PER_S))
        self._gravity_taps = np.hanning(n_gravity + 2)[1:-1].copy()
        self._band_taps = lowpass_fir(
            min(self.lowpass_hz, MAX_CUTOFF_FRACTION * fs), fs, self.lowpass_length_s
        )
        self._band_delay_s = (self._band_taps.size - 1) / 2 / fs
        flp = self.feature_lowpass_hz
        # a short FIR (0.2 s, 0.1-s delay): a smoother that makes the impact/flight features the same at 25-200 Hz
        self._feature_taps = (
            lowpass_fir(min(flp, MAX_CUTOFF_FRACTION * fs), fs, FEATURE_LOWPASS_LENGTH_S)
            if flp > 0
            else np.ones(1)
        )
        self._longest_lag = self._step_period.lag_range(fs)[1]
        self._keep_n = self._features.window_samples(fs) + EXTRA_KEEP_S * fs
        # state of the stream
        self.t0_s: float | None = None
        self._tail_t: float | None = None
        self._tail_x: FloatArray | None = None
        self._next_i = 0
        self._next_hop = 0
        self._reset_filters = True
        self._pending_x = np.zeros((0, 3))
        self._pending_valid = np.zeros(0, dtype=bool)
        self._gravity_means = np.zeros((n_gravity - 1, 3))  # last block means (gravity FIR state)
        self._gravity_weights = np.zeros(n_gravity - 1)  # their weights (0 = not valid / before a reset)
        self._band_state = np.zeros(self._band_taps.size - 1)  # band low-pass FIR state
        self._feature_state = np.ones(
            self._feature_taps.size - 1
        )  # feature low-pass FIR state (vertical, in g)
        n0 = self._keep_n
        self._buf_i0 = -n0  # global grid index of the buffers' first sample
        self._band = np.zeros(n0)  # low-passed dynamic vertical acceleration (g, about 0)
        self._horizontal = np.zeros((n0, 3))  # horizontal acceleration, sensor axes (g)
        self._vertical = np.zeros(n0)  # smoothed vertical acceleration (g, about 1 at rest)
        self._dynamic = np.zeros(n0)  # |acceleration - gravity| (g)
        self._valid = np.zeros(n0, dtype=bool)
        self._gravity_dir = np.zeros(
            (n0, 3)
        )  # unit vector of the gravity estimate (0: not valid, not settled)
        # state of the decisions
        self._period_s: float | None = None  # the last step period in gait (held through a brief loss)
        self._last_loading_s: float | None = None  # the last loading peak at the step threshold (s since t0)
        # the hop RMS of the last stop_falling_s seconds (oldest first)
        self._recent_rms_g: deque[float] = deque(maxlen=self.stop_falling_s)
        self._foot_pod = _TimedValues()
        self._heart_rate = _TimedValues()

    @property
    def gate(self) -> GaitGate:
        """The gait gate this estimator decides with (the after-the-run estimator reuses it)."""
        return self._gate

    @property
    def run_score(self) -> WalkRunScore:
        """The walk/run score this estimator decides with (the after-the-run estimator reuses it)."""
        return self._run_score

    @property
    def foot_pod_blend(self) -> FootPodBlend:
        """The foot-pod blend this estimator uses (the after-the-run estimator reuses it)."""
        return self._foot_pod_blend

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
        # The grid is built and processed GRID_CHUNK_S at a time, so a long gap between two samples (a strap lost for
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

    def _emit_grid(self, t_raw: FloatArray, x_raw: FloatArray, last_i: int) -> None:
        """Resample grid points ``_next_i .. last_i`` from the raw samples, filter them and append them."""
        assert self.t0_s is not None
        fs = self._fs
        idx = np.arange(self._next_i, last_i + 1)
        t_grid = self.t0_s + idx / fs
        j = np.searchsorted(t_raw, t_grid, side="right") - 1
        j = np.clip(j, 0, t_raw.size - 2)
        dt = t_raw[j + 1] - t_raw[j]
        w = ((t_grid - t_raw[j]) / dt)[:, None]
        x_grid = x_raw[j] + w * (x_raw[j + 1] - x_raw[j])
        valid = dt <= self.gap_s
        self._next_i = last_i + 1
        x_all = np.concatenate((self._pending_x, x_grid))
        valid_all = np.concatenate((self._pending_valid, valid))
        blk = self._block_n
        n_full = (x_all.shape[0] // blk) * blk
        self._pending_x, self._pending_valid = x_all[n_full:], valid_all[n_full:]
        if n_full == 0:
            return
        x_all, valid_all = x_all[:n_full], valid_all[:n_full]
        block_valid = valid_all.reshape(-1, blk).all(axis=1)
        valid_all = np.repeat(block_valid, blk)  # a block with any gap sample is invalid as a whole
        band = np.zeros(n_full)
        horizontal = np.zeros((n_full, 3))
        vertical = np.ones(n_full)
        dynamic = np.zeros(n_full)
        gravity_dir = np.zeros((n_full, 3))
        if block_valid.all():
            runs = [(0, block_valid.size)]
        else:
            edges = np.flatnonzero(np.diff(np.concatenate(([0], block_valid.view(np.int8), [0]))))
            runs = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
        pos = 0
        for a, b in runs:
            if a > pos:
                self._reset_filters = True
            sl = slice(a * blk, b * blk)
            self._filter_blocks(
                x_all[sl], band[sl], horizontal[sl], vertical[sl], dynamic[sl], gravity_dir[sl]
            )
            pos = b
        if pos < block_valid.size:
            self._reset_filters = True
        self._append(band, horizontal, vertical, dynamic, gravity_dir, valid_all)

    def _filter_blocks(
        self,
        x: FloatArray,
        band: FloatArray,
        horizontal: FloatArray,
        vertical: FloatArray,
        dynamic: FloatArray,
        gravity_dir: FloatArray,
    ) -> None:
        """Gravity from a Hann-weighted causal average of 0.1-s block means, vertical projection, low-pass.

        Fills ``band`` (low-passed vertical minus gravity magnitude), ``horizontal`` (the part of
        acceleration - gravity orthogonal to gravity, in sensor axes), ``vertical`` (smoothed vertical) and
        ``dynamic`` (|acceleration - gravity|), all in g, and ``gravity_dir`` (the gravity estimate's unit
        vector, ``(n, 3)``)."""
        blk = self._block_n
        if self._reset_filters:
            self._gravity_means[:] = 0.0
            self._gravity_weights[:] = 0.0
            self._band_state[:] = 0.0
            self._feature_state[:] = 1.0
            self._reset_filters = False
        m = x.shape[0] // blk
        xb = x.reshape(m, blk, 3)
        block_mean = xb[:, 0, :].copy()
        for j in range(1, blk):
            block_mean += xb[:, j, :]
        block_mean *= 1.0 / blk
        all_means = np.concatenate((self._gravity_means, block_mean))
        all_weights = np.concatenate((self._gravity_weights, np.ones(m)))
        taps = self._gravity_taps
        den = fir_valid(all_weights, taps)
        g = fir_valid(all_means * all_weights[:, None], taps) / den[:, None]
        keep = taps.size - 1
        self._gravity_means = all_means[-keep:].copy()
        self._gravity_weights = all_weights[-keep:].copy()
        g_norm_blocks = np.sqrt(g[:, 0] * g[:, 0] + g[:, 1] * g[:, 1] + g[:, 2] * g[:, 2])
        g_norm_blocks = np.maximum(g_norm_blocks, MIN_GRAVITY_G)
        unit = np.repeat(g / g_norm_blocks[:, None], blk, axis=0)
        # the gravity direction counts for the swing only once the estimate has settled after a reset
        settled = np.repeat(den >= GRAVITY_SETTLED_FRACTION * taps.sum(), blk)
        gravity = np.repeat(g, blk, axis=0)
        g_norm = np.repeat(g_norm_blocks, blk)
        gravity_dir[:] = np.where(settled[:, None], unit, 0.0)
        v = x[:, 0] * unit[:, 0] + x[:, 1] * unit[:, 1] + x[:, 2] * unit[:, 2]
        d = x - gravity
        dynamic[:] = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
        dyn_vertical = np.concatenate((self._band_state, v - g_norm))
        band[:] = fir_valid(dyn_vertical, self._band_taps)
        self._band_state = dyn_vertical[-(self._band_taps.size - 1) :].copy()
        # the horizontal plane: what is left of acceleration - gravity once its vertical part is removed
        horizontal[:] = d - (v - g_norm)[:, None] * unit
        if self._feature_taps.size > 1:
            vf = np.concatenate((self._feature_state, v))
            self._feature_state = vf[-(self._feature_taps.size - 1) :].copy()
            v = fir_valid(vf, self._feature_taps)
        vertical[:] = v

    def _append(
        self,
        band: FloatArray,
        horizontal: FloatArray,
        vertical: FloatArray,
        dynamic: FloatArray,
        gravity_dir: FloatArray,
        valid: NDArray[np.bool_],
    ) -> None:
        self._band = np.concatenate((self._band, band))
        self._horizontal = np.concatenate((self._horizontal, horizontal))
        self._gravity_dir = np.concatenate((self._gravity_dir, gravity_dir))
        self._vertical = np.concatenate((self._vertical, vertical))
        self._dynamic = np.concatenate((self._dynamic, dynamic))
        self._valid = np.concatenate((self._valid, valid))

    def _trim(self) -> None:
        extra = self._band.size - self._keep_n
        if extra > 0:
            self._band = self._band[extra:]
            self._horizontal = self._horizontal[extra:]
            self._vertical = self._vertical[extra:]
            self._dynamic = self._dynamic[extra:]
            self._gravity_dir = self._gravity_dir[extra:]
            self._valid = self._valid[extra:]
            self._buf_i0 += extra

    # ------------------------------------------------------------------ stage 2: per-hop features and peaks
    def _process_hops(self) -> list[GaitSecond]:
        fs = self._fs
        n_hops = (self._next_i - self._pending_x.shape[0]) // fs - self._next_hop
        if n_hops <= 0:
            self._trim()
            return []
        hops = np.arange(self._next_hop, self._next_hop + n_hops)
        ends = (hops + 1) * fs - self._buf_i0  # local index one past each hop's last sample
        table = self._features.extract(
            self._band, self._vertical, self._dynamic, self._valid, ends, fs, gravity_dir=self._gravity_dir
        )
        comb = self._step_detector.comb_lags(table.period_s, table.asymmetry, fs)
        candidates = self._step_detector.candidates(
            self._band,
            self._valid,
            ends,
            comb,
            table.period_s * fs,
            sampling_rate_hz=fs,
            index_offset=self._buf_i0,
            longest_lag=self._longest_lag,
            delay_s=self._band_delay_s,
        )
        rows = table.rows()
        # the horizontal stride evidence, for the seconds that may look like walking at a running rate
        need = [i for i, f in enumerate(rows) if self._run_score.may_need_stride_evidence(f)]
        if need:
            at_2x, at_4x = self._features.stride_evidence(
                self._horizontal,
                self._valid,
                ends[need],
                table.period_s[need] * fs,
                fs,
                self._band_taps,
            )
            for i, s2, s4 in zip(need, at_2x.tolist(), at_4x.tolist(), strict=True):
                rows[i] = replace(rows[i], stride_at_2x=s2, stride_at_4x=s4)
        out = [self._decide(h, rows[i], candidates[i]) for i, h in enumerate(hops.tolist())]
        self._next_hop += n_hops
        self._trim()
        if self.t0_s is not None:
            horizon = self.t0_s + self._next_hop - 2.0 * self.foot_pod_max_age_s
            self._foot_pod.prune(horizon)
            self._heart_rate.prune(horizon)
        return out

    # ------------------------------------------------------------------ stage 3: sequential decisions
    def _decide(self, hop: int, f: HopFeatures, candidates: list[Peak]) -> GaitSecond:
        """One second: gait or not, cadence, walk/run, hysteresis, steps."""
        assert self.t0_s is not None
        t_end = float(hop + 1)
        gap = self._gate.is_gap(f)
        in_gait = self._gate.in_gait(f)
        readings_t = self._reading_time(hop)
        hr = self._heart_rate.latest(readings_t, self.foot_pod_max_age_s)
        period_s = f.period_s
        cadence: float | None = None
        cadence_acf: float | None = None
        foot_pod: float | None = None
        run_score: float | None = None
        running = self._hysteresis.mode_ == "run"
        if in_gait:
            period_s, cadence, run_score, foot_pod = self._gait_cadence(f, t_end, readings_t, hr)
            cadence_acf = 60.0 / period_s
            if self._gate.handled(f, run_score=run_score, running=running):
                # handling the strap: not gait (no cadence, no steps); the score stays for the diagnostics
                in_gait = False
                period_s, cadence, foot_pod = f.period_s, None, None
        raw = self._gate.raw_mode(f, run_score=-math.inf if run_score is None else run_score, running=running)
        step_period = period_s if in_gait else self._period_s
        if gap:
            # A short gap holds the walk/run mode; the step detector starts afresh after it.
            mode = self._hysteresis.gap()
            self._step_detector.reset()
        steps = self._step_detector.confirm(t_end, candidates, in_gait, step_period, f.band_std_g)
        self._step_rate.add_steps(steps)
        stop = self._plain_stop(raw, f, t_end, candidates)
        start_spm: float | None = None  # a bout starting on the evidence of its steps: their rate
        if not gap:
            was = self._hysteresis.mode_
            start_spm = self._regular_start(raw, f, t_end, cadence)
            rhythm = False
            if start_spm is None and not in_gait and self._peak_start(raw, f, t_end):
                raw, rhythm = "walk", True  # the loading peaks show a walk before the ACF window does
            mode = self._hysteresis.update(raw, evident=start_spm is not None or stop or rhythm)
            if was in GAIT_MODES or mode not in GAIT_MODES:
                start_spm = None
        if mode == "walk" and hr is not None:
            self._run_score.learn_walking_hr(hr)
        if mode == "walk" and in_gait and run_score is not None and cadence is not None:
            self._run_score.learn_walking_range(f, cadence, run_score)
        cadence_steps: float | None = None
        if start_spm is not None and foot_pod is None:
            # the trailing ACF window still holds the standing seconds: the regular steps give the cadence
            # (an agreeing foot pod keeps the ACF path, as in StepRateCadence.refine)
            cadence = cadence_steps = start_spm
        elif cadence is not None:
            cadence, cadence_steps = self._step_rate.refine(
                cadence, t_end, f.confidence, foot_pod is not None
            )
        out_cadence = cadence if mode in GAIT_MODES and cadence is not None else None
        if mode in GAIT_MODES and out_cadence is None and self._period_s is not None:
            out_cadence = 60.0 / self._period_s  # brief loss of rhythm inside a bout: hold the last value
        if in_gait:
            self._period_s = period_s
        elif mode not in GAIT_MODES:
            self._period_s = None
        return GaitSecond(
            t=self.t0_s + float(hop),
            cadence_spm=None if out_cadence is None else round(float(out_cadence), 3),
            confidence=round(f.confidence if in_gait else 0.0, 4),
            mode=mode,
            steps=tuple(self.t0_s + s for s in steps),
            raw_mode=raw,
            features=GaitFeatures(
                hop=f,
                cadence_acf_spm=cadence_acf,
                foot_pod_spm=foot_pod,
                run_score=run_score,
                cadence_steps_spm=cadence_steps,
            ),
        )

    def _reading_time(self, hop: int) -> float:
        """The time up to which a second counts the heart-rate and foot-pod readings: its last resampled point.
        The raw sample that completes the second is stamped after it (:meth:`_grid_last_index`), so a reading fed
        before the first accelerometer block holding a sample stamped after the reading is seen whatever the block
        sizes: streaming equals batch (which hands every reading over first) with every live input."""
        assert self.t0_s is not None
        return self.t0_s + ((hop + 1) * self._fs - 1) / self._fs

    def _plain_stop(self, raw: str, f: HopFeatures, t_end: float, candidates: list[Peak]) -> bool:
        """Whether a second ends a bout plainly on its own: its own mode is still, the trunk is quiet (its
        vertical RMS under ``still_rms_g``, the gait gate's floor), the motion has been falling for
        ``stop_falling_s`` seconds (each second's RMS below the one before, the last one's included, gap
        seconds left out: a walker slowing to a halt), and no loading peak of step height (at least
        ``step_threshold_std`` x the window's RMS, the step detector's own threshold) came for
        ``stop_quiet_periods`` step periods of the bout's own rhythm. A pause inside a bout mostly does not do
        this: its motion drops at once from the walking level."""
        threshold_g = self.step_threshold_std * f.band_std_g
        for t_peak, height_g in candidates:
            if height_g >= threshold_g and (self._last_loading_s is None or t_peak > self._last_loading_s):
                self._last_loading_s = t_peak
        rms = float(f.hop_rms_g)
        history = list(self._recent_rms_g)
        if not self._gate.is_gap(f):  # a gap second says nothing about the motion
            self._recent_rms_g.append(rms)
        period_s = self._period_s
        if raw != "still" or self._hysteresis.mode_ not in GAIT_MODES or period_s is None:
            return False
        falling = [*history, rms]
        if (
            not rms < self.still_rms_g
            or len(history) < self.stop_falling_s
            or not all(b < a for a, b in itertools.pairwise(falling))
        ):
            return False
        return (
            self._last_loading_s is None or t_end - self._last_loading_s >= self.stop_quiet_periods * period_s
        )

    def _peak_start(self, raw: str, f: HopFeatures, t_end: float) -> bool:
        """Whether the last loading peaks start a walk while the ACF has found no rhythm yet (a hesitant start:
        the trailing window still holds the standing seconds, or the first steps are uneven): a second out of
        gait that is neither a gap nor quiet (vertical RMS at least ``still_rms_g``) while no bout is reported,
        whose trunk is loaded (vertical range over the feature window at least ``start_min_range_g``), and whose last loading peaks (the step detector's, at least
        ``step_threshold_std`` x the window's RMS high) are an even rhythm at a walking rate
        (:meth:`StepRateCadence.peak_rhythm`: every interval between ``60 / max_walk_cadence_spm`` and
        ``60 / min_cadence_spm`` seconds). Never a run. Off when ``peak_start`` is false. The second then
        reports walk without a cadence: the peaks' rate is not trusted as one (at one lower-back start the sway
        before the first step gave 137 steps/min for a 104 steps/min walk); the ACF or the regular steps give
        it a second or two later."""
        if not self.peak_start or raw not in ("still", "unknown") or self._hysteresis.mode_ in GAIT_MODES:
            return False
        if f.hop_rms_g < self.still_rms_g or f.vertical_high_g - f.vertical_low_g < self.start_min_range_g:
            return False
        peaks = self._step_detector.recent_peaks(self.step_threshold_std * f.band_std_g)
        rate = self._step_rate.peak_rhythm(
            peaks, t_end, 60.0 / self.max_walk_cadence_spm, 60.0 / self.min_cadence_spm
        )
        return rate is not None

    def _regular_start(self, raw: str, f: HopFeatures, t_end: float, cadence: float | None) -> float | None:
        """The rate of the last steps (steps/min) if they make a walking second's start plain on its own, else
        ``None``: regular and at the ACF cadence (:meth:`StepRateCadence.regular_start`), at a walking rate (at
        most ``max_walk_cadence_spm``), with steps that load the trunk (the vertical acceleration's range over
        the feature window at least ``start_min_range_g``; shifting weight while standing stays under it). A
        start into running never takes this path (:class:`ModeHysteresis`)."""
        if raw != "walk" or cadence is None:
            return None
        if f.vertical_high_g - f.vertical_low_g < self.start_min_range_g:
            return None
        rate = self._step_rate.regular_start(t_end, cadence)
        return rate if rate is not None and rate <= self.max_walk_cadence_spm else None

    def _gait_cadence(
        self, f: HopFeatures, t_end: float, readings_t: float, hr: float | None
    ) -> tuple[float, float, float, float | None]:
        """(step period, cadence, run score, foot-pod cadence or ``None``) of the second in gait ending at
        ``t_end``; ``readings_t``: the time the foot pod is read at (:meth:`_reading_time`)."""
        period_s = f.period_s
        z = self._run_score.score(f, 60.0 / period_s, hr)
        # walking-like at a running rate: a grounded jog's step (verified: a run) or a slow walk's within-step
        # harmonic (the step is the next ACF peak)? The stride evidence of the recent seconds at this period counts
        verified = z <= 0 and self._run_score.verify_step(t_end, f)
        if verified:
            z = self._run_score.score(f, 60.0 / period_s, hr, verified_step=True)
        elif self._run_score.walking_harmonic(z, 60.0 / period_s) and math.isfinite(f.double_period_s):
            period_s = f.double_period_s
            z = self._run_score.score(f, 60.0 / period_s, hr)
        cadence = 60.0 / period_s
        foot_pod = self._foot_pod.latest(readings_t, self.foot_pod_max_age_s)
        if foot_pod is None or not foot_pod > 0:
            return period_s, cadence, z, None
        cadence, foot_pod, agreed = self._foot_pod_blend.blend(cadence, foot_pod)
        if agreed:
            z = self._run_score.score(f, cadence, hr, verified_step=verified)
        return period_s, cadence, z, foot_pod
