"""The exceptions of the ``coach`` package and the exit codes the CLI gives for them.

Every error a user can cause or meet (bad file, unknown programme, no Bluetooth, no speech, disk full) is a
:class:`CoachError` subclass with its own exit code; the CLI prints ``coach: error: <message>`` on one line and
exits with that code. Messages say what to do.
"""

from __future__ import annotations

from pathlib import Path

# Exit codes. 0 ok, 1 unexpected, 2 usage (click's own), then one per family of failure.
EXIT_USAGE = 2
EXIT_INPUT = 3  # a file that is missing, unreadable, malformed; an output file that exists (without --force)
EXIT_PROGRAMME = 4  # unknown programme or invalid programme file
EXIT_SENSOR = 5  # Bluetooth unavailable, sensor not found, sensor busy
EXIT_SPEECH = 6  # speech engine failure that could not fall back
EXIT_STORAGE = 7  # data directory or an output file not writable, disk full, database problems
EXIT_INTERRUPTED = 130


class CoachError(Exception):
    """Root of every error raised on purpose by :mod:`coach`."""

    exit_code = 1


class InputError(CoachError):
    """An input file or value that cannot be used."""

    exit_code = EXIT_INPUT


class ProgrammeError(CoachError):
    """An unknown programme name or an invalid programme file."""

    exit_code = EXIT_PROGRAMME


class RoutineError(ProgrammeError):
    """An unknown exercise routine or an invalid routine file (the same exit code as a programme's)."""


class SensorUnavailable(CoachError):
    """The sensor or the Bluetooth stack cannot be used."""

    exit_code = EXIT_SENSOR


class SpeechError(CoachError):
    exit_code = EXIT_SPEECH


class StorageError(CoachError):
    exit_code = EXIT_STORAGE


class OutputExistsError(InputError):
    """A file the user named as output exists, and ``--force`` was not given (nothing was written)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path} exists: pass --force to overwrite it")


class OutputError(StorageError):
    """A file the user named as output cannot be written: the same line and exit code from every command."""

    def __init__(self, path: str | Path, cause: OSError) -> None:
        self.path = Path(path)
        super().__init__(f"cannot write {self.path} ({cause.strerror or cause})")


def read_text_file(path: str | Path, error: type[CoachError] = InputError) -> str:
    """The UTF-8 text of a file the user named, or ``error`` with one line saying why it cannot be read."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise error(f"{p}: not a UTF-8 text file") from None
    except OSError as exc:
        raise error(f"{p}: cannot read ({exc.strerror or exc})") from None
