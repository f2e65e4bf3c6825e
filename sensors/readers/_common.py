"""What the readers share: their error and reading a text file."""

from __future__ import annotations

from pathlib import Path

from sensors.errors import SensorError


class ReaderError(SensorError, ValueError):
    """A file a reader cannot read; the message names the file (and the line when there is one)."""


def read_text(path: Path) -> str:
    """The file as UTF-8 text without a byte-order mark; a binary or non-UTF-8 file is a :class:`ReaderError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReaderError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in raw[:4096]:
        raise ReaderError(f"{path}: looks like a binary file, not a text recording")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ReaderError(f"{path}:{line}: not UTF-8 text ({exc.reason})") from exc
    return text.lstrip("\ufeff")
