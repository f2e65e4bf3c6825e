"""``coach summary [--html FILE] [--pdf FILE] [--json]``: every session so far on one page, for the physio."""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from coach.cli.options import data_dir_option, force_option, parse_day, resolve
from coach.report.browser import CHROMIUM_FLAGS, find_chromium

#: Printing a one-page summary takes a second or two; a Chromium that hangs is stopped after this.
PDF_TIMEOUT_S = 120.0


def print_pdf(chromium: str, html_file: Path, pdf_file: Path) -> None:
    """Print ``html_file`` to ``pdf_file`` with headless Chromium (a fresh profile in a temporary folder).

    Raises :class:`coach.errors.CoachError` with Chromium's last line when it fails or writes no PDF."""
    from coach.errors import CoachError

    with tempfile.TemporaryDirectory(prefix="coach-chromium-") as profile:
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_file.resolve()}",
            html_file.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise CoachError(f"Chromium did not print the PDF within {PDF_TIMEOUT_S:g} s") from None
    if done.returncode != 0 or not pdf_file.is_file() or pdf_file.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CoachError(f"Chromium could not print the PDF (exit {done.returncode}: {last})")


@click.command("summary")
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML page here."
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also print the page to this PDF file (needs Chromium; without it the HTML is still written).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary model as JSON (same numbers).")
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    callback=parse_day,
    help="Count the weeks up to this day and leave out later sessions (default: today).",
)
@force_option
@data_dir_option
def summary(
    html_path: Path | None,
    pdf_path: Path | None,
    as_json: bool,
    as_of: date | None,
    force: bool,
    data_dir: Path | None,
) -> None:
    """Every session so far on one page, to send to a physio: weeks against the healing time, pain before,
    after and the next morning (first two weeks marked), stages with the reason for each step, adherence,
    cadence, heart-rate recovery, flare-ups, and what is missing.

    Demos and replays are left out (and counted). The page is one self-contained HTML file that reads on a
    phone; --pdf prints it with headless Chromium. Existing files are not replaced without --force.
    """
    from coach.cli.options import check_output, write_output
    from coach.errors import CoachError
    from coach.report.summary import build_summary, format_summary_text
    from coach.report.summary_html import render_summary_html
    from coach.store.database import Database
    from coach.store.index import progression_config, report_for, sync

    for path in (html_path, pdf_path):
        if path is not None:
            check_output(path, force=force)
    root = resolve(data_dir)
    config = progression_config(root)
    with Database.in_dir(root) as db:
        for w in sync(db, root):
            click.echo(f"warning: {w}", err=True)
        reports: list[dict[str, Any]] = []
        unreadable: list[str] = []
        for row in db.sessions():
            try:
                report = report_for(db, row["id"])
            except CoachError as exc:
                click.echo(f"warning: {exc}", err=True)
                unreadable.append(str(row["id"]))
                continue
            # a session whose folder has no start time is dated as the index dated it (the file's time)
            report["session"]["started_at"] = report["session"]["started_at"] or row["started_at"]
            reports.append(report)
        injury = db.get_setting("injury")
    model = build_summary(
        reports, today=as_of or datetime.now(UTC).date(), injury=injury, config=config, unreadable=unreadable
    )
    page = render_summary_html(model)
    if html_path is not None:
        write_output(html_path, page.encode("utf-8"), force=force)
    if as_json:
        click.echo(json.dumps(model, indent=2, ensure_ascii=False))
    else:
        click.echo(format_summary_text(model))
        if html_path is not None:
            click.echo(f"HTML summary: {html_path}")
    if pdf_path is None:
        return
    chromium = find_chromium()
    if chromium is None:
        raise CoachError(
            "no PDF written: Chromium was not found (install chromium, or set COACH_CHROMIUM)"
            + (
                f"; the HTML page is at {html_path}"
                if html_path is not None
                else "; --html FILE writes the page"
            )
        )
    from coach.cli.options import writing

    with tempfile.TemporaryDirectory(prefix="coach-summary-") as tmp:
        page_file, printed = Path(tmp) / "summary.html", Path(tmp) / "summary.pdf"
        with writing(page_file):
            page_file.write_text(page, encoding="utf-8")
        print_pdf(chromium, page_file, printed)
        write_output(pdf_path, printed.read_bytes(), force=True)  # checked above, before any work
    if not as_json:
        click.echo(f"PDF summary: {pdf_path}")
