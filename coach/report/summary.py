"""The progress summary for the physio: every real session so far as one model (a dict), pure.

Input: the report model of each session (:func:`coach.report.model.build_report`, oldest first, with its pain
scores and the progression decision made after it, as :func:`coach.store.index.report_for` gives them), the
runner's injury category (``coach plan --injury``) and the progression thresholds. :func:`build_summary` turns them
into what docs/summary.md describes:

- the weeks since the first session against the typical healing time of the injury category
  (:data:`coach.plan.healing.HEALING`);
- the pain trajectory (before / after / next morning), with the first :data:`EARLY_DAYS` days set apart;
- the stages, each step forward or back with the reason the progression rules gave after the session before;
- adherence, walking and running cadence and heart-rate recovery per session, with their trends per week;
- flare-ups (the sessions after which the rules said step back or stop), and what is missing, in words;
- the moving minutes of every calendar week (:func:`coach.plan.moving.weekly_moving`: walks, imported walks and
  whole run/walk sessions, with the brisk-walking minutes).

Rehearsals (:func:`coach.plan.progression.rehearsal_reason`: a demo, a replay, the virtual strap, a ``--speed``
other than 1) are left out of the course and counted. Nothing here reads a file or the clock: ``today`` is given.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from coach.plan.healing import HEALING
from coach.plan.moving import MovingSession, weekly_moving
from coach.plan.progression import ProgressionConfig
from coach.vocabulary import SessionActivity

SUMMARY_FORMAT = "coach-summary-report"
SUMMARY_VERSION = 1
#: The first days of the course whose pain change tells most (the physio article: "the first two weeks").
EARLY_DAYS = 14
DAYS_PER_WEEK = 7.0
#: The pain scores drawn and checked for gaps, in the order of a session.
PAIN_KINDS = ("before", "after", "next-morning")
#: Decisions that follow a flare-up (:func:`coach.plan.progression.decide`: pain above the acceptable level).
FLARE_UP_ACTIONS = ("step_back", "stop")


def hr_recovery_bpm(report: Mapping[str, Any]) -> float | None:
    """A session's heart-rate recovery in bpm, from its report model, or None when it has none.

    The one place the summary reads heart-rate recovery: the median over the walk breaks after a run of the report
    model's per-interval ``hr_recovery_bpm`` (:func:`coach.signal.heart.hr_recovery_bpm`: the run's last 10 s
    against 50-60 s into the walk, on cleaned heart rate; None where too little clean data was there).
    """
    values = [
        float(iv["hr_recovery_bpm"])
        for iv in report.get("intervals") or []
        if iv.get("hr_recovery_bpm") is not None
    ]
    return round(statistics.median(values), 1) if values else None


def _when(report: Mapping[str, Any]) -> datetime | None:
    raw = (report.get("session") or {}).get("started_at")
    if not raw:
        return None
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def _score(report: Mapping[str, Any], kind: str) -> float | None:
    entry = (report.get("pain") or {}).get(kind)
    return None if not entry or entry.get("score") is None else float(entry["score"])


def trend(days: Sequence[float], values: Sequence[float | None]) -> dict[str, Any]:
    """First, last and the least-squares slope per week of a per-session figure (None values skipped).

    ``slope_per_week`` is None with fewer than two sessions or all of them on one day."""
    pts = [(d, v) for d, v in zip(days, values, strict=True) if v is not None]
    out: dict[str, Any] = {
        "n": len(pts),
        "first": pts[0][1] if pts else None,
        "last": pts[-1][1] if pts else None,
        "slope_per_week": None,
    }
    if len(pts) >= 2 and len({d for d, _ in pts}) >= 2:
        fit = statistics.linear_regression([d for d, _ in pts], [v for _, v in pts])
        out["slope_per_week"] = round(fit.slope * DAYS_PER_WEEK, 2)
    return out


def _brisk_min(m: Mapping[str, Any]) -> float | None:
    """Minutes at brisk walking cadence of a report model's summary (None without any cadence)."""
    if m.get("cadence_walk_spm") is None and m.get("cadence_run_spm") is None:
        return None
    return round(float(m.get("brisk_walk_s") or 0.0) / 60.0, 1)


