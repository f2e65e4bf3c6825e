"""``coach analyze``: JSON schema, readable summary, every input format, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from coach.cli import cli
from tests.cli_helpers import run_main
from tests.test_signal_gait import gait_signal, standing
from tests.test_signal_io import FIT_DIR, FIXTURES, write_csv, write_polar

REPO = Path(__file__).resolve().parents[1]


def walk_still_run_csv(path: Path) -> Path:
    t1, x1 = gait_signal(duration_s=30, cadence_spm=112, t_start_s=0.0, seed=1, rotate=False)
    t2, x2 = standing(duration_s=15, t_start_s=30.0)
    x2[:] = [0.0, 0.0, 1.0]
    t3, x3 = gait_signal(duration_s=30, cadence_spm=160, run=True, t_start_s=45.0, seed=2, rotate=False)
    return write_csv(path, np.concatenate([t1, t2, t3]) + 1000.0, np.concatenate([x1, x2, x3]))


def check_schema(doc: dict[str, Any]) -> None:
    assert set(doc) >= {"sampling_rate_hz", "duration_s", "timeline", "steps", "segments", "summary"}
    assert isinstance(doc["sampling_rate_hz"], float)
    assert isinstance(doc["duration_s"], float)
    for k, row in enumerate(doc["timeline"]):
        assert row["t"] == float(k)
        assert row["mode"] in ("walk", "run", "still", "unknown")
        assert row["cadence_spm"] is None or isinstance(row["cadence_spm"], float)
    assert all(isinstance(s, float) for s in doc["steps"])
    assert doc["steps"] == sorted(doc["steps"])
    for seg in doc["segments"]:
        assert set(seg) == {"start", "end", "mode", "cadence_spm"}
    assert isinstance(doc["summary"], dict)


def test_json_is_one_object_with_the_issue_schema(tmp_path: Path) -> None:
    path = walk_still_run_csv(tmp_path / "session.csv")
    result = CliRunner().invoke(cli, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # exactly one JSON document
    check_schema(doc)
    assert doc["sampling_rate_hz"] == pytest.approx(100.0, rel=1e-3)
    assert doc["duration_s"] == pytest.approx(75.0, abs=0.02)
    modes = [s["mode"] for s in doc["segments"] if s["end"] - s["start"] >= 5]
    assert modes == ["walk", "still", "run"]
    walk, run = (s for s in doc["segments"] if s["mode"] in ("walk", "run") and s["end"] - s["start"] >= 5)
    assert walk["cadence_spm"] == pytest.approx(112.0, abs=1.0)
    assert run["cadence_spm"] == pytest.approx(160.0, abs=1.0)
    assert doc["summary"]["step_count"] == len(doc["steps"])
    assert doc["steps"][0] < 3.0  # seconds from the first sample, not the file's own time base


def test_text_summary(tmp_path: Path) -> None:
    path = walk_still_run_csv(tmp_path / "session.csv")
    result = CliRunner().invoke(cli, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "walking" in out and "running" in out and "still" in out
    assert "steps/min" in out
    assert "Timeline" in out
    assert "analysed after the run" in out.splitlines()[0]
    timeline = out.split("Timeline", 1)[1].splitlines()
    line = next(ln for ln in timeline if ln.strip().startswith("0:00 "))
    assert set(line.split()[1]) <= set("wR.?") and "w" in line and "R" in line


def test_live_timeline_is_the_live_estimators(tmp_path: Path) -> None:
    """--live prints the live estimator's timeline; the default is the after-the-run one (issue 16)."""
    path = walk_still_run_csv(tmp_path / "session.csv")
    docs = {}
    for flag in ([], ["--live"]):
        result = CliRunner().invoke(cli, ["analyze", str(path), "--json", *flag])
        assert result.exit_code == 0, result.output
        docs[bool(flag)] = json.loads(result.stdout)
    assert docs[True]["summary"]["estimator"] == "live"
    assert docs[False]["summary"]["estimator"] == "after-run"
    # live starts "unknown" (the hysteresis needs two agreeing seconds); after the run the walk starts at once
    assert docs[True]["timeline"][0]["mode"] == "unknown"
    assert docs[False]["timeline"][0]["mode"] == "walk"


def test_polar_csv_auto_detected(tmp_path: Path) -> None:
    t, xyz = gait_signal(duration_s=20.0, fs_hz=52.0, cadence_spm=118.0)
    path = write_polar(tmp_path / "Polar_H10_ACC.txt", t, xyz)
    code, out, err = run_main("analyze", path, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["format"] == "polar-csv"
    assert doc["summary"]["cadence_walk_spm"] == pytest.approx(118.0, abs=1.0)


def test_capture_fixture(tmp_path: Path) -> None:
    code, out, err = run_main("analyze", FIXTURES / "chest-walk-jog-walk-hexoskin-008.jsonl", "--json")
    assert code == 0, err
    doc = json.loads(out)
    check_schema(doc)
    s = doc["summary"]
    assert s["format"] == "capture"
    assert s["seconds_walking"] > 60 and s["seconds_running"] > 30
    assert 140 < s["cadence_run_spm"] < 175


def test_fit_uses_device_cadence() -> None:
    code, out, err = run_main("analyze", FIT_DIR / "activity-small-fenix2-run.fit", "--json")
    assert code == 0, err
    doc = json.loads(out)
    check_schema(doc)
    s = doc["summary"]
    assert s["source"] == "device" and s["format"] == "fit" and s["estimator"] is None
    assert 150 < s["cadence_run_spm"] < 185  # strides/min x 2
    assert s["seconds_walking"] > 60  # the walk break and the cool-down
    assert doc["steps"] == []


def test_device_cadence_only_says_steps_not_measured() -> None:
    """A capture with RSC but no accelerometer: steps were not counted, which is not "0 steps"."""
    code, out, err = run_main("analyze", REPO / "fixtures" / "fit-run-walk-run-fenix2.jsonl")
    assert code == 0, err
    assert "(device cadence)" in out.splitlines()[0]
    assert "  steps   not measured (device cadence only)" in out.splitlines()
    assert "steps   0" not in out


def test_accelerometer_text_counts_steps(tmp_path: Path) -> None:
    code, out, err = run_main("analyze", walk_still_run_csv(tmp_path / "session.csv"))
    assert code == 0, err
    steps = next(line for line in out.splitlines() if line.startswith("  steps   "))
    assert int(steps.split()[1]) > 100


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\xff" * 64, "binary"), (b"a,b\n1,2\n", "expected the header")],
)
def test_bad_input_is_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, out, err = run_main("analyze", path, "--json")
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("coach: error: ") and message in err


def test_missing_file_and_bad_option() -> None:
    code, _, err = run_main("analyze", "/no/such/file.csv")
    assert code == 3 and "no such file" in err
    code, _, err = run_main("analyze", "x.csv", "--format", "wav")
    assert code == 2


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("t,x,y,z\n0,0,0,1\n0.01,0,\u00e9,1\n".encode("latin-1", "replace"))
    proc = subprocess.run(
        [sys.executable, "-m", "coach", "analyze", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("coach: error: ") and proc.stderr.count("\n") == 1
