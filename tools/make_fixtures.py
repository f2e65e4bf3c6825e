"""Regenerate every committed capture fixture in fixtures/ from the real recordings in ../shared/data.

Usage (from the repository root)::

    .venv/bin/python tools/make_fixtures.py            # rewrite all fixtures
    .venv/bin/python tools/make_fixtures.py --print    # only print the exact commands
    .venv/bin/python tools/make_fixtures.py NAME...    # only these fixtures (file names)

The data folder is ``../shared/data`` next to the repository, or ``$COACH_SHARED_DATA``. Each fixture is one
``coach convert`` command with a fixed seed, so the output is byte-for-byte reproducible;
tests/test_convert.py regenerates them and compares. fixtures/README.md documents each file.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES_DIR = REPO / "fixtures"

#: file name -> arguments of `coach convert` ({data} is the shared data folder). Keep fixtures/README.md in step.
FIXTURES: dict[str, list[str]] = {
    # Subject 005: treadmill walk, jog (5.5 mph), ~10 s stop, walk again. Noisy RR (many flagged beats).
    "chest-walk-jog-walk-hexoskin-005.jsonl": [
        "hexoskin", "{data}/hexoskin-chest/005hexoskin", "--start", "14:30", "--end", "19:30",
        "--acc-frames", "compressed", "--seed", "5",
    ],
    # Subject 008: walk, jog, ~30 s standing, walk again. Clean RR. Raw (0x01) ACC frames like the H10 doc example.
    "chest-walk-jog-walk-hexoskin-008.jsonl": [
        "hexoskin", "{data}/hexoskin-chest/008hexoskin", "--start", "16:30", "--end", "21:30",
        "--acc-frames", "raw", "--seed", "8",
    ],
    "fit-run-fenix5-hrm.jsonl": ["fit", "{data}/garmin-fit/garmin-fenix-5-run.fit", "--seed", "51"],
    "fit-walk-fenix5-hrm.jsonl": ["fit", "{data}/garmin-fit/garmin-fenix-5-walk.fit", "--seed", "52"],
    # Fenix 2 + HRM-Run: run, walk break (~1 min), run again; no RR in this file.
    "fit-run-walk-run-fenix2.jsonl": [
        "fit", "{data}/garmin-fit/activity-small-fenix2-run.fit", "--start", "31:00", "--end", "36:00",
        "--seed", "2",
    ],
}  # fmt: skip


def data_dir() -> Path:
    """``$COACH_SHARED_DATA`` or ``../shared/data`` next to the repository."""
    env = os.environ.get("COACH_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def arguments(name: str, data: Path, output: Path) -> list[str]:
    """The `coach` arguments that make fixture ``name`` into ``output``."""
    args = [a.replace("{data}", str(data)) for a in FIXTURES[name]]
    return ["convert", *args, "-o", str(output), "--force"]


def command_text(name: str) -> str:
    """The command as documented in fixtures/README.md (paths relative to the repository root)."""
    args = [a.replace("{data}", "../shared/data") for a in FIXTURES[name]]
    return shlex.join(["coach", "convert", *args, "-o", f"fixtures/{name}"])


def main(argv: list[str]) -> int:
    only_print = "--print" in argv
    names = [a for a in argv if not a.startswith("-")] or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        print(f"make_fixtures: unknown fixture(s) {unknown}; known: {list(FIXTURES)}", file=sys.stderr)
        return 2
    if only_print:
        for name in names:
            print(command_text(name))
        return 0
    data = data_dir()
    if not data.is_dir():
        print(f"make_fixtures: no data folder {data} (set COACH_SHARED_DATA)", file=sys.stderr)
        return 2
    from coach.cli import main as coach_main

    for name in names:
        print(command_text(name), flush=True)
        try:
            coach_main(arguments(name, data, FIXTURES_DIR / name))
        except SystemExit as exc:
            if exc.code:
                return int(exc.code) if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
