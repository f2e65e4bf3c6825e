"""``coach programme``: list the built-in programmes, show one, validate a programme file."""

from __future__ import annotations

import json

import click

from coach.text import mmss


@click.group("programme")
def programme() -> None:
    """Walk/run programmes: the built-in ones and your own TOML files (format: docs/programmes.md)."""


@programme.command("list")
def list_cmd() -> None:
    """List the built-in programmes."""
    from coach.plan.programme import builtin_names, load_programme

    for name in builtin_names():
        prog = load_programme(name)
        lengths = [s.duration_s for s in prog.stages]
        click.echo(
            f"{name:<14} {len(prog.stages):>2} stages, sessions {mmss(min(lengths))}-"
            f"{mmss(max(lengths))}  {prog.title}"
        )


@programme.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the programme and every stage's plan as JSON.")
def show_cmd(name: str, as_json: bool) -> None:
    """Show a programme's stages. NAME is a built-in name or a .toml file."""
    from coach.plan.programme import describe_step, load_programme

    prog = load_programme(name)
    if as_json:
        doc = {
            "name": prog.name,
            "title": prog.title,
            "description": prog.description.strip(),
            "sources": list(prog.sources),
            "walking_base": None
            if prog.walking_base is None
            else {
                "brisk_minutes": list(prog.walking_base.brisk_minutes),
                "notes": prog.walking_base.notes,
            },
            "stages": [
                {
                    "stage": s.number,
                    "title": s.title,
                    "sessions": s.sessions,
                    "duration_s": s.duration_s,
                    "targets": vars(s.targets),
                    "plan": [i.as_record() for i in prog.plan(s.number).intervals],
                }
                for s in prog.stages
            ],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{prog.name}: {prog.title}")
    if prog.description.strip():
        click.echo("")
        click.echo(prog.description.strip())
    click.echo("")
    base = prog.walking_base
    if base is not None:  # before stage 1: brisk walks with `coach walk` (docs/walking.md)
        for k, minutes in enumerate(base.brisk_minutes, start=1):
            click.echo(
                f"walking base {base.step_name(k)}: a walk with {minutes:g} min at brisk cadence (coach walk)"
            )
        if base.notes:
            click.echo(f"  {base.notes}")
    for stage in prog.stages:
        click.echo(
            f"Stage {stage.number}: {stage.title}  ({mmss(stage.duration_s)}, "
            f"do it {stage.sessions} time{'s' if stage.sessions != 1 else ''})"
        )
        for step in stage.steps:
            click.echo(f"    {describe_step(step)}")
        if stage.notes:
            click.echo(f"    note: {stage.notes}")
    targets = prog.targets
    click.echo("")
    click.echo(
        "Targets: heart-rate ceiling "
        + (f"{targets.hr_ceiling_bpm} bpm" if targets.hr_ceiling_bpm else "not set")
        + f"; cadence cue at your own baseline +{targets.cadence_rise_pct:g} %"
    )
    if prog.sources:
        click.echo("Sources:")
        for source in prog.sources:
            click.echo(f"  - {source}")


@programme.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def validate_cmd(file: str) -> None:
    """Check a programme file; print a one-line summary, or one line naming the file, field and problem."""
    from coach.plan.programme import load_file

    prog = load_file(file)
    click.echo(f"{file}: ok: {prog.name!r}, {len(prog.stages)} stage{'s' if len(prog.stages) != 1 else ''}")
