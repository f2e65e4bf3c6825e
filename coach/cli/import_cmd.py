"""``coach import FILE``: a FIT/TCX/GPX walk or run, a Polar Sensor Logger export or a phone log becomes a session."""

from __future__ import annotations

from pathlib import Path

import click

from coach.cli.options import data_dir_option, resolve


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "fit", "tcx", "gpx", "polar-csv", "phone-csv"]),
    default="auto",
    show_default=True,
    help="File format (auto looks at the name and the first bytes).",
)
@click.option(
    "--hr",
    "hr_path",
    type=click.Path(path_type=Path),
    help="Polar Sensor Logger HR export to go with "
    "the ACC file (default: the ..._HR file beside it, if any).",
)
@click.option("--programme", metavar="NAME|FILE", help="The programme the recording followed (with --stage).")
@click.option(
    "--stage",
    type=click.IntRange(min=1),
    help="The stage the recording followed: its plan is aligned "
    "at the start of the recording and adherence is measured against it.",
)
@click.option("--force", is_flag=True, help="Import a file again even if it was imported before.")
@data_dir_option
def import_(
    file: Path,
    fmt: str,
    hr_path: Path | None,
    programme: str | None,
    stage: int | None,
    force: bool,
    data_dir: Path | None,
) -> None:
    """Import a recording made with another tool, with the same analysis and report as a coached session.

    FILE is a FIT, TCX or GPX walk or run (a multisport file gives one session per walking or running leg), a
    Polar Sensor Logger ACC export (or the folder or zip with its HR export), or a phone accelerometer folder
    (accelerometer.csv). Other sports are refused with the reason (docs/import.md).
    """
    from coach.store.importer import import_all

    root = resolve(data_dir)
    done = import_all(file, root, fmt=fmt, hr_path=hr_path, programme=programme, stage=stage, force=force)
    for sid, folder, notes in done:
        click.echo(f"Imported {file.name} as session {sid} ({folder})")
        for note in notes:
            click.echo(f"  {note}")
        click.echo(f"Report: coach report {sid}")
