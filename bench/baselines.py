"""A plain FFT-peak baseline (issue 3, "Benchmarks"): the bar every cadence method must clear.

Cadence: once a second, the dominant frequency of the detrended acceleration magnitude |a| over a 6-s window
(Hann window, zero-padded FFT, 0.6-4 Hz), times 60. Mode: "still" when |a| barely moves (standard deviation <
``still_sd_g``), otherwise "run" at or above ``run_threshold_spm`` and "walk" below. Steps: peaks of the
band-passed |a| at least 0.6 of the current period apart. Two variants (issue 16):

- ``causal=False`` (``fft``, the offline peer): the window is centred on the second ``[t, t + 1)`` and the
  band-pass is zero-phase (forward-backward), what an analysis after the run may do;
- ``causal=True`` (``fft_causal``, the live peer): the window is the trailing 6 s ending at ``t + 1`` (the data a
  live estimator has when it answers for second t), the band-pass runs forward only, and a step is kept with the
  period known when it was seen.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class FftPeakBaseline:
    """Dominant frequency of |a| over a sliding window, times 60 (steps/min)."""

    def __init__(
        self,
        *,
        window_s: float = 6.0,
        hop_s: float = 1.0,
        min_freq_hz: float = 0.6,
        max_freq_hz: float = 4.0,
        still_sd_g: float = 0.04,
        run_threshold_spm: float = 140.0,
        pad_factor: int = 16,
        causal: bool = False,
    ) -> None:
        self.window_s = window_s
        self.hop_s = hop_s
        self.min_freq_hz = min_freq_hz
        self.max_freq_hz = max_freq_hz
        self.still_sd_g = still_sd_g
        self.run_threshold_spm = run_threshold_spm
        self.pad_factor = pad_factor
        self.causal = causal

    def analyze(self, t_s: FloatArray, xyz_g: FloatArray) -> FftPeakBaseline:
        """Compute ``timeline_`` (one entry per hop) and ``steps_`` (s from the first sample); returns self."""
        from scipy.signal import butter, find_peaks, sosfilt, sosfiltfilt
        from scipy.signal import detrend as sp_detrend

        t = np.asarray(t_s, dtype=float) - float(t_s[0])
        mag = np.linalg.norm(np.asarray(xyz_g, dtype=float), axis=1)
        fs = 1.0 / float(np.median(np.diff(t)))
        self.sampling_rate_hz_ = fs
        n_win = round(self.window_s * fs)
        nfft = 1 << int(np.ceil(np.log2(n_win * self.pad_factor)))
        freqs = np.fft.rfftfreq(nfft, 1.0 / fs)
        band = (freqs >= self.min_freq_hz) & (freqs <= self.max_freq_hz)
        hann = np.hanning(n_win)
        timeline: list[dict[str, object]] = []
        period_at = np.full(int(np.floor(t[-1] / self.hop_s)) + 2, np.nan)
        k = 0
        while k * self.hop_s <= t[-1]:
            tk = k * self.hop_s
            if self.causal:  # the trailing window: samples before t + hop
                end = int(np.searchsorted(t, tk + self.hop_s, side="left"))
                start = end - n_win
            else:  # centred on the middle of the second (shifted inside the recording at its ends)
                start = int(np.searchsorted(t, tk + self.hop_s / 2.0 - self.window_s / 2.0, side="left"))
                start = max(0, min(start, t.size - n_win))
                end = start + n_win
            entry: dict[str, object] = {"t": tk, "cadence_spm": None, "mode": "unknown"}
            if start >= 0 and end <= t.size:
                seg = mag[start:end]
                if float(np.std(seg)) < self.still_sd_g:
                    entry["mode"] = "still"
                else:
                    spec = np.abs(np.fft.rfft(sp_detrend(seg) * hann, nfft))
                    f = float(freqs[band][int(np.argmax(spec[band]))])
                    cad = 60.0 * f
                    entry["cadence_spm"] = cad
                    entry["mode"] = "run" if cad >= self.run_threshold_spm else "walk"
                    period_at[k] = 1.0 / f
            timeline.append(entry)
            k += 1
        self.timeline_ = timeline
        # steps: peaks of band-passed |a|, thinned to 0.6 of the period current at that time
        sos = butter(
            2, [self.min_freq_hz, min(self.max_freq_hz, 0.45 * fs)], btype="band", fs=fs, output="sos"
        )
        # causal: forward only, around the running mean of the first window (no knowledge of the whole recording)
        filt = (
            sosfilt(sos, mag - float(np.mean(mag[:n_win])))
            if self.causal
            else sosfiltfilt(sos, mag - mag.mean())
        )
        peaks, _ = find_peaks(filt, height=0.0, distance=max(1, int(0.2 * fs)))
        steps: list[float] = []
        for p in peaks:
            tp = float(t[p])
            # the entry of the second holding this sample (causal: the first one that has seen it)
            kk = int(np.floor(tp / self.hop_s))
            if kk >= period_at.size or not np.isfinite(period_at[kk]):
                continue
            if steps and tp - steps[-1] < 0.6 * period_at[kk]:
                continue
            steps.append(tp)
        self.steps_ = np.asarray(steps, dtype=float)
        self.duration_s_ = float(t[-1])
        return self
