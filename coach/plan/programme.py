"""Walk/run programmes: the TOML format, its validation, and the session plan a stage expands to.

The format is documented in docs/programmes.md. A programme has stages; a stage has a session made of steps; a
step is one interval (``{ walk = "5m", label = "warm-up" }``) or a repeated set of intervals
(``{ run = "1m", walk = "4m", repeat = 5 }``, run first because it is written first). Targets (heart-rate ceiling,
cadence relative to the runner's own baseline) are set for the whole programme and may be overridden per stage.

Pure: reads text, returns frozen dataclasses. Every validation failure is a :class:`coach.errors.ProgrammeError`
whose message names the file, the field and what is wrong, e.g.
``back-pain.toml: stage 3, step 2, run: duration must be more than 0 seconds (got '-1m')`` (stages and the
steps of a stage's ``session`` are counted from 1, as a person counts them).
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from coach.errors import ProgrammeError, read_text_file
from coach.plan import catalogue
from coach.text import mmss

logger = logging.getLogger(__name__)

Activity = Literal["walk", "run"]
ACTIVITIES: tuple[Activity, ...] = ("walk", "run")
FORMAT_VERSION = 1
MAX_INTERVAL_S = 4 * 3600.0
MAX_REPEAT = 100

_PROGRAMME_FIELDS = {"format", "name", "title", "description", "sources", "targets", "walking_base", "stages"}
_WALKING_BASE_FIELDS = {"brisk_minutes", "notes"}
#: Longest brisk walk a walking-base step may ask for, in minutes.
MAX_BRISK_MINUTES = 240.0
_TARGET_FIELDS = {"hr_ceiling_bpm", "cadence_baseline_spm", "cadence_rise_pct"}
_STAGE_FIELDS = {"title", "sessions", "notes", "targets", "session"}
_STEP_FIELDS = {"walk", "run", "repeat", "label"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DURATION_RE = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)h)?\s*(?:(?P<m>\d+(?:\.\d+)?)m(?:in)?)?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?\s*$"
)


@dataclass(frozen=True)
class Targets:
    """Optional session targets. The cadence target is the runner's own baseline plus ``cadence_rise_pct``
    (Heiderscheit et al. 2011: +5-10 % over the preferred step rate lowers hip/knee load; never a fixed 180).
    ``cadence_baseline_spm`` None = measure it in the session (median of the first running seconds)."""

    hr_ceiling_bpm: int | None = None
    cadence_baseline_spm: float | None = None
    cadence_rise_pct: float = 5.0

    def merged(self, override: Targets | None, given: frozenset[str]) -> Targets:
        if override is None:
            return self
        return replace(self, **{name: getattr(override, name) for name in given})


@dataclass(frozen=True)
class Interval:
    """One interval of a step as written: an activity and its duration."""

    activity: Activity
    duration_s: float


@dataclass(frozen=True)
class Step:
    """One line of a stage's session: intervals done ``repeat`` times in the order written."""

    intervals: tuple[Interval, ...]
    repeat: int = 1
    label: str | None = None


@dataclass(frozen=True)
class PlannedInterval:
    """One interval of the expanded session plan (what the engine runs)."""

    index: int
    activity: Activity
    duration_s: float
    start_s: float
    label: str | None = None
    repeat: int | None = None  # 1-based number of the set inside a repeated step
    repeats: int | None = None  # how many sets that step has

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def as_record(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "activity": self.activity,
            "duration_s": self.duration_s,
            "label": self.label,
            "start_s": self.start_s,
            "repeat": self.repeat,
            "repeats": self.repeats,
        }


