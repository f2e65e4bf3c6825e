"""``coach plan [--programme NAME] [--injury CATEGORY]``: the current stage (or walking-base step), the next
session and why, and the week ahead."""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime
from pathlib import Path

import click

from coach.cli.options import data_dir_option, parse_day, resolve
from coach.plan.healing import HEALING, caveat_text
from coach.text import mmss


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
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    callback=parse_day,
    help="Plan the week from this day (default: today).",
)
@data_dir_option
def plan(
    programme_name: str | None,
    injury: str | None,
    config_path: Path | None,
    as_of: date | None,
    data_dir: Path | None,
) -> None:
    """The current stage, the next session, the reasons in plain words, and the week ahead.

    A programme with a walking base (back-pain: W1-W4, brisk walks of 15/20/25/30 minutes with `coach walk`) starts
    there: stage 1 comes after 30 minutes at brisk cadence twice, with pain 0-2/10 during and after and settled by
    the next morning. Runners who already ran a stage are never sent back to it. The week shows the run (or walk)
    days, the routine days, moving and rest, the healing window and what comes next (docs/progression.md).

    The rules (docs/progression.md): pain during or after up to 2/10 is safe and up to 5/10 acceptable; it must
    settle by the next morning and not rise week to week; each stage at least twice with good adherence; step
    back after a flare-up, and count good sessions again from there. A stage's own `sessions = N` in the programme
    wins over "twice"; a physio can change the thresholds in progression.toml in the data directory (or --config
    FILE). Rehearsals (`coach demo`, replay: and virtual: sensors, any --speed) never count.
    """
    from coach.plan.programme import builtin_names, describe_step
    from coach.plan.week import build_week
    from coach.store.database import Database
    from coach.store.index import (
        decision_for,
        is_rehearsal_row,
        moving_sessions,
        parse_time,
        pending_pain_prompts,
        programme_in_use,
        progression_config,
        sync,
        walk_outcomes,
        walking_base_for,
    )

    root = resolve(data_dir)
    config = progression_config(root, config_path)
    today = as_of or datetime.now().astimezone().date()
    with Database.in_dir(root) as db:
        sync(db, root)
        if injury == "none":
            with db.transaction() as c:
                c.execute("DELETE FROM settings WHERE key = 'injury'")
        elif injury:
            db.set_setting("injury", injury)
        category = db.get_setting("injury")
        # demo and fast-forwarded sessions are history, not progress: they never choose the programme or the stage.
        programme = programme_in_use(db, programme_name)
        decision = decision_for(db, programme.name, config=config, loaded=programme)
        gate = walking_base_for(db, programme, config=config)
        prompts = pending_pain_prompts(db, datetime.now(UTC))
        done = [r for r in db.sessions(programme.name) if r["stage"] is not None and not is_rehearsal_row(r)]
        moving = moving_sessions(db)
        walks = walk_outcomes(db)
    current = done[-1]["stage"] if done else None
    stage = programme.stage(min(decision.next_stage, len(programme.stages)))
    at_base = gate is not None and not gate.ready
    click.echo(
        f"Programme: {programme.title} ({len(programme.stages)} stages"
        + (
            f", walking base W1-W{len(programme.walking_base.brisk_minutes)} first)"
            if programme.walking_base
            else ")"
        )
    )
    if at_base and gate is not None:
        click.echo(f"Current stage: walking base {gate.step_name} (before stage 1)")
        click.echo(
            f"Next session: walking base {gate.step_name}, a walk with {gate.target_min:g} min at brisk cadence:"
        )
        click.echo(f"  coach walk --step {gate.step_name} --sensor ...")
        click.echo("Why (walking base):")
        for reason in gate.reasons:
            click.echo(f"  - {reason}")
    else:
        click.echo(
            f"Current stage: {current} ({programme.stage(current).title})"
            if current
            else "Current stage: not started"
        )
        click.echo(f"Next session: stage {stage.number} ({stage.title}), {mmss(stage.duration_s)}:")
        for step in stage.steps:
            click.echo(f"  {describe_step(step)}")
        click.echo(f"Why ({decision.action.replace('_', ' ')}):")
        for reason in (gate.reasons if gate is not None else ()) + decision.reasons:
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
    click.echo(
        f"{'Stage 1 after the walking base' if at_base else 'Start it'} with: coach run --programme {how} "
        f"--stage {stage.number} --sensor ..."
    )
    click.echo(caveat_text(category))  # the healing time itself is in the week ahead, once
    local = [parse_time(r["started_at"]).astimezone().date() for r in done]
    key_days = [w.when.astimezone().date() for w in walks] if at_base else local
    following = (
        programme.stage(stage.number + 1) if not at_base and stage.number < len(programme.stages) else None
    )
    week = build_week(
        today=today,
        decision=decision,
        stage_text=f"stage {stage.number} ({stage.title}), {mmss(stage.duration_s)}",
        gate=gate,
        key_days=key_days,
        sessions=moving,
        first_day=min((m.day for m in moving), default=None),
        injury=category,
        next_stage_text=None if following is None else f"stage {following.number} ({following.title})",
        walking_base=programme.walking_base.brisk_minutes if programme.walking_base else (),
        config=config,
    )
    click.echo("")
    for line in week.lines():
        click.echo(line)
    for prompt in prompts:
        click.echo(prompt)
