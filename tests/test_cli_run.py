"""``coach run`` and ``coach demo``: errors as one line with their exit code, a short real run, the demo."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli, main
from coach.errors import EXIT_INPUT, EXIT_PROGRAMME, EXIT_USAGE
from tests.virtual_time import sessions_on_virtual_time

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
SHORT = 'name = "short"\ntitle = "Short"\n[[stages]]\ntitle = "s"\nsession = [{ walk = "30s" }, { run = "30s" }]\n'


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    code = info.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "start"),
    [
        (["--programme", "no-such"], EXIT_PROGRAMME, "coach: error: unknown programme 'no-such' (built in: "),
        (
            ["--programme", "back-pain", "--stage", "40"],
            EXIT_PROGRAMME,
            "coach: error: programme 'back-pain' has ",
        ),
        (["--programme", "missing.toml"], EXIT_PROGRAMME, "coach: error: missing.toml: no such file"),
    ],
)
def test_run_bad_programme_one_line(
    args: list[str], code: int, start: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got, err = _run_main(["run", "--sensor", f"replay:{FIXTURE}", *args, "--data-dir", str(tmp_path)], capsys)
    assert got == code
    assert err.startswith(start) and err.count("\n") == 1, err
    assert not (tmp_path / "sessions").exists()  # nothing started


def test_run_bad_programme_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SHORT.replace('"30s"', '"-30s"', 1))
    got, err = _run_main(["run", "--sensor", f"replay:{FIXTURE}", "--programme", str(bad)], capsys)
    assert got == EXIT_PROGRAMME
    assert (
        err == f"coach: error: {bad}: stage 1, step 1, walk: duration must be more than 0 seconds "
        "(got '-30s')\n"
    )


@pytest.mark.parametrize(
    ("sensor", "code", "fragment"),
    [
        ("bogus:thing", EXIT_USAGE, "unknown sensor 'bogus:thing'"),
        ("replay:/nonexistent/x.jsonl", EXIT_INPUT, "/nonexistent/x.jsonl: no such capture file"),
        ("virtual:/nonexistent/x.jsonl", EXIT_INPUT, "/nonexistent/x.jsonl: no such capture file"),
    ],
)
def test_run_bad_sensor_one_line(
    sensor: str, code: int, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got, err = _run_main(
        [
            "run",
            "--sensor",
            sensor,
            "--programme",
            "back-pain",
            "--voice",
            "none",
            "--data-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert got == code
    assert err.startswith("coach: error: ") and fragment in err and err.count("\n") == 1, err
    assert not (tmp_path / "sessions").exists()  # nothing started


def test_run_short_session_on_a_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``coach run`` end to end through click: 60 s of plan at 5x (12 s, on virtual time)."""
    plan = tmp_path / "short.toml"
    plan.write_text(SHORT)
    with sessions_on_virtual_time(monkeypatch):
        result = CliRunner().invoke(
            cli,
            [
                "run",
                "--sensor",
                f"replay:{FIXTURE}",
                "--programme",
                str(plan),
                "--speed",
                "5",
                "--voice",
                "text",
                "--data-dir",
                str(tmp_path / "data"),
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    # one session clock: the heads-up keeps its 10 s lead at any speed (the speaker may fall behind, not the plan)
    assert "using 15 s" not in result.output
    assert "[cue] Walk for thirty seconds." in result.output and "[cue] Run in ten seconds." in result.output
    summary = json.loads(result.output[result.output.index("{\n") :])
    assert summary["complete"] and summary["end_reason"] == "completed" and summary["speed"] == 5.0
    assert [i["activity"] for i in summary["intervals"]] == ["walk", "run"]
    folder = tmp_path / "data" / "sessions" / summary["session_id"]
    assert (folder / "events.jsonl").is_file() and (folder / "capture.jsonl").is_file()


def test_the_end_of_run_figures_are_the_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `coach run` prints at the end (followed %, per interval) is what `coach report` says, not the engine's
    live tally, which lags by the detection delay (several session seconds at --speed 50)."""
    import re

    plan = tmp_path / "three.toml"
    plan.write_text(
        SHORT.replace('{ run = "30s" }', '{ run = "60s" }, { walk = "60s" }').replace('"30s"', '"60s"')
    )
    data = str(tmp_path / "data")
    # at 50x the live tally and the report differ (third interval: 30 % live, 25 % by the gait seconds' times)
    args = [
        "run",
        "--sensor",
        f"replay:{FIXTURE}",
        "--programme",
        str(plan),
        "--speed",
        "50",
        "--voice",
        "none",
    ]
    with sessions_on_virtual_time(monkeypatch):
        result = CliRunner().invoke(cli, [*args, "--data-dir", data])
    assert result.exit_code == 0, result.output
    rep = CliRunner().invoke(cli, ["report", "latest", "--json", "--data-dir", data])
    assert rep.exit_code == 0, rep.output
    model = json.loads(rep.stdout)
    overall = re.search(r"followed the plan (\d+) % of the time", result.output)
    assert overall is not None, result.output
    assert int(overall.group(1)) == round(model["summary"]["adherence"] * 100)
    shown = re.findall(r"^ +(\d+)\. (walk|run) +\d+:\d\d +followed +(\d+) %", result.output, re.M)
    assert [(int(n) - 1, a, int(p)) for n, a, p in shown] == [
        (iv["index"], iv["activity"], round(iv["compliant_share"] * 100)) for iv in model["intervals"]
    ]


def test_the_fallback_end_of_run_figures_are_the_reports_too(tmp_path: Path) -> None:
    """When the report fails, `coach run` prints its figures from summary.json's intervals (after_run_intervals):
    the same lines as from the report, the cadence column included: the interval's mean cadence, not its median
    (the hand-written run intervals start with a few walking seconds, so the two differ by several steps/min)."""
    from coach.cli.run_cmd import _from_report, _from_summary, _plan_lines
    from coach.report.model import build_report, read_session
    from coach.session.adherence import after_run_intervals
    from tests.after_run_helpers import hand_records, write_folder

    records = hand_records()
    start_t = {r["index"]: r["t"] for r in records if r["kind"] == "interval_start"}
    for r in records:
        if r["kind"] == "interval_end":
            r["start_t"] = start_t[r["index"]]  # as the engine writes it
    report = build_report(read_session(write_folder(tmp_path, records)))
    summary = {
        "adherence": report["summary"]["adherence"],
        "time_to_comply_median_s": report["summary"]["time_to_comply_median_s"],
        "intervals": after_run_intervals(records),
    }
    assert any(
        round(iv["cadence_mean_spm"]) != round(iv["cadence_median_spm"]) for iv in report["intervals"]
    )  # the test can tell the two apart
    assert _plan_lines(_from_summary(summary), None) == _plan_lines(_from_report(report), None)


def test_demo_finishes_and_cues_every_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole demo through click, on virtual time (tests/virtual_time.py): its timers, the virtual strap's and
    the radio's included, so it takes a few wall seconds and the same ones on any machine."""
    with sessions_on_virtual_time(monkeypatch) as ended_at:
        result = CliRunner().invoke(cli, ["demo", "--voice", "text", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output[-2000:]
    (took,) = ended_at  # the loop's clock: the wall seconds the demo takes in real time
    assert took < 120, f"the demo took {took:.0f} s"
    assert result.exception is None
    assert "Demo: stage 1 of back-pain" in result.output  # says what was compressed
    assert "written to" in result.output
    (folder,) = (tmp_path / "sessions").iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    start = events[0]
    assert start["kind"] == "session_start" and start["demo"] is True and start["stage"] == 1
    plan = start["plan"]
    cues = [e for e in events if e["kind"] == "cue" and not e.get("dropped")]
    changes = {c["interval_index"] for c in cues if c["type"] == "change"}
    assert changes == set(range(len(plan))), "an interval change was not announced"
    heads = {c["interval_index"] for c in cues if c["type"] == "heads_up"}
    assert heads >= set(range(1, len(plan))), "a change had no heads-up"
    assert events[-1]["kind"] == "session_end" and events[-1]["reason"] == "completed"
    # the 5-minute recording loops under the 11-minute session on one connection: never "sensor lost / back"
    links = [e["state"] for e in events if e["kind"] == "sensor" and e["state"] not in ("battery",)]
    assert links == ["connected"], links
    end_t = events[-1]["t"]
    assert any(e["kind"] == "gait" and e.get("hr_bpm") and e["t"] > end_t - 60 for e in events)  # to the end
    for a, b in itertools.pairwise(cues):  # on the session timeline speech takes its real time, at any speed
        assert b["t"] >= a["t"] + a["duration_s"], (a, b)