@dataclass(frozen=True)
class SessionPlan:
    """A stage's session, flattened: intervals back to back from t = 0."""

    programme: str
    programme_title: str
    stage: int
    stage_title: str
    intervals: tuple[PlannedInterval, ...]
    targets: Targets = field(default_factory=Targets)
    programme_file: str | None = None  # absolute path of a programme *file* (None for a built-in)
    programme_toml: str | None = None  # that file's text, kept with the session (docs/formats/events.md)

    @property
    def duration_s(self) -> float:
        return self.intervals[-1].end_s if self.intervals else 0.0

    def source_fields(self) -> dict[str, str]:
        """``programme_file`` and ``programme_toml`` for the session_start record of a file programme, else {}."""
        if self.programme_file is None:
            return {}
        return {"programme_file": self.programme_file, "programme_toml": self.programme_toml or ""}

    def interval_at(self, t_s: float) -> PlannedInterval | None:
        for interval in self.intervals:
            if interval.start_s <= t_s < interval.end_s:
                return interval
        return None

    def with_durations(self, scale: dict[Activity, float], *, min_s: float = 1.0) -> SessionPlan:
        """A copy with every ``activity`` interval's duration multiplied by ``scale[activity]`` (for the demo)."""
        out: list[PlannedInterval] = []
        start = 0.0
        for interval in self.intervals:
            duration = max(min_s, round(interval.duration_s * scale.get(interval.activity, 1.0), 3))
            out.append(replace(interval, duration_s=duration, start_s=start))
            start += duration
        return replace(self, intervals=tuple(out))


@dataclass(frozen=True)
class Stage:
    number: int  # 1-based
    title: str
    steps: tuple[Step, ...]
    sessions: int = 2  # do the stage at least this many times before moving on
    notes: str | None = None
    targets: Targets = field(default_factory=Targets)
    sessions_given: bool = False  # ``sessions`` written in the file (else the progression config's minimum)

    @property
    def duration_s(self) -> float:
        return sum(sum(i.duration_s for i in s.intervals) * s.repeat for s in self.steps)


@dataclass(frozen=True)
class WalkingBase:
    """Brisk walks before stage 1 (``[walking_base]`` in the file, docs/programmes.md).

    Step ``k`` (named ``W1``, ``W2`` ...: not stage numbers, so the stored numbers of the running stages never
    move) asks for ``brisk_minutes[k - 1]`` minutes at brisk cadence in one walk; the last step is the entry rule of
    stage 1 (:func:`coach.plan.progression.walking_base_decision`)."""

    brisk_minutes: tuple[float, ...]
    notes: str | None = None

    @property
    def ready_minutes(self) -> float:
        """The brisk minutes of the last step: what "ready for stage 1" asks for, twice."""
        return self.brisk_minutes[-1]

    @staticmethod
    def step_name(step: int) -> str:
        """``W1``, ``W2`` ... for step 1, 2 ... (1-based)."""
        return f"W{step}"

    def step_number(self, name: str) -> int:
        """1-based number of a step name (``W2`` or ``w2`` -> 2); ValueError when it is not one of this base."""
        text = name.strip().upper()
        if not re.fullmatch(r"W\d+", text) or not 1 <= int(text[1:]) <= len(self.brisk_minutes):
            names = ", ".join(self.step_name(k) for k in range(1, len(self.brisk_minutes) + 1))
            raise ValueError(f"no walking-base step {name!r} (the steps are {names})")
        return int(text[1:])


