"""Crash safety (issue 7): SIGKILL ``coach run`` at random moments, then everything recorded must still be usable.

Runs tools/crash_test.py (10 runs, fixed seed so a failure can be repeated) as a subprocess; see that script for
what is checked after each kill. It measures loss in wall seconds, so it is marked ``realtime`` (opt-in:
``pytest -m realtime``; .ci/run runs it as its own step). tests/test_runner.py kills a session in the default run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = 20261126

pytestmark = pytest.mark.slow


@pytest.mark.realtime  # kills at wall-clock moments and allows one wall second of loss: opt-in (pyproject.toml)
def test_sigkill_at_random_moments_loses_at_most_one_wall_second() -> None:
    pytest.importorskip("bumble")  # the virtual strap
    res = subprocess.run(
        [sys.executable, str(REPO / "tools" / "crash_test.py"), "--runs", "10", "--seed", str(SEED)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    run_lines = [line for line in res.stdout.splitlines() if line.startswith("run ")]
    assert len(run_lines) == 10, out
    assert all(line.endswith(" OK") for line in run_lines), out
    assert "10/10 runs passed" in res.stdout, out


def test_torn_last_line_is_tolerated_but_a_bad_middle_line_is_not(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import crash_test
    finally:
        sys.path.remove(str(REPO / "tools"))
    good = tmp_path / "good.jsonl"
    good.write_bytes(b'{"t": 0, "kind": "a"}\n{"t": 1, "kind": "b"}\n{"t": 2, "ki')
    records, torn = crash_test.parse_jsonl(good)
    assert [r["t"] for r in records] == [0, 1] and torn
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"t": 0, "kind": "a"}\n{"t": 1, "ki\n{"t": 2, "kind": "c"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        crash_test.parse_jsonl(bad)
