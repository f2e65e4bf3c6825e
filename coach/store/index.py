"""Session folders -> database rows, and what the history, plan and report commands need from the database.

The folders under ``<data dir>/sessions/`` are the source of truth (docs/formats/events.md); the database
(:mod:`coach.store.database`) indexes them. :func:`sync` indexes folders the database does not know yet (so a session
written by ``coach run`` shows up in ``coach history`` without any extra step); :func:`rebuild` re-indexes every
folder (``coach history --rebuild``). Pain scores live only in the database.

A pain score logged ``--when before`` without a session (the session does not exist yet when it is logged) belongs
to the first session that starts within :data:`BEFORE_WINDOW` after it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CoachError, InputError, read_text_file
from coach.plan.dose import ExerciseOutcome
from coach.plan.moving import MovingSession
from coach.plan.progression import (
    Decision,
    ProgressionConfig,
    SessionOutcome,
    WalkingBaseDecision,
    WalkOutcome,
    config_from_toml,
    decide,
    rehearsal_reason,
    walking_base_decision,
)
from coach.report.model import WALK, WALK_RUN, build_report, next_step_line, read_session
from coach.store.database import Database, PainEntry
from coach.vocabulary import SessionActivity

if TYPE_CHECKING:
    from coach.plan.programme import Programme

logger = logging.getLogger(__name__)

BEFORE_WINDOW = timedelta(hours=6)
AFTER_PROMPT_WINDOW = timedelta(hours=12)
MORNING_PROMPT_WINDOW = timedelta(days=3)
PREVIOUS_IN_REPORT = 10


def parse_time(value: Any) -> datetime:
    """An ISO time from the database or a folder, as an aware UTC datetime (naive = UTC)."""
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def sessions_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "sessions"


def session_folders(data_dir: Path) -> list[Path]:
    """Every folder under ``<data dir>/sessions`` that has an events.jsonl, oldest first (ids sort by time)."""
    root = sessions_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "events.jsonl").is_file())


def index_session(db: Database, folder: Path) -> str:
    """Read one session folder and write its session, interval and cue rows. Returns the session id."""
    session = read_session(folder)
    report = build_report(session)
    s, m = report["session"], report["summary"]
    adherence = m["adherence"]
    if s["imported"] and session.start.get("plan_kind") != "programme":
        adherence = None  # laps or detected segments are no plan: nothing to adhere to
    started = (
        s["started_at"] or datetime.fromtimestamp((folder / "events.jsonl").stat().st_mtime, UTC).isoformat()
    )
    db.upsert_session(
        {
            "id": s["id"],
            "started_at": parse_time(started).isoformat(),
            "ended_at": s["ended_at"],
            "programme": s["programme"],
            "stage": s["stage"],
            "completed": s["complete"],
            "folder": str(Path(folder).resolve()),
            "source": s["source"],
            "duration_s": s["duration_s"],
            "adherence": adherence,
            "cadence_walk_spm": m["cadence_walk_spm"],
            "cadence_run_spm": m["cadence_run_spm"],
            "hr_mean_bpm": m["hr_mean_bpm"],
            "hr_max_bpm": m["hr_max_bpm"],
            "summary_json": {k: v for k, v in m.items() if k != "cues_by_type"}
            | {
                "end_reason": s["end_reason"],
                "imported": s["imported"],
                "demo": s["demo"],
                "speed": s["speed"],
                "rehearsal": s["rehearsal"],
                "activity": s["activity"],
                "walk_step": s["walk_step"],
                "routine": s["routine"],
            },
        },
        intervals=[
            {
                "idx": iv["index"],
                "activity": iv["activity"],
                "planned_s": iv["planned_duration_s"],
                "start_s": iv["start_s"],
                "end_s": iv["end_s"],
                "detected_mode": iv["detected"],
                "compliant_share": iv["compliant_share"],
                "time_to_comply_s": iv["time_to_comply_s"],
                "cadence_mean_spm": iv["cadence_mean_spm"],
                "cadence_sd_spm": iv["cadence_sd_spm"],
                "hr_mean_bpm": iv["hr_mean_bpm"],
                "hr_max_bpm": iv["hr_max_bpm"],
            }
            for iv in report["intervals"]
        ],
        cues=[r for r in session.records if r.get("kind") == "cue" and not r.get("dropped")],
    )
    return str(s["id"])


def _indexed_with_activity(row: Mapping[str, Any]) -> bool:
    """True when the row was indexed with its activity (walk or walk/run) and brisk minutes; rows indexed by an
    older coach are indexed again once, from their folder (the folders are the truth)."""
    try:
        summary = json.loads(row.get("summary_json") or "{}")
    except (TypeError, ValueError):
        return False
    return isinstance(summary, dict) and "activity" in summary and "brisk_walk_s" in summary


def sync(db: Database, data_dir: Path) -> list[str]:
    """Index the folders the database does not have yet (or has as unfinished). Returns warnings."""
    known = {r["id"]: r for r in db.sessions()}
    warnings: list[str] = []
    for folder in session_folders(data_dir):
        row = known.get(folder.name)
        if (
            row is not None
            and row["completed"]
            and row["folder"] == str(folder.resolve())
            and _indexed_with_activity(row)
        ):
            continue
        try:
            index_session(db, folder)
        except CoachError as exc:
            warnings.append(f"skipped {folder.name}: {exc}")
    return warnings


def rebuild(data_dir: Path) -> tuple[int, list[str]]:
    """Re-index every session folder. Returns (sessions indexed, warnings)."""
    warnings: list[str] = []
    n = 0
    with Database.in_dir(data_dir) as db:
        folders = session_folders(data_dir)
        for folder in folders:
            try:
                index_session(db, folder)
                n += 1
            except CoachError as exc:
                warnings.append(f"skipped {folder.name}: {exc}")
        names = {f.name for f in folders}
        for row in db.sessions():
            if row["id"] not in names:
                warnings.append(f"session {row['id']} is in the database but its folder is gone")
    return n, warnings


def resolve_session(db: Database, data_dir: Path, session: str) -> dict[str, Any]:
    """A session row by id or ``latest`` (after indexing new folders); InputError when there is none."""
    sync(db, data_dir)
    row = db.session(session)
    if row is None:
        if session == "latest":
            raise InputError(
                f"no sessions in {data_dir} yet; run `coach demo` or `coach run`, or `coach import FILE`"
            )
        raise InputError(f"no session {session!r} in {data_dir} (`coach history` lists them)")
    return row


# ------------------------------------------------------------------------------------------------ pain


def pain_entries(db: Database, row: dict[str, Any]) -> list[PainEntry]:
    """The session's own pain entries plus an unattached ``before`` score logged shortly before it started."""
    own = db.pain(row["id"])
    started = parse_time(row["started_at"])
    loose = [
        e
        for e in db.pain()
        if e.session_id is None
        and e.when == "before"
        and timedelta(0) <= started - parse_time(e.recorded_at) <= BEFORE_WINDOW
    ]
    return loose + own


