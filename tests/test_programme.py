"""Programmes: the TOML format, its validation messages, the built-ins, and ``coach programme``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli, main
from coach.errors import EXIT_PROGRAMME, ProgrammeError
from coach.plan.programme import builtin_names, load_file, load_programme, parse_duration_s, parse_programme

REPO = Path(__file__).resolve().parents[1]

GOOD = """
name = "mine"
title = "My programme"
[targets]
hr_ceiling_bpm = 150
[[stages]]
title = "first"
session = [
    { walk = "5m", label = "warm-up" },
    { run = "1m", walk = "4m", repeat = 3 },
]
[[stages]]
title = "second"
sessions = 3
targets = { hr_ceiling_bpm = 155 }
session = [ { walk = 300 }, { walk = "90s", run = "1m30s", repeat = 2 } ]
"""


def test_parse_good_programme_and_expand_plan() -> None:
    prog = parse_programme(GOOD, "mine.toml")
    assert [s.title for s in prog.stages] == ["first", "second"]
    assert prog.stages[0].sessions == 2  # the default: each stage at least twice
    plan = prog.plan(1)
    assert [(i.activity, i.duration_s) for i in plan.intervals] == [
        ("walk", 300.0),
        ("run", 60.0),
        ("walk", 240.0),
        ("run", 60.0),
        ("walk", 240.0),
        ("run", 60.0),
        ("walk", 240.0),
    ]
    assert [i.start_s for i in plan.intervals[:3]] == [0.0, 300.0, 360.0]
    assert plan.duration_s == 300 + 3 * 300
    assert plan.intervals[0].label == "warm-up"
    assert (plan.intervals[5].repeat, plan.intervals[5].repeats) == (3, 3)
    assert plan.targets.hr_ceiling_bpm == 150
    second = prog.plan(2)
    # key order is the order written: walk first, then run
    assert [i.activity for i in second.intervals] == ["walk", "walk", "run", "walk", "run"]
    assert second.targets.hr_ceiling_bpm == 155
    assert second.targets.cadence_rise_pct == 5.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        (2.5, 2.5),
        ("90s", 90.0),
        ("1m", 60.0),
        ("4.5m", 270.0),
        ("1m30s", 90.0),
        ("1:30", 90.0),
        ("1h", 3600.0),
        ("2min", 120.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", [0, -1, "-1m", "0s", "", "soon", "1x", True, [1], "5h"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration_s(text)


BAD_CASES = [
    # (what is changed, the TOML, the fragments the one-line message must contain)
    (
        "negative",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{run="-1m"}]\n',
        ["stage 1, step 1, run", "more than 0"],
    ),
    (
        "zero",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{walk=0}]\n',
        ["stage 1, step 1, walk", "more than 0"],
    ),
    (
        "unknown field",
        'name="x"\ntitle="X"\nlevel=3\n[[stages]]\ntitle="a"\nsession=[{walk=60}]\n',
        ["level", "unknown field"],
    ),
    (
        "unknown step field",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{jog=60}]\n',
        ["stage 1, step 1, jog", "unknown field"],
    ),
    ("missing title", 'name="x"\n[[stages]]\ntitle="a"\nsession=[{walk=60}]\n', ["missing field 'title'"]),
    (
        "missing session",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\n',
        ["stage 1: ", "missing field 'session'"],
    ),
    (
        "empty step",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{label="x"}]\n',
        ["stage 1, step 1: ", "'walk' or 'run'"],
    ),
    (
        "bad repeat",
        'name="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{run=60, repeat=0}]\n',
        ["stage 1, step 1, repeat", "between 1 and"],
    ),
    (
        "bad type",
        'name="x"\ntitle="X"\n[[stages]]\ntitle=3\nsession=[{walk=60}]\n',
        ["stage 1, title:", "expected a string"],
    ),
    ("no stages", 'name="x"\ntitle="X"\nstages=[]\n', ["stages", "at least one"]),
    (
        "bad name",
        'name="My Plan"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{walk=60}]\n',
        ["name", "lowercase"],
    ),
    ("bad toml", 'name = "x\ntitle="X"\n', ["not valid TOML", "line 1"]),
    (
        "bad ceiling",
        'name="x"\ntitle="X"\n[targets]\nhr_ceiling_bpm=20\n[[stages]]\ntitle="a"\nsession=[{walk=60}]\n',
        ["targets.hr_ceiling_bpm", "between 60 and 230"],
    ),
    (
        "future format",
        'format=2\nname="x"\ntitle="X"\n[[stages]]\ntitle="a"\nsession=[{walk=60}]\n',
        ["format"],
    ),
]


@pytest.mark.parametrize(("case", "text", "fragments"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_programme_names_file_field_and_problem(
    case: str, text: str, fragments: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(text)
    with pytest.raises(ProgrammeError) as info:
        load_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file_and_unknown_name() -> None:
    with pytest.raises(ProgrammeError, match="no such file"):
        load_file("/nonexistent/plan.toml")
    with pytest.raises(
        ProgrammeError, match=r"unknown programme 'couch-to-10k' \(built in: back-pain, couch-to-5k"
    ):
        load_programme("couch-to-10k")
    with pytest.raises(ProgrammeError, match="stages 1 to 10; there is no stage 11"):
        load_programme("back-pain").plan(11)


def test_builtin_back_pain_follows_the_brief() -> None:
    prog = load_programme("back-pain")
    assert prog.name == "back-pain" and len(prog.stages) >= 6
    for stage in prog.stages:
        first = stage.steps[0]
        assert (first.intervals[0].activity, first.intervals[0].duration_s, first.label) == (
            "walk",
            300.0,
            "warm-up",
        )
        assert stage.sessions >= 2  # each stage at least twice
    first_plan = prog.plan(1)
    runs = [i.duration_s for i in first_plan.intervals if i.activity == "run"]
    walks = [i.duration_s for i in first_plan.intervals[1:] if i.activity == "walk"]
    assert set(runs) == {60.0} and set(walks) == {240.0}  # about 1 min jog / 4 min walk
    last_runs = [i.duration_s for i in prog.plan(len(prog.stages)).intervals if i.activity == "run"]
    assert last_runs == [1800.0]  # up to 30 min continuous
    # run time never goes down from one stage to the next
    run_time = [
        sum(i.duration_s for i in prog.plan(s.number).intervals if i.activity == "run") for s in prog.stages
    ]
    assert run_time == sorted(run_time)
    assert any("Silbernagel" in s for s in prog.sources) and any("ASTEROID" in s for s in prog.sources)


def test_builtin_couch_to_5k_week_1_is_the_nhs_one() -> None:
    prog = load_programme("couch-to-5k")
    plan = prog.plan(1)
    assert plan.intervals[0].duration_s == 300.0  # 5 min brisk-walk warm-up
    body = [(i.activity, i.duration_s) for i in plan.intervals if i.label is None]
    assert body == [("run", 60.0), ("walk", 90.0)] * 8  # 60 s run / 90 s walk for 20 min
    assert prog.stages[-1].title.startswith("Week 9")
    assert max(i.duration_s for i in prog.plan(len(prog.stages)).intervals) == 1800.0


def test_builtin_names() -> None:
    assert builtin_names() == ["back-pain", "couch-to-5k"]


def _toml_blocks(markdown: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", markdown, flags=re.S)


def test_docs_examples_are_valid_programmes() -> None:
    blocks = _toml_blocks((REPO / "docs" / "programmes.md").read_text())
    assert blocks, "docs/programmes.md has no ```toml example"
    for block in blocks:
        prog = parse_programme(block, "docs/programmes.md")
        assert prog.plan(1).duration_s > 0


# --- CLI ------------------------------------------------------------------------------------------------------


def test_cli_list_and_show() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["programme", "list"])
    assert result.exit_code == 0, result.output
    assert "back-pain" in result.output and "couch-to-5k" in result.output
    result = runner.invoke(cli, ["programme", "show", "back-pain"])
    assert result.exit_code == 0, result.output
    assert "Stage 1: 1 min jog / 4 min walk" in result.output
    assert "5 x (run 1:00, walk 4:00)" in result.output
    result = runner.invoke(cli, ["programme", "show", "couch-to-5k", "--json"])
    assert result.exit_code == 0
    assert '"stage": 13' in result.output


def test_cli_validate_good_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    result = CliRunner().invoke(cli, ["programme", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok: 'mine', 2 stages" in result.output


def test_cli_validate_bad_file_one_line_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_CASES[0][1])
    result = CliRunner().invoke(cli, ["programme", "validate", str(path)])
    assert isinstance(result.exception, ProgrammeError)  # main() turns it into the line below
    with pytest.raises(SystemExit) as info:
        main(["programme", "validate", str(path)])
    assert info.value.code == EXIT_PROGRAMME
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"coach: error: {path}: stage 1, step 1, run: ")
    with pytest.raises(SystemExit) as info:
        main(["programme", "show", "no-such-programme"])
    assert info.value.code == EXIT_PROGRAMME
    assert capsys.readouterr().err.startswith("coach: error: unknown programme 'no-such-programme'")


def test_cli_bad_programme_subprocess_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "x"\ntitle = "X"\n[[stages]]\ntitle = "a"\nsession = [{ walk = "5m", pace = 3 }]\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "coach", "programme", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == EXIT_PROGRAMME
    assert (
        proc.stderr == f"coach: error: {path}: stage 1, step 1, pace: unknown field (expected one of: "
        "label, repeat, run, walk)\n"
    )
    assert "Traceback" not in proc.stderr + proc.stdout
