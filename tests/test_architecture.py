"""The dependency rules of docs/maintainers/architecture.md, checked on the source (every import, also lazy ones)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = sorted([*(REPO / "coach").rglob("*.py"), *(REPO / "sensors").rglob("*.py")])

#: Pure core: no I/O modules, no clocks of their own, nothing that talks to hardware, disk or the user.
PURE = [
    "coach/cues.py",
    "coach/engine.py",
    "coach/programme.py",
    "coach/progression.py",
    "coach/report_html.py",
    "coach/signal/gait.py",
    "coach/signal/analysis.py",
    "coach/signal/cadence.py",
    "coach/signal/decision.py",
    "coach/signal/dsp.py",
    "coach/signal/features.py",
    "coach/signal/steps.py",
]
IO_MODULES = (
    "asyncio",
    "bleak",
    "bumble",
    "pyttsx3",
    "sqlite3",
    "subprocess",
    "coach.audio",
    "coach.cli",
    "coach.display",
    "coach.runner",
    "coach.session_record",
    "coach.storage",
    "coach.voice",
    "sensors.ble",
    "sensors.virtual",
)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (top level, inside functions, relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _rel(path).removesuffix(".py").replace("/", ".").split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _importers(prefix: str) -> set[str]:
    return {_rel(p) for p in PRODUCT if any(m == prefix or m.startswith(prefix + ".") for m in _imports(p))}


def test_the_checker_sees_imports() -> None:
    assert "bleak" in {m.split(".")[0] for m in _imports(REPO / "sensors" / "ble" / "client.py")}
    assert _importers("sensors.errors"), "nothing imports sensors.errors? the checker is broken"


def test_sensors_never_imports_coach() -> None:
    assert {f for f in _importers("coach") if f.startswith("sensors/")} == set()


def test_only_ble_and_virtual_import_bleak() -> None:
    # sensors/virtual subclasses bleak's backend classes so unmodified bleak code talks to the virtual strap
    offenders = {f for f in _importers("bleak") if not f.startswith(("sensors/ble/", "sensors/virtual/"))}
    assert offenders == set()


def test_only_virtual_imports_bumble() -> None:
    assert {f for f in _importers("bumble") if not f.startswith("sensors/virtual/")} == set()


def test_only_voice_imports_pyttsx3() -> None:
    assert _importers("pyttsx3") == {"coach/voice.py"}


def test_asyncio_run_only_in_cli_commands() -> None:
    callers = set()
    for path in PRODUCT:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "asyncio"
            ):
                callers.add(_rel(path))
    assert callers, "no asyncio.run at all? the checker is broken"
    assert {f for f in callers if not f.startswith("coach/cli/")} == set()


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io(module: str) -> None:
    imported = _imports(REPO / module)
    bad = {m for m in imported for io in IO_MODULES if m == io or m.startswith(io + ".")}
    assert bad == set(), f"{module} is pure core but imports {sorted(bad)}"