def pain_model(db: Database, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{when: {"score": latest, "note": ..., "recorded_at": ...}}`` for a session."""
    out: dict[str, dict[str, Any]] = {}
    for e in pain_entries(db, row):
        out[e.when] = {"score": e.score, "note": e.note, "recorded_at": e.recorded_at}
    return out


def pending_pain_prompts(db: Database, now: datetime) -> list[str]:
    """What to ask the user now: the after-session score of a session that just ended, and the next-morning score
    of recent sessions once the day has changed (local time). Plain sentences with the command to answer.
    Rehearsals (:func:`is_rehearsal_row`) ask nothing: nobody ran them."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    prompts: list[str] = []
    rows = [r for r in db.sessions() if r["started_at"] and not is_rehearsal_row(r)]
    for row in rows:
        started = parse_time(row["started_at"])
        age = now - started
        if age < timedelta(0) or age > MORNING_PROMPT_WINDOW:
            continue
        have = pain_model(db, row)
        sid = row["id"]
        if "after" not in have and age <= AFTER_PROMPT_WINDOW and row is rows[-1]:
            prompts.append(
                f"How does your back feel after session {sid}? Log it (0-10): coach pain N --when after"
            )
        local_start = started.astimezone().date()
        if "next-morning" not in have and now.astimezone().date() > local_start:
            prompts.append(
                f"How does your back feel this morning, after session {sid} "
                f"({local_start.isoformat()})? Log it (0-10): coach pain N --when next-morning --session {sid}"
            )
    return prompts


# ------------------------------------------------------------------------------------------------ progression


def outcomes(db: Database, *, programme: str | None = None, until: str | None = None) -> list[SessionOutcome]:
    """Progression inputs from the database, oldest first: sessions with a stage (of ``programme`` if given),
    up to and including the session ``until``."""
    out: list[SessionOutcome] = []
    for row in db.sessions(programme):
        if row["stage"] is not None and not is_rehearsal_row(row):
            pain = pain_model(db, row)
            out.append(
                SessionOutcome(
                    when=parse_time(row["started_at"]),
                    stage=int(row["stage"]),
                    completed=bool(row["completed"]),
                    adherence=row["adherence"],
                    pain_before=pain.get("before", {}).get("score"),
                    pain_during=pain.get("during", {}).get("score"),
                    pain_after=pain.get("after", {}).get("score"),
                    pain_next_morning=pain.get("next-morning", {}).get("score"),
                )
            )
        if until is not None and row["id"] == until:
            break
    return out


def exercise_outcomes(db: Database, routine: str) -> list[ExerciseOutcome]:
    """Dose inputs (:func:`coach.plan.dose.decide_dose`) from the database, oldest first: the exercise sessions of
    ``routine`` that were not rehearsals, each with the highest pain logged for it during, after or the next
    morning."""
    out: list[ExerciseOutcome] = []
    for row in db.sessions():
        summary = _summary(row)
        if summary.get("activity") != SessionActivity.EXERCISE or summary.get("routine") != routine:
            continue
        if is_rehearsal_row(row):
            continue
        pain = pain_model(db, row)
        scores = [pain[w]["score"] for w in ("during", "after", "next-morning") if w in pain]
        out.append(ExerciseOutcome(completed=bool(row["completed"]), pain=max(scores) if scores else None))
    return out


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``summary_json`` of an indexed session as a dict ({} when missing or unreadable)."""
    try:
        summary = json.loads(row.get("summary_json") or "{}")
    except (TypeError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def row_activity(row: Mapping[str, Any]) -> str:
    """``walk`` or ``run`` (a walk/run session) of an indexed session, as the report model decided it
    (:func:`coach.report.model.session_activity_kind`)."""
    return str(_summary(row).get("activity") or WALK_RUN)


def row_brisk_s(row: Mapping[str, Any]) -> float | None:
    """Seconds at brisk walking cadence of an indexed session (:func:`coach.session.adherence.brisk_walk_s`, kept
    in ``summary_json``); None when it had no cadence at all."""
    summary = _summary(row)
    brisk = summary.get("brisk_walk_s")
    cadence = summary.get("cadence_walk_spm") is not None or summary.get("cadence_run_spm") is not None
    return float(brisk) if isinstance(brisk, int | float) and cadence else None


def walk_outcomes(db: Database) -> list[WalkOutcome]:
    """The walking-base inputs, oldest first: every real walk (``coach walk``, an imported walk) with its brisk
    minutes and pain."""
    out: list[WalkOutcome] = []
    for row in db.sessions():
        if is_rehearsal_row(row) or row_activity(row) != WALK:
            continue
        pain = pain_model(db, row)
        out.append(
            WalkOutcome(
                when=parse_time(row["started_at"]),
                brisk_s=row_brisk_s(row),
                duration_s=row["duration_s"],
                completed=bool(row["completed"]),
                pain_before=pain.get("before", {}).get("score"),
                pain_during=pain.get("during", {}).get("score"),
                pain_after=pain.get("after", {}).get("score"),
                pain_next_morning=pain.get("next-morning", {}).get("score"),
            )
        )
    return out


def moving_sessions(db: Database) -> list[MovingSession]:
    """Every real walk and walk/run session as :class:`coach.plan.moving.MovingSession` (local dates), oldest
    first. An exercise routine (``coach exercise``) is the article's mobility and strength, not its moving."""
    return [
        MovingSession(
            day=parse_time(row["started_at"]).astimezone().date(),
            activity=row_activity(row),
            duration_s=row["duration_s"],
            brisk_s=row_brisk_s(row),
        )
        for row in db.sessions()
        if row["started_at"] and not is_rehearsal_row(row) and row_activity(row) != SessionActivity.EXERCISE
    ]


def walking_base_for(
    db: Database, programme: Programme | None, *, config: ProgressionConfig | None = None
) -> WalkingBaseDecision | None:
    """The walking-base gate for ``programme`` (None when it has no walking base, or when the runner is past it:
    a real session of the programme at stage 1 or higher exists, so nobody already running is moved back).
    ``config``: the thresholds, else ``progression.toml`` in the data dir (the defaults when it is broken)."""
    if programme is None or programme.walking_base is None:
        return None
    if any(r["stage"] is not None and not is_rehearsal_row(r) for r in db.sessions(programme.name)):
        return None
    if config is None:  # as decision_for: progression.toml in the data dir; a broken one is said, not fatal
        try:
            config = progression_config(Path(db.path).parent)
        except InputError as exc:
            logger.warning("%s; using the default progression thresholds (`coach plan` says more)", exc)
            config = ProgressionConfig()
    return walking_base_decision(walk_outcomes(db), programme.walking_base.brisk_minutes, config)


def rehearsal_reason_row(row: Mapping[str, Any]) -> str | None:
    """:func:`coach.plan.progression.rehearsal_reason` of an indexed session: its ``source`` column and the ``demo`` and
    ``speed`` kept in ``summary_json`` (rows indexed before ``speed`` was kept are decided by source and demo)."""
    summary = _summary(row)
    return rehearsal_reason(
        {"source": row.get("source"), "demo": summary.get("demo"), "speed": summary.get("speed")}
    )


def is_rehearsal_row(row: Mapping[str, Any]) -> bool:
    """True for an indexed session that is shown in the history but never progressed on (a demo, a replay, the
    virtual strap, a ``--speed`` other than 1: :func:`coach.plan.progression.rehearsal_reason`)."""
    return rehearsal_reason_row(row) is not None


PROGRESSION_CONFIG = "progression.toml"


def progression_config(data_dir: Path | None, path: Path | None = None) -> ProgressionConfig:
    """The progression thresholds: ``path`` (``coach plan --config``; must exist), else ``<data dir>/progression.toml``
    when there is one, else the defaults. A bad file is an :class:`InputError` naming the file and the field."""
    if path is None:
        if data_dir is None:
            return ProgressionConfig()
        path = Path(data_dir) / PROGRESSION_CONFIG
        if not path.exists():
            return ProgressionConfig()
    return config_from_toml(read_text_file(path), str(path))


def _session_start(row: dict[str, Any]) -> dict[str, Any]:
    """The session_start record of an indexed session (first line of its events.jsonl), {} when unreadable."""
    try:
        with (Path(row["folder"] or "") / "events.jsonl").open(encoding="utf-8") as fh:
            start = json.loads(fh.readline())
    except (OSError, ValueError):
        return {}
    return start if isinstance(start, dict) else {}


def session_programme(db: Database, name: str | None, until: str | None = None) -> Programme | None:
    """The programme the sessions called ``name`` followed, or None when it cannot be found.

    A programme *file* is found through the newest session that kept its source (``programme_file`` and
    ``programme_toml`` in session_start): the file itself when it is still there with the same name (it may have
    been edited), else the copy kept with the session (the file moved). Otherwise a built-in of that name."""
    from coach.plan.programme import load_file, load_programme, parse_programme

    if not name:
        return None
    rows = db.sessions(name)
    if until is not None:
        ids = [r["id"] for r in rows]
        rows = rows[: ids.index(until) + 1] if until in ids else rows
    for row in reversed(rows):
        start = _session_start(row)
        file, text = start.get("programme_file"), start.get("programme_toml")
        if not file and not text:
            continue
        if file and Path(file).is_file():
            try:
                prog = load_file(file)
                if prog.name == name:
                    return prog
            except CoachError as exc:
                logger.info(
                    "programme file %s not loadable, using the copy kept with %s: %s", file, row["id"], exc
                )
        if text:
            try:
                return parse_programme(text, f"{file or name} (copy kept with session {row['id']})")
            except CoachError as exc:
                logger.info("programme copy in session %s not usable: %s", row["id"], exc)
    try:
        return load_programme(name)
    except CoachError as exc:
        logger.info("programme %s not loadable: %s", name, exc)
        return None


#: The programme planned in when neither the runner nor any session chose one.
DEFAULT_PROGRAMME = "back-pain"


def programme_in_use(db: Database, name: str | None = None) -> Programme:
    """The programme to plan in: ``name`` (a built-in, a file, or the name of a file used in a session), else the
    programme of the latest real session that followed one (a walk follows none; a demo or a replay does not
    choose), else the ``programme`` setting, else :data:`DEFAULT_PROGRAMME`. Raises ProgrammeError when ``name``
    cannot be found."""
    from coach.errors import ProgrammeError
    from coach.plan.programme import load_programme

    if name is not None:
        try:
            return load_programme(name)
        except ProgrammeError:
            found = session_programme(db, name)
            if found is None:
                raise
            return found
    latest = next(
        (r for r in reversed(db.sessions()) if r["programme"] and not is_rehearsal_row(r)),
        None,
    )
    chosen = (latest["programme"] if latest else None) or db.get_setting("programme") or DEFAULT_PROGRAMME
    found = session_programme(db, chosen)
    return found if found is not None else load_programme(chosen)


def n_stages(programme: Programme | None, history: Sequence[SessionOutcome]) -> int:
    """Stages of the programme; without one, the highest stage seen."""
    if programme is not None:
        return len(programme.stages)
    return max([s.stage for s in history] + [1])


def decision_for(
    db: Database,
    programme: str | None,
    until: str | None = None,
    *,
    config: ProgressionConfig | None = None,
    loaded: Programme | None = None,
) -> Decision:
    """The progression decision for the sessions of ``programme`` (a name), up to ``until``.

    ``loaded``: the programme itself when the caller has it (``coach plan --programme FILE``), else it is found
    with :func:`session_programme`. ``config``: the thresholds, else ``progression.toml`` in the data dir (the
    defaults, with a warning, when that file is broken: ``coach plan`` reads it strictly and says what is wrong)."""
    prog = loaded if loaded is not None else session_programme(db, programme, until)
    history = outcomes(db, programme=prog.name if prog is not None else programme, until=until)
    if config is None:  # history, report, after a run: a broken progression.toml is said, not fatal
        try:
            config = progression_config(Path(db.path).parent)
        except InputError as exc:
            logger.warning("%s; using the default progression thresholds (`coach plan` says more)", exc)
            config = ProgressionConfig()
    return decide(
        history,
        n_stages(prog, history),
        config,
        min_sessions_by_stage=prog.min_sessions_by_stage() if prog is not None else None,
    )


def history_row(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    pain = pain_model(db, row)
    summary = _summary(row)
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "routine": summary.get("routine"),
        "programme": row["programme"],
        "stage": row["stage"],
        "complete": bool(row["completed"]),
        "imported": str(row["source"] or "").startswith("import:"),
        "activity": row_activity(row),  # run (a walk/run session), walk, or exercise (coach exercise)
        "walk_step": summary.get("walk_step"),
        "brisk_walk_min": None if (b := row_brisk_s(row)) is None else round(b / 60.0, 1),
        "rehearsal": rehearsal_reason_row(row),
        "duration_s": row["duration_s"],
        "adherence": row["adherence"],
        "cadence_walk_spm": row["cadence_walk_spm"],
        "cadence_run_spm": row["cadence_run_spm"],
        "hr_mean_bpm": row["hr_mean_bpm"],
        "hr_max_bpm": row["hr_max_bpm"],
        "pain_before": pain.get("before", {}).get("score"),
        "pain_after": pain.get("after", {}).get("score"),
        "pain_next_morning": pain.get("next-morning", {}).get("score"),
    }


def report_for(db: Database, session_id: str) -> dict[str, Any]:
    """The full report model of an indexed session: folder + pain + previous sessions + decision."""
    row = db.session(session_id)
    if row is None:
        raise InputError(f"no session {session_id!r}")
    folder = Path(row["folder"] or "")
    if not (folder / "events.jsonl").is_file():
        raise InputError(f"session {session_id}: its folder {folder} is gone (run `coach history --rebuild`)")
    session = read_session(folder)
    rows = db.sessions()
    earlier = [r for r in rows if (r["started_at"], r["id"]) < (row["started_at"], row["id"])]
    previous = [history_row(db, r) for r in earlier[-PREVIOUS_IN_REPORT:]]
    decision = None
    if row["stage"] is not None:
        d = decision_for(db, row["programme"], until=row["id"])
        decision = asdict(d) | {"reasons": list(d.reasons)}
        gate = walking_base_for(db, session_programme(db, row["programme"], row["id"]))
        if gate is not None and not gate.ready and rows and rows[-1]["id"] == row["id"]:
            # the latest session of a runner still at the walking base (a demo, a rehearsal): the next step is a
            # walk, as `coach plan` says, not stage 1
            decision["walking_base"] = {
                "step": gate.step_name,
                "target_min": gate.target_min,
                "reasons": list(gate.reasons),
            }
    return build_report(session, pain=pain_model(db, row), previous=previous, decision=decision)


def print_session_report(
    folder: str | Path, *, intro: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
) -> None:
    """Hook for ``coach run``/``coach demo``: index the session, print ``intro(report)`` (the caller's lines made
    from the report model, so the end-of-run figures are the report's), the next step and the pain prompt."""
    data_dir = Path(folder).resolve().parent.parent
    with Database.in_dir(data_dir) as db:
        sid = index_session(db, Path(folder))
        report = report_for(db, sid)
        if intro is not None:
            for line in intro(report):
                print(line)
        dec = report.get("decision")
        if dec:
            print(next_step_line(report, dec))
        print(f"  full report: coach report {sid} --html report.html")
        for prompt in pending_pain_prompts(db, datetime.now(UTC)):
            print(f"  {prompt}")
