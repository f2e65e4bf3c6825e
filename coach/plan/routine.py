"""Exercise routines (mobility, strength): the TOML format, its validation, and the built-in starter routines.

The format is documented in docs/routines.md. A routine has exercises; each exercise has a how-to line, a dose
(``sets`` x ``reps`` with a ``tempo`` of "up-hold-down" seconds, or ``sets`` of ``hold`` seconds, optionally
``reps`` holds a set), ``sides`` (``none`` or ``left/right``), rest between sets and after the exercise, and a
pain-free-range note. It mirrors :mod:`coach.plan.programme`: pure, frozen dataclasses, and every validation
failure is one :class:`coach.errors.RoutineError` line ``FILE: FIELD: problem``, e.g.
``my-routine.toml: exercise 2 (bird-dog), dose.reps: must be between 1 and 50 (got 0)``.

Which built-in mobility routine suits the runner follows the injury category of ``coach plan --injury``
(:func:`default_routine`, :data:`MOBILITY_BY_INJURY`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from coach.errors import RoutineError, read_text_file
from coach.plan import catalogue
from coach.plan.programme import _Ctx, _describe, _join, parse_duration_s

FORMAT_VERSION = 1
MAX_SETS = 10
MAX_REPS = 50
MAX_HOLD_S = 300.0  # a single hold longer than 5 minutes is a typo
MAX_PHASE_S = 30.0  # one phase of a tempo (up, hold or down)
MIN_MOVE_PHASE_S = 1.0  # "up" and "down" take at least a second: room to say the word
MAX_REST_S = 600.0
DEFAULT_REST_S = 30.0  # between sets, when the file does not say
DEFAULT_REST_AFTER_S = 45.0  # after the last set of an exercise, before the next one
DEFAULT_RELAX_S = 3.0  # between the holds of one set (``reps`` holds)

#: The gentle routine keeps to the pain-free range (acute strains, disc injuries); the full-range one is for the
#: other backs. One entry per category of :data:`coach.plan.healing.HEALING`; no category set = the gentle one.
GENTLE_MOBILITY = "gentle-mobility"
FULL_RANGE_MOBILITY = "full-range-mobility"
TRUNK_STRENGTH = "trunk-strength"
MOBILITY_BY_INJURY: dict[str, str] = {
    "sprain-mild": GENTLE_MOBILITY,
    "sprain-significant": GENTLE_MOBILITY,
    "disc-mild": GENTLE_MOBILITY,
    "disc-severe": GENTLE_MOBILITY,
    "nerve": FULL_RANGE_MOBILITY,
}

Sides = Literal["none", "left/right"]
SIDES: tuple[Sides, ...] = ("none", "left/right")

_ROUTINE_FIELDS = {"format", "name", "title", "purpose", "description", "sources", "rest", "exercises"}
_REST_FIELDS = {"between_sets", "after_exercise"}
_EXERCISE_FIELDS = {"name", "say", "how", "dose", "sides", "rest", "rest_after", "pain_free", "words"}
#: What the coach says at each phase of a tempo rep, unless the exercise names its own (``words``).
DEFAULT_WORDS = ("up", "hold", "down")
_DOSE_FIELDS = {"sets", "reps", "tempo", "hold", "relax"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TEMPO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Tempo:
    """One repetition: ``up_s`` moving into position, ``hold_s`` there (may be 0), ``down_s`` back."""

    up_s: float
    hold_s: float
    down_s: float

    @property
    def rep_s(self) -> float:
        return self.up_s + self.hold_s + self.down_s

    def __str__(self) -> str:
        return f"{self.up_s:g}-{self.hold_s:g}-{self.down_s:g}"


@dataclass(frozen=True)
class Dose:
    """``sets`` of ``reps``; each rep is a ``tempo`` (moving reps) or a ``hold_s`` hold with ``relax_s`` between
    holds. Exactly one of ``tempo`` and ``hold_s`` is set."""

    sets: int
    reps: int = 1
    tempo: Tempo | None = None
    hold_s: float | None = None
    relax_s: float = DEFAULT_RELAX_S

    @property
    def is_hold(self) -> bool:
        return self.hold_s is not None

    @property
    def side_s(self) -> float:
        """Seconds one side of one set takes (reps, and the relax between holds)."""
        if self.tempo is not None:
            return self.reps * self.tempo.rep_s
        assert self.hold_s is not None
        return self.reps * self.hold_s + (self.reps - 1) * self.relax_s

    def describe(self) -> str:
        """``3 x 10 (tempo 2-1-2 s)``, ``2 x 20 s hold``, ``2 x 5 x 8 s hold``."""
        if self.tempo is not None:
            return f"{self.sets} x {self.reps} (tempo {self.tempo} s)"
        assert self.hold_s is not None
        reps = f"{self.reps} x " if self.reps > 1 else ""
        return f"{self.sets} x {reps}{self.hold_s:g} s hold"


@dataclass(frozen=True)
class Exercise:
    name: str  # as a person says it: "Bridge"
    how: str  # one or two short sentences
    dose: Dose
    say: str  # the plural spoken in "ten bridges" (default: the name + "s", lower case)
    sides: Sides = "none"
    rest_s: float = DEFAULT_REST_S  # between sets
    rest_after_s: float = DEFAULT_REST_AFTER_S  # after the last set, before the next exercise
    pain_free: str = ""
    words: tuple[str, str, str] = DEFAULT_WORDS  # spoken at the tempo's up, hold and down phases

    @property
    def sided(self) -> bool:
        return self.sides == "left/right"


@dataclass(frozen=True)
class Routine:
    name: str
    title: str
    purpose: str
    exercises: tuple[Exercise, ...]
    description: str = ""
    sources: tuple[str, ...] = ()
    path: str | None = None
    file: str | None = None  # absolute path when loaded from a file (None for a built-in)
    toml: str | None = field(
        default=None, repr=False
    )  # the text it was read from (a file's, or a built-in's)

    def source_fields(self) -> dict[str, str]:
        """``routine_file`` and ``routine_toml`` to keep with a session of a routine file, else {}."""
        if self.file is None:
            return {}
        return {"routine_file": self.file, "routine_toml": self.toml or ""}


# --- parsing -----------------------------------------------------------------------------------------------


class _RoutineCtx(_Ctx):
    """``FILE: FIELD: problem`` with exercises counted from 1 and named: ``exercise 2 (bird-dog), dose.reps``."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.names: dict[int, str] = {}

    def fail(self, where: str, reason: str) -> RoutineError:
        def exercise(m: re.Match[str]) -> str:
            i = int(m[1])
            name = self.names.get(i)
            return f"exercise {i + 1}" + (f" ({name})" if name else "")

        where = re.sub(r"^exercises\[(\d+)\]", exercise, where)
        where = re.sub(r"^(exercise \d+(?: \([^)]*\))?)\.", r"\1, ", where)
        where = re.sub(r"^sources\[(\d+)\]", lambda m: f"sources, entry {int(m[1]) + 1}", where)
        return RoutineError(f"{self.source}: {where}: {reason}" if where else f"{self.source}: {reason}")


