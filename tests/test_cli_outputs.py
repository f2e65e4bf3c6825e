"""One rule for files the user names as output (coach/cli/options.py), the same from every command that writes one.

- an existing file is not replaced without ``-f/--force`` (``--overwrite`` is an unlisted alias): one line
  ``coach: error: OUTPUT exists: pass --force to overwrite it``, exit 3, the file untouched;
- a file that cannot be written is one line ``coach: error: cannot write OUTPUT (reason)``, exit 7.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.errors import EXIT_INPUT, EXIT_STORAGE
from tests.after_run_helpers import hand_records, write_folder
from tests.cli_helpers import run_main
from tests.realdata import FIT_DIR

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
FIT_WALK = FIT_DIR / "garmin-fenix-5-walk.fit"


def _record_args(out: Path, *extra: str) -> list[str]:
    return [
        "record",
        "--sensor",
        f"virtual:{CHEST}",
        "--duration",
        "2",
        "--speed",
        "20",
        "-q",
        "-o",
        str(out),
        *extra,
    ]


def _is_capture(b: bytes) -> bool:
    return (
        b'"format": "coach-capture"' in b.splitlines()[0] or b'"format":"coach-capture"' in b.splitlines()[0]
    )


@dataclass(frozen=True)
class Writer:
    """A command that writes a user-named file: ``args(data_dir, out)`` and a check of a good result."""

    id: str
    args: Callable[[Path, Path], list[str]]
    good: Callable[[bytes], bool]
    needs: Path | None = None  # data that must be present


WRITERS = [
    Writer(
        "export-fit",
        lambda d, out: ["export", "latest", "--fit", str(out), "--data-dir", str(d)],
        lambda b: b[8:12] == b".FIT",
    ),
    Writer(
        "export-tcx",
        lambda d, out: ["export", "latest", "--tcx", str(out), "--data-dir", str(d)],
        lambda b: b"RunCadence" in b,
    ),
    Writer(
        "report-html",
        lambda d, out: ["report", "latest", "--html", str(out), "--data-dir", str(d)],
        lambda b: b.count(b"<svg") >= 5,
    ),
    Writer(
        "summary-html",
        lambda d, out: ["summary", "--html", str(out), "--data-dir", str(d)],
        lambda b: b.count(b"<svg") >= 5,
    ),
    Writer(
        "convert-fit",
        lambda d, out: ["convert", "fit", str(FIT_WALK), "--end", "20", "-o", str(out)],
        _is_capture,
        needs=FIT_WALK,
    ),
    Writer("record", lambda d, out: _record_args(out), _is_capture),
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    write_folder(d, hand_records("20261120T073000Z"))
    return d


def _args(w: Writer, data: Path, out: Path) -> list[str]:
    assert w.needs is None or w.needs.is_file(), f"{w.needs}: committed test data is missing"
    return w.args(data, out)


@pytest.mark.parametrize("w", WRITERS, ids=[w.id for w in WRITERS])
def test_an_existing_output_is_kept_without_force(w: Writer, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.file"
    out.write_bytes(b"keep me")
    code, _, stderr = run_main(*_args(w, data, out))
    assert code == EXIT_INPUT, stderr
    assert stderr == f"coach: error: {out} exists: pass --force to overwrite it\n"
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("w", WRITERS, ids=[w.id for w in WRITERS])
def test_an_unwritable_output_is_one_line_and_exit_7(w: Writer, data: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "out.file"  # its folder is a file: ENOTDIR on every system
    code, _, stderr = run_main(*_args(w, data, out))
    assert code == EXIT_STORAGE, stderr
    assert stderr == f"coach: error: cannot write {out} (Not a directory)\n"


@pytest.mark.parametrize("flag", ["--force", "-f", "--overwrite"])
@pytest.mark.parametrize("w", [w for w in WRITERS if w.id != "record"], ids=lambda w: w.id)  # record: below
def test_force_replaces_the_output(w: Writer, flag: str, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.file"
    out.write_bytes(b"old")
    code, _, stderr = run_main(*_args(w, data, out), flag)
    assert code == 0, stderr
    assert w.good(out.read_bytes())
    assert out.stat().st_mode & 0o777 == 0o600  # health data: user-only, also when replaced


@pytest.mark.slow
def test_record_force_replaces_the_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old")
    code, _, stderr = run_main(*_record_args(out, "--overwrite"))  # the old spelling keeps working
    assert code == 0, stderr
    assert _is_capture(out.read_bytes()) and len(out.read_bytes().splitlines()) > 10


def test_export_refuses_before_writing_either_file(data: Path, tmp_path: Path) -> None:
    fit, tcx = tmp_path / "s.fit", tmp_path / "s.tcx"
    tcx.write_bytes(b"keep me")
    code, _, stderr = run_main("export", "latest", "--fit", fit, "--tcx", tcx, "--data-dir", data)
    assert code == EXIT_INPUT and "s.tcx exists" in stderr
    assert not fit.exists() and tcx.read_bytes() == b"keep me"


def test_report_open_refreshes_its_own_report_html(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--open`` without ``--html`` writes the session folder's report.html: coach's own file, always refreshed."""
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or True)
    own = data / "sessions" / "20261120T073000Z" / "report.html"
    own.write_text("stale")
    code, _, stderr = run_main("report", "latest", "--open", "--data-dir", data)
    assert code == 0, stderr
    assert "<svg" in own.read_text() and opened == [own.resolve().as_uri()]


@pytest.mark.parametrize(
    "command", [["export"], ["report"], ["summary"], ["record"], ["convert", "fit"], ["convert", "hexoskin"]]
)
def test_help_shows_force_once_and_hides_the_old_alias(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "-f, --force" in result.output
    assert "--overwrite" not in result.output


def test_a_missing_folder_is_found_before_the_work(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "s.fit"
    code, _, stderr = run_main("export", "latest", "--fit", out, "--data-dir", data)
    assert code == EXIT_STORAGE
    assert stderr == f"coach: error: cannot write {out} (No such file or directory)\n"


@pytest.mark.parametrize(
    "command", [["run", "--sensor", f"replay:{CHEST}", "--programme", "back-pain"], ["demo"]]
)
def test_audio_out_into_a_folder_that_cannot_take_it_fails_before_the_session(
    command: list[str], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "tape.wav"
    data = tmp_path / "data"
    code, _, stderr = run_main(*command, "--voice", "none", "--audio-out", out, "--data-dir", data)
    assert code == EXIT_STORAGE
    assert stderr == f"coach: error: cannot write {out} (Not a directory)\n"
    assert not (data / "sessions").exists()  # nothing started


@pytest.mark.parametrize(
    "command", [["run", "--sensor", f"replay:{CHEST}", "--programme", "back-pain"], ["demo"]]
)
def test_an_existing_audio_tape_is_kept_unless_forced(command: list[str], tmp_path: Path) -> None:
    """--audio-out follows the one output rule: an existing WAV is refused before the session starts."""
    out = tmp_path / "tape.wav"
    out.write_bytes(b"an earlier tape")
    data = tmp_path / "data"
    code, _, stderr = run_main(*command, "--voice", "none", "--audio-out", out, "--data-dir", data)
    assert code == EXIT_INPUT
    assert stderr == f"coach: error: {out} exists: pass --force to overwrite it\n"
    assert out.read_bytes() == b"an earlier tape"
    assert not (data / "sessions").exists()  # nothing started
