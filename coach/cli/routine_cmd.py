"""``coach routine``: list the built-in exercise routines, show one, validate a routine file."""

from __future__ import annotations

import json

import click

from coach.text import mmss


@click.group("routine")
def routine() -> None:
    """Exercise routines: the built-in ones and your own TOML files (format: docs/routines.md).

    Your physio sets your exercises: copy a built-in file, change it, and run it with `coach exercise FILE`.
    """


@routine.command("list")
def list_cmd() -> None:
    """List the built-in routines."""
    from coach.plan.routine import builtin_names, load_routine, routine_duration_s

    for name in builtin_names():
        r = load_routine(name)
        click.echo(f"{name:<20} {len(r.exercises)} exercises, about {mmss(routine_duration_s(r))}  {r.title}")


@routine.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the routine as JSON.")
@click.option(
    "--toml",
    "as_toml",
    is_flag=True,
    help="Print the routine's TOML file, to copy and change: coach routine show NAME --toml > mine.toml",
)
def show_cmd(name: str, as_json: bool, as_toml: bool) -> None:
    """Show a routine's exercises and doses. NAME is a built-in name or a .toml file."""
    from coach.plan.routine import load_routine, routine_duration_s

    r = load_routine(name)
    if as_toml:
        click.echo(r.toml or "", nl=False)
        return
    if as_json:
        doc = {
            "name": r.name,
            "title": r.title,
            "purpose": r.purpose,
            "description": r.description,
            "sources": list(r.sources),
            "duration_s": routine_duration_s(r),
            "exercises": [
                {
                    "name": ex.name,
                    "how": ex.how,
                    "dose": ex.dose.describe(),
                    "sets": ex.dose.sets,
                    "reps": ex.dose.reps,
                    "tempo": str(ex.dose.tempo) if ex.dose.tempo is not None else None,
                    "hold_s": ex.dose.hold_s,
                    "sides": ex.sides,
                    "rest_s": ex.rest_s,
                    "rest_after_s": ex.rest_after_s,
                    "pain_free": ex.pain_free,
                }
                for ex in r.exercises
            ],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{r.name}: {r.title}")
    click.echo(r.purpose)
    if r.description:
        click.echo("")
        click.echo(r.description)
    click.echo("")
    for i, ex in enumerate(r.exercises, 1):
        sides = ", each side" if ex.sided else ""
        click.echo(f"{i}. {ex.name}: {ex.dose.describe()}{sides}; rest {mmss(ex.rest_s)} between sets")
        click.echo(f"     {ex.how}")
        if ex.pain_free:
            click.echo(f"     pain-free range: {ex.pain_free}")
    click.echo("")
    click.echo(f"About {mmss(routine_duration_s(r))} of work and rest. The rule: no pain during or after.")
    if r.sources:
        click.echo("Sources:")
        for source in r.sources:
            click.echo(f"  - {source}")


@routine.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def validate_cmd(file: str) -> None:
    """Check a routine file; print a one-line summary, or one line naming the file, field and problem."""
    from coach.plan.routine import load_file

    r = load_file(file)
    n = len(r.exercises)
    click.echo(f"{file}: ok: {r.name!r}, {n} exercise{'s' if n != 1 else ''}")
