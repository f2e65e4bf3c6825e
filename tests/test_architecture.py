"""The dependency rules of docs/maintainers/architecture.md, checked on the source (every import, also lazy ones)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = sorted([*(REPO / "coach").rglob("*.py"), *(REPO / "sensors").rglob("*.py")])

#: Pure core: no I/O modules, no clocks of their own, nothing that talks to hardware, disk or the user.
PURE = [
    "coach/session/adherence.py",
    "coach/session/cues.py",
    "coach/session/tracker.py",
    "coach/text.py",
    "coach/vocabulary.py",
    "coach/session/engine.py",
    "coach/plan/programme.py",
    "coach/plan/progression.py",
    "coach/report/html.py",
    "coach/report/summary.py",
    "coach/report/summary_html.py",
    "coach/plan/healing.py",
    "coach/doctor/checks.py",
    "coach/plan/routine.py",
    "coach/plan/catalogue.py",
    "coach/plan/dose.py",
    "coach/session/exercise.py",
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
    "coach.voice.audio",
    "coach.cli",
    "coach.session.display",
    "coach.session.runner",
    "coach.session.shell",
    "coach.store.record",
    "coach.store.afterrun",
    "coach.store.database",
    "coach.store.index",
    "coach.store.importer",
    "coach.voice.speaker",
    "sensors.sources.ble",
    "sensors.sources.virtual",
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
    assert "bleak" in {m.split(".")[0] for m in _imports(REPO / "sensors" / "sources" / "ble" / "client.py")}
    assert _importers("sensors.errors"), "nothing imports sensors.errors? the checker is broken"


def test_sensors_never_imports_coach() -> None:
    assert {f for f in _importers("coach") if f.startswith("sensors/")} == set()


def test_only_ble_and_virtual_import_bleak() -> None:
    # sensors/virtual subclasses bleak's backend classes so unmodified bleak code talks to the virtual strap
    offenders = {
        f
        for f in _importers("bleak")
        if not f.startswith(("sensors/sources/ble/", "sensors/sources/virtual/"))
    }
    assert offenders == set()


def test_only_virtual_imports_bumble() -> None:
    assert {f for f in _importers("bumble") if not f.startswith("sensors/sources/virtual/")} == set()


def test_only_voice_imports_pyttsx3() -> None:
    assert _importers("pyttsx3") == {"coach/voice/speaker.py"}


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


# ------------------------------------------------------------------------------------------------ no import circles


def _module_name(path: Path) -> str:
    parts = _rel(path).removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the product modules it imports (module level, inside functions and under TYPE_CHECKING alike).

    An imported name counts as its longest prefix that is a product module (``coach.report.model.build_report`` ->
    ``coach.report.model``). A package's ``__init__`` naming itself as the base of ``from . import x`` is no edge."""
    modules = {_module_name(p): p for p in PRODUCT}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            parts = imported.split(".")
            for n in range(len(parts), 0, -1):
                candidate = ".".join(parts[:n])
                if candidate in modules:
                    targets.add(candidate)
                    break
        if path.name == "__init__.py":
            targets.discard(name)
        graph[name] = targets
    return graph


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, and the modules that import themselves
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return sorted(found)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}, "f": set()}
    assert _cycles(graph) == [["a", "b", "c"], ["d"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_product_edges() -> None:
    graph = _import_graph()
    assert "sensors.errors" in graph["sensors.capture"]
    assert "coach.report.model" in graph["coach.store.index"]


def test_no_import_circles() -> None:
    """docs/maintainers/architecture.md: no module of coach/ or sensors/ reaches itself through its imports."""
    cycles = _cycles(_import_graph())
    assert cycles == [], "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


# ------------------------------------------------------------------------------------------------ one home per word

#: Copies that live in modules other owners are rewriting; each should switch to coach.text / coach.vocabulary.
#: Remove an entry when its copy is gone: the test then keeps it from coming back.
KNOWN_MMSS_COPIES: set[str] = set()
KNOWN_MODES_COPIES: set[str] = set()
_MMSS = re.compile(r"\}:\{[^{}]*:02d\}")  # f"{m}:{s:02d}": a duration spelt out as m:ss by hand
_MODES_TUPLE = re.compile(r"""\(\s*["']walk["'],\s*["']run["'],\s*["']still["'],\s*["']unknown["']\s*\)""")


def _files_matching(pattern: re.Pattern[str], home: str) -> set[str]:
    return {_rel(p) for p in PRODUCT if _rel(p) != home and pattern.search(p.read_text(encoding="utf-8"))}


def test_one_home_for_mm_ss() -> None:
    assert _MMSS.search('f"{total // 60}:{total % 60:02d}"') and _MMSS.search('f"{h}:{m:02d}:{s:02d}"')
    assert not _MMSS.search('f"{minutes} minutes {secs:02d}"')
    extra = _files_matching(_MMSS, home="coach/text.py") - KNOWN_MMSS_COPIES
    assert extra == set(), f"format durations with coach.text.mmss / hmmss, not a copy: {sorted(extra)}"


def test_one_home_for_the_modes() -> None:
    assert _MODES_TUPLE.search('MODES = ("walk", "run", "still", "unknown")')
    extra = _files_matching(_MODES_TUPLE, home="coach/vocabulary.py") - KNOWN_MODES_COPIES
    assert extra == set(), f"use coach.vocabulary.Mode / MODES, not a copy: {sorted(extra)}"


def _literal_event_names(source: str, where: str) -> list[str]:
    """``SensorEvent(t, "name", ...)`` and ``self._event("name", ...)`` calls that spell an event name as a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        position = {"SensorEvent": 1, "_event": 0}.get(name)
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append(f"{where}:{node.lineno}: {arg.value!r}")
    return found


def test_sensor_events_are_named_by_the_vocabulary() -> None:
    sample = 'self._event("ended", reason="x")\nSensorEvent(t, "decode_error", {})\nSensorEvent(t, Name.X)'
    assert _literal_event_names(sample, "sample") == ["sample:1: 'ended'", "sample:2: 'decode_error'"]
    literal = [hit for p in PRODUCT for hit in _literal_event_names(p.read_text(encoding="utf-8"), _rel(p))]
    assert literal == [], f"name sensor events with sensors.events.SensorEventName: {literal}"


#: What may stand at the top of coach/ beside the rooms: words every room shares (docs/maintainers/architecture.md).
COACH_TOP_LEVEL = {"__init__.py", "__main__.py", "errors.py", "text.py", "vocabulary.py"}


def test_the_layout_shows_the_architecture() -> None:
    """coach/ is a house of rooms (session, voice, store, report, plan, signal, cli), sensors/ keeps its sources apart
    from the readers of other programs' files, and every room's ``__init__`` says what the room is for."""
    top = {p.name for p in (REPO / "coach").iterdir() if p.suffix == ".py"}
    assert top <= COACH_TOP_LEVEL, f"put these in a room: {sorted(top - COACH_TOP_LEVEL)}"
    rooms = {p.name for p in (REPO / "coach").iterdir() if (p / "__init__.py").is_file()}
    assert rooms >= {"session", "voice", "store", "report", "plan", "signal", "cli"}
    assert {p.name for p in (REPO / "sensors").iterdir() if (p / "__init__.py").is_file()} >= {
        "codecs",
        "sources",
        "readers",
    }
    for init in [*(REPO / "coach").rglob("__init__.py"), *(REPO / "sensors").rglob("__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{_rel(init)}: say what this room is for in its docstring"
