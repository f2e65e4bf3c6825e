"""The CLI shell: help everywhere, version, lazy imports, one-line errors, generated reference up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from coach.cli import COMMANDS, SHORT_HELP, cli

REPO = Path(__file__).resolve().parents[1]


def _all_commands() -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        found.append((path, cmd))
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{[*path, name]} is listed but cannot be loaded"
                walk(sub, [*path, name])

    walk(cli, [])
    return found


@pytest.mark.parametrize(
    ("path", "command"), _all_commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_every_command_has_help(path: list[str], command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert command.help, f"coach {' '.join(path)} has no help text"


def test_every_registered_command_has_short_help() -> None:
    assert set(COMMANDS) == set(SHORT_HELP)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "coach" in result.output


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from coach.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'scipy', 'bleak', 'pyttsx3', 'bumble') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY=\n" in out, out


def test_unknown_command_is_one_line_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "coach", "no-such-command"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "No such command" in proc.stderr


def test_cli_reference_is_up_to_date() -> None:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import gen_cli_docs
    finally:
        sys.path.pop(0)
    expected = gen_cli_docs.render()
    actual = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is out of date: run `make docs-cli`"