@dataclass(frozen=True)
class Programme:
    name: str
    title: str
    stages: tuple[Stage, ...]
    description: str = ""
    sources: tuple[str, ...] = ()
    targets: Targets = field(default_factory=Targets)
    path: str | None = None
    file: str | None = None  # absolute path when loaded from a file (None for a built-in)
    toml: str | None = field(default=None, repr=False)  # the file's text when loaded from a file
    walking_base: WalkingBase | None = (
        None  # brisk walks before stage 1 (None: the programme starts at stage 1)
    )

    def min_sessions_by_stage(self) -> dict[int, int]:
        """``{stage: N}`` for the stages whose ``sessions = N`` is written in the file (for
        :func:`coach.plan.progression.decide`; the other stages use the progression config's minimum)."""
        return {s.number: s.sessions for s in self.stages if s.sessions_given}

    def source_fields(self) -> dict[str, str]:
        """``programme_file`` and ``programme_toml`` to keep with a session of a file programme, else {}."""
        if self.file is None:
            return {}
        return {"programme_file": self.file, "programme_toml": self.toml or ""}

    def stage(self, number: int) -> Stage:
        if not 1 <= number <= len(self.stages):
            raise ProgrammeError(
                f"programme {self.name!r} has stages 1 to {len(self.stages)}; there is no stage {number}"
            )
        return self.stages[number - 1]

    def plan(self, stage_number: int) -> SessionPlan:
        """Expand one stage's session into back-to-back intervals."""
        stage = self.stage(stage_number)
        intervals: list[PlannedInterval] = []
        start = 0.0
        for step in stage.steps:
            for k in range(1, step.repeat + 1):
                for interval in step.intervals:
                    intervals.append(
                        PlannedInterval(
                            index=len(intervals),
                            activity=interval.activity,
                            duration_s=interval.duration_s,
                            start_s=start,
                            label=step.label,
                            repeat=k if step.repeat > 1 else None,
                            repeats=step.repeat if step.repeat > 1 else None,
                        )
                    )
                    start += interval.duration_s
        return SessionPlan(
            programme=self.name,
            programme_title=self.title,
            stage=stage.number,
            stage_title=stage.title,
            intervals=tuple(intervals),
            targets=stage.targets,
            programme_file=self.file,
            programme_toml=self.toml if self.file is not None else None,
        )


# --- parsing -----------------------------------------------------------------------------------------------


def parse_duration_s(value: object) -> float:
    """``90`` (seconds), ``"90s"``, ``"1m"``, ``"4.5m"``, ``"1m30s"``, ``"1h"``, ``"1:30"`` -> seconds.

    Raises ValueError with a short reason; the caller adds the file and field.
    """
    if isinstance(value, bool):
        raise ValueError(f'expected a duration such as 90, "90s" or "1m30s" (got {value!r})')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        negative = text.startswith("-")
        body = text[1:] if negative else text
        if re.fullmatch(r"\d+:\d{1,2}", body):
            minutes, secs = body.split(":")
            seconds = int(minutes) * 60.0 + int(secs)
        else:
            match = _DURATION_RE.match(body)
            if not body or match is None or not any(match.groupdict().values()):
                raise ValueError(f'expected a duration such as 90, "90s", "4.5m" or "1m30s" (got {value!r})')
            parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
            seconds = parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
        if negative:
            seconds = -seconds
    else:
        raise ValueError(f'expected a duration such as 90, "90s" or "1m30s" (got {type(value).__name__})')
    if seconds != seconds:  # NaN
        raise ValueError("duration is not a number")
    if seconds <= 0:
        raise ValueError(f"duration must be more than 0 seconds (got {value!r})")
    if seconds > MAX_INTERVAL_S:
        raise ValueError(f"duration must be at most 4 hours (got {value!r})")
    return seconds


