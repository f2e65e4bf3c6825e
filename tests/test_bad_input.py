"""The bad-input table (issue 7): every way a user can hand coach something wrong gives one clear line, a distinct
exit code per family (coach/errors.py) and no traceback, and nothing already recorded is lost.

:data:`TABLE` is the single source: each row runs ``coach.cli.main`` in-process (one row per exit code also as a
``python -m coach ...`` subprocess, the real entry point), and the same rows are rendered in
docs/troubleshooting.md (``python tests/test_bad_input.py`` prints the table;
:func:`test_troubleshooting_doc_shows_the_table` keeps the two in step).
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.realdata import THIRD_PARTY

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"
DOC = REPO / "docs" / "troubleshooting.md"
DOC_START = "<!-- bad_input_table:start -->"
DOC_END = "<!-- bad_input_table:end -->"
HUGE_BYTES = 50 * 1024 * 1024

SHORT_TOML = """name = "short"
title = "Short"
[[stages]]
title = "s"
session = [ { walk = "30s" }, { run = "30s" }, { walk = "30s" } ]
"""

#: Runs coach with the capture writer failing (ENOSPC) after some lines: a disk that fills up mid-session.
DISK_FULL_BOOT = """
import errno, sys
import sensors.capture as capture
calls = [0]
real = capture.CaptureWriter._write_line
def write_line(self, line):
    calls[0] += 1
    if calls[0] > 150:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
    real(self, line)
capture.CaptureWriter._write_line = write_line
from coach.cli import main
main(sys.argv[1:])
"""

#: A pyttsx3 that cannot start (with a PATH without espeak-ng or players: no speech engine at all).
FAKE_PYTTSX3 = """def init(*args, **kwargs):
    raise RuntimeError("no speech engine (simulated)")
