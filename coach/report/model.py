"""The post-run report: a session folder (docs/formats/events.md) + pain scores -> one report model (a dict).

:func:`read_session` reads a folder (events.jsonl, summary.json; a torn last line is skipped with a warning, a bad
line elsewhere is an :class:`~coach.errors.InputError`). :func:`build_report` is pure: it turns the records into the
numbers a runner and a physio look at (docs/report.md):

- per planned interval: planned activity, detected mode, share of time compliant, seconds to comply after the cue,
  cadence mean and spread (SD), HR mean/max (cleaned: :mod:`coach.signal.heart`), HR recovery in a walk after a
  run, and the share of heart-rate samples rejected as artefacts;
- 1 Hz cadence, HR and detected-mode series (from the ``gait`` records), a walk vs run cadence histogram;
- pain before/during/after/next morning, earlier sessions for comparison, the progression decision.

The same model feeds the terminal summary, ``--json`` and the HTML page (:mod:`coach.report.html`). Interrupted
sessions (no ``session_end``, or ``summary.json`` with ``"complete": false``) are reported as far as they went and
marked incomplete; imported recordings carry ``"imported": true`` in their ``session_start``.

Nothing here does I/O beyond reading the folder; the hook ``coach run``/``coach demo`` call after a session (index
into the database, print the next step and the pain prompt) is :func:`coach.store.index.print_session_report`, a
layer above this one.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.errors import InputError, read_text_file
from coach.plan.progression import rehearsal_reason
from coach.report.activity import Activity, ActivityLap, ActivityRecord
from coach.session.adherence import (
    GaitRow,
    brisk_walk_s,
    gait_rows,
    hr_cleaning,
    interval_stats,
    weighted_adherence,
)
from coach.signal.heart import hr_recovery_bpm
from coach.text import mmss
from coach.vocabulary import MODES, Mode, RecordKind, SessionActivity

logger = logging.getLogger(__name__)

REPORT_FORMAT = "coach-report"
REPORT_VERSION = 1
HIST_LO_SPM, HIST_HI_SPM, HIST_BIN_SPM = 60, 220, 5
PAIN_ORDER = ("before", "during", "after", "next-morning")
#: What a session was, for moving minutes and the walking base: a walk (``coach walk``, an imported walk) or a
#: walk/run session (``coach run``, an import of a run).
#: What a session was (:func:`session_activity_kind`): a walk, or a walk/run session.
WALK, WALK_RUN = SessionActivity.WALK, SessionActivity.RUN
#: FIT sports (as the file declares them, lower case) that make an imported recording a walk, or a run.
WALKING_SPORTS = frozenset({"walking", "hiking"})
RUNNING_SPORTS = frozenset({"running", "trail_running", "treadmill_running"})
#: An import that declares neither (a Polar Sensor Logger export, a FIT file of another sport) and follows no
#: programme stage is a walk when at most this share of its detected walking and running seconds were running.
IMPORT_WALK_MAX_RUN_SHARE = 0.05


@dataclass
class SessionFolder:
    """What a session folder holds, parsed. ``records`` are the events.jsonl records in file order."""

    folder: Path
    records: list[dict[str, Any]]
    summary: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    #: The seconds of after-run.jsonl (:mod:`coach.store.afterrun`): mode and cadence after the run; None without.
    after_run: list[dict[str, Any]] | None = None

    @property
    def estimator(self) -> str:
        """Which estimator the cadence and walk/run figures come from: ``after-run`` (the after-run file, or an
        import, which writes the after-run analysis as its gait records) or ``live`` (what the coach saw)."""
        return "after-run" if self.after_run or self.start.get("imported") else "live"

    @property
    def start(self) -> dict[str, Any]:
        return self.records[0]

    @property
    def session_id(self) -> str:
        return str(self.start.get("session_id") or self.folder.name)


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """JSON Lines with the session-folder rule: a torn *last* line is a warning, any other bad line an error."""
    raw = read_text_file(path)
    lines = raw.split("\n")
    torn_allowed = not raw.endswith("\n")
    out: list[dict[str, Any]] = []
    warnings: list[str] = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or "kind" not in obj:
                raise ValueError("not an events record (needs an object with 'kind')")
        except ValueError as exc:
            if torn_allowed and i == len(lines):
                warnings.append(f"{path.name}:{i}: torn last line skipped (the session was cut off)")
                continue
            raise InputError(f"{path}:{i}: bad events record ({exc})") from None
        out.append(obj)
    return out, warnings


def read_session(folder: str | Path, *, after_run: bool = True) -> SessionFolder:
    """Read a session folder (events.jsonl required, summary.json and after-run.jsonl optional).

    With ``after_run`` the after-run analysis of the session's capture is read, or made and written when it is
    missing (a killed session: :func:`coach.store.afterrun.load_after_run`); a failure is one warning, and the
    figures are then the live ones."""
    from coach.store.afterrun import load_after_run

    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path}: not a session folder")
    records, warnings = read_jsonl(path / "events.jsonl")
    if not records or records[0].get("kind") != RecordKind.SESSION_START:
        raise InputError(f"{path / 'events.jsonl'}:1: the first record must be session_start")
    summary: dict[str, Any] | None = None
    spath = path / "summary.json"
    if spath.exists():
        try:
            loaded = json.loads(spath.read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else None
        except (ValueError, OSError) as exc:
            warnings.append(f"summary.json unreadable ({exc}); rebuilt from events.jsonl")
    rows: list[dict[str, Any]] | None = None
    if after_run:
        made, note = load_after_run(path)
        rows = made.rows if made is not None else None
        if note:
            warnings.append(note)
    return SessionFolder(path, records, summary, warnings, rows)


# ------------------------------------------------------------------------------------------------ helpers


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


def _mean(xs: Sequence[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _sd(xs: Sequence[float]) -> float | None:
    return statistics.pstdev(xs) if len(xs) >= 2 else (0.0 if xs else None)


def _median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def hr_recovery(rows: Sequence[Mapping[str, Any]], start_s: float, end_s: float) -> float | None:
    """HR recovery in the walk ``[start_s, end_s)`` after a run, from the cleaned rows
    (:func:`coach.signal.heart.hr_recovery_bpm`: run's last 10 s median minus the walk's 50-60 s median, only when
    the runner was detected running, then walking)."""
    return hr_recovery_bpm(
        [r["t"] for r in rows], [r["hr_bpm"] for r in rows], start_s, end_s, [r["mode"] for r in rows]
    )


def cadence_histogram(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of seconds per 5 steps/min bin (60-220), separately for detected walking and running."""
    edges = list(range(HIST_LO_SPM, HIST_HI_SPM + HIST_BIN_SPM, HIST_BIN_SPM))
    counts: dict[str, list[int]] = {Mode.WALK: [0] * (len(edges) - 1), Mode.RUN: [0] * (len(edges) - 1)}
    for r in rows:
        c = r["cadence_spm"]
        if r["mode"] not in counts or c is None:
            continue
        k = int((min(max(c, HIST_LO_SPM), HIST_HI_SPM - 1e-9) - HIST_LO_SPM) // HIST_BIN_SPM)
        counts[r["mode"]][k] += 1
    return {"edges_spm": edges, **counts}


def session_activity_kind(start: Mapping[str, Any], seconds_by_mode: Mapping[Any, float]) -> str:
    """:data:`WALK` or :data:`WALK_RUN`: the one rule for what a session was (docs/walking.md).

    A ``coach walk`` session says so in its session_start (``"activity": "walk"``). An import is a walk when its
    FIT file declares a walking sport (:data:`WALKING_SPORTS`), a run when it declares a running one or was
    imported as a programme stage, and otherwise by what was detected: a walk when running was at most
    :data:`IMPORT_WALK_MAX_RUN_SHARE` of its walking and running seconds. Everything else is a walk/run session.
    """
    if start.get("activity") == SessionActivity.EXERCISE:
        return SessionActivity.EXERCISE
    if start.get("activity") == WALK:
        return WALK
    if not start.get("imported") or start.get("plan_kind") == "programme":
        return WALK_RUN
    sport = str((start.get("imported_from") or {}).get("sport") or "").strip().lower().replace(" ", "_")
    if sport in WALKING_SPORTS:
        return WALK
    if sport in RUNNING_SPORTS:
        return WALK_RUN
    walk, run = float(seconds_by_mode.get(Mode.WALK, 0.0)), float(seconds_by_mode.get(Mode.RUN, 0.0))
    return WALK if walk > 0 and run <= IMPORT_WALK_MAX_RUN_SHARE * (walk + run) else WALK_RUN


# ------------------------------------------------------------------------------------------------ the model


def _intervals(session: SessionFolder, rows: list[GaitRow], last_t: float) -> list[dict[str, Any]]:
    recs = session.records
    plan = [p for p in session.start.get("plan") or [] if isinstance(p, dict)]
    starts = {r.get("index"): r for r in recs if r.get("kind") == RecordKind.INTERVAL_START}
    ends = {r.get("index"): r for r in recs if r.get("kind") == RecordKind.INTERVAL_END}
    complies = {r.get("interval_index"): r for r in recs if r.get("kind") == RecordKind.COMPLY}
    start_times = sorted(float(r["t"]) for r in starts.values())
    out: list[dict[str, Any]] = []
    prev_activity: str | None = None
    for p in plan:
        idx = p.get("index", len(out))
        activity = str(p.get("activity", "walk"))
        planned = _num(p.get("duration_s")) or 0.0
        item: dict[str, Any] = {
            "index": idx,
            "activity": activity,
            "label": p.get("label"),
            "repeat": p.get("repeat"),
            "repeats": p.get("repeats"),
            "planned_duration_s": planned,
            "planned_start_s": _num(p.get("start_s")),
        }
        st = starts.get(idx)
        if st is None:
            item.update(status="not reached", start_s=None, end_s=None, actual_duration_s=0.0, detected=None)
            item.update({k: None for k in _STAT_KEYS})
            out.append(item)
            prev_activity = activity
            continue
        start_t = float(st["t"])
        end = ends.get(idx)
        if end is not None:
            end_t = float(end["t"])
        else:
            later = [t for t in start_times if t > start_t]
            end_t = later[0] if later else last_t + 1.0  # a gait record at t covers [t, t + 1)
        stats = interval_stats(rows, start_t, end_t, activity)
        by_mode = stats["seconds_by_mode"]
        adherence = stats["adherence"]
        ttc = stats["time_to_comply_s"]
        actual = end_t - start_t
        status = "completed"
        live: dict[str, Any] | None = None
        if end is not None:
            # The report counts each detected second by its own time (the gait rows). The engine's live tally
            # counts a second when it reached the coach, which lags by the detection delay (about 1 s at real
            # time, several session seconds when a replay is fast-forwarded); it is kept as `live` for reference
            # and used only when the interval has no gait rows.
            live = {
                "seconds_by_mode": end.get("seconds_by_mode"),
                "adherence": _num(end.get("adherence")),
                "time_to_comply_s": _num(end.get("time_to_comply_s")),
            }
            has_rows = sum(by_mode.values()) > 0
            if not has_rows and isinstance(end.get("seconds_by_mode"), dict):
                by_mode = {m: float(end["seconds_by_mode"].get(m, 0.0) or 0.0) for m in MODES}
                if "adherence" in end:
                    adherence = _num(end.get("adherence"))
                if "time_to_comply_s" in end:
                    ttc = _num(end.get("time_to_comply_s"))
            actual = _num(end.get("actual_duration_s")) or actual
            status = "completed" if end.get("reason", "completed") == "completed" else "stopped"
        else:
            status = "stopped"
            if idx in complies and sum(by_mode.values()) == 0:
                ttc = _num(complies[idx].get("time_to_comply_s"))
        known = {m: by_mode[m] for m in (Mode.WALK, Mode.RUN, Mode.STILL)}
        detected = max(known, key=lambda m: known[m]) if sum(known.values()) > 0 else Mode.UNKNOWN
        recovery = (
            hr_recovery(rows, start_t, end_t)
            if activity != "run" and prev_activity == "run" and status == "completed"
            else None
        )
        item.update(
            status=status,
            start_s=round(start_t, 3),
            end_s=round(end_t, 3),
            actual_duration_s=round(actual, 2),
            detected=detected,
            detected_share=_r(known[detected] / sum(known.values()), 3) if detected != Mode.UNKNOWN else None,
            seconds_by_mode={m: round(v, 2) for m, v in by_mode.items()},
            compliant_share=_r(adherence, 3),
            time_to_comply_s=_r(ttc, 1),
            cadence_mean_spm=_r(stats["cadence_mean_spm"]),
            cadence_sd_spm=_r(stats["cadence_sd_spm"]),
            cadence_median_spm=_r(stats["cadence_median_spm"]),
            hr_mean_bpm=_r(stats["hr_mean_bpm"]),
            hr_max_bpm=_r(stats["hr_max_bpm"], 0),
            hr_recovery_bpm=_r(recovery),
            live=live,
        )
        out.append(item)
        prev_activity = activity
    return out


_STAT_KEYS = (
    "detected_share",
    "seconds_by_mode",
    "compliant_share",
    "time_to_comply_s",
    "cadence_mean_spm",
    "cadence_sd_spm",
    "cadence_median_spm",
    "hr_mean_bpm",
    "hr_max_bpm",
    "hr_recovery_bpm",
)


def build_report(
    session: SessionFolder,
    *,
    pain: Mapping[str, Mapping[str, Any]] | None = None,
    previous: Sequence[Mapping[str, Any]] = (),
    decision: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report model of one session (pure). ``pain``: ``{when: {"score": x, "note": str|None}}``;
    ``previous``: earlier sessions' history rows (oldest first); ``decision``: the progression decision dict."""
    recs = session.records
    start = session.start
    rows = gait_rows(recs, session.after_run)
    end = next((r for r in reversed(recs) if r.get("kind") == RecordKind.SESSION_END), None)
    last_t = max((float(r["t"]) for r in recs if _num(r.get("t")) is not None), default=0.0)
    summary = session.summary or {}
    complete = end is not None and end.get("reason") in ("completed", None) and summary.get("complete", True)
    intervals = _intervals(session, rows, last_t)
    no_plan = bool(start.get("imported")) and start.get("plan_kind") != "programme"
    if no_plan:  # laps or detected segments of an imported recording: there was no plan to follow
        for iv in intervals:
            iv["compliant_share"] = iv["time_to_comply_s"] = None

    adherence = weighted_adherence((iv["compliant_share"], iv["actual_duration_s"]) for iv in intervals)
    ttcs = [iv["time_to_comply_s"] for iv in intervals if iv.get("time_to_comply_s") is not None]
    # intervals with a known share followed but never followed for long enough: the median above leaves them out
    never = sum(
        1 for iv in intervals if iv.get("compliant_share") is not None and iv.get("time_to_comply_s") is None
    )
    by_mode = {m: float(sum(1 for r in rows if r["mode"] == m)) for m in MODES}
    cad = {
        m: [r["cadence_spm"] for r in rows if r["mode"] == m and r["cadence_spm"] is not None]
        for m in (Mode.WALK, Mode.RUN)
    }
    hrs = [r["hr_bpm"] for r in rows if r["hr_bpm"] is not None]
    hr_rejected, _ = hr_cleaning(recs)
    cues = [r for r in recs if r.get("kind") == RecordKind.CUE]
    spoken = [c for c in cues if not c.get("dropped") and _num(c.get("t")) is not None]
    latencies = [
        float(c["t"]) - float(c["planned_t"]) for c in spoken if _num(c.get("planned_t")) is not None
    ]
    by_type: dict[str, int] = {}
    for c in spoken:
        by_type[str(c.get("type"))] = by_type.get(str(c.get("type")), 0) + 1
    baseline = next(
        (r.get("cadence_baseline_spm") for r in reversed(recs) if r.get("kind") == RecordKind.BASELINE),
        (start.get("targets") or {}).get("cadence_baseline_spm"),
    )
    end_reason = end.get("reason") if end else "interrupted"
    duration = _num(end.get("duration_s")) if end else None
    warnings = list(session.warnings)
    if not complete:
        warnings.append(
            "This session did not finish normally"
            + (f" ({end_reason})" if end_reason else "")
            + ": the numbers cover what was recorded."
        )
    if no_plan:
        warnings.append(
            "Imported without a programme stage: the intervals are the recording's laps or detected segments, "
            "so there is no plan to compare with (import with --programme/--stage to get adherence)."
        )
    exercise = start.get("activity") == SessionActivity.EXERCISE
    if not rows and not exercise:
        warnings.append("No gait data in this session: cadence, mode and HR are missing.")
    elif not rows and start.get("source"):
        warnings.append("No heart rate in this session: the strap sent nothing usable.")
    pain_model = {w: dict(pain[w]) for w in PAIN_ORDER if pain and w in pain}
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "session": {
            "id": session.session_id,
            "folder": str(session.folder),
            "started_at": start.get("started_at"),
            "ended_at": end.get("ended_at") if end else None,
            "programme": start.get("programme"),
            "programme_title": start.get("programme_title"),
            "stage": start.get("stage"),
            "stage_title": start.get("stage_title"),
            "source": start.get("source"),
            "demo": bool(start.get("demo")),
            "speed": _num(start.get("speed")),
            # a demo, a replay, the virtual strap: shown in the history, never counted towards progression
            "rehearsal": rehearsal_reason(start) is not None,
            "rehearsal_reason": rehearsal_reason(start),
            "imported": bool(start.get("imported")),
            "activity": session_activity_kind(start, by_mode),
            "walk_step": start.get("walk_step"),
            "plan_kind": start.get("plan_kind") or "programme",
            # a guided exercise routine (coach exercise): its routine and exercises
            "routine": start.get("routine"),
            "routine_title": start.get("routine_title"),
            "exercises": list(start.get("exercises") or []),
            "dose_level": start.get("dose_level"),
            "note": start.get("note"),
            # cadence and walk/run: "after-run" (the after-the-run analysis) or "live" (docs/report.md)
            "estimator": session.estimator,
            "complete": bool(complete),
            "end_reason": end_reason,
            "duration_s": _r(duration if duration is not None else last_t, 1),
            "planned_duration_s": _num(start.get("planned_duration_s")),
        },
        "summary": {
            "adherence": _r(adherence, 3),
            "time_to_comply_median_s": _r(_median(ttcs), 1),
            "intervals_never_followed": never,
            "intervals_planned": len(intervals),
            "intervals_done": sum(1 for iv in intervals if iv["status"] == "completed"),
            "seconds_by_mode": by_mode,
            "brisk_walk_s": brisk_walk_s(rows),
            "cadence_walk_spm": _r(_median(cad[Mode.WALK])),
            "cadence_run_spm": _r(_median(cad[Mode.RUN])),
            "cadence_walk_sd_spm": _r(_sd(cad[Mode.WALK])),
            "cadence_run_sd_spm": _r(_sd(cad[Mode.RUN])),
            "cadence_baseline_spm": _num(baseline),
            "hr_mean_bpm": _r(_mean(hrs)),
            "hr_max_bpm": _r(max(hrs), 0) if hrs else None,
            "hr_share_rejected": _r(hr_rejected, 3),
            "cues_spoken": len(spoken),
            "cues_dropped": len(cues) - len(spoken),
            "cues_by_type": by_type,
            "cue_latency_median_s": _r(_median(latencies), 2),
        },
        "intervals": intervals,
        "series": {
            "t_s": [round(r["t"], 3) for r in rows],
            "cadence_spm": [r["cadence_spm"] for r in rows],
            "hr_bpm": [r["hr_bpm"] for r in rows],
            "mode": [r["mode"] for r in rows],
        },
        "cadence_histogram": cadence_histogram(rows),
        "pain": pain_model,
        "previous": [dict(p) for p in previous],
        "decision": dict(decision) if decision else None,
        "warnings": warnings,
    }


#: Optional fields of a ``gait`` record that the export keeps (docs/formats/events.md).
_MOTION_KEYS = ("distance_m", "speed_mps", "lat_deg", "lon_deg")
#: The cadence of a second the session detected as ``still`` (standing: no steps), which its gait record leaves
#: ``null``. The export writes it, as a watch writes 0 when its wearer stands; without it a reader of the file
#: (coach import too) sees a gap and holds the cadence before it, so standing came back as walking.
STILL_CADENCE_SPM = 0.0


def session_activity(session: SessionFolder) -> Activity:
    """The session as an :class:`~coach.report.activity.Activity` for FIT/TCX: 1 Hz gait records (heart rate
    cleaned, as in the report; the notes give the share rejected) and one lap per interval that was started (planned
    activity; warm-up/cool-down labels kept). A ``still`` second has cadence :data:`STILL_CADENCE_SPM`."""
    from datetime import UTC, datetime

    start = session.start
    try:
        started = datetime.fromisoformat(str(start.get("started_at")).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{session.folder}: session_start has no valid started_at") from None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    rows = gait_rows(session.records, session.after_run)
    # What a gait record may carry beyond the report's rows: an imported GPS run's distance, speed and position
    # (docs/formats/events.md). Dropping them here was why a re-exported GPS run lost its distance and speed.
    motion = {
        _num(r.get("t")): r
        for r in session.records
        if r.get("kind") == RecordKind.GAIT and any(k in r for k in _MOTION_KEYS)
    }
    records = tuple(
        ActivityRecord(
            t_s=r["t"],
            hr_bpm=r["hr_bpm"],
            cadence_spm=STILL_CADENCE_SPM
            if r["cadence_spm"] is None and r["mode"] == Mode.STILL
            else r["cadence_spm"],
            **{k: _num(motion.get(r["t"], {}).get(k)) for k in _MOTION_KEYS},
        )
        for r in rows
    )
    last_t = max((float(r["t"]) for r in session.records if _num(r.get("t")) is not None), default=0.0)
    laps = []
    for iv in _intervals(session, rows, last_t):
        if iv["start_s"] is None:
            continue
        label = str(iv.get("label") or "")
        activity = iv["activity"] if iv["activity"] in ("run", "walk") else "other"
        if label in ("warm-up", "cool-down"):
            activity = "warmup" if label == "warm-up" else "cooldown"
        laps.append(ActivityLap(iv["start_s"], max(iv["end_s"], iv["start_s"]), activity, label))
    title = start.get("stage_title") or start.get("programme_title") or "coach session"
    hr_rejected, _ = hr_cleaning(session.records)
    hr_note = (
        ""
        if hr_rejected is None
        # the share as the report and summary.json keep it (to 3 places), so all of them print the same percent
        else f"; heart rate cleaned of artefacts ({round(hr_rejected, 3) * 100:.0f} % of samples rejected)"
    )
    return Activity(
        start_time=started,
        records=records,
        laps=tuple(laps),
        name=str(title),
        notes=f"coach session {session.session_id}: {title}{hr_note}",
    )


# ------------------------------------------------------------------------------------------------ terminal


def _fmt(v: Any, unit: str = "", nd: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:.{nd}f}{unit}"


def format_text(report: Mapping[str, Any]) -> str:
    """The compact terminal summary of a report model."""
    s, m = report["session"], report["summary"]
    if s.get("activity") == SessionActivity.EXERCISE:
        return "\n".join([*_exercise_lines(report), *_pain_and_notes(report)])
    lines = [
        f"Session {s['id']}  {s.get('started_at') or ''}  {s.get('programme') or ''} stage {s.get('stage') or '-'}"
        + ("" if s["complete"] else f"  [INCOMPLETE: {s['end_reason']}]")
        + ("  [imported]" if s["imported"] else "")
        + ("  [demo]" if s["demo"] else ""),
        f"  {mmss(s['duration_s'])} done of {mmss(s['planned_duration_s'])} planned; "
        f"followed the plan {_fmt(None if m['adherence'] is None else m['adherence'] * 100, ' %')}; "
        f"median time to follow a change {_fmt(m['time_to_comply_median_s'], ' s')}"
        + (f" ({m['intervals_never_followed']} never followed)" if m.get("intervals_never_followed") else ""),
        f"  cadence walk {_fmt(m['cadence_walk_spm'])} / run {_fmt(m['cadence_run_spm'])} steps/min; "
        f"HR mean {_fmt(m['hr_mean_bpm'])} max {_fmt(m['hr_max_bpm'])} bpm"
        + (
            f" ({m['hr_share_rejected'] * 100:.0f} % of HR samples rejected as artefacts)"
            if m.get("hr_share_rejected")
            else ""
        ),
        # which estimator the cadence and mode figures come from (docs/signal.md, "Two estimators")
        "  cadence and walk/run: "
        + (
            "after the run (windows centred on each second)"
            if s.get("estimator", "after-run" if s["imported"] else "live") == "after-run"
            else "as measured live"
        ),
        f"  {'#':>2}  {'plan':<10}  {'detected':<14}  {'followed':>8}  {'comply':>6}  {'cadence':>9}  "
        f"{'HR mean/max':>11}  {'HR rec':>7}",
    ]
    for iv in report["intervals"]:
        share = iv.get("compliant_share")
        det = iv.get("detected") or "-"
        if iv["status"] == "not reached":
            det = "not reached"
        elif iv["status"] == "stopped":
            det += " (stop)"
        cad = "-"
        if iv.get("cadence_mean_spm") is not None:
            cad = f"{iv['cadence_mean_spm']:.0f}±{iv.get('cadence_sd_spm') or 0:.0f}"
        hr = f"{_fmt(iv.get('hr_mean_bpm'))}/{_fmt(iv.get('hr_max_bpm'))}"
        plan = f"{iv['activity']} {mmss(iv['planned_duration_s'])}"
        lines.append(
            f"  {iv['index'] + 1:>2}  {plan:<10}  {det:<14}  "
            f"{_fmt(None if share is None else share * 100, ' %'):>8}  "
            f"{_fmt(iv.get('time_to_comply_s'), ' s'):>6}  {cad:>9}  {hr:>11}  {_fmt(iv.get('hr_recovery_bpm')):>7}"
        )
    pain = report.get("pain") or {}
    if pain:
        lines.append(_pain_line(pain))
    prev = (report.get("previous") or [None])[-1]
    if prev:
        before = prev.get("adherence")
        lines.append(
            f"  vs previous session ({str(prev.get('started_at') or '')[:10]}): followed "
            f"{_fmt(None if before is None else before * 100, ' %')} -> "
            f"{_fmt(None if m['adherence'] is None else m['adherence'] * 100, ' %')}, running cadence "
            f"{_fmt(prev.get('cadence_run_spm'))} -> {_fmt(m['cadence_run_spm'])}, pain after "
            f"{_fmt(prev.get('pain_after'), '', 1)} -> {_fmt((pain.get('after') or {}).get('score'), '', 1)}"
        )
    dec = report.get("decision")
    if dec:
        lines.append(next_step_line(report, dec))
    for w in report.get("warnings", []):
        lines.append(f"  note: {w}")
    return "\n".join(lines)


def _pain_line(pain: Mapping[str, Any]) -> str:
    return "  pain: " + ", ".join(
        f"{w} {p['score']:g}/10" for w, p in pain.items() if p.get("score") is not None
    )


def _pain_and_notes(report: Mapping[str, Any]) -> list[str]:
    pain = report.get("pain") or {}
    return ([_pain_line(pain)] if pain else []) + [f"  note: {w}" for w in report.get("warnings", [])]


def _exercise_lines(report: Mapping[str, Any]) -> list[str]:
    """The terminal summary of a guided exercise routine: what was planned, how long, heart rate if a strap."""
    s, m = report["session"], report["summary"]
    lines = [
        f"Session {s['id']}  {s.get('started_at') or ''}  exercise: {s.get('routine_title') or s.get('routine')}"
        + ("" if s["complete"] else f"  [INCOMPLETE: {s['end_reason']}]")
        + (f"  [rehearsal: {s['rehearsal_reason']}]" if s.get("rehearsal") else ""),
        f"  {mmss(s['duration_s'])} done of {mmss(s['planned_duration_s'])} planned; "
        f"HR mean {_fmt(m['hr_mean_bpm'])} max {_fmt(m['hr_max_bpm'])} bpm",
    ]
    for ex in s.get("exercises") or []:
        sides = ", each side" if ex.get("sides") == "left/right" else ""
        lines.append(f"  {ex.get('index', 0) + 1:>2}. {ex.get('name')}: {ex.get('dose')}{sides}")
    if s.get("dose_level") is not None:
        lines.append(f"  dose notch {s['dose_level']} (0 = the routine file's dose)")
    lines.append("  The rule: no pain during or after.")
    return lines


def next_step_line(report: Mapping[str, Any], dec: Mapping[str, Any]) -> str:
    """The "next: stage N (...)" line of a report model's progression decision ``dec`` (or "next: walking base
    W1 ..." while the runner is at the programme's walking base: ``dec["walking_base"]``); says so when the session
    was a rehearsal that does not count."""
    base = dec.get("walking_base")
    if base:
        line = (
            f"  next: walking base {base['step']}, a walk with {base['target_min']:g} min at brisk cadence "
            f"(coach walk): {' '.join(base['reasons'])}"
        )
    else:
        line = f"  next: stage {dec['next_stage']} ({dec['action'].replace('_', ' ')}): {' '.join(dec['reasons'])}"
    s = report.get("session") or {}
    if s.get("rehearsal"):
        line += (
            f"\n  (this session was {s.get('rehearsal_reason')}: it is kept in the history but does not count "
            "towards progression)"
        )
    return line
