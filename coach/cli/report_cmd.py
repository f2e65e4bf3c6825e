"""``coach report [SESSION|latest] [--html FILE] [--json] [--open]``: the post-run report of one session."""

from __future__ import annotations

import json
from pathlib import Path

import click

from coach.cli.options import data_dir_option, force_option, resolve


@click.command("report")
@click.argument("session", default="latest", metavar="[SESSION|latest|FOLDER]")
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML report here."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report model as JSON (same numbers, for other tools)."
)
@click.option(
    "--open",
    "open_browser",
    is_flag=True,
    help="Open the HTML report in a browser (written to the session folder as report.html unless --html is given).",
)
@force_option
@data_dir_option
def report(
    session: str,
    html_path: Path | None,
    as_json: bool,
    open_browser: bool,
    force: bool,
    data_dir: Path | None,
) -> None:
    """Planned vs done per interval, cadence and heart rate, pain and the next step for one session.

    SESSION is a session id (see `coach history`), `latest` (the default) or a session folder. An existing
    --html file is not replaced without --force.
    """
    from coach.cli.options import check_output, write_output
    from coach.report.html import render_html
    from coach.report.model import build_report, format_text, read_session
    from coach.store.database import Database
    from coach.store.index import report_for, resolve_session

    if html_path is not None:
        check_output(html_path, force=force)
    folder = Path(session)
    if session != "latest" and (folder / "events.jsonl").is_file():
        model = build_report(read_session(folder))
    else:
        root = resolve(data_dir)
        with Database.in_dir(root) as db:
            row = resolve_session(db, root, session)
            model = report_for(db, row["id"])
    own_file = (
        open_browser and html_path is None
    )  # the session folder's report.html: coach's, always refreshed
    if own_file:
        html_path = Path(model["session"]["folder"]) / "report.html"
    if html_path is not None:
        write_output(html_path, render_html(model).encode("utf-8"), force=force or own_file)
    if as_json:
        click.echo(json.dumps(model, indent=2, ensure_ascii=False))
    else:
        click.echo(format_text(model))
        if html_path is not None:
            click.echo(f"HTML report: {html_path}")
    if open_browser and html_path is not None:
        import webbrowser

        if not webbrowser.open(html_path.resolve().as_uri()):
            click.echo(f"could not start a browser; open {html_path} yourself", err=True)