"""


@dataclass(frozen=True)
class Row:
    id: str
    situation: str
    args: tuple[str, ...]  # {d}: the test's folder
    code: int
    message: str  # the stable start of the line after "coach: error: " (or the notice for a fallback)
    todo: str  # what to do (for the docs)
    env: str = ""  # "speech-missing", "no-bluez", "disk-full"
    check: Callable[[Path, subprocess.CompletedProcess[str]], None] | None = field(
        default=None, compare=False
    )


def _kept_after_disk_full(d: Path, res: subprocess.CompletedProcess[str]) -> None:
    assert "No space left on device" in res.stderr
    folders = sorted((d / "data-full" / "sessions").iterdir())
    assert len(folders) == 1, folders
    events = [json.loads(line) for line in (folders[0] / "events.jsonl").read_text().splitlines()]
    assert events[0]["kind"] == "session_start" and events[-1]["kind"] == "session_end"
    assert events[-1]["reason"] == "storage_error"
    assert len((folders[0] / "capture.jsonl").read_text().splitlines()) >= 150  # every line written is kept
    report = _coach("report", "latest", "--json", "--data-dir", str(d / "data-full"), cwd=d)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["session"]["complete"] is False


def _nothing_created(d: Path, res: subprocess.CompletedProcess[str]) -> None:
    assert not (d / "data-unused").exists()


def _one_notice(d: Path, res: subprocess.CompletedProcess[str]) -> None:
    notices = [line for line in res.stdout.splitlines() if line.startswith("[voice] ")]
    assert len(notices) == 1, res.stdout
    assert "cues are shown as text" in notices[0]
    assert any(line.startswith("[cue] ") for line in res.stdout.splitlines())


RUN = ("run", "--sensor", f"replay:{FIXTURE}", "--speed", "100", "--voice", "none")

TABLE: tuple[Row, ...] = (
    Row(
        "unknown-option",
        "Unknown command option",
        ("run", "--bogus"),
        2,
        "No such option '--bogus'; see 'coach run --help'",
        "Check the spelling with `coach COMMAND --help`.",
    ),
    Row(
        "unknown-command",
        "Unknown command",
        ("analyzer", "x.csv"),
        2,
        "No such command 'analyzer'",
        "`coach --help` lists the commands.",
    ),
    Row(
        "bad-option-value",
        "Option value out of range",
        (*RUN[:-4], "--speed", "500", "--programme", "back-pain"),
        2,
        "Invalid value for '--speed'",
        "Use a value in the range the message gives.",
    ),
    Row(
        "analyze-missing",
        "Recording file missing",
        ("analyze", "{d}/missing.csv"),
        3,
        "{d}/missing.csv: no such file",
        "Check the path (tab completion helps).",
    ),
    Row(
        "analyze-empty",
        "Recording file empty",
        ("analyze", "{d}/empty.csv"),
        3,
        "{d}/empty.csv: file is empty",
        "The export did not finish: export the recording again.",
    ),
    Row(
        "analyze-binary",
        "Binary file given as a recording",
        ("analyze", "{d}/binary.csv"),
        3,
        "{d}/binary.csv: looks like a binary file",
        "Give a csv, Polar Sensor Logger, capture or FIT file.",
    ),
    Row(
        "analyze-huge",
        "Huge file of garbage (50 MB)",
        ("analyze", "{d}/huge.csv"),
        3,
        "{d}/huge.csv: looks like a binary file",
        "Give a real recording; coach checks the start of the file.",
    ),
    Row(
        "analyze-non-utf8",
        "csv with bytes that are not UTF-8",
        ("analyze", "{d}/latin1.csv"),
        3,
        "{d}/latin1.csv:2: not UTF-8 text",
        "Save the file as UTF-8 (the line number says where).",
    ),
    Row(
        "analyze-columns",
        "csv with the wrong columns",
        ("analyze", "{d}/columns.csv"),
        3,
        "{d}/columns.csv:1: expected the header 't,x,y,z'",
        "Rename the columns to t,x,y,z (t in seconds), or use --format polar-csv for a Polar export.",
    ),
    Row(
        "capture-missing",
        "Capture file missing",
        ("capture", "info", "{d}/missing.jsonl"),
        3,
        "{d}/missing.jsonl: no such file",
        "Check the path; sessions keep theirs in their folder.",
    ),
    Row(
        "capture-empty",
        "Capture file empty",
        ("capture", "info", "{d}/empty.jsonl"),
        3,
        "{d}/empty.jsonl: empty file: not a capture",
        "The recording never started: record again.",
    ),
    Row(
        "capture-binary",
        "Binary file given as a capture",
        ("capture", "info", "{d}/binary.jsonl"),
        3,
        "{d}/binary.jsonl:1: not a capture file",
        "Give a .jsonl written by `coach record` or `coach run`.",
    ),
    Row(
        "capture-huge",
        "Huge capture-named garbage (50 MB)",
        ("capture", "info", "{d}/huge.jsonl"),
        3,
        "{d}/huge.jsonl:1: not a capture file",
        "Give a .jsonl written by `coach record` or `coach run`.",
    ),
    Row(
        "capture-non-utf8",
        "Capture with bytes that are not UTF-8",
        ("capture", "info", "{d}/latin1.jsonl"),
        3,
        "{d}/latin1.jsonl:1: not UTF-8 text",
        "Give a .jsonl written by `coach record` or `coach run`.",
    ),
    Row(
        "capture-future",
        "Capture from a newer coach",
        ("capture", "info", "{d}/future.jsonl"),
        3,
        "{d}/future.jsonl:1: made by a newer coach (capture format version 99",
        "Upgrade coach (`pip install -U coach`) to read it.",
    ),
    Row(
        "import-missing",
        "Import: file missing",
        ("import", "{d}/missing.fit", "--data-dir", "{d}/data"),
        3,
        "{d}/missing.fit: no such file",
        "Check the path.",
    ),
    Row(
        "import-empty",
        "Import: empty FIT file",
        ("import", "{d}/empty.fit", "--data-dir", "{d}/data"),
        3,
        "{d}/empty.fit: file is empty",
        "Copy the activity from the watch again.",
    ),
    Row(
        "import-binary",
        "Import: FIT file that is not FIT",
        ("import", "{d}/binary.fit", "--data-dir", "{d}/data"),
        3,
        "{d}/binary.fit: not a readable FIT file",
        "Give the .fit file the watch wrote (Garmin: GARMIN/Activity/).",
    ),
    Row(
        "import-huge",
        "Import: huge garbage (50 MB)",
        ("import", "{d}/huge.fit", "--data-dir", "{d}/data"),
        3,
        "{d}/huge.fit: not a readable FIT file",
        "Give the .fit file the watch wrote.",
    ),
    Row(
        "import-csv",
        "Import: a plain csv",
        ("import", "{d}/columns.csv", "--data-dir", "{d}/data"),
        3,
        "{d}/columns.csv: coach imports FIT, TCX and GPX activities, Polar Sensor Logger exports",
        "Use `coach analyze` for a t,x,y,z csv; import takes the files of docs/import.md.",
    ),
    Row(
        "import-ride",
        "Import or analyze: not a walk or run",
        ("import", "{d}/ride.fit", "--data-dir", "{d}/data"),
        3,
        "{d}/ride.fit: a cycling activity: not walking or running; coach analyses walking and running",
        "coach only analyses walking and running (docs/import.md says what is accepted and why).",
    ),
    Row(
        "analyze-gps-only",
        "Import or analyze: a run without cadence",
        ("analyze", "{d}/gps-run.tcx"),
        3,
        "{d}/gps-run.tcx: a running activity without step cadence (speed/GPS only)",
        "The watch recorded no cadence; `coach import` keeps a run with heart rate as a heart-rate session.",
    ),
    Row(
        "import-non-utf8",
        "Import: Polar export with bytes that are not UTF-8",
        ("import", "{d}/latin1.csv", "--format", "polar-csv", "--data-dir", "{d}/data"),
        3,
        "{d}/latin1.csv:2: not UTF-8 text",
        "Export again from Polar Sensor Logger; do not edit it in a spreadsheet.",
    ),
    Row(
        "programme-missing",
        "Programme file missing",
        ("programme", "validate", "{d}/missing.toml"),
        4,
        "{d}/missing.toml: no such file",
        "Check the path; `coach programme list` shows the built-in ones.",
    ),
    Row(
        "programme-empty",
        "Programme file empty",
        ("programme", "validate", "{d}/empty.toml"),
        4,
        "{d}/empty.toml: top level: missing field 'name'",
        "Start from `coach programme show back-pain`.",
    ),
    Row(
        "programme-binary",
        "Programme file binary",
        ("programme", "validate", "{d}/binary.toml"),
        4,
        "{d}/binary.toml: not a UTF-8 text file",
        "A programme is a text file (docs/programmes.md).",
    ),
    Row(
        "programme-huge",
        "Programme file huge garbage (50 MB)",
        ("programme", "validate", "{d}/huge.toml"),
        4,
        "{d}/huge.toml: not a UTF-8 text file",
        "A programme is a small text file (docs/programmes.md).",
    ),
    Row(
        "programme-non-utf8",
        "Programme with bytes that are not UTF-8",
        ("programme", "validate", "{d}/latin1.toml"),
        4,
        "{d}/latin1.toml: not a UTF-8 text file",
        "Save the file as UTF-8.",
    ),
    Row(
        "programme-negative",
        "Programme with a negative duration",
        ("programme", "validate", "{d}/negative.toml"),
        4,
        "{d}/negative.toml: stage 1, step 1, run: duration must be more than 0 seconds (got '-1m')",
        "Fix the field the message names (docs/programmes.md: durations).",
    ),
    Row(
        "programme-zero",
        "Programme with a zero duration",
        (*RUN, "--programme", "{d}/zero.toml", "--data-dir", "{d}/data-unused"),
        4,
        "{d}/zero.toml: stage 1, step 1, run: duration must be more than 0 seconds (got 0)",
        "Fix the field the message names; nothing was recorded.",
        check=_nothing_created,
    ),
    Row(
        "programme-unknown",
        "Unknown programme name",
        (*RUN, "--programme", "back-pian", "--data-dir", "{d}/data-unused"),
        4,
        "unknown programme 'back-pian' (built in: back-pain, couch-to-5k; or give a .toml file)",
        "`coach programme list`; a file name must end in .toml.",
        check=_nothing_created,
    ),
    Row(
        "sensor-unknown",
        "Unknown sensor moniker",
        (
            "run",
            "--sensor",
            "polar:AA",
            "--programme",
            "back-pain",
            "--voice",
            "none",
            "--data-dir",
            "{d}/data-unused",
        ),
        2,
        "unknown sensor 'polar:AA': use ble:AA:BB:CC:DD:EE:FF",
        "Use ble:ADDRESS or ble:name=NAME (`coach scan` lists them), virtual:FILE or replay:FILE.",
        check=_nothing_created,
    ),
    Row(
        "sensor-capture-missing",
        "virtual:/replay: capture missing",
        (
            "run",
            "--sensor",
            "replay:{d}/missing.jsonl",
            "--programme",
            "back-pain",
            "--voice",
            "none",
            "--data-dir",
            "{d}/data-unused",
        ),
        3,
        "{d}/missing.jsonl: no such capture file",
        "Check the path.",
        check=_nothing_created,
    ),
    Row(
        "output-exists",
        "Output file exists (export, report --html, record, convert)",
        ("record", "--sensor", f"virtual:{FIXTURE}", "-o", "{d}/a-file"),
        3,
        "{d}/a-file exists: pass --force to overwrite it",
        "Choose another file name, or add -f/--force to replace it.",
    ),
    Row(
        "output-unwritable",
        "Output file cannot be written (export, report --html, record, convert)",
        ("record", "--sensor", f"virtual:{FIXTURE}", "-o", "{d}/a-file/out.jsonl"),
        7,
        "cannot write {d}/a-file/out.jsonl (Not a directory)",
        "Write to a folder that exists and is yours (the same line from every command).",
    ),
    Row(
        "bluetooth-scan",
        "Bluetooth unavailable (no BlueZ / D-Bus)",
        ("scan", "--timeout", "1"),
        5,
        "cannot reach the Bluetooth service",
        "Install and start BlueZ (docs/raspberry-pi.md); in a container mount /run/dbus.",
        env="no-bluez",
    ),
    Row(
        "bluetooth-run",
        "Bluetooth unavailable at `coach run --sensor ble:...`",
        (
            "run",
            "--sensor",
            "ble:AA:BB:CC:DD:EE:FF",
            "--programme",
            "back-pain",
            "--voice",
            "none",
            "--data-dir",
            "{d}/data-ble",
        ),
        5,
        "cannot reach the Bluetooth service",
        "As above; nothing is recorded until the strap streams.",
        env="no-bluez",
    ),
    Row(
        "speech-missing",
        "No speech engine (no pyttsx3 driver, no espeak-ng, no audio player)",
        (*RUN[:-1], "tts", "--programme", "{d}/short.toml", "--data-dir", "{d}/data-speech"),
        0,
        "[voice] no speech engine",
        "Nothing to do: cues are printed as text. To hear them install espeak-ng "
        "and an audio player (docs/voice.md).",
        env="speech-missing",
        check=_one_notice,
    ),
    Row(
        "disk-full",
        "Disk full during a session",
        (*RUN, "--programme", "back-pain", "--data-dir", "{d}/data-full"),
        7,
        "cannot write",
        "Free some space. What was recorded up to then is kept (`coach report latest` shows it, marked "
        "incomplete).",
        env="disk-full",
        check=_kept_after_disk_full,
    ),
    Row(
        "data-dir-run",
        "Data directory not writable (run)",
        (*RUN, "--programme", "back-pain", "--data-dir", "{d}/a-file/data"),
        7,
        "cannot create a session folder under {d}/a-file/data/sessions (Not a directory)",
        "Choose a writable folder with --data-dir or COACH_DATA_DIR.",
    ),
    Row(
        "data-dir-history",
        "Data directory not writable (history, report, pain)",
        ("history", "--data-dir", "{d}/a-file/data"),
        7,
        "data directory {d}/a-file/data is not writable (Not a directory)",
        "Choose a writable folder with --data-dir or COACH_DATA_DIR.",
    ),
)


def _coach(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or _env(),
        timeout=120,
        check=False,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COACH_DATA_DIR"}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad-input")
    garbage = os.urandom(64 * 1024)
    (d / "huge.csv").write_bytes(garbage * (HUGE_BYTES // len(garbage)))
    for ext in ("jsonl", "fit", "toml"):
        os.link(d / "huge.csv", d / f"huge.{ext}")
    for ext in ("csv", "jsonl", "fit", "toml"):
        (d / f"empty.{ext}").write_bytes(b"")
        (d / f"binary.{ext}").write_bytes(garbage[:4096])
    (d / "latin1.csv").write_bytes(b"t,x,y,z\n0.0,1,2,3\xb0\n")
    (d / "latin1.jsonl").write_bytes('{"format": "coach-capture", "source": "Mötley"}\n'.encode("latin-1"))
    (d / "latin1.toml").write_bytes('name = "müde"\n'.encode("latin-1"))
    (d / "columns.csv").write_text("time,ax,ay,az\n0.0,0.1,0.2,1.0\n")
    shutil.copyfile(THIRD_PARTY / "fitparse" / "garmin-fenix-5-bike.fit", d / "ride.fit")
    shutil.copyfile(THIRD_PARTY / "tcxparser" / "no_hr.tcx", d / "gps-run.tcx")
    header = json.loads(FIXTURE.read_text().splitlines()[0])
    (d / "future.jsonl").write_text(json.dumps({**header, "version": 99}) + "\n")
    base = 'name = "bad"\ntitle = "Bad"\n[[stages]]\ntitle = "s"\n'
    (d / "negative.toml").write_text(base + 'session = [ { run = "-1m", walk = "4m", repeat = 2 } ]\n')
    (d / "zero.toml").write_text(base + 'session = [ { run = 0, walk = "4m" } ]\n')
    (d / "short.toml").write_text(SHORT_TOML)
    (d / "a-file").write_text("not a folder\n")
    fake = d / "fake-pyttsx3" / "pyttsx3"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_PYTTSX3)
    (d / "empty-bin").mkdir()
    return d


def _run_row(row: Row, d: Path) -> subprocess.CompletedProcess[str]:
    args = [a.replace("{d}", str(d)) for a in row.args]
    if row.env == "speech-missing":
        env = _env(PATH=str(d / "empty-bin"))
        env["PYTHONPATH"] = str(d / "fake-pyttsx3") + os.pathsep + env["PYTHONPATH"]
        return _coach(*args, cwd=d, env=env)
    if row.env == "no-bluez":
        # No system bus here, whatever the machine has: BlueZ is unreachable.
        env = _env(DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={d}/no-such-bus")
        return _coach(*args, cwd=d, env=env)
    if row.env == "disk-full":
        return subprocess.run(
            [sys.executable, "-c", DISK_FULL_BOOT, *args],
            capture_output=True,
            text=True,
            cwd=d,
            env=_env(),
            timeout=120,
            check=False,
        )
    return _coach(*args, cwd=d)


def _run_row_in_process(
    row: Row, d: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """:func:`_run_row`, in this process: ``coach.cli.main`` with the same working directory and environment."""
    from coach.cli import main

    args = [a.replace("{d}", str(d)) for a in row.args]
    monkeypatch.chdir(d)
    monkeypatch.delenv("COACH_DATA_DIR", raising=False)
    if row.env == "speech-missing":  # the voice worker is a child process: it finds the fake pyttsx3 too
        monkeypatch.setenv("PATH", str(d / "empty-bin"))
        monkeypatch.setenv("PYTHONPATH", str(d / "fake-pyttsx3") + os.pathsep + _env()["PYTHONPATH"])
        # in this process too, undone after the test (monkeypatch restores or removes the sys.modules entries)
        for name in [m for m in sys.modules if m.split(".")[0] == "pyttsx3"]:
            monkeypatch.delitem(sys.modules, name)
        spec = importlib.util.spec_from_file_location(
            "pyttsx3", d / "fake-pyttsx3" / "pyttsx3" / "__init__.py"
        )
        assert spec is not None and spec.loader is not None
        fake = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fake)
        monkeypatch.setitem(sys.modules, "pyttsx3", fake)
    elif row.env == "no-bluez":
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={d}/no-such-bus")
    elif row.env == "disk-full":  # what DISK_FULL_BOOT does
        import sensors.capture as capture

        calls = [0]
        real = capture.CaptureWriter._write_line

        def write_line(self: capture.CaptureWriter, line: str) -> None:
            calls[0] += 1
            if calls[0] > 150:
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
            real(self, line)

        monkeypatch.setattr(capture.CaptureWriter, "_write_line", write_line)
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def _check_row(row: Row, d: Path, res: subprocess.CompletedProcess[str]) -> None:
    message = row.message.replace("{d}", str(d))
    assert "Traceback" not in res.stderr + res.stdout
    assert res.returncode == row.code, (res.returncode, res.stderr)
    if row.code == 0:
        assert res.stderr.strip() == "", res.stderr
        assert any(line.startswith(message) for line in res.stdout.splitlines()), res.stdout
    else:
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert lines[0].startswith("coach: error: " + message), (lines[0], message)
    if row.check is not None:
        row.check(d, res)


@pytest.mark.parametrize("row", TABLE, ids=[r.id for r in TABLE])
def test_bad_input(
    row: Row, bad_files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _check_row(row, bad_files, _run_row_in_process(row, bad_files, monkeypatch, capsys))


#: One row per exit code (the first, preferring one with no special environment), also run as ``python -m coach``:
#: the real entry point, its stderr and its exit status.
SMOKE = tuple(
    min((r for r in TABLE if r.code == code), key=lambda r: (r.env != "", TABLE.index(r)))
    for code in sorted({r.code for r in TABLE})
)


@pytest.mark.parametrize("row", SMOKE, ids=[r.id for r in SMOKE])
def test_bad_input_as_a_subprocess(
    row: Row, tmp_path_factory: pytest.TempPathFactory, bad_files: Path
) -> None:
    _check_row(row, bad_files, _run_row(row, bad_files))


def test_exit_codes_are_distinct_per_family() -> None:
    from coach import errors

    families = {
        errors.EXIT_USAGE: "usage",
        errors.EXIT_INPUT: "input",
        errors.EXIT_PROGRAMME: "programme",
        errors.EXIT_SENSOR: "sensor",
        errors.EXIT_SPEECH: "speech",
        errors.EXIT_STORAGE: "storage",
    }
    assert len(families) == 6 and 0 not in families and 1 not in families
    codes_used = {row.code for row in TABLE}
    assert codes_used == {
        0,
        2,
        3,
        4,
        5,
        7,
    }  # speech (6) only when a fallback is impossible: never in this table


def render_markdown() -> str:
    """The table for docs/troubleshooting.md ({d} -> a placeholder folder)."""
    out = [
        DOC_START,
        "| situation | what coach says (stderr; start of the line) | exit | what to do |",
        "|---|---|---|---|",
    ]
    for row in TABLE:
        said = row.message.replace("{d}/", "")
        said = said if row.code == 0 else f"coach: error: {said}"
        said = said.replace("|", "\\|")
        todo = row.todo.replace("|", "\\|")
        out.append(f"| {row.situation} | `{said}` | {row.code} | {todo} |")
    out.append(DOC_END)
    return "\n".join(out)


def test_troubleshooting_doc_shows_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert DOC_START in text and DOC_END in text
    shown = text[text.index(DOC_START) : text.index(DOC_END) + len(DOC_END)]
    assert shown == render_markdown(), (
        "docs/troubleshooting.md is stale: python tests/test_bad_input.py --write"
    )


if __name__ == "__main__":  # python tests/test_bad_input.py [--write]
    table = render_markdown()
    if "--write" in sys.argv:
        text = DOC.read_text(encoding="utf-8")
        head, rest = text.split(DOC_START, 1)
        text = head + table + rest.split(DOC_END, 1)[1]
        DOC.write_text(text, encoding="utf-8")
    else:
        print(table)
