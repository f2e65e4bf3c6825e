"""The newcomer's path in docs/getting-started.md runs as written, and every docs/examples/*.toml is a valid programme.

Runnable examples are fenced ```sh blocks right after an HTML comment: ``<!-- test -->`` (run in document order) or
``<!-- test-after -->`` (run after all others: they need a session to exist, e.g. the report after ``make demo``).
Each ``coach ...`` line runs through click's CliRunner (in-process; ``coach run`` and ``coach demo`` on virtual time,
tests/virtual_time.py) in a temporary working directory (with ``fixtures/`` and ``docs/`` linked in) and a
temporary ``COACH_DATA_DIR``; it must exit 0. Lines with ``make`` or ``ble:`` (they need
the set-up or a real strap) are not allowed in marked blocks. If a ```text block follows a marked block, every line
of it that has no digit (ids, times and counts change from run to run) must appear in the output, except "..." and
advice cues, which the engine may drop when they do not fit.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.plan.programme import load_programme
from coach.session import cues as C
from tests.virtual_time import sessions_on_virtual_time

REPO = Path(__file__).resolve().parents[1]
GETTING_STARTED = REPO / "docs" / "getting-started.md"
EXAMPLES = sorted((REPO / "docs" / "examples").glob("*.toml"))

_BLOCK = re.compile(
    r"<!-- (?P<mark>test|test-after) -->\s*\n```sh\n(?P<body>.*?)\n```\n(?:\s*\n```text\n(?P<out>.*?)\n```)?",
    re.S,
)
#: Cues the engine may drop (advice is said only when it fits before the next change).
_ADVICE = {
    C.FIXED_TEXT[k]
    for k in (C.PROMPT_RUN, C.PROMPT_WALK, C.HR_HIGH, C.CADENCE, C.SENSOR_LOST, C.SENSOR_BACK, C.HALFWAY)
}
#: Commands that coach a session: run on virtual time (tests/virtual_time.py), not in real time.
_SESSIONS = {"run", "demo"}


def _examples(text: str) -> list[tuple[str, list[str], list[str]]]:
    """(mark, commands, expected output lines) of every marked block, in document order."""
    found = []
    for m in _BLOCK.finditer(text):
        commands = []
        for line in m.group("body").splitlines():
            line = line.split("  #", 1)[0].strip()
            if line:
                commands.append(line)
        found.append((m.group("mark"), commands, (m.group("out") or "").splitlines()))
    return found


def test_getting_started_has_runnable_examples() -> None:
    examples = _examples(GETTING_STARTED.read_text(encoding="utf-8"))
    commands = [c for _, cmds, _ in examples for c in cmds]
    assert any(c.startswith("coach run --sensor virtual:") for c in commands), commands
    assert any(c.startswith("coach programme validate docs/examples/") for c in commands), commands
    for command in commands:
        assert command.startswith("coach "), f"only coach commands can be checked: {command!r}"
        assert "ble:" not in command and "make " not in command, f"needs hardware or set-up: {command!r}"


@pytest.mark.slow
def test_getting_started_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _examples(GETTING_STARTED.read_text(encoding="utf-8"))
    ordered = [e for e in examples if e[0] == "test"] + [e for e in examples if e[0] == "test-after"]
    work = tmp_path / "work"
    work.mkdir()
    (work / "fixtures").symlink_to(REPO / "fixtures")
    (work / "docs").symlink_to(REPO / "docs")
    monkeypatch.chdir(work)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    for _, commands, expected in ordered:
        output = ""
        for command in commands:
            args = shlex.split(command)[1:]
            if args[0] in _SESSIONS:  # a coached session: on virtual time, a few wall seconds on any machine
                with monkeypatch.context() as patch, sessions_on_virtual_time(patch):
                    result = CliRunner().invoke(cli, args)
            else:
                result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, (
                f"{command}\nexit {result.exit_code}\n{result.output}\n{result.exception!r}"
            )
            output += result.output
        for line in expected:
            text = line.strip()
            if not text or text == "..." or re.search(r"\d", text):
                continue
            if text.startswith("[cue] ") and text.removeprefix("[cue] ") in _ADVICE:
                continue
            assert text in output, f"documented output {text!r} not printed by:\n{commands}\n{output}"
    assert (work / "report.html").is_file()
    assert list((tmp_path / "data" / "sessions").iterdir())


def test_there_are_example_programmes() -> None:
    assert EXAMPLES, "docs/examples/*.toml"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_programme_is_valid(path: Path) -> None:
    programme = load_programme(str(path))
    assert programme.stages
    for stage in programme.stages:
        assert stage.duration_s > 0
        programme.plan(stage.number)
