"""Counts of the robustness checks that run in CI (issue 7): the fuzz run and the bad-input table.

``python -m bench robustness`` (or ``python -m bench.robustness``) runs the fuzz and bad-input tests of the suite
with hypothesis statistics on, and writes how many inputs each target received, how many tests passed and how long
they took into the ``robustness`` section of bench/RESULTS.md. The same tests run in ``make test``; this only counts.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from bench.results import machine, now_utc, write_section

ROOT = Path(__file__).resolve().parents[1]
FUZZ_K = "fuzz or random or mutat"
GROUPS = (
    ("fuzz: programme loader, csv/Polar/capture/FIT loaders, importer", ["tests/test_fuzz_inputs.py"], None),
    (
        "fuzz: BLE codecs, sample decoder, capture reader",
        [
            "tests/test_codecs_heart_rate.py",
            "tests/test_codecs_rsc.py",
            "tests/test_codecs_gatt_misc.py",
            "tests/test_codecs_pmd.py",
            "tests/test_samples.py",
            "tests/test_capture.py",
        ],
        FUZZ_K,
    ),
    ("bad-input table (docs/troubleshooting.md), one subprocess per row", ["tests/test_bad_input.py"], None),
)


def _run(files: list[str], k: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"]
        cmd += [f"--junitxml={xml}", *files] + (["-k", k] if k else [])
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        suite = ET.parse(xml).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
    cases = re.findall(r"- (\d+) passing, (\d+) failing, and (\d+) invalid test cases", proc.stdout)
    examples = sum(int(a) + int(b) for a, b, _ in cases)
    invalid = sum(int(c) for _, _, c in cases)
    tests = int(suite.get("tests", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    return {
        "tests": tests,
        "passed": tests - failed - skipped,
        "failed": failed,
        "skipped": skipped,
        "examples": examples,
        "invalid": invalid,
        "seconds": elapsed,
        "command": " ".join(["python -m pytest", *files] + ([f"-k '{k}'"] if k else [])),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.robustness", description=__doc__.splitlines()[0])
    p.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = p.parse_args(argv)
    rows = []
    rc = 0
    for name, files, k in GROUPS:
        r = _run(files, k)
        rc = max(rc, 1 if r["failed"] else 0)
        rows.append((name, r))
        print(
            f"{name}: {r['passed']}/{r['tests']} passed, {r['examples']} generated inputs, {r['seconds']:.1f} s"
        )
    if not args.no_write:
        lines = [
            "## Robustness: fuzz run and bad-input table (issue 7)",
            "",
            f"- date: {now_utc()}; command: `python -m bench robustness`; machine: {machine()}",
            "- the same tests run in `make test` (CI); hypothesis budgets are fixed and derandomized there",
            "- generated inputs = hypothesis test cases run (passing + failing; every one must end in a documented error or a valid result)",
            "",
            "| check | tests passed | generated inputs | time (s) | command |",
            "|---|---|---|---|---|",
        ]
        for name, r in rows:
            lines.append(
                f"| {name} | {r['passed']}/{r['tests']} | {r['examples'] or '-'} | {r['seconds']:.1f} | `{r['command']}` |"
            )
        write_section("robustness", "\n".join(lines))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
