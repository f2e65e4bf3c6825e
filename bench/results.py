"""bench/RESULTS.md is made of sections, one per benchmark, each between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` markers. Each benchmark rewrites only its own section."""

from __future__ import annotations

import datetime as dt
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> str:
    import os

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}"


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace section ``name`` of RESULTS.md with ``body`` (markers added here), or append it."""
    start, end = markers(name)
    text = f"{start}\n{body.strip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    new = pattern.sub(lambda _m: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def write_marked(section: str, path: Path = RESULTS) -> None:
    """Like :func:`write_section` for a ``section`` that already carries its own start and end markers."""
    m = re.match(r"\s*<!-- (\w+):start -->\n?(.*?)<!-- \1:end -->", section, re.S)
    if m is None:
        raise ValueError("section does not start and end with <!-- NAME:start/end --> markers")
    write_section(m.group(1), m.group(2), path)
