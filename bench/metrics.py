"""Metric functions of the signal benchmark: pure numpy, no I/O, tested in tests/test_bench_smoke.py.

The definitions follow issue 3 ("Benchmarks"):

- step events are matched one-to-one to reference events within a tolerance (0.25 s): a detected event can
  match at most one reference event and the other way round; among candidate pairs the closest pairs win
  (greedy by distance, which is optimal for 1-D events with a tolerance much shorter than a step);
- cadence error is the absolute difference in steps/min between what an algorithm reports over a bout or a
  window and the reference rate over the same span;
- mode accuracy is counted per timeline second, away from labelled changes;
- transition latency is the time from a labelled change until the reported mode equals the new label and
  stays equal (for ``stay_s`` seconds, or until the labelled segment ends).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EventMatch:
    """Result of matching detected events to reference events."""

    tp: int
    fp: int
    fn: int
    pairs: tuple[tuple[int, int], ...]  # (detected index, reference index)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else float("nan")


def match_events(detected_s: ArrayLike, reference_s: ArrayLike, tolerance_s: float = 0.25) -> EventMatch:
    """Match detected event times to reference event times one-to-one within ``tolerance_s`` (inclusive)."""
    det = np.sort(np.asarray(detected_s, dtype=float).ravel())
    ref = np.sort(np.asarray(reference_s, dtype=float).ravel())
    if det.size == 0 or ref.size == 0:
        return EventMatch(tp=0, fp=int(det.size), fn=int(ref.size), pairs=())
    # candidate pairs within tolerance (both arrays are sorted, so a window per detected event)
    lo = np.searchsorted(ref, det - tolerance_s - 1e-9, side="left")
    hi = np.searchsorted(ref, det + tolerance_s + 1e-9, side="right")
    cand: list[tuple[float, int, int]] = []
    for i in range(det.size):
        for j in range(int(lo[i]), int(hi[i])):
            d = abs(float(det[i]) - float(ref[j]))
            if d <= tolerance_s + 1e-9:
                cand.append((d, i, j))
    cand.sort()
    used_d: set[int] = set()
    used_r: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in cand:
        if i in used_d or j in used_r:
            continue
        used_d.add(i)
        used_r.add(j)
        pairs.append((i, j))
    tp = len(pairs)
    return EventMatch(tp=tp, fp=int(det.size) - tp, fn=int(ref.size) - tp, pairs=tuple(sorted(pairs)))


def sum_matches(matches: Sequence[EventMatch]) -> EventMatch:
    """Pool several matches (micro average): counts add up."""
    return EventMatch(
        tp=sum(m.tp for m in matches),
        fp=sum(m.fp for m in matches),
        fn=sum(m.fn for m in matches),
        pairs=(),
    )


def rate_from_events_spm(events_s: ArrayLike) -> float:
    """Step rate in steps/min from event times: (n - 1) intervals over the time they span; NaN if < 2."""
    ev = np.sort(np.asarray(events_s, dtype=float).ravel())
    if ev.size < 2 or ev[-1] <= ev[0]:
        return float("nan")
    return float(60.0 * (ev.size - 1) / (ev[-1] - ev[0]))


def stride_cadence_spm(steps_s: ArrayLike) -> float:
    """INDIP's per-bout formula on steps without left/right: the mean of 120 / stride time, a stride being step
    ``i`` to step ``i + 2`` (sorted); NaN with fewer than 3 steps. INDIP itself leaves out the strides its foot
    sensors could not segment, which no trunk detector sees (bench.signal_bench.reference_contact_bound)."""
    st = np.sort(np.asarray(steps_s, dtype=float).ravel())
    return float(np.mean(120.0 / (st[2:] - st[:-2]))) if st.size >= 3 else float("nan")


def regular_windows(
    start_s: float,
    end_s: float,
    events_s: ArrayLike,
    *,
    width_s: float = 10.0,
    skip_s: float = 3.0,
    tolerance: float = 0.25,
) -> list[tuple[float, float, float]]:
    """Windows (start, end, reference rate spm) tiled over [start_s + skip_s, end_s] where the reference
    events are self-consistent: >= 3 events, every interval within +-``tolerance`` of the window's median
    interval (no missed or extra events) and no more than 1.5 median intervals uncovered at either end."""
    ev = np.sort(np.asarray(events_s, dtype=float).ravel())
    out: list[tuple[float, float, float]] = []
    s0 = start_s + skip_s
    while s0 + width_s <= end_s + 1e-9:
        s1 = s0 + width_s
        w = ev[(ev >= s0) & (ev <= s1)]
        if w.size >= 3:
            d = np.diff(w)
            med = float(np.median(d))
            regular = bool(np.all(np.abs(d - med) <= tolerance * med))
            covered = (w[0] - s0) <= 1.5 * med and (s1 - w[-1]) <= 1.5 * med
            if regular and covered:
                out.append((s0, s1, rate_from_events_spm(w)))
        s0 = s1
    return out


def events_in(events_s: ArrayLike, start_s: float, end_s: float) -> FloatArray:
    """Events with start_s <= t <= end_s."""
    ev = np.asarray(events_s, dtype=float).ravel()
    return ev[(ev >= start_s) & (ev <= end_s)]


def _num(x: object) -> float:
    return float("nan") if x is None else float(x)  # type: ignore[arg-type]


def timeline_arrays(
    timeline: Sequence[Mapping[str, object]],
) -> tuple[FloatArray, FloatArray, NDArray[np.str_]]:
    """Split a timeline (list of {"t","cadence_spm","mode",...}) into t, cadence (NaN when None) and mode."""
    t = np.asarray([_num(e["t"]) for e in timeline], dtype=np.float64)
    cad = np.asarray([_num(e.get("cadence_spm")) for e in timeline], dtype=np.float64)
    mode = np.asarray([str(e.get("mode", "unknown")) for e in timeline], dtype=np.str_)
    return t, cad, mode


#: A timeline entry at ``t`` is the second ``[t, t + SECOND_S)`` (coach.signal.GaitSecond; the baselines and the
#: peers' timelines are put on the same grid).
SECOND_S = 1.0


def seconds_in(t_s: FloatArray, start_s: float, end_s: float) -> NDArray[np.bool_]:
    """Timeline entries whose second lies in the span ``[start_s, end_s)``: its middle does. On whole-second
    spans (the hand labels) these are exactly the seconds inside; the second that starts at ``end_s`` is after
    the span, not in it."""
    mid = t_s + SECOND_S / 2.0
    return (mid >= start_s) & (mid < end_s)


def mean_cadence_spm(t_s: FloatArray, cadence_spm: FloatArray, start_s: float, end_s: float) -> float:
    """Mean reported cadence over the timeline seconds in ``[start_s, end_s)`` (:func:`seconds_in`; NaN entries
    ignored)."""
    vals = cadence_spm[seconds_in(t_s, start_s, end_s)]
    vals = vals[np.isfinite(vals)]
    return float(vals.mean()) if vals.size else float("nan")


def coverage(t_s: FloatArray, cadence_spm: FloatArray, start_s: float, end_s: float) -> tuple[int, int]:
    """(seconds with a cadence, seconds in span) over the timeline seconds in ``[start_s, end_s)``."""
    sel = seconds_in(t_s, start_s, end_s)
    return int(np.isfinite(cadence_spm[sel]).sum()), int(sel.sum())


#: modes that answer a bout (anything else - ``unknown``, ``still`` - is no answer yet)
GAIT_ANSWERS = ("walk", "run")


def bout_start_delay(t_s: FloatArray, mode: NDArray[np.str_], start_s: float, end_s: float) -> float:
    """Seconds from a bout's start to the first timeline second that overlaps the bout and says walk or run
    (that second's own time; 0 if it starts before the bout); the whole bout's length if none does. Entries are
    taken at their own times, as in :func:`transition_latencies`, so a causal estimator's delay counts."""
    sel = (t_s + 1.0 > start_s) & (t_s < end_s) & np.isin(mode, GAIT_ANSWERS)
    if not sel.any():
        return float(end_s - start_s)
    return max(0.0, float(t_s[sel].min()) - start_s)


def bout_starts(segments: Sequence[Segment], max_gap_s: float = 1.0) -> list[Segment]:
    """Labelled walk or run segments that start a bout: not within ``max_gap_s`` after another walk or run."""
    segs = sorted(segments, key=lambda s: s.start_s)
    out: list[Segment] = []
    for i, sg in enumerate(segs):
        prev = segs[i - 1] if i else None
        follows_gait = (
            prev is not None and prev.label in GAIT_ANSWERS and sg.start_s - prev.end_s <= max_gap_s
        )
        if sg.label in GAIT_ANSWERS and not follows_gait:
            out.append(sg)
    return out


def abs_error_stats(errors: ArrayLike) -> dict[str, float]:
    """Median, 90th percentile and max of absolute errors (finite values only) and their count."""
    e = np.abs(np.asarray(errors, dtype=float).ravel())
    e = e[np.isfinite(e)]
    if e.size == 0:
        return {"n": 0.0, "median": float("nan"), "p90": float("nan"), "max": float("nan")}
    return {
        "n": float(e.size),
        "median": float(np.median(e)),
        "p90": float(np.percentile(e, 90)),
        "max": float(e.max()),
    }


@dataclass(frozen=True)
class Segment:
    """A labelled span: [start_s, end_s) with a label (walk, run, still, stairs, ...)."""

    start_s: float
    end_s: float
    label: str


def label_at(segments: Sequence[Segment], t_s: FloatArray) -> NDArray[np.str_]:
    """Label for each time (``""`` where no segment covers it)."""
    out = np.full(t_s.shape, "", dtype=object)
    for seg in segments:
        out[(t_s >= seg.start_s) & (t_s < seg.end_s)] = seg.label
    return out.astype(str)


def label_changes(segments: Sequence[Segment], max_gap_s: float = 1.0) -> list[tuple[float, str, str]]:
    """Labelled changes (time, old label, new label) where a segment follows another within ``max_gap_s``
    with a different label; the change time is the new segment's start."""
    segs = sorted(segments, key=lambda s: s.start_s)
    out: list[tuple[float, str, str]] = []
    for prev, cur in itertools.pairwise(segs):
        if cur.start_s - prev.end_s <= max_gap_s and cur.label != prev.label:
            out.append((cur.start_s, prev.label, cur.label))
    return out


def near_change_mask(
    segments: Sequence[Segment], t_s: FloatArray, margin_s: float = 3.0
) -> NDArray[np.bool_]:
    """True for times within ``margin_s`` of any segment boundary (start or end) of a labelled segment."""
    mask = np.zeros(t_s.shape, dtype=bool)
    for seg in segments:
        for b in (seg.start_s, seg.end_s):
            mask |= np.abs(t_s - b) <= margin_s
    return mask


def mode_confusion(
    segments: Sequence[Segment],
    t_s: FloatArray,
    mode: NDArray[np.str_],
    *,
    labels: tuple[str, ...] = ("walk", "run", "still"),
    margin_s: float = 3.0,
) -> dict[tuple[str, str], int]:
    """Counts of (label, reported mode) over timeline seconds whose label is in ``labels``,
    excluding seconds within ``margin_s`` of a segment boundary."""
    lab = label_at(segments, t_s)
    keep = np.isin(lab, labels) & ~near_change_mask(segments, t_s, margin_s)
    out: dict[tuple[str, str], int] = {}
    for a, b in zip(lab[keep], mode[keep], strict=True):
        out[(str(a), str(b))] = out.get((str(a), str(b)), 0) + 1
    return out


def accuracy_from_confusion(conf: dict[tuple[str, str], int], labels: tuple[str, ...]) -> tuple[int, int]:
    """(correct, total) over confusion entries whose label is in ``labels``."""
    total = sum(n for (a, _), n in conf.items() if a in labels)
    right = sum(n for (a, b), n in conf.items() if a in labels and a == b)
    return right, total


def false_label_count(
    conf: dict[tuple[str, str], int], wrong: str, among: tuple[str, ...]
) -> tuple[int, int]:
    """(seconds reported as ``wrong``, total seconds) over labels in ``among``."""
    total = sum(n for (a, _), n in conf.items() if a in among)
    bad = sum(n for (a, b), n in conf.items() if a in among and b == wrong)
    return bad, total


def transition_latencies(
    transitions: Sequence[tuple[float, str, str]],
    segments: Sequence[Segment],
    t_s: FloatArray,
    mode: NDArray[np.str_],
    *,
    stay_s: float = 10.0,
    max_gap_s: float = 10.0,
) -> list[tuple[float, str, str, float]]:
    """For each change (time, old, new): (time, old, new, latency_s).

    The new activity lasts until the end of the first segment labelled ``new`` that starts within
    ``max_gap_s`` after the change. Latency is the earliest timeline time t >= change such that the mode
    equals ``new`` at every timeline entry in [t, min(t + stay_s, that end)); ``inf`` if never. Entries are
    evaluated at their own times, so a causal estimator's delay is part of the latency.
    """
    order = np.argsort(t_s)
    t = t_s[order]
    m = mode[order]
    out: list[tuple[float, str, str, float]] = []
    for change_s, old, new in transitions:
        nxt = [
            sg for sg in segments if sg.label == new and change_s - 1e-6 <= sg.start_s <= change_s + max_gap_s
        ]
        if not nxt:
            continue
        end_s = min(nxt, key=lambda sg: sg.start_s).end_s
        idx = np.flatnonzero((t >= change_s) & (t < end_s))
        latency = float("inf")
        for k in idx:
            horizon = min(t[k] + stay_s, end_s)
            win = (t >= t[k]) & (t < horizon)
            if win.any() and bool(np.all(m[win] == new)):
                latency = float(t[k] - change_s)
                break
        out.append((change_s, old, new, latency))
    return out


def fmt(x: float, digits: int = 2) -> str:
    """Format a number for a table (``-`` for NaN, ``inf`` for infinity)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    if np.isinf(x):
        return "inf"
    return f"{x:.{digits}f}"
