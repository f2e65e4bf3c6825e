"""tests/data is self-contained and documented: a clone tests itself, and every data file says where it is from.

- every file under tests/data has a row in tests/data/README.md with its size and SHA-256, and every row names a
  file that is there with exactly those bytes (so nothing is added, edited or dropped silently);
- every folder with data carries its SOURCE.txt and a licence text;
- no test reaches outside the repository for data (the development corpus beside the checkout), and none skips
  when a data file is missing: committed data is always there, so a missing file must fail, not hide a test.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.realdata import BLE_VECTORS, DATA, FIT_DIR, HEXOSKIN_DIR, MOBILISE_DIR, TCX_SCHEMA

TESTS = Path(__file__).resolve().parent
README = DATA / "README.md"

#: One table row of the README: | `relative/path` | bytes | `sha256` |
ROW = re.compile(r"^\|\s*`(?P<path>[^`]+)`\s*\|\s*(?P<size>\d+)\s*\|\s*`(?P<sha>[0-9a-f]{64})`\s*\|\s*$")

#: Ways a test could reach the corpus beside the checkout instead of tests/data: a relative path up into it, the
#: corpus path as text, a Path expression building it, or a climb above the repository root.
OUTSIDE = (
    re.compile(r"\.\./+shared\b"),
    re.compile(r"\bshared[/\\]+data\b"),
    re.compile(r"""["']shared["']\s*/"""),
    re.compile(r"\bparents\[\s*[2-9]\s*\]"),
)
#: A check whether a path exists (next to a skip, it turns missing data into a silent skip).
EXISTS = re.compile(r"\.(exists|is_dir|is_file)\(\)")


def readme_rows() -> dict[str, tuple[int, str]]:
    rows: dict[str, tuple[int, str]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            assert m["path"] not in rows, f"{m['path']} is listed twice in {README}"
            rows[m["path"]] = (int(m["size"]), m["sha"])
    return rows


def data_files() -> list[str]:
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file() and p != README)


def test_the_row_pattern_reads_a_row() -> None:
    line = "| `a/b.fit` | 12 | `" + "0" * 64 + "` |"
    m = ROW.match(line)
    assert m is not None and (m["path"], m["size"]) == ("a/b.fit", "12")
    assert ROW.match("| file | bytes | SHA-256 |") is None


def test_every_data_file_is_listed_in_the_readme_and_every_row_exists() -> None:
    rows = readme_rows()
    files = data_files()
    assert files, f"no data under {DATA}"
    unlisted = [f for f in files if f not in rows]
    missing = [r for r in rows if r not in files]
    assert not unlisted, f"add a row (origin, licence, size, SHA-256) to {README} for: {unlisted}"
    assert not missing, f"{README} lists files that are not in {DATA}: {missing}"


@pytest.mark.parametrize("name", data_files())
def test_every_data_file_has_the_bytes_the_readme_states(name: str) -> None:
    size, sha = readme_rows()[name]
    data = (DATA / name).read_bytes()
    got = hashlib.sha256(data).hexdigest()
    assert (len(data), got) == (size, sha), (
        f"{name} changed: the README says {size} bytes, {sha}; the file is {len(data)} bytes, {got}. "
        "Data files are verbatim copies: restore it, or document the new file (origin, what was cut) and its hash."
    )


#: Folders that gather several origins: each of their subfolders carries its own SOURCE.txt and licence.
COLLECTIONS = ("third-party",)


def test_every_data_folder_has_its_source_and_licence() -> None:
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        assert (folder / "SOURCE.txt").is_file(), f"{folder}: no SOURCE.txt"
        if folder.name in COLLECTIONS:
            subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
            assert subfolders, f"{folder}: a collection without subfolders"
            for sub in subfolders:
                assert (sub / "SOURCE.txt").is_file(), f"{sub}: no SOURCE.txt"
                assert list(sub.glob("LICENSE*")), f"{sub}: no licence text"
            continue
        assert list(folder.glob("LICENSE*")), f"{folder}: no licence text"
        assert f"## {folder.name}/" in README.read_text(encoding="utf-8"), (
            f"{README}: no section for {folder.name}/"
        )


def test_the_named_paths_exist() -> None:
    for path in (BLE_VECTORS, TCX_SCHEMA):
        assert path.is_file(), path
    for folder in (FIT_DIR, HEXOSKIN_DIR, MOBILISE_DIR):
        assert folder.is_dir(), folder


def _python_files() -> list[Path]:
    """Every Python file of the test suite but this one (whose examples show the forbidden ways)."""
    me = Path(__file__).resolve()
    return sorted(p for p in TESTS.rglob("*.py") if DATA not in p.parents and p.resolve() != me)


@pytest.mark.parametrize(
    "text",
    [
        'X = REPO.parent / "shared" / "data"',
        "see ../shared/data/ble-vectors",
        "Path(__file__).resolve().parents[2]",
        "skip: shared/data is not beside this checkout",
    ],
)
def test_the_outside_patterns_catch_the_old_ways(text: str) -> None:
    assert any(p.search(text) for p in OUTSIDE), text


def test_no_test_reaches_outside_the_repository_for_data() -> None:
    found = []
    for path in _python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE):
                found.append(f"{path.relative_to(TESTS.parent)}:{number}: {line.strip()}")
    assert not found, "use tests/realdata.py (tests/data) instead:\n" + "\n".join(found)


def skips_on_missing_files(lines: list[str]) -> list[int]:
    """Line numbers (from 1) of skips that depend on whether a path exists: a ``skipif`` whose condition (on its
    line or the next) checks a path, or a ``pytest.skip(`` right after such a check."""
    found = []
    for k, line in enumerate(lines):
        conditional = "skipif(" in line and any(EXISTS.search(x) for x in lines[k : k + 2])
        after_check = "pytest.skip(" in line and k > 0 and EXISTS.search(lines[k - 1]) is not None
        if conditional or after_check:
            found.append(k + 1)
    return found


def test_the_skip_check_catches_the_old_ways() -> None:
    old = [
        '@pytest.mark.skipif(not FIT_DIR.is_dir(), reason="data not present")',
        "needs_data = pytest.mark.skipif(",
        '    not (DATA / "x").is_dir(), reason="data not present"',
        ")",
        "    if not path.exists():",
        '        pytest.skip("fixture not converted yet")',
        '@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")',
    ]
    assert skips_on_missing_files(old) == [1, 2, 6]


def test_no_test_skips_when_a_data_file_is_missing() -> None:
    found = []
    for path in _python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        found += [
            f"{path.relative_to(TESTS.parent)}:{n}: {lines[n - 1].strip()}"
            for n in skips_on_missing_files(lines)
        ]
    assert not found, "committed data is always there; let a missing file fail:\n" + "\n".join(found)
