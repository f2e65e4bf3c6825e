"""``coach plan [--programme NAME] [--injury CATEGORY]``: the current stage, the next session and why."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

import click

from coach.cli.options import data_dir_option, resolve
from coach.plan.healing import HEALING, healing_text
from coach.text import mmss

DEFAULT_PROGRAMME = "back-pain"


@click.command("plan")
@click.option(
    "--programme",
    "programme_name",
    metavar="NAME|FILE",
    help="Programme to plan in (default: the one of your latest session, else back-pain).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Progression thresholds (TOML, docs/progression.md; default: progression.toml in the data directory).",
)
@click.option(
    "--injury",
    type=click.Choice([*HEALING, "none"]),
    help="Your injury category as your physio described it (remembered; 'none' forgets it).",
)
@data_dir_option
def plan(
    programme_name: str | None, injury: str | None, config_path: Path | None, data_dir: Path | None
) -> None:
    """The current stage, the next session, and the reasons in plain words.

    The rules (docs/progression.md): pain during or after up to 2/10 is safe and up to 5/10 acceptable; it must
    settle by the next morning and not rise week to week; each stage at least twice with good adherence; step
    back after a flare-up, and count good sessions again from there. A stage's own `sessions = N` in the programme
    wins over "twice"; a physio can change the thresholds in progression.toml in the data directory (or --config
    FILE). Rehearsals (`coach demo`, replay: and virtual: sensors, any --speed) never count.
    """
    from coach.errors import ProgrammeError
    from coach.plan.programme import builtin_names, describe_step, load_programme
    from coach.store.database import Database
    from coach.store.index import (
        decision_for,
        is_rehearsal_row,
        pending_pain_prompts,
        progression_config,
        session_programme,
        sync,
    )

    root = resolve(data_dir)
    config = progression_config(root, config_path)
    with Database.in_dir(root) as db:
        sync(db, root)
        if injury == "none":
            with db.transaction() as c:
                c.execute("DELETE FROM settings WHERE key = 'injury'")
        elif injury:
            db.set_setting("injury", injury)
        category = db.get_setting("injury")
        # demo and fast-forwarded sessions are history, not progress: they never choose the programme or the stage.
        latest = next(
            (r for r in reversed(db.sessions()) if r["programme"] and not is_rehearsal_row(r)), None
        )
        if programme_name is not None:  # a built-in name or a file; or the name of a file used in a session
            try:
                programme = load_programme(programme_name)
            except ProgrammeError:
                found = session_programme(db, programme_name)
                if found is None:
                    raise
                programme = found
        else:  # the programme of the latest session, found again from what that session kept (a file, a copy)
            name = latest["programme"] if latest and latest["programme"] else None
            name = name or db.get_setting("programme") or DEFAULT_PROGRAMME
            found = session_programme(db, name)
            programme = found if found is not None else load_programme(name)
        decision = decision_for(db, programme.name, config=config, loaded=programme)
        prompts = pending_pain_prompts(db, datetime.now(UTC))
        done = [r for r in db.sessions(programme.name) if r["stage"] is not None and not is_rehearsal_row(r)]
    current = done[-1]["stage"] if done else None
    stage = programme.stage(min(decision.next_stage, len(programme.stages)))
    click.echo(f"Programme: {programme.title} ({len(programme.stages)} stages)")
    click.echo(
        f"Current stage: {current} ({programme.stage(current).title})"
        if current
        else "Current stage: not started"
    )
    click.echo(f"Next session: stage {stage.number} ({stage.title}), {mmss(stage.duration_s)}:")
    for step in stage.steps:
        click.echo(f"  {describe_step(step)}")
    click.echo(f"Why ({decision.action.replace('_', ' ')}):")
    for reason in decision.reasons:
        click.echo(f"  - {reason}")
    if programme.file is not None:
        how = shlex.quote(programme.file)
    elif programme.name in builtin_names():
        how = programme.name
    else:  # a programme file that moved: coach planned with the copy kept with the sessions
        how = "FILE.toml"
        click.echo(
            f"(The file of programme {programme.name!r} is no longer where your sessions found it; coach used the "
            "copy kept with them. Give coach run the file's new place.)"
        )
    click.echo(f"Start it with: coach run --programme {how} --stage {stage.number} --sensor ...")
    if category:
        click.echo(healing_text(category))
    else:
        click.echo(
            "A physio's assessment comes first; tell coach your injury category for healing-time guidance: "
            "coach plan --injury " + "|".join(HEALING)
        )
    for prompt in prompts:
        click.echo(prompt)
