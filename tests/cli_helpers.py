"""Running the ``coach`` command line in a test as the console script runs it: through :func:`coach.cli.main`, with
its one-line errors and exit codes (click's CliRunner alone would show click's own exceptions)."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from coach.cli import main


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _main_command(ctx: click.Context) -> None:
    main(list(ctx.args))


def run_main(*args: str | Path) -> tuple[int, str, str]:
    """Through main(), as the console script runs (one-line errors, exit codes)."""
    result = CliRunner().invoke(_main_command, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr
