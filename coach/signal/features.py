"""Per-second (per-hop) features of the vertical acceleration: a typed record, and the vectorised extractor.

:class:`HopFeatureExtractor` computes, for every second a call of the pipeline completes, the autocorrelation
of the band-passed vertical acceleration over the last ``window_s`` and hands it to the step-period piece
(:class:`coach.signal.cadence.AcfStepPeriod`), plus the RMS and robust extremes the decision uses. One row of
its :class:`HopFeatureTable` is a :class:`HopFeatures`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from coach.signal.cadence import AcfStepPeriod
from coach.signal.dsp import FloatArray


@dataclass(frozen=True, slots=True)
class HopFeatures:
    """What the signal says about one second (one hop); times in s, accelerations in g.

    ``period_s``: ACF step period (NaN when none was found); ``double_period_s``: the stride-lag peak (NaN if
    none); ``asymmetry``: ACF stride peak minus step peak; ``confidence``: ACF peak height (0..1);
    ``band_std_g``: RMS of the band-passed vertical acceleration over the ACF window; ``valid_window_s``: valid
    signal in that window; ``valid_fraction``: valid part of the second itself; ``dynamic_rms_g``: RMS of the
    acceleration minus gravity over the second; ``hop_rms_g``: RMS of the band-passed vertical acceleration over
    the second; ``vertical_high_g`` / ``vertical_low_g``: robust extremes (percentiles) of the vertical
    acceleration over the feature window; ``flight_fraction``: the share of the feature window in which the
    vertical acceleration is below the extractor's ``flight_g`` (near free fall: a flight phase);
    ``gravity_swing_deg``: how far the gravity direction (in the sensor's frame) turned over the swing window,
    the largest angle between its direction at any valid sample and at the window's end (walking and running
    carry the sensor upright, handling the strap turns it);
    ``stride_at_2x`` / ``stride_at_4x``: the horizontal (left/right) stride evidence at twice and four times the
    step lag (:class:`coach.signal.cadence.AcfStepPeriod`, NaN where not measurable).
    """

    period_s: float
    double_period_s: float
    asymmetry: float
    confidence: float
    band_std_g: float
    valid_window_s: float
    valid_fraction: float
    dynamic_rms_g: float
    hop_rms_g: float
    vertical_high_g: float
    vertical_low_g: float
    flight_fraction: float = 0.0
    gravity_swing_deg: float = 0.0
    stride_at_2x: float = math.nan
    stride_at_4x: float = math.nan


class HopFeatureTable(NamedTuple):
    """:class:`HopFeatures` of several hops, one array per field."""

    period_s: FloatArray
    double_period_s: FloatArray
    asymmetry: FloatArray
    confidence: FloatArray
    band_std_g: FloatArray
    valid_window_s: FloatArray
    valid_fraction: FloatArray
    dynamic_rms_g: FloatArray
    hop_rms_g: FloatArray
    vertical_high_g: FloatArray
    vertical_low_g: FloatArray
    flight_fraction: FloatArray
    gravity_swing_deg: FloatArray
    stride_at_2x: FloatArray
    stride_at_4x: FloatArray

    def row(self, i: int) -> HopFeatures:
        return HopFeatures(*(float(column[i]) for column in self))

    def rows(self) -> list[HopFeatures]:
        """Every row, as :meth:`row` gives it (each column converted to Python floats once, not per cell)."""
        columns = [np.asarray(column, dtype=np.float64).tolist() for column in self]
        return [HopFeatures(*values) for values in zip(*columns, strict=True)]


@dataclass(frozen=True, slots=True)
class GaitFeatures:
    """Diagnostics of one reported second: the hop's signal features and what the decision derived from them
    (``None`` where that step did not run: no gait, no foot pod, no step-rate cadence)."""

    hop: HopFeatures
    cadence_acf_spm: float | None = None
    foot_pod_spm: float | None = None
    run_score: float | None = None
    cadence_steps_spm: float | None = None

    def as_dict(self) -> dict[str, float]:
        """Flat ``name -> value`` (the ones that are set), e.g. for printing."""
        out: dict[str, Any] = asdict(self.hop)
        for name in ("cadence_acf_spm", "foot_pod_spm", "run_score", "cadence_steps_spm"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _windows(arr: NDArray[Any], ends: NDArray[np.int64], n: int) -> NDArray[Any]:
    """The ``n`` samples before each index of ``ends`` (a view)."""
    return np.lib.stride_tricks.sliding_window_view(arr, n)[ends - n]


class HopFeatureExtractor:
    """Vectorised per-hop features (see :class:`HopFeatures`).

    The ACF of the band-passed vertical acceleration over the last ``window_s`` is computed by FFT, divided by
    the number of valid sample pairs at each lag (lags with less than ``min_overlap_s`` of them count 0) and
    normalised; ``step_period`` finds the step in it. On demand (:meth:`stride_evidence`, for the seconds where
    the decision asks) the same is done for the horizontal acceleration (the sum of the ACFs of its three
    sensor-axis components, i.e. the ACF of the horizontal vector: the same for any mounting), low-passed in
    the spectrum by the vertical band's FIR; it tells a step from a within-step harmonic by where the left/right
    stride shows. The robust extremes are the ``extreme_percentile`` and
    100 - ``extreme_percentile`` percentiles of the (smoothed) vertical acceleration over the last
    ``feature_window_s``; the flight fraction is the share of those samples below ``flight_g``: in a flight phase
    the whole body, trunk included, is in free fall (vertical specific force about 0 g, wherever the sensor is),
    while walking always has a foot on the ground (at the limit of walking, Froude number 1, the trunk's minimum
    just reaches 0 g for an instant).
    """

    def __init__(
        self,
        *,
        step_period: AcfStepPeriod,
        window_s: float = 5.0,
        feature_window_s: float = 2.0,
        extreme_percentile: float = 2.0,
        min_overlap_s: float = 1.0,
        flight_g: float = 0.35,
        swing_window_s: float = 2.0,
    ) -> None:
        self.step_period = step_period
        self.window_s = window_s
        self.feature_window_s = feature_window_s
        self.extreme_percentile = extreme_percentile
        self.min_overlap_s = min_overlap_s
        self.flight_g = flight_g
        self.swing_window_s = swing_window_s

    def window_samples(self, sampling_rate_hz: int) -> int:
        return round(self.window_s * sampling_rate_hz)

    def feature_samples(self, sampling_rate_hz: int) -> int:
        return round(self.feature_window_s * sampling_rate_hz)

    def extract(
        self,
        band_g: FloatArray,
        vertical_g: FloatArray,
        dynamic_g: FloatArray,
        valid: NDArray[np.bool_],
        ends: NDArray[np.int64],
        sampling_rate_hz: int,
        *,
        gravity_dir: FloatArray | None = None,
    ) -> HopFeatureTable:
        """Features of the hops ending (exclusive) at buffer indices ``ends``; the buffers must hold at least
        ``window_s`` (and ``swing_window_s``) before each end. ``gravity_dir`` (``(n, 3)``, the gravity
        estimate's unit vector per sample) gives the gravity swing (0 without it). The stride evidence is NaN:
        :meth:`stride_evidence` measures it for the hops that need it."""
        fs = sampling_rate_hz
        win_n, min_overlap_n, n_lags, nfft = self._acf_geometry(fs)
        weight = _windows(valid, ends, win_n).astype(np.float64)
        x = _windows(band_g, ends, win_n) * weight
        fx = np.fft.rfft(x, nfft, axis=1)
        r = np.fft.irfft(fx.real * fx.real + fx.imag * fx.imag, nfft, axis=1)[:, : n_lags + 1]
        # number of valid sample pairs per lag: win_n - lag for a full window, by FFT for windows with gaps
        pairs = np.tile(np.arange(win_n, win_n - n_lags - 1, -1, dtype=np.float64), (weight.shape[0], 1))
        partial = ~(weight > 0).all(axis=1)
        if partial.any():
            fm = np.fft.rfft(weight[partial], nfft, axis=1)
            pairs_partial = np.fft.irfft(fm.real * fm.real + fm.imag * fm.imag, nfft, axis=1)[:, : n_lags + 1]
            pairs[partial] = np.rint(pairs_partial)
        r, r0, acf = _normalised_acf(r, pairs, min_overlap_n)
        step = self.step_period.estimate(acf, fs)
        valid_fraction = _windows(valid, ends, fs).mean(axis=1)
        dyn = _windows(dynamic_g, ends, fs)
        band = _windows(band_g, ends, fs)
        feat_n = self.feature_samples(fs)
        vertical = _windows(vertical_g, ends, feat_n)
        vertical_valid = _windows(valid, ends, feat_n)
        # robust extremes of the vertical acceleration over the feature window (valid samples only)
        k = max(1, int(feat_n * self.extreme_percentile / 100.0))  # k-th sample from each end
        high = -np.partition(-np.where(vertical_valid, vertical, -np.inf), k, axis=1)[:, k]
        low = np.partition(np.where(vertical_valid, vertical, np.inf), k, axis=1)[:, k]
        ok = np.isfinite(high) & np.isfinite(low)
        # flight must recur: the smaller share of the window's two halves (a sit-down's one drop is not a gait)
        half_n = feat_n // 2
        in_flight = vertical_valid & (vertical < self.flight_g)
        flight = np.minimum(
            in_flight[:, :half_n].sum(axis=1) / np.maximum(vertical_valid[:, :half_n].sum(axis=1), 1),
            in_flight[:, half_n:].sum(axis=1) / np.maximum(vertical_valid[:, half_n:].sum(axis=1), 1),
        )
        swing = self._gravity_swing_deg(gravity_dir, valid, ends, fs)
        return HopFeatureTable(
            period_s=step.period_samples_ / fs,
            double_period_s=step.double_period_samples_ / fs,
            asymmetry=step.asymmetry_,
            confidence=step.confidence_,
            band_std_g=np.sqrt(np.maximum(r0, 0.0)),
            valid_window_s=pairs[:, 0] / fs,
            valid_fraction=valid_fraction,
            dynamic_rms_g=np.sqrt(np.mean(dyn * dyn, axis=1)),
            hop_rms_g=np.sqrt(np.mean(band * band, axis=1)),
            vertical_high_g=np.where(ok, high, 1.0),
            vertical_low_g=np.where(ok, low, 1.0),
            flight_fraction=flight,
            gravity_swing_deg=swing,
            stride_at_2x=np.full(ends.size, np.nan),
            stride_at_4x=np.full(ends.size, np.nan),
        )

    def _gravity_swing_deg(
        self,
        gravity_dir: FloatArray | None,
        valid: NDArray[np.bool_],
        ends: NDArray[np.int64],
        sampling_rate_hz: int,
    ) -> FloatArray:
        """Per hop: the largest angle (degrees) between the gravity direction at a valid sample of the last
        ``swing_window_s`` and at the hop's end (0 when the end is not valid or no directions are given); a zero
        direction vector marks a sample without a usable estimate."""
        if gravity_dir is None:
            return np.zeros(ends.size)
        n = max(1, round(self.swing_window_s * sampling_rate_hz))
        end_dir = gravity_dir[ends - 1]  # (hops, 3)
        window = np.lib.stride_tricks.sliding_window_view(gravity_dir, n, axis=0)[ends - n]  # (hops, 3, n)
        cos = np.einsum("hkn,hk->hn", window, end_dir)
        known = valid & (np.abs(gravity_dir).sum(axis=1) > 0)  # a zero vector: no settled estimate there
        ok = _windows(known, ends, n) & known[ends - 1][:, None]
        lowest = np.where(ok, cos, 1.0).min(axis=1)
        swing: FloatArray = np.degrees(np.arccos(np.clip(lowest, -1.0, 1.0)))
        return swing

    def _acf_geometry(self, fs: int) -> tuple[int, float, int, int]:
        """(window samples, least valid pairs per lag, lags, FFT length) of the ACF window at ``fs``."""
        win_n = self.window_samples(fs)
        min_overlap_n = self.min_overlap_s * fs
        n_lags = min(self.step_period.lags_needed(fs), win_n - round(min_overlap_n))
        return win_n, min_overlap_n, n_lags, 1 << math.ceil(math.log2(win_n + n_lags + 1))

    def stride_evidence(
        self,
        horizontal_g: FloatArray,
        valid: NDArray[np.bool_],
        ends: NDArray[np.int64],
        period_samples: FloatArray,
        sampling_rate_hz: int,
        band_taps: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """(stride at 2x, stride at 4x) (:meth:`coach.signal.cadence.AcfStepPeriod.stride_evidence`) of the
        hops ending at ``ends`` whose step periods are ``period_samples``, from the ``(n, 3)`` horizontal
        acceleration ``horizontal_g`` (low-passed here by ``band_taps``, in the spectrum)."""
        fs = sampling_rate_hz
        win_n, min_overlap_n, n_lags, nfft = self._acf_geometry(fs)
        weight = _windows(valid, ends, win_n).astype(np.float64)
        power = np.zeros((ends.size, nfft // 2 + 1))
        for axis in range(3):
            fh = np.fft.rfft(_windows(horizontal_g[:, axis], ends, win_n) * weight, nfft, axis=1)
            power = power + (fh.real * fh.real + fh.imag * fh.imag)
        gain = np.fft.rfft(band_taps, nfft)
        power = power * (gain.real * gain.real + gain.imag * gain.imag)
        r = np.fft.irfft(power, nfft, axis=1)[:, : n_lags + 1]
        fm = np.fft.rfft(weight, nfft, axis=1)
        pairs = np.rint(np.fft.irfft(fm.real * fm.real + fm.imag * fm.imag, nfft, axis=1)[:, : n_lags + 1])
        _, _, acf = _normalised_acf(r, pairs, min_overlap_n)
        # a lag the window cannot measure yet (fewer than min_overlap_n sample pairs: the first seconds of a
        # bout) is no evidence either way, not an ACF of 0
        acf = np.where(pairs >= min_overlap_n, acf, np.nan)
        return self.step_period.stride_evidence(acf, period_samples)


def _normalised_acf(
    r: FloatArray, pairs: FloatArray, min_overlap_n: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(mean lagged products, their lag-0 values, the ACF): the sums ``r`` per lag divided by the valid sample
    pairs behind them (0 where fewer than ``min_overlap_n``), then by lag 0."""
    r = np.where(pairs >= min_overlap_n, r / np.maximum(pairs, 1.0), 0.0)
    r0 = r[:, 0].copy()
    acf = np.where(r0[:, None] > 0, r / np.where(r0 > 0, r0, 1.0)[:, None], 0.0)
    return r, r0, acf
