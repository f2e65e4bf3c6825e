"""Cadence pieces: the step period from the autocorrelation, the foot-pod blend, the step-rate refinement.

Each piece stores keyword-only parameters (units in their names) in ``__init__``; see docs/signal.md for the
method and the table of parameters. :class:`coach.signal.StreamingGaitEstimator` composes them.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from coach.signal.dsp import FloatArray, parabolic_offset


class AcfStepPeriod:
    """Step period from normalised autocorrelation (ACF) rows, one row per hop.

    The step is the *first* ACF peak in the lag range of ``min_cadence_spm``..``max_cadence_spm`` whose height is
    at least ``first_peak_fraction`` of the highest peak (searched up to twice the longest step lag) and at whose
    half lag the signal is in anti-phase (r < ``half_lag_max_r``) (Moe-Nilssen & Helbostad 2004: first dominant
    peak = step, second = stride). With strong left/right asymmetry the step can instead show only as a local
    maximum at half the chosen lag, with r below -``quarter_lag_r`` at a quarter and three quarters of it: that
    half lag is then taken (searched within +-lag / ``half_lag_search_divisor`` samples, at most
    ``half_lag_search_max_samples``). The stride peak is the highest sample within +-``stride_search_fraction`` of
    the longest step lag around twice the step lag; the period is refined by parabolic interpolation at both lags
    (least squares over step and stride).

    :meth:`estimate` sets ``period_samples_`` (fractional, NaN without a step), ``confidence_`` (0..1),
    ``double_period_samples_`` (the stride-lag peak, NaN if none: the step when the first peak was a within-step
    harmonic) and ``asymmetry_`` (stride peak minus step peak).

    :meth:`stride_evidence` measures where the left/right stride shows in the ACF of the horizontal acceleration. The
    trunk sways, and its horizontal motion repeats, once per *stride* (two steps), whatever the placement and
    mounting: for a real step lag ``L`` the horizontal ACF peaks at ``2 L`` and no more at ``4 L``; for a lag that
    is a harmonic within the step (a slow walk's heel-strike and push-off bumps) it peaks at ``4 L`` and is lower at
    ``2 L`` (one step: the sway in anti-phase). The stride at 2x is the highest horizontal ACF within
    +-``horizontal_search_fraction`` of ``2 L`` minus its value at ``L``; the stride at 4x the highest within that
    fraction of ``4 L`` minus that of ``2 L`` (NaN where the lags do not fit).
    """

    def __init__(
        self,
        *,
        min_cadence_spm: float = 60.0,
        max_cadence_spm: float = 240.0,
        first_peak_fraction: float = 0.3,
        half_lag_max_r: float = 0.0,
        quarter_lag_r: float = 0.3,
        stride_search_fraction: float = 0.2,
        half_lag_search_divisor: int = 6,
        half_lag_search_max_samples: int = 8,
        horizontal_search_fraction: float = 0.1,
    ) -> None:
        self.min_cadence_spm = min_cadence_spm
        self.max_cadence_spm = max_cadence_spm
        self.first_peak_fraction = first_peak_fraction
        self.half_lag_max_r = half_lag_max_r
        self.quarter_lag_r = quarter_lag_r
        self.stride_search_fraction = stride_search_fraction
        self.half_lag_search_divisor = half_lag_search_divisor
        self.half_lag_search_max_samples = half_lag_search_max_samples
        self.horizontal_search_fraction = horizontal_search_fraction

    def lag_range(self, sampling_rate_hz: int) -> tuple[int, int]:
        """(shortest, longest) step lag in samples."""
        shortest = max(2, math.floor(60.0 / self.max_cadence_spm * sampling_rate_hz))
        longest = math.ceil(60.0 / self.min_cadence_spm * sampling_rate_hz)
        return shortest, longest

    def lags_needed(self, sampling_rate_hz: int) -> int:
        """How many ACF lags :meth:`estimate` looks at (twice the longest step lag plus the stride search)."""
        return int(2.0 * (1.0 + self.stride_search_fraction) * self.lag_range(sampling_rate_hz)[1]) + 2

    def estimate(self, acf: FloatArray, sampling_rate_hz: int) -> AcfStepPeriod:
        """``acf``: normalised unbiased ACF, one row per hop (r[0] = 1)."""
        acf_rows, n_lags = acf.shape
        shortest, longest = self.lag_range(sampling_rate_hz)
        lo, hi = shortest, min(longest, n_lags - 2)
        mid = acf[:, 1:-1]
        is_peak = (mid > acf[:, :-2]) & (mid >= acf[:, 2:])
        is_peak = np.concatenate(
            (np.zeros((acf_rows, 1), bool), is_peak, np.zeros((acf_rows, 1), bool)), axis=1
        )
        in_step_range = np.zeros(n_lags, dtype=bool)
        in_step_range[lo : hi + 1] = True
        step_peak = is_peak & in_step_range[None, :] & (acf > 0.0)
        in_wide_range = np.zeros(n_lags, dtype=bool)
        in_wide_range[lo : min(2 * hi, n_lags - 2) + 1] = True
        wide_peak = is_peak & in_wide_range[None, :] & (acf > 0.0)
        wide_values = np.where(wide_peak, acf, -np.inf)
        best = wide_values.max(axis=1)
        has = np.isfinite(best)
        best_lag = np.argmax(wide_values, axis=1)
        # A step lag c has the signal in anti-phase at c/2 (r(c/2) < 0); a half-step artefact (double bump
        # within a step) does not. Among those, the first peak within a fraction of the best one is the step.
        r_at_half = acf[:, np.arange(n_lags) // 2]
        strong = step_peak & (acf >= self.first_peak_fraction * best[:, None])
        candidate = strong & (r_at_half < self.half_lag_max_r)
        candidate = np.where(candidate.any(axis=1)[:, None], candidate, strong)
        step_lag = np.where(candidate.any(axis=1), np.argmax(candidate, axis=1), best_lag)
        rows = np.arange(acf_rows)
        step_lag = np.where(has, step_lag, lo + 1)
        # Strong left/right asymmetry (a limp, a loose strap) can push the ACF at the step lag down to about 0
        # while the stride peak dominates; the step still shows as a local maximum at half the chosen lag with
        # the signal in anti-phase at a quarter and three quarters of it.
        half = step_lag // 2
        half_window = np.maximum(2, half // self.half_lag_search_divisor)
        offsets = np.arange(-self.half_lag_search_max_samples, self.half_lag_search_max_samples + 1)
        half_lags = np.clip(half[:, None] + offsets[None, :], 1, n_lags - 2)
        in_window = np.abs(offsets)[None, :] <= half_window[:, None]
        half_values = np.where(in_window, acf[rows[:, None], half_lags], -np.inf)
        half_lag = half_lags[rows, np.argmax(half_values, axis=1)]
        half_is_local = (acf[rows, half_lag] > acf[rows, half_lag - 1]) & (
            acf[rows, half_lag] >= acf[rows, half_lag + 1]
        )
        r_quarter = acf[rows, np.clip(step_lag // 4, 0, n_lags - 1)]
        r_three_quarters = acf[rows, np.clip((3 * step_lag) // 4, 0, n_lags - 1)]
        use_half = (
            has
            & (half >= lo)
            & half_is_local
            & (r_quarter < -self.quarter_lag_r)
            & (r_three_quarters < -self.quarter_lag_r)
        )
        step_lag = np.where(use_half, half_lag, step_lag)
        has = has & (step_lag <= hi)
        step_lag = np.where(has, step_lag, lo + 1)
        step_period = step_lag + parabolic_offset(acf, rows, step_lag)
        step_r = acf[rows, step_lag]
        # stride lag near 2 x the step lag: the highest sample within +-stride_search_fraction of the longest lag
        w = max(2, int(self.stride_search_fraction * hi))
        offsets = np.arange(-w, w + 1)
        centre = np.clip(2 * step_lag, w + 1, n_lags - w - 2)
        stride_lags = centre[:, None] + offsets[None, :]
        j = np.argmax(acf[rows[:, None], stride_lags], axis=1)
        stride_lag = stride_lags[rows, j]
        interior = (j > 0) & (j < offsets.size - 1) & (2 * step_lag + w < n_lags - 1)
        stride_period = stride_lag + parabolic_offset(acf, rows, stride_lag)
        stride_r = acf[rows, stride_lag]
        # least squares over p = step period and 2p = stride period
        period = np.where(interior & (stride_r > 0), (step_period + 2.0 * stride_period) / 5.0, step_period)
        confidence = np.clip(np.maximum(step_r, np.where(interior, stride_r, 0.0)), 0.0, 1.0)
        self.period_samples_: FloatArray = np.where(has, period, np.nan)
        self.confidence_: FloatArray = np.where(has, confidence, 0.0)
        self.double_period_samples_: FloatArray = np.where(
            has & interior & (stride_r > 0), stride_period, np.nan
        )
        # left/right asymmetry: the stride peak well above the step peak
        self.asymmetry_: FloatArray = np.where(has & interior, stride_r - step_r, 0.0)
        return self

    def stride_evidence(
        self, horizontal_acf: FloatArray, period_samples: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """(stride at 2x, stride at 4x) of the step periods ``period_samples`` (one per row of the normalised
        horizontal ACF ``horizontal_acf``; see the class docstring); NaN where there is no step period."""
        ok = np.isfinite(period_samples)
        lag = np.where(ok, np.rint(np.where(ok, period_samples, 1.0)), 1).astype(np.int64)
        lag = np.clip(lag, 1, horizontal_acf.shape[1] - 1)
        at_1 = horizontal_acf[np.arange(lag.size), lag]
        at_2 = self._highest_near(horizontal_acf, 2 * lag)
        at_4 = self._highest_near(horizontal_acf, 4 * lag)
        return np.where(ok, at_2 - at_1, np.nan), np.where(ok, at_4 - at_2, np.nan)

    def _highest_near(self, acf: FloatArray, centre: NDArray[np.int64]) -> FloatArray:
        """Per row, the highest ``acf`` within +-``horizontal_search_fraction`` of lag ``centre`` (NaN where that
        reaches past the last lag)."""
        rows, n_lags = acf.shape
        half = np.maximum(1, np.rint(self.horizontal_search_fraction * centre).astype(np.int64))
        width = int(half.max()) if rows else 1
        offsets = np.arange(-width, width + 1)
        lags = centre[:, None] + offsets[None, :]
        inside = (np.abs(offsets)[None, :] <= half[:, None]) & (lags >= 0) & (lags < n_lags)
        values = np.where(inside, acf[np.arange(rows)[:, None], np.clip(lags, 0, n_lags - 1)], -np.inf)
        return np.where(centre + half < n_lags, values.max(axis=1), np.nan)


class FootPodBlend:
    """Blends a foot-pod (RSC) cadence into the accelerometer's.

    A reading within ``agreement_fraction`` of the accelerometer cadence is blended in with weight
    ``foot_pod_weight`` (RSC cadence is an integer per minute); a reading within ``agreement_fraction`` of half
    of it is read as strides and doubled first; a disagreeing reading is ignored (but still reported).
    """

    def __init__(self, *, foot_pod_weight: float = 0.3, agreement_fraction: float = 0.06) -> None:
        self.foot_pod_weight = foot_pod_weight
        self.agreement_fraction = agreement_fraction

    def blend(self, cadence_spm: float, foot_pod_spm: float) -> tuple[float, float, bool]:
        """(cadence, the foot pod in steps/min, whether it agreed and was blended in)."""
        ratio = foot_pod_spm / cadence_spm
        if abs(ratio - 0.5) < self.agreement_fraction:  # strides reported as cadence
            foot_pod_spm *= 2.0
            ratio *= 2.0
        if abs(ratio - 1.0) < self.agreement_fraction:
            w = self.foot_pod_weight
            return (1.0 - w) * cadence_spm + w * foot_pod_spm, foot_pod_spm, True
        return cadence_spm, foot_pod_spm, False


class StepRateCadence:
    """Refines the ACF cadence with the rate of the confirmed step events of the last ``step_cadence_window_s``.

    When the window holds at least ``min_steps`` steps (whole strides only: left/right asymmetry alternates
    step intervals) whose intervals are all within ``consistent_interval_periods`` (low, high) x the ACF step
    period, the cadence is blended with their rate (weight ``step_cadence_weight``). Otherwise, when the rhythm is
    weak (ACF confidence below ``step_cadence_relaxed_conf``) and there is no foot pod, the cadence is the mean
    step rate over the window's intervals within ``relaxed_interval_periods`` x the ACF period (leaving out pauses
    and split steps), if there are at least ``min_relaxed_intervals`` and the rate is within
    ``min_cadence_spm``..``max_cadence_spm``. Keeps the last ``max_history_steps`` steps.

    :meth:`regular_start` tells whether the last ``start_min_steps`` steps, all within ``start_window_s``, are
    a plain rhythm: every interval within ``start_interval_spread`` of their mean and within
    ``consistent_interval_periods`` x the ACF period. A bout start uses it (two or three steps are enough to
    know a walk has begun, before the trailing ACF window has emptied of the standing seconds).
    :meth:`peak_rhythm` asks the same of loading peaks when the ACF has found no rhythm yet, with every interval
    within a given range instead of near the ACF period.
    """

    def __init__(
        self,
        *,
        step_cadence_window_s: float = 6.0,
        step_cadence_weight: float = 0.5,
        step_cadence_relaxed_conf: float = 0.6,
        min_cadence_spm: float = 60.0,
        max_cadence_spm: float = 240.0,
        min_steps: int = 5,
        consistent_interval_periods: tuple[float, float] = (0.7, 1.4),
        relaxed_interval_periods: tuple[float, float] = (0.5, 2.5),
        min_relaxed_intervals: int = 2,
        max_history_steps: int = 32,
        start_min_steps: int = 3,
        start_window_s: float = 2.5,
        start_interval_spread: float = 0.15,
    ) -> None:
        self.step_cadence_window_s = step_cadence_window_s
        self.step_cadence_weight = step_cadence_weight
        self.step_cadence_relaxed_conf = step_cadence_relaxed_conf
        self.min_cadence_spm = min_cadence_spm
        self.max_cadence_spm = max_cadence_spm
        self.min_steps = min_steps
        self.consistent_interval_periods = consistent_interval_periods
        self.relaxed_interval_periods = relaxed_interval_periods
        self.min_relaxed_intervals = min_relaxed_intervals
        self.max_history_steps = max_history_steps
        self.start_min_steps = start_min_steps
        self.start_window_s = start_window_s
        self.start_interval_spread = start_interval_spread
        self._history: deque[float] = deque(maxlen=max_history_steps)

    def add_steps(self, steps_s: Iterable[float]) -> None:
        self._history.extend(steps_s)

    def regular_start(self, t_end_s: float, cadence_spm: float) -> float | None:
        """The step rate (steps/min) of the last ``start_min_steps`` steps if they are a plain rhythm at the ACF
        cadence ``cadence_spm`` (see the class docstring), else ``None``."""
        low, high = self.consistent_interval_periods
        acf_period_s = 60.0 / cadence_spm
        n = self.start_min_steps
        last = list(itertools.islice(reversed(self._history), n))[::-1] if n >= 2 else []
        return self._even_rate(last, t_end_s, low * acf_period_s, high * acf_period_s)

    def peak_rhythm(
        self, peaks_s: Sequence[float], t_end_s: float, min_interval_s: float, max_interval_s: float
    ) -> float | None:
        """The rate (steps/min) of the last ``start_min_steps`` of ``peaks_s`` (times in order) if they are all
        within ``start_window_s`` of ``t_end_s``, every interval within ``start_interval_spread`` of their mean
        and within ``min_interval_s``..``max_interval_s``; else ``None``."""
        n = self.start_min_steps
        return self._even_rate(list(peaks_s[-n:]) if n >= 2 else [], t_end_s, min_interval_s, max_interval_s)

    def _even_rate(
        self, last: list[float], t_end_s: float, min_interval_s: float, max_interval_s: float
    ) -> float | None:
        """60 / the mean interval of ``last`` (``start_min_steps`` times in order) when they are all within
        ``start_window_s`` of ``t_end_s`` and every interval is within ``start_interval_spread`` of the mean and
        within ``min_interval_s``..``max_interval_s``; else ``None`` (also when fewer times are given)."""
        n = self.start_min_steps
        if n < 2 or len(last) < n or last[0] < t_end_s - self.start_window_s:
            return None
        mean_s = (last[-1] - last[0]) / (n - 1)
        spread = self.start_interval_spread
        if mean_s <= 0 or not all(
            abs(iv - mean_s) <= spread * mean_s and min_interval_s <= iv <= max_interval_s
            for iv in (b - a for a, b in itertools.pairwise(last))
        ):
            return None
        return 60.0 / mean_s

    def refine(
        self, cadence_spm: float, t_end_s: float, acf_confidence: float, has_foot_pod: bool
    ) -> tuple[float, float | None]:
        """(cadence, the step-rate cadence it used or ``None``) at the end ``t_end_s`` of a second."""
        if self.step_cadence_window_s <= 0:
            return cadence_spm, None
        window_start_s = t_end_s - self.step_cadence_window_s
        recent = [st for st in self._history if st >= window_start_s]
        if len(recent) % 2 == 0:
            recent = recent[1:]  # whole strides only: left/right asymmetry alternates step intervals
        acf_period_s = 60.0 / cadence_spm
        span_s = recent[-1] - recent[0] if len(recent) >= 3 else 0.0
        intervals = [b - a for a, b in itertools.pairwise(recent)]
        low, high = self.consistent_interval_periods
        if (
            len(recent) >= self.min_steps
            and span_s > 0
            and all(low * acf_period_s <= iv <= high * acf_period_s for iv in intervals)
        ):
            from_steps = 60.0 * (len(recent) - 1) / span_s
            w = self.step_cadence_weight
            return (1.0 - w) * cadence_spm + w * from_steps, from_steps
        if acf_confidence < self.step_cadence_relaxed_conf and not has_foot_pod:
            # Weak rhythm (turns, hesitant or irregular stepping): the ACF period is unreliable, the steps
            # themselves are the better estimate: the mean step rate over the step intervals of the window,
            # leaving out pauses and split steps.
            low, high = self.relaxed_interval_periods
            all_intervals = [
                b - a for a, b in itertools.pairwise(st for st in self._history if st >= window_start_s)
            ]
            kept = [iv for iv in all_intervals if low * acf_period_s <= iv <= high * acf_period_s]
            if len(kept) >= self.min_relaxed_intervals:
                from_steps = 60.0 * len(kept) / sum(kept)
                if self.min_cadence_spm <= from_steps <= self.max_cadence_spm:
                    return from_steps, from_steps
        return cadence_spm, None


#: The centred spectral peak's working rate and transform length: the signal is decimated to about this rate and
#: zero-padded to this many points (1.17 steps/min per bin before the parabola; 2048 points give the same bench
#: scores within 0.001 steps/min, 512 within 0.003, 50 Hz and 8192 points within 0.004).
SPECTRAL_RATE_HZ = 20.0
SPECTRAL_NFFT = 1024


def centred_spectral_cadence(
    t_grid: FloatArray,
    y: FloatArray,
    valid: NDArray[np.bool_],
    centres_s: FloatArray,
    ref_spm: FloatArray,
    *,
    window_s: float,
    band_fraction: float,
) -> FloatArray:
    """Steps/min at each of ``centres_s``: the highest peak of the Hann-windowed spectrum of ``window_s`` of ``y``
    (a uniform grid ``t_grid``, ``valid`` where it is real signal) centred there, within ``band_fraction`` of
    ``ref_spm`` (the step rate already chosen, so no harmonic and no stride can be taken), refined by a parabola
    through the log magnitudes of the peak bin and its neighbours. NaN where the window is not wholly valid
    signal, or the band's highest bin is on its edge (no peak near the reference)."""
    centres = np.asarray(centres_s, dtype=np.float64)
    ref = np.asarray(ref_spm, dtype=np.float64)
    out = np.full(centres.size, np.nan)
    if centres.size == 0 or t_grid.size < 2:
        return out
    fs = 1.0 / float(t_grid[1] - t_grid[0])
    step = max(1, round(fs / SPECTRAL_RATE_HZ))
    yd, vd, fsd = y[::step], valid[::step], fs / step
    n = round(window_s * fsd)
    if yd.size < n or n < 4:
        return out
    start = np.round((centres - window_s / 2.0 - float(t_grid[0])) * fsd).astype(np.int64)
    rows = np.flatnonzero((start >= 0) & (start + n <= yd.size) & np.isfinite(ref))
    if rows.size == 0:
        return out
    idx = start[rows, None] + np.arange(n)[None, :]
    ok = vd[idx].all(axis=1)
    rows, idx = rows[ok], idx[ok]
    if rows.size == 0:
        return out
    seg = yd[idx]
    seg = seg - seg.mean(axis=1, keepdims=True)
    spec = np.abs(np.fft.rfft(seg * np.hanning(n)[None, :], SPECTRAL_NFFT, axis=1))
    bin_spm = 60.0 * fsd / SPECTRAL_NFFT
    lo = np.clip(np.ceil(ref[rows] * (1.0 - band_fraction) / bin_spm).astype(np.int64), 1, spec.shape[1] - 2)
    hi = np.clip(
        np.floor(ref[rows] * (1.0 + band_fraction) / bin_spm).astype(np.int64), lo, spec.shape[1] - 2
    )
    k = np.arange(spec.shape[1])[None, :]
    pk = np.argmax(np.where((k >= lo[:, None]) & (k <= hi[:, None]), spec, -np.inf), axis=1)
    r = np.arange(rows.size)
    a, b, c = (np.log(np.maximum(spec[r, pk + d], 1e-300)) for d in (-1, 0, 1))
    den = a - 2.0 * b + c
    shift = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    out[rows] = np.where((pk > lo) & (pk < hi), (pk + np.clip(shift, -0.5, 0.5)) * bin_spm, math.nan)
    return out
