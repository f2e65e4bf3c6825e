"""``coach export SESSION --fit FILE --tcx FILE``: a session as FIT and/or TCX for Strava, Garmin Connect & co."""

from __future__ import annotations

from pathlib import Path

import click

from coach.cli.options import data_dir_option, force_option, resolve


@click.command("export")
@click.argument("session", metavar="SESSION|latest")
@click.option(
    "--fit", "fit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a FIT activity file."
)
@click.option("--tcx", "tcx_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a TCX file.")
@force_option
@data_dir_option
def export(
    session: str, fit_path: Path | None, tcx_path: Path | None, force: bool, data_dir: Path | None
) -> None:
    """Export a session: 1 Hz heart rate and cadence, one lap per interval (runs active, walks rest).

    FIT and TCX store running cadence in strides/min; coach converts from its steps/min. An existing file is
    not replaced without --force.
    """
    from coach.cli.options import check_output, write_output
    from coach.errors import InputError
    from coach.report.export import to_fit_bytes, to_tcx_bytes
    from coach.report.model import read_session, session_activity
    from coach.store.database import Database
    from coach.store.index import resolve_session

    if fit_path is None and tcx_path is None:
        raise InputError("say where to write: --fit FILE and/or --tcx FILE")
    outputs = [
        (p, e, k) for p, e, k in ((fit_path, to_fit_bytes, "FIT"), (tcx_path, to_tcx_bytes, "TCX")) if p
    ]
    for path, _, _ in outputs:  # refuse before writing either file
        check_output(path, force=force)
    root = resolve(data_dir)
    with Database.in_dir(root) as db:
        row = resolve_session(db, root, session)
    activity = session_activity(read_session(Path(row["folder"])))
    if not activity.records:
        raise InputError(f"session {row['id']} has no heart-rate or cadence records to export")
    for path, encode, kind in outputs:
        write_output(path, encode(activity), force=force)
        click.echo(f"{kind}: {path} ({len(activity.records)} records, {len(activity.laps)} laps)")
