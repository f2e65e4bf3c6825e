"""Generate docs/cli.md, the CLI reference, from the commands' own --help.

Run `make docs-cli` after changing a command; tests/test_docs.py fails when docs/cli.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from coach.cli import COMMANDS, cli


def _walk(
    command: click.Command, path: list[str], out: list[str], parent: click.Context | None = None
) -> None:
    ctx = command.make_context(
        path[-1], [], parent=parent, resilient_parsing=True, terminal_width=100, max_content_width=100
    )
    level = "#" * min(len(path) + 1, 4)
    out.append(f"{level} `{' '.join(path)}`\n")
    out.append("```text")
    out.append(command.get_help(ctx).rstrip())
    out.append("```\n")
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and sub is not command:
                _walk(sub, [*path, name], out, ctx)


def render() -> str:
    out = [
        "# CLI reference",
        "",
        "Generated from each command's `--help` by `make docs-cli` (tools/gen_cli_docs.py); checked by the tests.",
        "",
    ]
    _walk(cli, ["coach"], out)
    assert set(COMMANDS)  # every registered command is rendered by the walk above
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
