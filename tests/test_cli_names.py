"""`coach analyse` is `coach analyze` (listed once), and `coach demo --help` says how long the demo takes."""

from __future__ import annotations

import re

from click.testing import CliRunner

from coach.cli import ALIASES, COMMANDS, SHORT_HELP, cli


def _out(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), prog_name="coach")
    assert result.exit_code == 0, result.output
    return result.output


def test_analyse_is_an_alias_of_analyze() -> None:
    assert ALIASES == {"analyse": "analyze"}
    assert set(ALIASES.values()) <= set(COMMANDS) and not set(ALIASES) & set(COMMANDS)
    british = _out("analyse", "--help")
    assert british.startswith("Usage: coach analyse [OPTIONS] INPUT")
    assert british.replace("coach analyse", "coach analyze") == _out("analyze", "--help")


def test_the_alias_is_listed_once_on_its_command_line() -> None:
    out = _out("--help")
    commands = out[out.index("Commands:") :]
    assert re.search(r"^  analyze\s", commands, re.M) and not re.search(r"^  analyse\s", commands, re.M)
    assert commands.count("analyse") == 1 and "Alias: analyse." in " ".join(commands.split())


def test_analyse_runs_like_analyze(tmp_path) -> None:
    from pathlib import Path

    recording = Path(__file__).resolve().parents[1] / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
    assert _out("analyse", str(recording)) == _out("analyze", str(recording))


def test_demo_help_says_how_long_the_demo_takes() -> None:
    from coach.cli.run_cmd import DEMO_SPEED, demo_options, demo_wall_s

    opts, _ = demo_options(voice="none", audio_out=None, data_dir=None, prefer_virtual=False)
    assert opts.speed == DEMO_SPEED and opts.plan is not None
    wall_s = opts.plan.duration_s / opts.speed  # what the demo runs: its own plan at its own speed
    assert demo_wall_s() == wall_s
    help_text = " ".join(_out("demo", "--help").split())
    assert f"about {wall_s:.0f} s" in help_text, help_text
    short = re.search(r"about (\d+) s", SHORT_HELP["demo"])
    assert short and int(short.group(1)) == round(wall_s), (SHORT_HELP["demo"], wall_s)
    assert "one-minute" not in help_text + SHORT_HELP["demo"]
