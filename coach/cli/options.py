"""Options shared by several commands, each defined once, and the one rule for files the user names as output.

Options: ``--data-dir`` (every command that reads or writes the session store), ``-f/--force`` (every command
that writes a file the user names), ``--sensor`` and ``--no-pair`` (``run``, ``record``), ``--voice`` and ``--audio-out`` (``run``,
``demo``). A command applies one as a decorator (``@data_dir_option``); the same option then has the same name,
help and behaviour everywhere.

The output rule (docs/troubleshooting.md): a command never replaces an existing file the
user named unless ``--force`` is given (``coach: error: OUTPUT exists: pass --force to overwrite it``, exit 3),
and a file it cannot write is one line ``coach: error: cannot write OUTPUT (reason)``, exit 7, from every command.
:func:`check_output` says whether an output may be written, :func:`writing` turns an OS error into that line and
:func:`write_output` does both for a file written at once. This module stays light (no numpy, no bleak): ``coach
--help`` imports only the commands asked for.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------------------------------- options


class AliasOption(click.Option):
    """A click option with extra names that work but are not shown in ``--help`` (old spellings kept working)."""

    def __init__(self, *args: Any, hidden_aliases: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = tuple(hidden_aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = self.opts
        self.opts = [o for o in shown if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def data_dir_option(f: F) -> F:
    """``--data-dir``: where sessions and the database live (resolved by :func:`resolve`)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where sessions and the database live (default: the user data directory; env COACH_DATA_DIR).",
    )(f)


def resolve(data_dir: Path | None) -> Path:
    """The data directory: ``--data-dir``, else $COACH_DATA_DIR, else the user data directory."""
    from coach.store.record import resolve_data_dir

    return resolve_data_dir(data_dir)


def force_option(f: F) -> F:
    """``-f/--force``: replace output files that exist (``--overwrite``, the old spelling of ``record``, still
    works, unlisted)."""
    return click.option(
        "-f",
        "--force",
        "--overwrite",
        "force",
        cls=AliasOption,
        hidden_aliases=("--overwrite",),
        is_flag=True,
        help="Overwrite output files that exist (without it coach refuses, and writes nothing).",
    )(f)


#: What each ``--sensor`` source kind means, for the help of the commands that take them.
SENSOR_KINDS: dict[str, str] = {
    "ble": "ble:AA:BB:CC:DD:EE:FF or ble:name=NAME (a strap; `coach scan` lists them)",
    "virtual": "virtual:CAPTURE.jsonl[?drop_every=S&hr_only=1] (an emulated strap streaming a recording)",
    "replay": "replay:CAPTURE.jsonl (a recording replayed)",
}


def sensor_option(*kinds: str) -> Callable[[F], F]:
    """``--sensor MONIKER`` (required), listing the source ``kinds`` this command accepts."""
    return click.option(
        "--sensor",
        required=True,
        metavar="MONIKER",
        help="; ".join(SENSOR_KINDS[k] for k in kinds) + ".",
    )


def no_pair_option(f: F) -> F:
    """``--no-pair``: never pair with a strap that wants pairing for its accelerometer (heart rate only then)."""
    return click.option(
        "--no-pair",
        is_flag=True,
        help="Never pair (bond) with the strap: one that refuses its accelerometer until paired then gives heart "
        "rate only (docs/ble.md, Pairing). By default coach pairs once and asks again.",
    )(f)


def voice_option(f: F) -> F:
    """``--voice tts|text|none``."""
    return click.option(
        "--voice",
        type=click.Choice(["tts", "text", "none"]),
        default="tts",
        show_default=True,
        help="tts: speak (falls back to text with one notice when the machine cannot speak); text: print the "
        "cues; none: silent.",
    )(f)


def _writable_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: an output whose folder cannot take it fails before the command starts (exit 7)."""
    if value is not None:
        check_folder(value)
    return value


def audio_out_option(f: F) -> F:
    """``--audio-out FILE.wav``: the session's audio track (its folder checked before the session starts)."""
    return click.option(
        "--audio-out",
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_writable_folder,
        help="Also write the session's audio track (every cue at its session time) to this WAV file.",
    )(f)


# --------------------------------------------------------------------------------------------------- output files


def check_folder(path: Path) -> None:
    """:class:`coach.errors.OutputError` when the folder of ``path`` is missing, not a folder or not writable."""
    from coach.errors import OutputError

    folder = path.parent
    problem = None
    if not folder.exists():
        problem = errno.ENOENT
    elif not folder.is_dir():
        problem = errno.ENOTDIR
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = errno.EACCES
    if problem is not None:
        raise OutputError(path, OSError(problem, os.strerror(problem)))


def check_output(path: Path, *, force: bool) -> None:
    """Refuse to replace an existing ``path`` unless ``force`` (:class:`coach.errors.OutputExistsError`), and
    refuse a ``path`` whose folder cannot take it (:class:`coach.errors.OutputError`).

    Call it before any long work (a recording, a conversion), so that nothing is lost to a refusal at the end.
    """
    from coach.errors import OutputExistsError

    if not force and (path.exists() or path.is_symlink()):
        raise OutputExistsError(path)
    check_folder(path)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OS error while writing ``path`` into :class:`coach.errors.OutputError`: one line, exit 7."""
    from coach.errors import OutputError

    try:
        yield
    except OSError as exc:
        raise OutputError(path, exc) from None


def write_output(path: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to the user-named ``path`` (user-only, health data), under the output rule above."""
    from coach.report.export import write_private

    check_output(path, force=force)
    with writing(path):
        write_private(path, data)


def parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Click callback for a ``YYYY-MM-DD`` option (``--as-of`` of ``coach summary`` and ``coach plan``)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, not {value!r}") from None
