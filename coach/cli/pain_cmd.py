"""``coach pain SCORE [--when before|during|after|next-morning] [--note TEXT] [--session ID]``: log back pain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from coach.cli.options import data_dir_option, resolve


def default_when(started_at: datetime | None, now: datetime, have: set[str]) -> str:
    """When the user did not say: ``after`` on the day of the latest session (within 12 h), ``next-morning`` once
    the day has changed and that score is missing, else ``before`` (the next session)."""
    if started_at is None:
        return "before"
    if now.astimezone().date() > started_at.astimezone().date():
        return (
            "next-morning"
            if "next-morning" not in have and now - started_at < timedelta(days=2)
            else "before"
        )
    if now - started_at <= timedelta(hours=12) and "after" not in have:
        return "after"
    return "before"


@click.command("pain")
@click.argument("score", metavar="SCORE")
@click.option(
    "--when",
    "when",
    type=click.Choice(["before", "during", "after", "next-morning"]),
    help="Which moment the score is for (default: after, on the day of the latest session; next-morning the day "
    "after; else before the next session).",
)
@click.option("--note", help="A few words (where it hurts, stiffness, what you did).")
@click.option(
    "--session",
    "session_id",
    metavar="ID",
    help="The session it belongs to (default: the latest; a 'before' score belongs to the next session).",
)
@data_dir_option
def pain(
    score: str, when: str | None, note: str | None, session_id: str | None, data_dir: Path | None
) -> None:
    """Log back pain from 0 (none) to 10 (worst imaginable).

    The pain-monitoring model: 0-2 is safe, up to 5 is acceptable, above 5 is too much; pain should settle by
    the next morning. `coach plan` uses these scores to decide the next stage.
    """
    from coach.errors import InputError
    from coach.store.database import Database
    from coach.store.index import pain_model, parse_time, pending_pain_prompts, resolve_session, sync

    try:
        value = float(score)
    except ValueError:
        raise InputError(f"pain score must be a number from 0 to 10, not {score!r}") from None
    if not 0 <= value <= 10:
        raise InputError(f"pain score must be between 0 and 10, not {value:g}")
    if note is not None and len(note) > 500:
        raise InputError("pain --note is limited to 500 characters")
    root = resolve(data_dir)
    now = datetime.now(UTC)
    with Database.in_dir(root) as db:
        sync(db, root)
        row = resolve_session(db, root, session_id) if session_id else db.session("latest")
        if when is None:
            have = set(pain_model(db, row)) if row else set()
            when = default_when(parse_time(row["started_at"]) if row else None, now, have)
        attach = row["id"] if row is not None and (session_id or when != "before") else None
        if attach is None and when != "before":
            raise InputError(
                f"no session to attach a '{when}' score to; pass --session ID or run a session first"
            )
        db.add_pain(value, when, session_id=attach, note=note, now=now)
        target = f"session {attach}" if attach else "the next session"
        click.echo(f"Logged pain {value:g}/10 {when.replace('-', ' ')} for {target}.")
        if value > 5:
            click.echo(
                "That is above 5/10: take it easy; `coach plan` will step back. If it does not settle, see your physio."
            )
        for prompt in pending_pain_prompts(db, now):
            click.echo(prompt)
