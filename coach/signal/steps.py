"""Step events: loading peaks of the low-passed vertical acceleration, one per step, at the half-rise point.

:class:`StepDetector` stores keyword-only parameters (see docs/signal.md, step 5 and the parameter table);
:class:`coach.signal.StreamingGaitEstimator` hands it the candidate peaks of each second and asks which are steps.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

from coach.signal.dsp import FloatArray

#: A candidate peak: (time in s since the first sample, height in g).
Peak = tuple[float, float]


class StepDetector:
    """Step events from the band-passed vertical acceleration.

    Candidates are local maxima; where the ACF's stride peak exceeds its step peak by more than
    ``comb_asymmetry``, the signal is first averaged with itself one step period earlier (a comb that cancels the
    stride component), so the weaker foot's step is a maximum of its own. A candidate's time is where the rising
    edge before it crosses ``step_rise_fraction`` x its height (initial contact, McCamley et al. 2012), searched
    back at most ``rise_search_periods`` step periods (``default_period_s`` when the period is unknown).

    :meth:`confirm` keeps at most one peak per ``step_min_distance_periods`` step periods (the highest wins), at
    least ``step_threshold_std`` x the window's RMS high, and emits the peaks of the last ``step_lookback_s``
    (+ ``lookback_margin_s``) once the gait is confirmed, so the first steps of a bout are not lost. A bout's
    first steps (no step emitted in that span before them) only as a rhythm: the chain back from the newest peak
    with no interval over ``step_start_gap_periods`` step periods, once it holds ``step_start_min_steps`` peaks;
    the peaks before a longer pause (handling the sensor, a shift of weight) are dropped.
    """

    def __init__(
        self,
        *,
        step_rise_fraction: float = 0.5,
        step_min_distance_periods: float = 0.6,
        step_threshold_std: float = 0.3,
        step_lookback_s: float = 3.0,
        comb_asymmetry: float = 0.3,
        rise_search_periods: float = 0.5,
        default_period_s: float = 0.5,
        lookback_margin_s: float = 1.0,
        max_recent_peaks: int = 64,
        step_start_gap_periods: float = 3.5,
        step_start_min_steps: int = 3,
    ) -> None:
        self.step_rise_fraction = step_rise_fraction
        self.step_min_distance_periods = step_min_distance_periods
        self.step_threshold_std = step_threshold_std
        self.step_lookback_s = step_lookback_s
        self.comb_asymmetry = comb_asymmetry
        self.rise_search_periods = rise_search_periods
        self.default_period_s = default_period_s
        self.lookback_margin_s = lookback_margin_s
        self.max_recent_peaks = max_recent_peaks
        self.step_start_gap_periods = step_start_gap_periods
        self.step_start_min_steps = step_start_min_steps
        self.reset()
        self._last_step_s: float | None = None
        # the comb lag of the last hop handed to :meth:`candidates`: the samples just before a call's first hop
        # are combed with it, as a single call over both hops would (not cleared by :meth:`reset`, which runs
        # between hops in a stream but after all of a call's candidates in a batch)
        self._previous_lag = 0

    def reset(self) -> None:
        """Forget pending and recent peaks (after a gap); the last step time stays."""
        self._pending: Peak | None = None
        self._recent: deque[Peak] = deque(maxlen=self.max_recent_peaks)

    def recent_peaks(self, threshold_g: float) -> list[float]:
        """Times of the recent peaks not emitted as steps (one per ``step_min_distance_periods`` step periods,
        the last ``step_lookback_s`` + ``lookback_margin_s``) at least ``threshold_g`` high, oldest first: out
        of gait, every peak of that span; the one still pending (it may yet lose to a higher neighbour) is left
        out."""
        return [tt for tt, hh in self._recent if hh >= threshold_g]

    def comb_lags(
        self, period_s: FloatArray, asymmetry: FloatArray, sampling_rate_hz: int
    ) -> NDArray[np.int64]:
        """Per hop, the step period in samples where the comb applies, else 0."""
        return np.where(
            np.isfinite(period_s) & (asymmetry > self.comb_asymmetry),
            np.rint(np.nan_to_num(period_s) * sampling_rate_hz),
            0,
        ).astype(np.int64)

    def candidates(
        self,
        band_g: FloatArray,
        valid: NDArray[np.bool_],
        ends: NDArray[np.int64],
        comb_lags: NDArray[np.int64],
        period_samples: FloatArray,
        *,
        sampling_rate_hz: int,
        index_offset: int,
        longest_lag: int,
        delay_s: float,
    ) -> list[list[Peak]]:
        """Local maxima of the band-passed vertical signal, per hop: (time since the first sample, height).

        ``band_g`` and ``valid`` are the pipeline's buffers, ``ends`` each hop's end index in them,
        ``index_offset`` the global sample index of their first element, ``delay_s`` the low-pass delay.
        """
        fs = sampling_rate_hz
        first = int(ends[0]) - fs - 1
        last = int(ends[-1]) - 1  # peaks need a right neighbour: hop k owns local indices [start-1, end-1)
        idx = np.arange(first - 1, last + 1)
        # Each sample is combed with the lag of the hop whose samples [end - fs, end) hold it, so a sample's value
        # never depends on where a call's hops begin or end: the two samples before this call's first hop take
        # the previous call's last lag, and none takes a hop not yet computed (a peak owned by the last hop sees
        # its right neighbour with that hop's lag, known now, not the next hop's).
        sample_hop = (idx - (first + 1)) // fs  # -1 for the samples of the previous call's last hop
        lag = np.concatenate(([self._previous_lag], comb_lags))[sample_hop + 1]
        self._previous_lag = int(comb_lags[-1])
        seg = band_g[idx]
        val = valid[idx]
        if (lag > 0).any():
            back = np.maximum(idx - lag, 0)
            seg = np.where(lag > 0, 0.5 * (seg + band_g[back]), seg)
            val = val & valid[back]
        mid = seg[1:-1]
        is_peak = (mid > seg[:-2]) & (mid >= seg[2:]) & val[1:-1] & val[:-2] & val[2:]
        loc = np.flatnonzero(is_peak)
        y0, y1, y2 = seg[loc], seg[loc + 1], seg[loc + 2]
        den = y0 - 2 * y1 + y2
        delta = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
        height = y1 - 0.25 * (y0 - y2) * delta
        local_idx = first + loc  # index into the buffer of the peak sample
        # times as (integer global sample index, fraction) so that they do not depend on the buffer offset
        g_idx = local_idx + index_offset
        t_frac = delta
        if self.step_rise_fraction < 1.0 and loc.size:
            # Initial contact precedes the loading peak: the vertical velocity is lowest (most downward) where
            # the vertical acceleration crosses zero upwards (McCamley et al. 2012). The landmark is where the
            # rising edge before the peak crosses ``step_rise_fraction`` x the peak height (0 = that zero
            # crossing, 1 = the peak itself), searched back at most ``rise_search_periods`` step periods.
            per = period_samples[np.clip(loc // fs, 0, ends.size - 1)]
            back_n = max(2, int(self.rise_search_periods * longest_lag))
            max_back = np.minimum(
                np.where(
                    np.isfinite(per),
                    self.rise_search_periods * per,
                    self.rise_search_periods * self.default_period_s * fs,
                ),
                back_n,
            )
            offs = np.arange(-back_n, 1)
            gi = np.clip(local_idx[:, None] + offs[None, :], 0, band_g.size - 1)
            w = band_g[gi]
            level = (self.step_rise_fraction * height)[:, None]
            below = (w < level) & (-offs[None, :] <= max_back[:, None])
            has_below = below.any(axis=1)
            k = back_n - np.argmax(below[:, ::-1], axis=1)  # last sample below the level
            k = np.clip(k, 0, back_n - 1)
            ya = w[np.arange(loc.size), k]
            yb = w[np.arange(loc.size), k + 1]
            frac = np.where(yb > ya, (level[:, 0] - ya) / np.where(yb > ya, yb - ya, 1.0), 0.0)
            rise_before = has_below & (offs[k] + np.clip(frac, 0.0, 1.0) <= delta)
            g_idx = np.where(rise_before, g_idx + offs[k], g_idx)
            t_frac = np.where(rise_before, np.clip(frac, 0.0, 1.0), t_frac)
        t_rel = (g_idx + t_frac) / fs - delay_s
        hop_of = (local_idx - first) // fs
        out: list[list[Peak]] = [[] for _ in range(ends.size)]
        for hop_i, tt, hh in zip(hop_of.tolist(), t_rel.tolist(), height.tolist(), strict=True):
            out[min(hop_i, ends.size - 1)].append((tt, hh))
        return out

    def confirm(
        self,
        t_end_s: float,
        candidates: list[Peak],
        in_gait: bool,
        period_s: float | None,
        band_std_g: float,
    ) -> list[float]:
        """The steps confirmed at the end ``t_end_s`` of a second (s since the first sample).

        Non-maximum suppression at ``step_min_distance_periods`` x ``period_s`` (``default_period_s`` when
        ``None``); steps only while ``in_gait``.
        """
        step_s = period_s if period_s is not None else self.default_period_s
        min_d = self.step_min_distance_periods * step_s
        confirmed: list[Peak] = []
        for tt, hh in candidates:
            pend = self._pending
            if pend is None:
                self._pending = (tt, hh)
            elif tt - pend[0] < min_d:
                if hh > pend[1]:
                    self._pending = (tt, hh)
            else:
                confirmed.append(pend)
                self._pending = (tt, hh)
        pend = self._pending
        if pend is not None and t_end_s - pend[0] >= min_d:
            confirmed.append(pend)
            self._pending = None
        threshold_g = self.step_threshold_std * band_std_g
        for tt, hh in confirmed:
            self._recent.append((tt, hh))
        oldest_s = t_end_s - self.step_lookback_s - self.lookback_margin_s
        while self._recent and self._recent[0][0] < oldest_s:
            self._recent.popleft()
        if not in_gait:
            return []
        out: list[float] = []
        last = self._last_step_s
        keep: deque[Peak] = deque(maxlen=self.max_recent_peaks)
        for tt, hh in self._recent:
            if tt < oldest_s:
                continue
            if hh >= threshold_g and (last is None or tt - last >= min_d):
                out.append(tt)
                last = tt
            elif last is not None and tt <= last:
                continue
            else:
                keep.append((tt, hh))
        if out and (self._last_step_s is None or self._last_step_s < oldest_s):
            # a bout's first steps (no step in the lookback span before them): the chain back from the newest
            # at the bout's rhythm (no interval over step_start_gap_periods step periods); peaks before a
            # longer pause are handling or a shift of weight, and a chain of fewer than step_start_min_steps
            # is no rhythm yet (its peaks stay for the next second)
            max_gap = self.step_start_gap_periods * step_s
            first = len(out) - 1
            while first > 0 and out[first] - out[first - 1] <= max_gap:
                first -= 1
            if len(out) - first < self.step_start_min_steps:
                return []
            out = out[first:]
        self._recent = keep
        self._last_step_s = last
        return out
