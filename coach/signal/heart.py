"""Heart rate you can trust: RR artefact correction and bpm outlier rejection (docs/heart-rate.md).

Pure: numbers in, numbers out, no I/O. Two inputs, two methods:

- **RR intervals** (a chest strap's beat-to-beat intervals): :class:`KubiosRrCorrector`, the artefact detection and
  correction of Lipponen & Tarvainen 2019, "A robust algorithm for heart rate variability time series artefact
  correction using novel beat classification", *Journal of Medical Engineering & Technology* 43(3):173-181,
  doi:10.1080/03091902.2019.1640306: each beat is classed as normal, ectopic, missed, extra or long/short from
  the successive differences (dRR) and the deviation from an 11-beat median (mRR), both normalised by a time-varying
  threshold (``alpha`` x the quartile deviation over 91 beats); extra beats are deleted, missed beats inserted
  midway, ectopic and long/short beats moved midway between their neighbours; repeated while the number of
  artefacts falls. It is the method of NeuroKit2's ``signal_fixpeaks(method="kubios")`` (whose defaults it takes),
  written here with numpy only because NeuroKit2 brings pandas, scikit-learn and matplotlib (about 500 MB and 4 s
  of import on a laptop: too much for a Raspberry Pi); tests/test_heart.py checks it beat for beat against
  NeuroKit2 when that is installed (the ``hrref`` extra).
- **bpm only** (a strap or file without RR), and **live**: :class:`CausalHrCleaner` looks only back, so it runs in
  the session as samples arrive (:mod:`coach.session.tracker`) and gives the same answer after the run. It rejects
  values outside the physiological range, samples without skin contact, jumps no heart makes (faster than
  ``max_rate_bpm_per_s``), and RR intervals far from the recent median; after a start, a contact loss or a gap it
  waits until ``lock_samples`` values agree (``dry_start_s``: longer while a dry strap settles) before it believes
  any value.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from coach.vocabulary import Mode

__all__ = [
    "CausalHrCleaner",
    "HrCleaning",
    "KubiosRrCorrector",
    "clean_hr_series",
    "hr_recovery_bpm",
]

# ------------------------------------------------------------------------------------------------ Kubios (RR)

#: Beat times are handled as integer milliseconds, as NeuroKit2 does with ``sampling_rate=1000``.
_MS_PER_S = 1000.0


@dataclass
class KubiosRrCorrector:
    """Lipponen & Tarvainen 2019 RR artefact correction (the parameter names and defaults are the paper's).

    ``c1``, ``c2``: the ectopic decision boundary in the (dRR, S12) plane; ``alpha``: the threshold factor on the
    quartile deviation; ``window_beats``: the beats the quartile deviation is taken over; ``median_beats``: the
    median filter for mRR; ``iterative``: repeat detection and correction while the number of artefacts falls.

    :meth:`correct` takes RR intervals in seconds and sets ``rr_s_`` (the corrected series), ``beat_times_s_``,
    ``found_`` (the first pass's artefact beat indices by class: ``ectopic``, ``missed``, ``extra``, ``longshort``),
    and the counts ``n_extra_``, ``n_missed_``, ``n_ectopic_``, ``n_longshort_`` (of the first pass, as the paper
    reports them) and ``share_corrected_`` (artefacts / input beats).
    """

    c1: float = 0.13
    c2: float = 0.17
    alpha: float = 5.2
    window_beats: int = 91
    median_beats: int = 11
    iterative: bool = True

    rr_s_: npt.NDArray[np.float64] = field(init=False, repr=False)
    beat_times_s_: npt.NDArray[np.float64] = field(init=False, repr=False)
    n_extra_: int = field(init=False, default=0)
    n_missed_: int = field(init=False, default=0)
    n_ectopic_: int = field(init=False, default=0)
    n_longshort_: int = field(init=False, default=0)
    found_: dict[str, list[int]] = field(init=False, default_factory=dict)
    share_corrected_: float = field(init=False, default=0.0)

    def correct(self, rr_s: Sequence[float] | npt.NDArray[np.float64]) -> KubiosRrCorrector:
        rr = np.asarray(rr_s, dtype=np.float64)
        if rr.ndim != 1 or not np.all(np.isfinite(rr)) or np.any(rr <= 0):
            raise ValueError("RR intervals must be a 1-D series of positive finite seconds")
        peaks = np.concatenate(([0], np.cumsum(np.round(rr * _MS_PER_S)))).astype(np.int64)
        fixed, found = self.correct_peaks(peaks)
        self.found_ = found
        self.beat_times_s_ = fixed / _MS_PER_S
        self.rr_s_ = np.diff(fixed) / _MS_PER_S
        self.n_extra_, self.n_missed_ = len(found["extra"]), len(found["missed"])
        self.n_ectopic_, self.n_longshort_ = len(found["ectopic"]), len(found["longshort"])
        total = self.n_extra_ + self.n_missed_ + self.n_ectopic_ + self.n_longshort_
        self.share_corrected_ = total / len(rr) if len(rr) else 0.0
        return self

    def correct_peaks(
        self, peaks_ms: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], dict[str, list[int]]]:
        """Beat times in integer ms -> corrected beat times and the first pass's artefact indices by class."""
        first = self._find(peaks_ms)
        fixed = _correct(first, peaks_ms)
        if self.iterative:
            n_now = sum(len(v) for v in first.values())
            while True:
                again = self._find(fixed)
                n_before, n_now = n_now, sum(len(v) for v in again.values())
                if n_now >= n_before:
                    break
                fixed = _correct(again, fixed)
        return fixed, first

    def _find(self, peaks: npt.NDArray[np.int64]) -> dict[str, list[int]]:
        """Figure 1 of the paper: the beat classes, as indices into ``peaks``."""
        rr = np.diff(peaks, prepend=peaks[:1]).astype(np.float64) / _MS_PER_S
        if len(rr) > 1:
            rr[0] = float(np.mean(rr[1:]))
        elif len(rr) == 1:
            rr[0] = 1.0
        drrs = np.diff(rr, prepend=rr[:1])
        if len(drrs) > 1:
            drrs[0] = float(np.mean(drrs[1:]))
        th1 = _threshold(drrs, self.alpha, self.window_beats)
        with np.errstate(divide="ignore", invalid="ignore"):
            drrs = np.where(th1 != 0, drrs / th1, np.nan)
        pad = np.pad(drrs, 2, "reflect") if len(drrs) > 2 else np.pad(drrs, 2, "edge")
        s12 = np.zeros(len(drrs))
        s22 = np.zeros(len(drrs))
        for k in range(len(drrs)):
            d = k + 2
            if pad[d] > 0:
                s12[k] = max(pad[d - 1], pad[d + 1])
            elif pad[d] < 0:
                s12[k] = min(pad[d - 1], pad[d + 1])
            if pad[d] >= 0:
                s22[k] = min(pad[d + 1], pad[d + 2])
            elif pad[d] < 0:
                s22[k] = max(pad[d + 1], pad[d + 2])
        medrr = _rolling(rr, self.median_beats, np.median)
        mrrs = rr - medrr
        mrrs[mrrs < 0] *= 2
        th2 = _threshold(mrrs, self.alpha, self.window_beats)
        with np.errstate(divide="ignore", invalid="ignore"):
            mrrs = np.where(th2 != 0, mrrs / th2, np.nan)

        out: dict[str, list[int]] = {"ectopic": [], "missed": [], "extra": [], "longshort": []}
        i = 0
        while i < len(rr) - 2:
            if abs(drrs[i]) <= 1:
                i += 1
                continue
            ectopic = (drrs[i] > 1 and s12[i] < -self.c1 * drrs[i] - self.c2) or (
                drrs[i] < -1 and s12[i] > -self.c1 * drrs[i] + self.c2
            )
            if ectopic:
                out["ectopic"].append(i)
                i += 1
                continue
            if not (
                abs(drrs[i]) > 1 or abs(mrrs[i]) > 3
            ):  # (always passes after the first test: the paper's flow)
                i += 1
                continue
            candidates = [i]
            if abs(drrs[i + 1]) < abs(drrs[i + 2]):
                candidates.append(i + 1)
            for j in candidates:
                long_beat = drrs[j] > 1 and s22[j] < -1
                long_or_short = abs(mrrs[j]) > 3
                short_beat = drrs[j] < -1 and s22[j] > 1
                # the same index steps as NeuroKit2: `i` moves on once per candidate examined
                if not (long_beat or long_or_short or short_beat):
                    i += 1
                    continue
                missed = abs(rr[j] / 2 - medrr[j]) < th2[j]
                extra = abs(rr[j] + rr[j + 1] - medrr[j]) < th2[j]
                if short_beat and extra:
                    out["extra"].append(j)
                elif long_beat and missed:
                    out["missed"].append(j)
                else:
                    out["longshort"].append(j)
                i += 1
        return out


def _rolling(x: npt.NDArray[np.float64], width: int, fn: object) -> npt.NDArray[np.float64]:
    """A centred rolling statistic with shrinking edges (pandas ``rolling(width, center=True, min_periods=1)``)."""
    half_left = width // 2
    half_right = width - half_left - 1
    n = len(x)
    out = np.empty(n)
    for k in range(n):
        out[k] = fn(x[max(0, k - half_left) : min(n, k + half_right + 1)])  # type: ignore[operator]
    return out


def _threshold(x: npt.NDArray[np.float64], alpha: float, width: int) -> npt.NDArray[np.float64]:
    """``alpha`` x the quartile deviation of ``|x|`` over a centred window of ``width`` beats (the paper's Th)."""
    a = np.abs(x)
    q1 = _rolling(a, width, lambda w: np.quantile(w, 0.25))
    q3 = _rolling(a, width, lambda w: np.quantile(w, 0.75))
    return alpha * ((q3 - q1) / 2)


def _shift(source: list[int], update: list[int], step: int) -> list[int]:
    for s in source:
        update = [u + step if u > s else u for u in update]
    return sorted(set(update))


def _correct(found: dict[str, list[int]], peaks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Delete extra beats, insert missed ones midway, move ectopic and long/short beats midway (paper, section 2.3)."""
    extra, missed = found["extra"], list(found["missed"])
    ectopic, longshort = list(found["ectopic"]), list(found["longshort"])
    out = peaks.copy()
    if extra:
        out = np.delete(out, extra)
        missed, ectopic, longshort = (_shift(extra, v, -1) for v in (missed, ectopic, longshort))
    if missed:
        idx = np.array(missed)
        idx = idx[(idx > 1) & (idx < len(out))]
        added = out[idx - 1] + (out[idx] - out[idx - 1]) / 2
        out = np.insert(out, idx, added).astype(np.int64)
        ectopic, longshort = (_shift(missed, v, 1) for v in (ectopic, longshort))
    for moved in (ectopic, longshort):
        if moved:
            idx = np.array(moved)
            idx = idx[(idx > 1) & (idx < len(out) - 1)]
            mid = out[idx - 1] + (out[idx + 1] - out[idx - 1]) / 2
            out = np.sort(np.concatenate((np.delete(out, idx), mid)).astype(np.int64), kind="mergesort")
    return out


# ------------------------------------------------------------------------------------------------ causal (bpm, live)

#: Heart rate outside this range (bpm) is not a heart: a strap without contact, or a decoding fault.
MIN_BPM = 30.0
MAX_BPM = 220.0
#: The fastest a heart rate moves (bpm per second): about 3 bpm/s at the onset of hard exercise and in the first
#: seconds of recovery; a faster jump between two accepted values is an artefact.
MAX_RATE_BPM_PER_S = 3.0
#: Allowance on top of the rate limit (bpm), for the strap's own averaging and rounding.
JUMP_ALLOWANCE_BPM = 8.0
#: A beat interval further than this share from the median of the recent ones is a missed/extra/ectopic beat.
RR_TOLERANCE = 0.2
#: The recent beat intervals (in range, artefacts included: the median shrugs them off) the tolerance is taken on.
RR_HISTORY_BEATS = 11
#: After the start, a contact loss or a gap: values in a row that must agree before one is believed ...
LOCK_SAMPLES = 3
#: ... within this spread (bpm).
LOCK_SPREAD_BPM = 10.0
#: The first seconds of a strap whose electrodes are still dry: unstable, so more values must agree to lock.
DRY_START_S = 60.0
DRY_LOCK_SAMPLES = 8
#: No accepted value for this long (seconds): lock again.
GAP_S = 5.0


@dataclass
class CausalHrCleaner:
    """Heart-rate samples in, trusted bpm out, looking only back (so the live display, the HR ceiling cue and the
    report say the same).

    :meth:`feed` takes one sample (its time, the strap's bpm, its RR intervals in seconds, its skin contact) and
    returns the cleaned bpm, or None when the sample is rejected. With RR intervals, each is checked against the
    median of the last ``rr_history_beats`` (within ``rr_tolerance``): a sample whose intervals are all rejected is
    rejected; one with some rejected counts 60 / the mean of its good ones instead of the strap's figure (which
    averaged the bad ones in). Then, for any sample: a value outside
    ``min_bpm``-``max_bpm`` or without contact is rejected and the cleaner must lock again; a value that moved from
    the last accepted one by more than ``jump_allowance_bpm`` + ``max_rate_bpm_per_s`` x the seconds between is
    rejected, unless the last ``lock_samples`` candidates agree (the heart did move): each step between them within
    the jump limit, and their spread within ``lock_spread_bpm`` plus the rate limit over their time span.
    To lock (at the start, after contact loss or ``gap_s`` without an accepted value), ``lock_samples`` candidates in
    a row must agree, ``dry_lock_samples`` within ``dry_start_s`` of the first sample.

    ``n_seen_`` and ``n_rejected_`` count the samples with a bpm value.
    """

    min_bpm: float = MIN_BPM
    max_bpm: float = MAX_BPM
    max_rate_bpm_per_s: float = MAX_RATE_BPM_PER_S
    jump_allowance_bpm: float = JUMP_ALLOWANCE_BPM
    rr_tolerance: float = RR_TOLERANCE
    rr_history_beats: int = RR_HISTORY_BEATS
    lock_samples: int = LOCK_SAMPLES
    lock_spread_bpm: float = LOCK_SPREAD_BPM
    dry_start_s: float = DRY_START_S
    dry_lock_samples: int = DRY_LOCK_SAMPLES
    gap_s: float = GAP_S

    n_seen_: int = field(init=False, default=0)
    n_rejected_: int = field(init=False, default=0)
    _first_t: float | None = field(init=False, default=None, repr=False)
    _last: tuple[float, float] | None = field(init=False, default=None, repr=False)
    _last_seen_t: float | None = field(init=False, default=None, repr=False)
    _candidates: deque[tuple[float, float]] = field(init=False, repr=False)
    _rr: deque[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._candidates = deque(maxlen=max(self.lock_samples, self.dry_lock_samples))
        self._rr = deque(maxlen=self.rr_history_beats)

    def feed(
        self, t: float, bpm: float | None, rr_s: Sequence[float] = (), contact: bool | None = None
    ) -> float | None:
        """One sample (session seconds, bpm, RR seconds, contact) -> the cleaned bpm or None (rejected)."""
        if bpm is None or not math.isfinite(bpm) or bpm <= 0:
            return None  # nothing measured: neither seen nor rejected
        self.n_seen_ += 1
        if self._first_t is None:
            self._first_t = t
        if self._last_seen_t is not None and t - self._last_seen_t > self.gap_s:
            self._rr.clear()  # a gap in the samples: the beats before it say nothing about the ones after
            self._candidates.clear()
        self._last_seen_t = t
        value = self._candidate(float(bpm), rr_s, contact)
        if value is None:
            self._candidates.clear()
            self._last = None if contact is False else self._last
            return self._reject()
        self._candidates.append((t, value))
        last = self._last
        if last is not None and t - last[0] > self.gap_s:
            last = self._last = None
        if last is not None:
            allowed = self.jump_allowance_bpm + self.max_rate_bpm_per_s * max(0.0, t - last[0])
            if abs(value - last[1]) <= allowed or self._agree(self.lock_samples):
                return self._accept(t, value)
            return self._reject()
        needed = self.dry_lock_samples if t - self._first_t < self.dry_start_s else self.lock_samples
        return self._accept(t, value) if self._agree(needed) else self._reject()

    @property
    def share_rejected_(self) -> float | None:
        return self.n_rejected_ / self.n_seen_ if self.n_seen_ else None

    def _candidate(self, bpm: float, rr_s: Sequence[float], contact: bool | None) -> float | None:
        if contact is False:
            return None
        if rr_s:
            lo, hi = 60.0 / self.max_bpm, 60.0 / self.min_bpm
            good = []
            for rr in rr_s:
                if not lo <= rr <= hi:
                    continue
                ref = statistics.median(self._rr) if len(self._rr) >= self.lock_samples else None
                self._rr.append(rr)
                if ref is None or abs(rr - ref) <= self.rr_tolerance * ref:
                    good.append(rr)
            if not good:
                return None
            if len(good) < len(rr_s):  # the strap's own figure counted an artefact beat: the good ones decide
                bpm = 60.0 / statistics.fmean(good)
        return bpm if self.min_bpm <= bpm <= self.max_bpm else None

    def _agree(self, n: int) -> bool:
        if len(self._candidates) < n:
            return False
        recent = list(self._candidates)[-n:]
        steps_ok = all(
            abs(b - a) <= self.jump_allowance_bpm + self.max_rate_bpm_per_s * max(0.0, tb - ta)
            for (ta, a), (tb, b) in pairwise(recent)
        )
        values = [v for _, v in recent]
        drift = self.max_rate_bpm_per_s * (recent[-1][0] - recent[0][0])
        return steps_ok and max(values) - min(values) <= self.lock_spread_bpm + drift

    def _accept(self, t: float, value: float) -> float:
        self._last = (t, value)
        return value

    def _reject(self) -> float | None:
        self.n_rejected_ += 1
        return None


@dataclass(frozen=True)
class HrCleaning:
    """A cleaned 1 Hz heart-rate series: ``bpm`` (None where rejected or missing), ``n_values`` (raw values seen),
    ``n_rejected`` and ``share_rejected`` (None with no value)."""

    bpm: tuple[float | None, ...]
    n_values: int
    n_rejected: int

    @property
    def share_rejected(self) -> float | None:
        return self.n_rejected / self.n_values if self.n_values else None


def clean_hr_series(
    t_s: Sequence[float], bpm: Sequence[float | None], cleaner: CausalHrCleaner | None = None
) -> HrCleaning:
    """A recorded bpm series (no RR) through :class:`CausalHrCleaner`, as the live session would have seen it."""
    c = cleaner or CausalHrCleaner()
    out = tuple(c.feed(t, b) for t, b in zip(t_s, bpm, strict=True))
    return HrCleaning(out, c.n_seen_, c.n_rejected_)


# ------------------------------------------------------------------------------------------------ recovery

#: HR recovery in a walk after a run: from the median of the run's last RECOVERY_RUN_WINDOW_S ...
RECOVERY_RUN_WINDOW_S = 10.0
#: ... to the median over RECOVERY_WALK_FROM_S..RECOVERY_WALK_TO_S seconds into the walk.
RECOVERY_WALK_FROM_S = 50.0
RECOVERY_WALK_TO_S = 60.0
#: Fewer clean values than this in either window: no recovery figure (never one made of artefacts).
RECOVERY_MIN_VALUES = 5
#: With the detected gait given: at least this share of the run window's seconds detected as running, and of the
#: walk window's as walking or standing; otherwise no figure (the runner kept running into the walk, or walked
#: before it ended: the drop would not be a recovery from running).
RECOVERY_GAIT_SHARE = 0.8


def hr_recovery_bpm(
    t_s: Sequence[float],
    bpm: Sequence[float | None],
    walk_start_s: float,
    walk_end_s: float,
    modes: Sequence[str] | None = None,
) -> float | None:
    """HR recovery: the median clean HR of the last 10 s before ``walk_start_s`` minus the median 50-60 s into
    the walk; None when the walk is shorter than 60 s or either window has fewer than 5 clean values. With
    ``modes`` (the detected gait of each second), also None unless the runner was detected running in the run window
    and walking or still in the walk window (:data:`RECOVERY_GAIT_SHARE` of their seconds)."""
    if walk_end_s - walk_start_s < RECOVERY_WALK_TO_S:
        return None
    run_lo, walk_lo, walk_hi = (
        walk_start_s - RECOVERY_RUN_WINDOW_S,
        walk_start_s + RECOVERY_WALK_FROM_S,
        walk_start_s + RECOVERY_WALK_TO_S,
    )
    run = [b for t, b in zip(t_s, bpm, strict=True) if b is not None and run_lo <= t < walk_start_s]
    walk = [b for t, b in zip(t_s, bpm, strict=True) if b is not None and walk_lo <= t < walk_hi]
    if len(run) < RECOVERY_MIN_VALUES or len(walk) < RECOVERY_MIN_VALUES:
        return None
    if modes is not None:
        run_modes = [m for t, m in zip(t_s, modes, strict=True) if run_lo <= t < walk_start_s]
        walk_modes = [m for t, m in zip(t_s, modes, strict=True) if walk_lo <= t < walk_hi]
        if not _share_at_least(run_modes, (Mode.RUN,)) or not _share_at_least(
            walk_modes, (Mode.WALK, Mode.STILL)
        ):
            return None
    return float(statistics.median(run) - statistics.median(walk))


def _share_at_least(modes: Sequence[str], wanted: tuple[str, ...]) -> bool:
    return bool(modes) and sum(m in wanted for m in modes) >= RECOVERY_GAIT_SHARE * len(modes)