class _Ctx:
    """Builds error messages ``FILE: FIELD: reason``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> ProgrammeError:
        where = human_field(where)
        return ProgrammeError(f"{self.source}: {where}: {reason}" if where else f"{self.source}: {reason}")

    def check_fields(self, where: str, table: dict[str, Any], allowed: set[str], required: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(
                    _join(where, key), f"unknown field (expected one of: {', '.join(sorted(allowed))})"
                )
        for key in sorted(required):
            if key not in table:
                raise self.fail(where or "top level", f"missing field {key!r}")

    def table(self, where: str, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table (got {_describe(value)})")
        return value

    def string(self, where: str, value: object, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string (got {_describe(value)})")
        if not allow_empty and not value.strip():
            raise self.fail(where, "must not be empty")
        return value

    def integer(self, where: str, value: object, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected a whole number (got {_describe(value)})")
        if not lo <= value <= hi:
            raise self.fail(where, f"must be between {lo} and {hi} (got {value})")
        return value

    def number(self, where: str, value: object, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"expected a number (got {_describe(value)})")
        if not lo <= value <= hi:
            raise self.fail(where, f"must be between {lo:g} and {hi:g} (got {value:g})")
        return float(value)


def human_field(where: str) -> str:
    """An internal field path as a person reads it, counting from 1: ``stages[0].session[1].run`` ->
    ``stage 1, step 2, run``; ``stages[2].targets.hr_ceiling_bpm`` -> ``stage 3, targets.hr_ceiling_bpm``;
    ``sources[0]`` -> ``sources, entry 1``."""
    out = re.sub(r"^stages\[(\d+)\]", lambda m: f"stage {int(m[1]) + 1}", where)
    out = re.sub(r"\.session\[(\d+)\]", lambda m: f", step {int(m[1]) + 1}", out)
    out = re.sub(r"^sources\[(\d+)\]", lambda m: f"sources, entry {int(m[1]) + 1}", out)
    return re.sub(r"^(stage \d+(?:, step \d+)?)\.", r"\1, ", out)


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


def _parse_targets(ctx: _Ctx, where: str, value: object) -> tuple[Targets, frozenset[str]]:
    table = ctx.table(where, value)
    ctx.check_fields(where, table, _TARGET_FIELDS, set())
    kwargs: dict[str, Any] = {}
    if "hr_ceiling_bpm" in table:
        kwargs["hr_ceiling_bpm"] = ctx.integer(
            _join(where, "hr_ceiling_bpm"), table["hr_ceiling_bpm"], 60, 230
        )
    if "cadence_baseline_spm" in table:
        kwargs["cadence_baseline_spm"] = ctx.number(
            _join(where, "cadence_baseline_spm"), table["cadence_baseline_spm"], 60, 240
        )
    if "cadence_rise_pct" in table:
        kwargs["cadence_rise_pct"] = ctx.number(
            _join(where, "cadence_rise_pct"), table["cadence_rise_pct"], 0, 15
        )
    return Targets(**kwargs), frozenset(kwargs)


def _parse_step(ctx: _Ctx, where: str, value: object) -> Step:
    table = ctx.table(where, value)
    ctx.check_fields(where, table, _STEP_FIELDS, set())
    intervals: list[Interval] = []
    for key, raw in table.items():  # TOML tables keep the order written: run first if written first
        if key in ACTIVITIES:
            try:
                duration = parse_duration_s(raw)
            except ValueError as exc:
                raise ctx.fail(_join(where, key), str(exc)) from None
            intervals.append(Interval(activity=key, duration_s=duration))
    if not intervals:
        raise ctx.fail(where, "missing field 'walk' or 'run' (a step needs at least one of them)")
    repeat = ctx.integer(_join(where, "repeat"), table["repeat"], 1, MAX_REPEAT) if "repeat" in table else 1
    label = ctx.string(_join(where, "label"), table["label"]) if "label" in table else None
    return Step(intervals=tuple(intervals), repeat=repeat, label=label)


def _parse_walking_base(ctx: _Ctx, value: object) -> WalkingBase:
    table = ctx.table("walking_base", value)
    ctx.check_fields("walking_base", table, _WALKING_BASE_FIELDS, {"brisk_minutes"})
    raw = table["brisk_minutes"]
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(
            "walking_base.brisk_minutes", f"expected a non-empty array of minutes (got {_describe(raw)})"
        )
    minutes = tuple(
        ctx.number(f"walking_base.brisk_minutes, entry {i + 1}", m, 1, MAX_BRISK_MINUTES)
        for i, m in enumerate(raw)
    )
    for i in range(1, len(minutes)):
        if minutes[i] <= minutes[i - 1]:
            raise ctx.fail(
                f"walking_base.brisk_minutes, entry {i + 1}",
                f"each step walks longer than the one before (got {minutes[i]:g} after {minutes[i - 1]:g})",
            )
    notes = ctx.string("walking_base.notes", table["notes"]) if "notes" in table else None
    return WalkingBase(brisk_minutes=minutes, notes=notes)


def parse_programme(text: str, source: str = "<programme>") -> Programme:
    """Parse and validate a programme from TOML text; ``source`` names the file in error messages."""
    ctx = _Ctx(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ctx.fail("", f"not valid TOML: {exc}") from None
    ctx.check_fields("", data, _PROGRAMME_FIELDS, {"name", "title", "stages"})
    if "format" in data:
        version = ctx.integer("format", data["format"], 1, 10**6)
        if version != FORMAT_VERSION:
            raise ctx.fail(
                "format", f"this coach reads format {FORMAT_VERSION} (got {version}); update coach"
            )
    name = ctx.string("name", data["name"])
    if not _NAME_RE.match(name):
        raise ctx.fail("name", f"use lowercase letters, digits and '-' (got {name!r})")
    title = ctx.string("title", data["title"])
    description = (
        ctx.string("description", data["description"], allow_empty=True) if "description" in data else ""
    )
    sources: tuple[str, ...] = ()
    if "sources" in data:
        if not isinstance(data["sources"], list):
            raise ctx.fail("sources", f"expected an array of strings (got {_describe(data['sources'])})")
        sources = tuple(ctx.string(f"sources[{i}]", s) for i, s in enumerate(data["sources"]))
    base = Targets()
    if "targets" in data:
        base, _ = _parse_targets(ctx, "targets", data["targets"])
    walking_base = _parse_walking_base(ctx, data["walking_base"]) if "walking_base" in data else None
    raw_stages = data["stages"]
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ctx.fail("stages", "expected at least one [[stages]] table")
    stages: list[Stage] = []
    for i, raw in enumerate(raw_stages):
        where = f"stages[{i}]"
        table = ctx.table(where, raw)
        ctx.check_fields(where, table, _STAGE_FIELDS, {"title", "session"})
        session = table["session"]
        if not isinstance(session, list) or not session:
            raise ctx.fail(_join(where, "session"), "expected a non-empty array of steps")
        steps = tuple(_parse_step(ctx, f"{where}.session[{j}]", s) for j, s in enumerate(session))
        targets = base
        if "targets" in table:
            override, given = _parse_targets(ctx, _join(where, "targets"), table["targets"])
            targets = base.merged(override, given)
        stages.append(
            Stage(
                number=i + 1,
                title=ctx.string(_join(where, "title"), table["title"]),
                steps=steps,
                sessions=ctx.integer(_join(where, "sessions"), table["sessions"], 1, 100)
                if "sessions" in table
                else 2,
                notes=ctx.string(_join(where, "notes"), table["notes"]) if "notes" in table else None,
                targets=targets,
                sessions_given="sessions" in table,
            )
        )
    return Programme(
        name=name,
        title=title,
        stages=tuple(stages),
        description=description,
        sources=sources,
        targets=base,
        path=source,
        walking_base=walking_base,
    )


# --- loading -----------------------------------------------------------------------------------------------


def builtin_names() -> list[str]:
    """Names of the programmes shipped with coach."""
    return catalogue.builtin_names("programmes")


def load_file(path: str | Path) -> Programme:
    """Load and validate a programme file."""
    p = Path(path)
    text = read_text_file(p, ProgrammeError)
    return replace(parse_programme(text, str(p)), file=str(p.resolve()), toml=text)


def load_programme(name_or_path: str) -> Programme:
    """A built-in programme by name, or a programme file by path (anything ending in .toml or containing a
    path separator is a path)."""
    if catalogue.is_file_argument(name_or_path):
        return load_file(name_or_path)
    text = catalogue.builtin_text("programmes", name_or_path, "programme", ProgrammeError)
    return parse_programme(text, f"{name_or_path}.toml")


def describe_step(step: Step) -> str:
    """A short human line: ``5 x (run 1:00, walk 4:00)``."""
    body = ", ".join(f"{i.activity} {mmss(i.duration_s)}" for i in step.intervals)
    text = f"{step.repeat} x ({body})" if step.repeat > 1 else body
    return f"{text}  [{step.label}]" if step.label else text
