"""Adherence: did the runner do what the plan asked? The one definition, used live and after the run.

Pure. Every figure of an interval (seconds by detected mode, the share followed, time to comply, cadence and heart
rate) comes from :func:`interval_stats` over per-second rows ``{t, mode, cadence_spm, hr_bpm}`` with
``start_s <= t < end_s``. Who calls it, with which rows:

- the session engine (:mod:`coach.session.engine`), live, over the rows it accounted each session second (what it knew at that
  second: the detected mode lags the body by the detection delay) -> the ``interval_end`` records of events.jsonl;
- summary.json (:mod:`coach.store.record`) and the report (:mod:`coach.report.model`), after the run, over the rows
  of :func:`gait_rows` counted by their own time (each detected second where it happened) -> the figures a runner and
  a physio see. Mode and cadence come from the after-the-run analysis of the session's capture
  (after-run.jsonl, :mod:`coach.store.afterrun`) when there is one, else from the live ``gait`` records; heart rate
  always comes from the ``gait`` records (cleaned);
- the live display, through :func:`live_status` (the same :func:`matches` rule on the engine's settled mode).

So the live and after-the-run figures differ only by which seconds they see, never by the rule.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from coach.signal.heart import HrCleaning, clean_hr_series
from coach.vocabulary import MODES, Mode, RecordKind, as_mode

#: Seconds in a row of the planned activity that count as "complied" (time to comply; docs/formats/events.md).
COMPLY_RUN_S = 3
#: Brisk walking: a cadence of at least 100 steps/min is moderate-intensity walking for adults (Tudor-Locke C et
#: al., Br J Sports Med 2018;52(12):776-788, "How fast is fast enough?"; Tudor-Locke C et al., Int J Behav Nutr
#: Phys Act 2019;16:8, CADENCE-Adults). The one threshold behind "minutes at brisk cadence" (docs/walking.md).
BRISK_CADENCE_SPM = 100.0


class GaitRow(TypedDict):
    """One second of what was detected: its session time, mode, cadence (steps/min) and heart rate (bpm)."""

    t: float
    mode: str
    cadence_spm: float | None
    hr_bpm: float | None


class IntervalStats(TypedDict):
    seconds_by_mode: dict[str, float]
    adherence: float | None
    time_to_comply_s: float | None
    cadence_mean_spm: float | None
    cadence_sd_spm: float | None
    cadence_median_spm: float | None
    hr_mean_bpm: float | None
    hr_max_bpm: float | None
    n_seconds: int


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def gait_rows(
    records: Iterable[Mapping[str, Any]], after_run: Sequence[Mapping[str, Any]] | None = None
) -> list[GaitRow]:
    """The rows every after-the-run figure is computed from, one a second in time order (unknown modes become
    ``unknown``). The one place that decides which seconds those figures use:

    - ``after_run`` given (the seconds of after-run.jsonl, :mod:`coach.store.afterrun`): one row per after-run second
      with its mode and cadence, and the heart rate of the ``gait`` record of the same second (:func:`_same_second`);
    - else the per-second ``gait`` records of events.jsonl (what the coach saw live, or what an import wrote).

    ``hr_bpm`` is the cleaned heart rate: as recorded when the session cleaned it live (its gait records carry
    ``hr_samples``); otherwise (an import, a session recorded before the cleaning) the recorded values go through
    the same :class:`~coach.signal.heart.CausalHrCleaner` here (:func:`hr_cleaning`)."""
    live = _gait_rows(records)[0]
    if not after_run:
        return live
    times = [r["t"] for r in live]
    rows: list[GaitRow] = []
    for a in after_run:
        t = _num(a.get("t"))
        if t is None:
            continue
        k = _same_second(times, t)
        rows.append(
            GaitRow(
                t=t,
                mode=as_mode(a.get("mode")),
                cadence_spm=_num(a.get("cadence_spm")),
                hr_bpm=None if k is None else live[k]["hr_bpm"],
            )
        )
    rows.sort(key=lambda x: x["t"])
    return rows


#: An after-run second and a live ``gait`` record are the same second when their times differ by less than this
#: (both are the estimator's one-second grid on the capture's time base, so they are equal to the millisecond).
SAME_SECOND_S = 0.5


def _same_second(times: Sequence[float], t: float) -> int | None:
    """Index of the time in sorted ``times`` nearest ``t`` if within :data:`SAME_SECOND_S`, else None."""
    k = bisect.bisect_left(times, t)
    best = min((j for j in (k - 1, k) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t), default=None)
    return best if best is not None and abs(times[best] - t) < SAME_SECOND_S else None


def hr_cleaning(records: Iterable[Mapping[str, Any]]) -> tuple[float | None, int]:
    """The share of heart-rate samples rejected as artefacts (None without heart rate) and how many were seen."""
    _, seen, rejected = _gait_rows(records)
    return (rejected / seen if seen else None), seen


def _gait_rows(records: Iterable[Mapping[str, Any]]) -> tuple[list[GaitRow], int, int]:
    rows: list[GaitRow] = []
    seen = rejected = 0
    live_cleaned = False
    for r in records:
        t = _num(r.get("t"))
        if r.get("kind") != RecordKind.GAIT or t is None:
            continue
        rows.append(
            GaitRow(
                t=t,
                mode=as_mode(r.get("mode")),
                cadence_spm=_num(r.get("cadence_spm")),
                hr_bpm=_num(r.get("hr_bpm")),
            )
        )
        if "hr_samples" in r:
            live_cleaned = True
            seen += int(_num(r.get("hr_samples")) or 0)
            rejected += int(_num(r.get("hr_rejected")) or 0)
    rows.sort(key=lambda x: x["t"])
    if not live_cleaned:
        cleaned: HrCleaning = clean_hr_series([r["t"] for r in rows], [r["hr_bpm"] for r in rows])
        for row, bpm in zip(rows, cleaned.bpm, strict=True):
            row["hr_bpm"] = None if bpm is None else round(bpm, 1)
        seen, rejected = cleaned.n_values, cleaned.n_rejected
    return rows, seen, rejected


def matches(mode: str, activity: str) -> bool:
    """Does a detected mode follow the planned activity? (A walk interval is not followed by standing still.)"""
    return mode == (Mode.RUN if activity == "run" else Mode.WALK)


def interval_stats(
    rows: Sequence[GaitRow] | Sequence[Mapping[str, Any]], start_s: float, end_s: float, activity: str
) -> IntervalStats:
    """The figures of one interval from the rows with ``start_s <= t < end_s``.

    ``adherence`` is the share of the *known-mode* seconds (walk, run, still) that match the activity (None if none
    is known); ``time_to_comply_s`` is from ``start_s`` to the first of :data:`COMPLY_RUN_S` matching seconds in a row.
    """
    inside = [r for r in rows if start_s <= r["t"] < end_s]
    by_mode: dict[str, float] = dict.fromkeys(MODES, 0.0)
    for r in inside:
        by_mode[r["mode"]] += 1.0
    known = by_mode[Mode.WALK] + by_mode[Mode.RUN] + by_mode[Mode.STILL]
    ok = sum(1 for r in inside if matches(r["mode"], activity))
    ttc: float | None = None
    streak = 0
    for k, r in enumerate(inside):
        streak = streak + 1 if matches(r["mode"], activity) else 0
        if streak == COMPLY_RUN_S:
            ttc = max(0.0, inside[k - COMPLY_RUN_S + 1]["t"] - start_s)
            break
    cads = [r["cadence_spm"] for r in inside if r["cadence_spm"] is not None]
    hrs = [r["hr_bpm"] for r in inside if r["hr_bpm"] is not None]
    return IntervalStats(
        seconds_by_mode=by_mode,
        adherence=(ok / known) if known else None,
        time_to_comply_s=ttc,
        cadence_mean_spm=statistics.fmean(cads) if cads else None,
        cadence_sd_spm=statistics.pstdev(cads) if len(cads) > 1 else (0.0 if cads else None),
        cadence_median_spm=statistics.median(cads) if cads else None,
        hr_mean_bpm=statistics.fmean(hrs) if hrs else None,
        hr_max_bpm=max(hrs) if hrs else None,
        n_seconds=len(inside),
    )


def brisk_walk_s(
    rows: Sequence[GaitRow] | Sequence[Mapping[str, Any]], *, min_cadence_spm: float = BRISK_CADENCE_SPM
) -> float:
    """Seconds of brisk walking: gait rows (one a second) detected as walking at a cadence of at least
    ``min_cadence_spm`` steps/min (:data:`BRISK_CADENCE_SPM`). Running seconds do not count (a jog is not a brisk
    walk), nor seconds without a cadence. The one place brisk minutes are counted: the report model keeps the result
    as ``summary.brisk_walk_s``, which ``coach walk``, imports, ``coach plan``, ``coach history`` and ``coach
    summary`` read."""
    return float(
        sum(
            1
            for r in rows
            if r["mode"] == Mode.WALK and r["cadence_spm"] is not None and r["cadence_spm"] >= min_cadence_spm
        )
    )


def weighted_adherence(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """The session's adherence: the intervals' shares weighted by their length (``(share, seconds)`` pairs)."""
    used = [(float(a), float(w)) for a, w in pairs if a is not None and w]
    total = sum(w for _, w in used)
    return sum(a * w for a, w in used) / total if total > 0 else None


def live_status(mode: str, activity: str | None, sensor: str = "connected") -> str | None:
    """What the live display says about the settled mode against the interval's activity (None: nothing known)."""
    if activity is None or mode == Mode.UNKNOWN or sensor == "lost":
        return None
    if matches(mode, activity) or (activity != "run" and mode == Mode.STILL):
        return "ok"  # standing at a crossing in a walk is not worth a word on the screen
    if activity == "run":
        return "still walking" if mode == Mode.WALK else "stopped"
    return "ease back"