def _duration(ctx: _RoutineCtx, where: str, value: object, hi: float) -> float:
    try:
        seconds = parse_duration_s(value)
    except ValueError as exc:
        raise ctx.fail(where, str(exc)) from None
    if seconds > hi:
        raise ctx.fail(where, f"must be at most {hi:g} seconds (got {value!r})")
    return seconds


def _rest(ctx: _RoutineCtx, where: str, value: object) -> float:
    """A rest may be 0 (straight on); otherwise a duration up to :data:`MAX_REST_S`."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    return _duration(ctx, where, value, MAX_REST_S)


def parse_tempo(value: object) -> Tempo:
    """``"2-1-2"`` (up-hold-down seconds) -> :class:`Tempo`; ValueError with a short reason."""
    if not isinstance(value, str):
        raise ValueError(f'expected "up-hold-down" seconds such as "2-1-2" (got {_describe(value)})')
    m = _TEMPO_RE.match(value)
    if m is None:
        raise ValueError(f'expected "up-hold-down" seconds such as "2-1-2" (got {value!r})')
    up, hold, down = (float(g) for g in m.groups())
    if up < MIN_MOVE_PHASE_S or down < MIN_MOVE_PHASE_S:
        raise ValueError(f"up and down take at least {MIN_MOVE_PHASE_S:g} second each (got {value!r})")
    if max(up, hold, down) > MAX_PHASE_S:
        raise ValueError(f"each phase is at most {MAX_PHASE_S:g} seconds (got {value!r})")
    return Tempo(up, hold, down)


def _parse_dose(ctx: _RoutineCtx, where: str, value: object) -> Dose:
    table = ctx.table(where, value)
    ctx.check_fields(where, table, _DOSE_FIELDS, {"sets"})
    sets = ctx.integer(_join(where, "sets"), table["sets"], 1, MAX_SETS)
    has_tempo, has_hold = "tempo" in table, "hold" in table
    if has_tempo == has_hold:
        raise ctx.fail(
            where, "give either 'tempo' (moving reps) or 'hold' (held positions), not both or neither"
        )
    if has_tempo:
        if "reps" not in table:
            raise ctx.fail(where, "missing field 'reps' (how many reps a set, with 'tempo')")
        if "relax" in table:
            raise ctx.fail(_join(where, "relax"), "only for 'hold' doses (the rest between holds)")
        try:
            tempo = parse_tempo(table["tempo"])
        except ValueError as exc:
            raise ctx.fail(_join(where, "tempo"), str(exc)) from None
        reps = ctx.integer(_join(where, "reps"), table["reps"], 1, MAX_REPS)
        return Dose(sets=sets, reps=reps, tempo=tempo)
    hold = _duration(ctx, _join(where, "hold"), table["hold"], MAX_HOLD_S)
    reps = ctx.integer(_join(where, "reps"), table["reps"], 1, MAX_REPS) if "reps" in table else 1
    relax = _rest(ctx, _join(where, "relax"), table["relax"]) if "relax" in table else DEFAULT_RELAX_S
    return Dose(sets=sets, reps=reps, hold_s=hold, relax_s=relax)


def _parse_exercise(
    ctx: _RoutineCtx, where: str, value: object, rest_s: float, rest_after_s: float
) -> Exercise:
    table = ctx.table(where, value)
    if isinstance(table.get("name"), str):
        ctx.names[int(where[where.index("[") + 1 : where.index("]")])] = table["name"].strip().lower()
    ctx.check_fields(where, table, _EXERCISE_FIELDS, {"name", "how", "dose"})
    name = ctx.string(_join(where, "name"), table["name"]).strip()
    sides = table.get("sides", "none")
    if sides not in SIDES:
        raise ctx.fail(_join(where, "sides"), f"expected one of: {', '.join(SIDES)} (got {_describe(sides)})")
    say = ctx.string(_join(where, "say"), table["say"]).strip() if "say" in table else f"{name.lower()}s"
    words = DEFAULT_WORDS
    if "words" in table:
        text = ctx.string(_join(where, "words"), table["words"])
        parts = tuple(w.strip() for w in text.split("-"))
        if len(parts) != 3 or not all(parts):
            raise ctx.fail(
                _join(where, "words"), f'expected three words such as "up-hold-down" (got {text!r})'
            )
        words = (parts[0], parts[1], parts[2])
    return Exercise(
        name=name,
        how=ctx.string(_join(where, "how"), table["how"]).strip(),
        dose=_parse_dose(ctx, _join(where, "dose"), table["dose"]),
        say=say,
        sides=sides,
        rest_s=_rest(ctx, _join(where, "rest"), table["rest"]) if "rest" in table else rest_s,
        rest_after_s=_rest(ctx, _join(where, "rest_after"), table["rest_after"])
        if "rest_after" in table
        else rest_after_s,
        pain_free=ctx.string(_join(where, "pain_free"), table["pain_free"]).strip()
        if "pain_free" in table
        else "",
        words=words,
    )


def parse_routine(text: str, source: str = "<routine>") -> Routine:
    """Parse and validate a routine from TOML text; ``source`` names the file in error messages."""
    ctx = _RoutineCtx(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ctx.fail("", f"not valid TOML: {exc}") from None
    ctx.check_fields("", data, _ROUTINE_FIELDS, {"name", "title", "purpose", "exercises"})
    if "format" in data:
        version = ctx.integer("format", data["format"], 1, 10**6)
        if version != FORMAT_VERSION:
            raise ctx.fail(
                "format", f"this coach reads format {FORMAT_VERSION} (got {version}); update coach"
            )
    name = ctx.string("name", data["name"])
    if not _NAME_RE.match(name):
        raise ctx.fail("name", f"use lowercase letters, digits and '-' (got {name!r})")
    sources: tuple[str, ...] = ()
    if "sources" in data:
        if not isinstance(data["sources"], list):
            raise ctx.fail("sources", f"expected an array of strings (got {_describe(data['sources'])})")
        sources = tuple(ctx.string(f"sources[{i}]", s) for i, s in enumerate(data["sources"]))
    rest_s, rest_after_s = DEFAULT_REST_S, DEFAULT_REST_AFTER_S
    if "rest" in data:
        rest = ctx.table("rest", data["rest"])
        ctx.check_fields("rest", rest, _REST_FIELDS, set())
        if "between_sets" in rest:
            rest_s = _rest(ctx, "rest.between_sets", rest["between_sets"])
        if "after_exercise" in rest:
            rest_after_s = _rest(ctx, "rest.after_exercise", rest["after_exercise"])
    raw = data["exercises"]
    if not isinstance(raw, list) or not raw:
        raise ctx.fail("exercises", "expected at least one [[exercises]] table")
    exercises = tuple(
        _parse_exercise(ctx, f"exercises[{i}]", e, rest_s, rest_after_s) for i, e in enumerate(raw)
    )
    return Routine(
        name=name,
        title=ctx.string("title", data["title"]),
        purpose=ctx.string("purpose", data["purpose"]).strip(),
        exercises=exercises,
        description=ctx.string("description", data["description"], allow_empty=True).strip()
        if "description" in data
        else "",
        sources=sources,
        path=source,
    )


# --- loading -----------------------------------------------------------------------------------------------


def builtin_names() -> list[str]:
    """Names of the routines shipped with coach."""
    return catalogue.builtin_names("routines")


def load_file(path: str | Path) -> Routine:
    """Load and validate a routine file."""
    p = Path(path)
    text = read_text_file(p, RoutineError)
    return replace(parse_routine(text, str(p)), file=str(p.resolve()), toml=text)


def load_routine(name_or_path: str) -> Routine:
    """A built-in routine by name, or a routine file by path (anything ending in .toml or containing a path
    separator is a path)."""
    if catalogue.is_file_argument(name_or_path):
        return load_file(name_or_path)
    text = catalogue.builtin_text("routines", name_or_path, "routine", RoutineError)
    return replace(parse_routine(text, f"{name_or_path}.toml"), toml=text)


def default_routine(injury: str | None) -> str:
    """The mobility routine for the injury category of ``coach plan --injury`` (None/unknown: the gentle one)."""
    return MOBILITY_BY_INJURY.get(injury or "", GENTLE_MOBILITY)


def routine_duration_s(routine: Routine) -> float:
    """Seconds of work and rest in the routine as written (what the guided session's timeline adds to it, the
    announcements, comes from :mod:`coach.session.exercise`)."""
    total = 0.0
    for i, ex in enumerate(routine.exercises):
        sides = 2 if ex.sided else 1
        total += ex.dose.sets * sides * ex.dose.side_s + (ex.dose.sets - 1) * ex.rest_s
        if i + 1 < len(routine.exercises):
            total += ex.rest_after_s
    return total
