"""``coach history [--rebuild]``: every session with date, programme, stage, kind (live, imported, rehearsal),
adherence, cadence, pain and trend arrows; the moving minutes by week."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from coach.cli.options import data_dir_option, resolve
from coach.plan.moving import weekly_moving
from coach.vocabulary import SessionActivity


def arrow(cur: float | None, prev: float | None, *, higher_is_better: bool, tol: float = 0.0) -> str:
    """``↑``/``↓`` when the value moved by more than ``tol`` (``+``/``-`` marks whether that is good), ``→`` if not."""
    if cur is None or prev is None:
        return "  "
    if abs(cur - prev) <= tol:
        return "→ "
    good = (cur > prev) == higher_is_better
    return ("↑" if cur > prev else "↓") + ("+" if good else "-")


def session_kind(row: dict[str, Any]) -> str:
    """The history's kind column: ``rehearsal`` (never counts towards progression), ``exercise`` (a guided routine,
    `coach exercise`), ``imported`` or ``live``."""
    if row["rehearsal"]:
        return "rehearsal"
    if row.get("activity") == SessionActivity.EXERCISE:
        return "exercise"
    return "imported" if row["imported"] else "live"


def _what(row: dict[str, Any]) -> str:
    """The programme column: a run's programme, an exercise session's routine; a walk follows no programme: the
    column says walk (and the stage column its walking-base step)."""
    if row["activity"] == SessionActivity.WALK and not row["programme"]:
        return "walk"
    return str(row["programme"] or row.get("routine") or "-")


def _f(v: Any, fmt: str = "{:.0f}") -> str:
    return "-" if v is None else fmt.format(v)


@click.command("history")
@click.option("--rebuild", is_flag=True, help="Recreate the database index from the session folders first.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@data_dir_option
def history(rebuild: bool, as_json: bool, data_dir: Path | None) -> None:
    """Sessions with date, programme, stage, kind, adherence, cadence, heart rate and pain, with trend arrows.

    Kind: live (a strap, in real time), imported (a FIT or Polar Sensor Logger recording), exercise (a guided
    routine, `coach exercise`; its routine is in the programme column), or rehearsal (a demo, a replay, the virtual
    strap or any --speed): rehearsals are listed but never count towards progression.

    Arrows compare with the session before: ↑/↓ is the direction, + marks a change for the better (more of the
    plan followed, higher running cadence, less pain), - a change for the worse.

    Walks (`coach walk`, imported walks) show as "walk" with their walking-base step (W1..) and count, with every
    run/walk session, in the moving minutes by week printed under the table (docs/walking.md).
    """
    from coach.store import index as si
    from coach.store.database import Database

    root = resolve(data_dir)
    if rebuild:
        n, warnings = si.rebuild(root)
        click.echo(f"rebuilt the index from {n} session folder(s) in {si.sessions_dir(root)}")
        for w in warnings:
            click.echo(f"  warning: {w}", err=True)
    with Database.in_dir(root) as db:
        for w in si.sync(db, root):
            click.echo(f"warning: {w}", err=True)
        rows = [si.history_row(db, r) for r in db.sessions()]
        prompts = si.pending_pain_prompts(db, datetime.now(UTC))
        # the next step follows the programme of the latest real session: a demo or a replay does not choose it,
        # nor an exercise routine (no programme)
        sessions = [r for r in db.sessions() if r["programme"]]
        latest = next((r for r in reversed(sessions) if not si.is_rehearsal_row(r)), None)
        latest = latest or (sessions[-1] if sessions else None)
        decision = (
            si.decision_for(db, latest["programme"]) if latest and latest["stage"] is not None else None
        )
        weeks = weekly_moving(si.moving_sessions(db))
        programme = si.programme_in_use(db) if rows else None
        gate = si.walking_base_for(db, programme) if programme is not None else None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(
            f"No sessions in {root} yet: `coach demo` or `coach run` make one, `coach import FILE` adds one."
        )
        return
    width = max(len("programme"), *(len(_what(r)) for r in rows))
    click.echo(
        f"date              {'programme':<{width}}  stage  kind       done  followed   cadence walk/run   HR   "
        "pain before/after/morning"
    )
    prev: dict[str, Any] | None = None
    for r in rows:
        p = prev or {}
        when = si.parse_time(r["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
        done = "yes" if r["complete"] else "no"
        click.echo(
            f"{when}  {_what(r):<{width}}  {r['walk_step'] or _f(r['stage']):>5}  "
            f"{session_kind(r):<9}  {done:>4}  "
            f"{_f(None if r['adherence'] is None else r['adherence'] * 100, '{:.0f} %'):>6} "
            f"{arrow(r['adherence'], p.get('adherence'), higher_is_better=True, tol=0.02)}  "
            f"{_f(r['cadence_walk_spm']):>5} / {_f(r['cadence_run_spm']):>3} "
            f"{arrow(r['cadence_run_spm'], p.get('cadence_run_spm'), higher_is_better=True, tol=1.0)}  "
            f"{_f(r['hr_mean_bpm']):>4}  "
            f"{_f(r['pain_before'], '{:g}'):>3} / {_f(r['pain_after'], '{:g}'):>2} "
            f"{arrow(r['pain_after'], p.get('pain_after'), higher_is_better=False)}/ "
            f"{_f(r['pain_next_morning'], '{:g}'):>2} "
            f"{arrow(r['pain_next_morning'], p.get('pain_next_morning'), higher_is_better=False)}  {r['id']}"
        )
        prev = r
    if any(r["rehearsal"] for r in rows):
        click.echo(
            "rehearsal: a demo, a replay or the virtual strap (or a --speed other than 1); kept here, never counted "
            "towards progression."
        )
    if weeks:
        click.echo(
            "\nMoving minutes by week (walks, imported walks and whole run/walk sessions; brisk walking is 100 "
            "steps/min or more; rehearsals left out):"
        )
        for week in weeks:
            click.echo(f"  week of {week.week_start.isoformat()}: {week.text()}")
    if gate is not None and not gate.ready:
        click.echo(
            f"\nNext: walking base {gate.step_name} ({gate.target_min:g} brisk minutes). {gate.explain()}"
        )
    elif decision is not None:
        click.echo(
            f"\nNext: stage {decision.next_stage} ({decision.action.replace('_', ' ')}). {decision.explain()}"
        )
    for prompt in prompts:
        click.echo(prompt)