def _moving(course: Sequence[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """The moving minutes of every calendar week from the first session's to today's."""
    sessions = [
        MovingSession(
            date.fromisoformat(s["date"]),
            s["activity"],
            s["duration_s"],
            None if s["brisk_walk_min"] is None else s["brisk_walk_min"] * 60.0,
        )
        for s in course
    ]
    if not sessions:
        return []
    return [
        {
            "week_start": w.week_start.isoformat(),
            "sessions": w.sessions,
            "walks": w.walks,
            "moving_min": w.moving_min,
            "walk_min": w.walk_min,
            "brisk_min": w.brisk_min,
            "run_session_min": w.run_session_min,
            "text": w.text(),
        }
        for w in weekly_moving(sessions, last=today)
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _stage_steps(course: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every stage the runner started: the first, and each step forward or back, with the reason the progression
    rules gave after the session before (or that the runner chose otherwise)."""
    steps: list[dict[str, Any]] = []
    prev: Mapping[str, Any] | None = None
    for s in course:
        if s["stage"] is None:
            continue
        if prev is None or prev["programme"] != s["programme"]:
            steps.append(
                {
                    "session": s["id"],
                    "date": s["date"],
                    "programme": s["programme"],
                    "from_stage": None,
                    "to_stage": s["stage"],
                    "change": "start",
                    "reason": f"First session of {s['programme'] or 'the programme'}: stage {s['stage']}.",
                }
            )
        elif s["stage"] != prev["stage"]:
            dec = prev["decision"]
            if dec and dec["next_stage"] == s["stage"]:
                reason = " ".join(dec["reasons"])
            elif dec:
                reason = (
                    f"The runner chose stage {s['stage']}; after the session before, the plan said stage "
                    f"{dec['next_stage']}: {' '.join(dec['reasons'])}"
                )
            else:
                reason = f"The runner chose stage {s['stage']}."
            steps.append(
                {
                    "session": s["id"],
                    "date": s["date"],
                    "programme": s["programme"],
                    "from_stage": prev["stage"],
                    "to_stage": s["stage"],
                    "change": "forward" if s["stage"] > prev["stage"] else "back",
                    "reason": reason,
                }
            )
        prev = s
    return steps


def _early_pain(course: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per pain kind, the first and the last score in the first :data:`EARLY_DAYS` days and the change."""
    out: dict[str, Any] = {}
    for kind in PAIN_KINDS:
        scores = [s["pain"][kind] for s in course if s["early"] and s["pain"][kind] is not None]
        out[kind] = {
            "n": len(scores),
            "first": scores[0] if scores else None,
            "last": scores[-1] if scores else None,
            "change": round(scores[-1] - scores[0], 1) if len(scores) >= 2 else None,
        }
    return out


def _missing(course: Sequence[Mapping[str, Any]], category: str | None) -> list[str]:
    """What the summary cannot show, in words, each with how many sessions it concerns."""
    out: list[str] = []

    def gap(test: Any, what: str) -> None:
        dates = [s["date"] for s in course if test(s)]
        if dates:
            out.append(f"no {what} for {_plural(len(dates), 'session')} ({', '.join(dates)})")

    gap(lambda s: s["pain"]["before"] is None, "before-session pain score")
    gap(lambda s: s["pain"]["after"] is None, "after-session pain score")
    gap(lambda s: s["pain"]["next-morning"] is None, "next-morning pain score")
    # a walk has no plan of runs to follow, no running cadence and no walk break after a run: not missing there
    runs = [s for s in course if s["activity"] == SessionActivity.RUN]
    gap(lambda s: s["adherence"] is None and s in runs, "adherence (no plan to follow, or no sensor data)")
    gap(
        lambda s: s["cadence_walk_spm"] is None and s["activity"] != SessionActivity.EXERCISE,
        "walking cadence",
    )
    gap(lambda s: s["cadence_run_spm"] is None and s in runs, "running cadence")
    gap(
        lambda s: s["hr_recovery_bpm"] is None and s in runs,
        "heart-rate recovery (no walk break after a run with heart rate)",
    )
    unfinished = [s["date"] for s in course if not s["complete"]]
    if unfinished:
        out.append(f"{_plural(len(unfinished), 'session')} did not finish ({', '.join(unfinished)})")
    if category is None:
        out.append(
            "no injury category, so no healing time to compare with (coach plan --injury CATEGORY sets it)"
        )
    return out


def build_summary(
    reports: Sequence[Mapping[str, Any]],
    *,
    today: date,
    injury: str | None = None,
    config: ProgressionConfig | None = None,
    unreadable: Sequence[str] = (),
) -> dict[str, Any]:
    """The progress summary of every session (report models, any order), as of ``today``. Pure.

    ``injury``: a key of :data:`coach.plan.healing.HEALING` or None (an unknown key is treated as None and said).
    ``config``: the progression thresholds (the pain levels drawn, the adherence aimed for). ``unreadable``: ids
    of sessions whose report could not be made (said under what is missing)."""
    cfg = config or ProgressionConfig()
    dated = sorted(
        ((w, r) for r in reports if (w := _when(r)) is not None),
        key=lambda wr: (wr[0], str(wr[1]["session"]["id"])),
    )
    rehearsals: dict[str, int] = {}
    real: list[tuple[datetime, Mapping[str, Any]]] = []
    for w, r in dated:
        why = r["session"].get("rehearsal_reason")
        if r["session"].get("rehearsal") or why:
            key = str(why or "a rehearsal")
            rehearsals[key] = rehearsals.get(key, 0) + 1
        else:
            real.append((w, r))
    undated = len(reports) - len(dated)
    later = sum(1 for w, _ in real if w.date() > today)
    real = [(w, r) for w, r in real if w.date() <= today]
    first = real[0][0] if real else None
    course: list[dict[str, Any]] = []
    for w, r in real:
        assert first is not None
        s, m = r["session"], r["summary"]
        day = (w - first).total_seconds() / 86400.0
        dec = r.get("decision")
        pain = {kind: _score(r, kind) for kind in ("before", "during", "after", "next-morning")}
        worst = [p for k, p in pain.items() if k != "before" and p is not None]
        course.append(
            {
                "id": s["id"],
                "date": w.date().isoformat(),
                "started_at": s["started_at"],
                "day": round(day, 2),
                "week": int(day // DAYS_PER_WEEK) + 1,
                "early": day < EARLY_DAYS,
                "programme": s.get("programme"),
                "stage": s.get("stage"),
                "activity": s.get("activity") or SessionActivity.RUN,
                "walk_step": s.get("walk_step"),
                "duration_s": s.get("duration_s"),
                "brisk_walk_min": _brisk_min(m),
                "complete": bool(s.get("complete")),
                "adherence": m.get("adherence"),
                "cadence_walk_spm": m.get("cadence_walk_spm"),
                "cadence_run_spm": m.get("cadence_run_spm"),
                "hr_recovery_bpm": hr_recovery_bpm(r),
                "pain": pain,
                "worst_pain": max(worst) if worst else None,
                "flare_up": dec is not None and dec["action"] in FLARE_UP_ACTIONS,
                "decision": (
                    {
                        "action": dec["action"],
                        "next_stage": dec["next_stage"],
                        "reasons": list(dec["reasons"]),
                    }
                    if dec
                    else None
                ),
            }
        )
    days = [s["day"] for s in course]
    weeks = None if first is None else round((today - first.date()).days / DAYS_PER_WEEK, 1)
    window = HEALING.get(injury) if injury else None
    healing = None
    if window is not None:
        position = None
        if weeks is not None:
            position = (
                "before" if weeks < window.min_weeks else "within" if weeks <= window.max_weeks else "beyond"
            )
        healing = {
            "category": injury,
            "what": window.what,
            "time": window.time,
            "min_weeks": window.min_weeks,
            "max_weeks": window.max_weeks,
            "position": position,
        }
    staged = [s for s in course if s["stage"] is not None]
    last_dec = next((s["decision"] for s in reversed(course) if s["decision"]), None)
    missing = _missing(course, injury if window is not None else None)
    if injury and window is None:
        missing.append(f"unknown injury category {injury!r}: no healing time to compare with")
    if unreadable:
        missing.append(
            f"{_plural(len(unreadable), 'session')} left out: no report could be made ({', '.join(unreadable)})"
        )
    return {
        "format": SUMMARY_FORMAT,
        "version": SUMMARY_VERSION,
        "today": today.isoformat(),
        "course": {
            "sessions": len(course),
            "first": course[0]["date"] if course else None,
            "last": course[-1]["date"] if course else None,
            "weeks_since_first": weeks,
            "rehearsals_left_out": sum(rehearsals.values()),
            "rehearsals_by_reason": rehearsals,
            "undated_left_out": undated,
            "later_left_out": later,
            "programmes": sorted({str(s["programme"]) for s in course if s["programme"]}),
        },
        "healing": healing,
        "thresholds": {
            "pain_safe_max": cfg.pain_safe_max,
            "pain_acceptable_max": cfg.pain_acceptable_max,
            "min_adherence": cfg.min_adherence,
        },
        "early_days": EARLY_DAYS,
        "sessions": course,
        "early_pain": _early_pain(course),
        "stages": {
            "highest": max((s["stage"] for s in staged), default=None),
            "current": staged[-1]["stage"] if staged else None,
            "steps": _stage_steps(course),
            "next": last_dec,
        },
        "flare_ups": [
            {"session": s["id"], "date": s["date"], "stage": s["stage"], "worst_pain": s["worst_pain"]}
            for s in course
            if s["flare_up"]
        ],
        "trends": {
            key: trend(days, [s[key] for s in course])
            for key in ("adherence", "cadence_walk_spm", "cadence_run_spm", "hr_recovery_bpm")
        },
        "moving": _moving(course, today),
        "missing": missing,
    }


def _f(v: Any, nd: int = 0, unit: str = "") -> str:
    return "-" if v is None else f"{v:.{nd}f}{unit}"


def format_summary_text(summary: Mapping[str, Any]) -> str:
    """The summary in a few lines for the terminal (the same numbers as the page)."""
    c = summary["course"]
    if not c["sessions"]:
        return "\n".join(
            [
                f"No sessions yet ({_plural(c['rehearsals_left_out'], 'rehearsal')} left out): "
                "`coach run` coaches one, `coach import FILE` adds a recording.",
                *(f"Missing: {gap}." for gap in summary["missing"]),
            ]
        )
    lines = [
        f"Sessions: {c['sessions']} from {c['first'] or '-'} to {c['last'] or '-'}"
        f" ({_f(c['weeks_since_first'], 1)} weeks since the first, as of {summary['today']});"
        f" {_plural(c['rehearsals_left_out'], 'rehearsal')} left out."
    ]
    h = summary["healing"]
    if h:
        lines.append(
            f"Healing time for {h['what']}: typically {h['time']} ({h['position'] or 'no sessions yet'})."
        )
    st = summary["stages"]
    lines.append(
        f"Stage now {st['current'] if st['current'] is not None else '-'}, highest {st['highest'] or '-'}; "
        f"{_plural(len(summary['flare_ups']), 'flare-up')}."
    )
    for step in st["steps"]:
        lines.append(f"  {step['date']} {step['change']} -> stage {step['to_stage']}: {step['reason']}")
    for s in summary["sessions"]:
        p = s["pain"]
        if s["activity"] == SessionActivity.WALK:
            lines.append(
                f"  {s['date']} walk{' ' + s['walk_step'] if s['walk_step'] else ''}"
                f"  {_f(None if s['duration_s'] is None else s['duration_s'] / 60.0)} min"
                f", {_f(s['brisk_walk_min'])} brisk  cadence {_f(s['cadence_walk_spm'])}"
                f"  pain {_f(p['before'])}/{_f(p['after'])}/{_f(p['next-morning'])}"
            )
            continue
        lines.append(
            f"  {s['date']} stage {s['stage'] if s['stage'] is not None else '-'}"
            f"  adherence {_f(None if s['adherence'] is None else s['adherence'] * 100, 0, ' %')}"
            f"  cadence {_f(s['cadence_walk_spm'])}/{_f(s['cadence_run_spm'])}"
            f"  HR recovery {_f(s['hr_recovery_bpm'])}"
            f"  pain {_f(p['before'])}/{_f(p['after'])}/{_f(p['next-morning'])}"
            + ("  flare-up" if s["flare_up"] else "")
        )
    if summary.get("moving"):
        lines.append("Moving minutes by week (walks and whole run/walk sessions):")
        lines += [f"  week of {w['week_start']}: {w['text']}" for w in summary["moving"]]
    for gap in summary["missing"]:
        lines.append(f"Missing: {gap}.")
    return "\n".join(lines)
