"""The TOML files shipped with coach (``coach/data/programmes``, ``coach/data/routines``): their names, their text,
and the one rule for whether a command-line argument names a built-in or a file.

Pure: reads package data only.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from coach.errors import CoachError

SUFFIX = ".toml"


def _folder(kind: str) -> Traversable:
    return resources.files("coach") / "data" / kind


def builtin_names(kind: str) -> list[str]:
    """The names of the built-in files of ``kind`` (``"programmes"``, ``"routines"``), sorted."""
    return sorted(
        entry.name.removesuffix(SUFFIX) for entry in _folder(kind).iterdir() if entry.name.endswith(SUFFIX)
    )


def is_file_argument(name_or_path: str) -> bool:
    """A path, not a built-in name: it ends in .toml, has a path separator, or is an existing file."""
    return name_or_path.endswith(SUFFIX) or "/" in name_or_path or Path(name_or_path).is_file()


def builtin_text(kind: str, name: str, what: str, error: type[CoachError]) -> str:
    """The text of the built-in ``name`` of ``kind``; ``error`` (one line, naming the built-ins) when there is none.
    ``what`` names one of them in the message (``"programme"``, ``"routine"``)."""
    names = builtin_names(kind)
    if name not in names:
        raise error(f"unknown {what} {name!r} (built in: {', '.join(names)}; or give a {SUFFIX} file)")
    return (_folder(kind) / f"{name}{SUFFIX}").read_text(encoding="utf-8")