def event_figures(stats: IntervalStats) -> dict[str, Any]:
    """The figures of an ``interval_end`` record / a summary.json interval (docs/formats/events.md), rounded."""

    def r(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "seconds_by_mode": {m: round(s, 2) for m, s in stats["seconds_by_mode"].items()},
        "adherence": r(stats["adherence"], 3),
        "time_to_comply_s": r(stats["time_to_comply_s"], 1),
        "cadence_mean_spm": r(stats["cadence_mean_spm"], 1),
        "cadence_median_spm": r(stats["cadence_median_spm"], 1),
        "hr_mean_bpm": r(stats["hr_mean_bpm"], 1),
        "hr_max_bpm": None if stats["hr_max_bpm"] is None else round(stats["hr_max_bpm"]),
    }


def after_run_intervals(
    records: Sequence[Mapping[str, Any]], after_run: Sequence[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """summary.json's intervals: each ``interval_end`` record with its figures recomputed by :func:`interval_stats`
    over the rows of :func:`gait_rows` (``after_run``: the after-run seconds, when there are) counted by their own
    time (as the report does); the engine's live figures stay under ``live``. An interval without rows keeps the
    live figures."""
    rows = gait_rows(records, after_run)
    out: list[dict[str, Any]] = []
    for rec in records:
        if rec.get("kind") != RecordKind.INTERVAL_END:
            continue
        item = {k: v for k, v in rec.items() if k not in ("t", "kind")}
        start, end = _num(rec.get("start_t")), _num(rec.get("t"))
        if start is not None and end is not None:
            stats = interval_stats(rows, start, end, str(rec.get("activity")))
            if stats["n_seconds"]:
                live = {k: rec.get(k) for k in ("seconds_by_mode", "adherence", "time_to_comply_s")}
                item.update(event_figures(stats), live=live)
        out.append(item)
    return out
