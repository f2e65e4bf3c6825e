"""The ``coach`` command line: a click group whose subcommands are imported only when used.

Keeping heavy imports (numpy, scipy, bleak, pyttsx3) out of this module keeps ``coach --help`` fast. Each
subcommand lives in its own module under :mod:`coach.cli` and is registered in :data:`COMMANDS`.
Errors raised on purpose (:class:`coach.errors.CoachError`, :class:`sensors.errors.SensorError`) and OS errors
become one line on stderr and a non-zero exit code; click usage errors keep click's exit code 2.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from coach import __version__

# No command does large linear algebra, but OpenBLAS starts one spinning worker thread per core when numpy is
# imported: ~0.07 s of CPU at start-up that competes with the work itself on a busy machine. A user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# name -> "module:attribute" of a click.Command. Add new commands here.
COMMANDS: dict[str, str] = {
    "analyze": "coach.cli.analyze_cmd:analyze",
    "capture": "coach.cli.capture_cmd:capture",
    "convert": "coach.cli.convert_cmd:convert",
    "demo": "coach.cli.run_cmd:demo",
    "doctor": "coach.cli.doctor_cmd:doctor",
    "exercise": "coach.cli.exercise_cmd:exercise",
    "export": "coach.cli.export_cmd:export",
    "history": "coach.cli.history_cmd:history",
    "import": "coach.cli.import_cmd:import_",
    "pain": "coach.cli.pain_cmd:pain",
    "plan": "coach.cli.plan_cmd:plan",
    "programme": "coach.cli.programme_cmd:programme",
    "record": "coach.cli.record_cmd:record",
    "report": "coach.cli.report_cmd:report",
    "routine": "coach.cli.routine_cmd:routine",
    "run": "coach.cli.run_cmd:run",
    "scan": "coach.cli.scan_cmd:scan",
    "summary": "coach.cli.summary_cmd:summary",
    "walk": "coach.cli.walk_cmd:walk",
}


#: Other spellings of a command: alias -> command name. They work everywhere but are listed only on their
#: command's line (``coach --help``, docs/cli.md), not as commands of their own.
ALIASES: dict[str, str] = {
    "analyse": "analyze",  # British English, as the rest of this project
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(ALIASES.get(cmd_name, cmd_name))
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from a static table so that `coach --help` does not import every command module.
        rows = [(name, SHORT_HELP.get(name, "") + _alias_note(name)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _alias_note(name: str) -> str:
    aliases = sorted(alias for alias, target in ALIASES.items() if target == name)
    return f" Alias: {', '.join(aliases)}." if aliases else ""


SHORT_HELP: dict[str, str] = {
    "analyze": "Cadence, steps and walk/run/still of a recording (csv, Polar, capture, FIT).",
    "capture": "Inspect and decode capture files (recorded sensor traffic).",
    "convert": "Turn real recordings (Hexoskin chest, FIT) into capture files.",
    # the seconds are checked against run_cmd.demo_wall_s() by the tests (kept static: `coach --help` stays fast)
    "demo": "A coached session compressed into about 82 s, on a bundled real walk/run recording.",
    "doctor": "Check everything a run needs: Bluetooth, strap, heart rate, accelerometer, voice, storage.",
    "exercise": "A guided exercise routine (mobility, strength): sets, reps, holds, rests, pain check.",
    "export": "Export a session as FIT, TCX and/or GPX (Strava, Garmin Connect, GoldenCheetah).",
    "history": "All sessions: programme, stage, rehearsal or not, adherence, cadence, pain, trend arrows.",
    "import": "Import a FIT activity or a Polar Sensor Logger ACC (+HR) export as a session.",
    "pain": "Log back pain 0-10 before, after or the morning after a session.",
    "plan": "Current stage, next session and why; healing-time guidance.",
    "programme": "List, show and validate walk/run programmes.",
    "record": "Record a capture file from a chest strap (or a virtual one).",
    "report": "The post-run report of a session (terminal, HTML, JSON).",
    "routine": "List, show and validate exercise routines.",
    "run": "Run a coached walk/run session (live strap, virtual strap or replay).",
    "scan": "List nearby Bluetooth sensors and what they offer.",
    "summary": "Every session so far on one page for the physio (HTML, PDF): pain, stages, trends.",
    "walk": "A walk with the strap: brisk minutes, heart rate; the walking base before the first jog.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coach")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug). Env: COACH_LOG.")
def cli(verbose: int) -> None:
    """A walk/run coach for getting back to running after back pain.

    It reads a chest strap (or a recording), tells walking from running, calls the interval changes,
    and reports what happened. Not medical advice: follow your physio's assessment.
    """
    level_name = os.environ.get("COACH_LOG", "")
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    if level_name:
        level = getattr(logging, level_name.upper(), level)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _fail(message: str, code: int) -> None:
    click.echo(f"coach: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: run the CLI, turn expected failures into one line and an exit code."""
    from coach.errors import CoachError  # light modules only
    from sensors.errors import SensorError

    try:
        return cli.main(args=argv, prog_name="coach", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("interrupted", 130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # one line too: what is wrong, and where the help is
        ctx = exc.ctx
        hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
        _fail(" ".join(exc.format_message().split()).rstrip(".") + hint, exc.exit_code)
    except click.ClickException as exc:
        _fail(" ".join(exc.format_message().split()), exc.exit_code)
    except CoachError as exc:
        _fail(str(exc), exc.exit_code)
    except SensorError as exc:
        from coach.errors import EXIT_INPUT, EXIT_SENSOR, EXIT_USAGE
        from sensors.errors import MonikerError, SensorUnavailableError

        if isinstance(exc, SensorUnavailableError):
            _fail(str(exc), EXIT_SENSOR)
        _fail(str(exc), EXIT_USAGE if isinstance(exc, MonikerError) else EXIT_INPUT)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as exc:
        from coach.errors import EXIT_STORAGE

        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _fail(f"{exc.strerror or exc}{where}", EXIT_STORAGE)
    return None
