"""``coach export SESSION``: a session as FIT, TCX and/or GPX for Strava, Garmin Connect & co."""

from __future__ import annotations

from pathlib import Path

import click

from coach.cli.options import data_dir_option, force_option, resolve

FORMATS = ("fit", "tcx", "gpx")


@click.command("export")
@click.argument("session", metavar="SESSION|latest")
@click.option(
    "--fit", "fit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a FIT activity file."
)
@click.option("--tcx", "tcx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a TCX file.")
@click.option(
    "--gpx",
    "gpx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a GPX 1.1 file (only for a session with GPS positions).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="Write this format (repeatable), to --output or to SESSION-ID.FORMAT in the current folder.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file for a single --format.",
)
@force_option
@data_dir_option
def export(
    session: str,
    fit_path: Path | None,
    tcx_path: Path | None,
    gpx_path: Path | None,
    formats: tuple[str, ...],
    output: Path | None,
    force: bool,
    data_dir: Path | None,
) -> None:
    """Export a session: 1 Hz heart rate and cadence (distance, speed and positions when the session has them),
    laps that cover the whole session, one per interval (runs active, walks rest).

    FIT, TCX and GPX store running cadence in strides/min; coach converts from its steps/min. GPX needs a
    position on every point, so a session without GPS (every chest-strap session) exports to FIT or TCX only. An
    existing file is not replaced without --force.
    """
    from coach.cli.options import check_output, write_output
    from coach.errors import InputError
    from coach.report.export import EXPORTERS
    from coach.report.model import read_session, session_activity
    from coach.store.database import Database
    from coach.store.index import resolve_session

    if output is not None and len(formats) != 1:
        raise InputError("--output names the file of one --format: give exactly one --format with it")
    if not formats and fit_path is None and tcx_path is None and gpx_path is None:
        raise InputError("say what to write: --fit FILE, --tcx FILE, --gpx FILE and/or --format FORMAT")
    root = resolve(data_dir)
    with Database.in_dir(root) as db:
        row = resolve_session(db, root, session)
    named = {"fit": fit_path, "tcx": tcx_path, "gpx": gpx_path}
    for fmt in formats:
        named[fmt] = output or named[fmt] or Path(f"{row['id']}.{fmt}")
    outputs = [(path, fmt) for fmt, path in named.items() if path is not None]
    for path, _ in outputs:  # refuse before writing any file
        check_output(path, force=force)
    activity = session_activity(read_session(Path(row["folder"])))
    if not activity.records:
        raise InputError(f"session {row['id']} has no heart-rate or cadence records to export")
    encoded = [
        (path, fmt, EXPORTERS[fmt](activity)) for path, fmt in outputs
    ]  # a refusal (GPX) writes nothing
    positioned = sum(1 for r in activity.records if r.has_position)
    for path, fmt, data in encoded:
        write_output(path, data, force=force)
        if fmt == "gpx":  # GPX has no laps: one track segment of the records with a position
            click.echo(f"GPX: {path} ({positioned} track points in one segment)")
        else:
            click.echo(f"{fmt.upper()}: {path} ({len(activity.records)} records, {len(activity.laps)} laps)")
