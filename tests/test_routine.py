"""coach.plan.routine: the routine format, one-line validation errors, the built-in routines, and `coach routine`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.errors import EXIT_PROGRAMME, RoutineError
from coach.plan.healing import HEALING
from coach.plan.routine import (
    FULL_RANGE_MOBILITY,
    GENTLE_MOBILITY,
    MOBILITY_BY_INJURY,
    builtin_names,
    default_routine,
    load_file,
    load_routine,
    parse_routine,
    routine_duration_s,
)
from tests.cli_helpers import run_main
from tests.test_fuzz_inputs import FUZZ, _toml_value, mutate, mutations, scalars

GOOD = """
name = "mine"
title = "My routine"
purpose = "Test."
[rest]
between_sets = "20s"
[[exercises]]
name = "Bridge"
how = "Lift the hips."
dose = { sets = 3, reps = 10, tempo = "2-1-2" }
[[exercises]]
name = "Side plank"
how = "On your side."
dose = { sets = 2, reps = 3, hold = "10s", relax = "3s" }
sides = "left/right"
rest = "15s"
rest_after = 0
pain_free = "From the knees."
words = "lift-hold-lower"
"""


def test_a_routine_parses_with_its_defaults_and_overrides() -> None:
    r = parse_routine(GOOD, "mine.toml")
    bridge, plank = r.exercises
    assert (bridge.dose.sets, bridge.dose.reps, str(bridge.dose.tempo)) == (3, 10, "2-1-2")
    assert bridge.dose.tempo is not None and bridge.dose.tempo.rep_s == 5.0
    assert (bridge.rest_s, bridge.say, bridge.sided, bridge.words) == (
        20.0,
        "bridges",
        False,
        ("up", "hold", "down"),
    )
    assert (plank.dose.hold_s, plank.dose.reps, plank.dose.relax_s, plank.sided) == (10.0, 3, 3.0, True)
    assert (plank.rest_s, plank.rest_after_s, plank.pain_free) == (15.0, 0.0, "From the knees.")
    assert plank.words == ("lift", "hold", "lower")
    # bridge: 3 sets x 10 x 5 s + 2 rests x 20 s + 45 s after; plank: 2 sets x 2 sides x (3 x 10 + 2 x 3) + 1 x 15
    assert routine_duration_s(r) == 3 * 50 + 2 * 20 + 45 + 2 * 2 * 36 + 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("reps = 10, tempo", "reps = 0, tempo"),
            "mine.toml: exercise 1 (bridge), dose.reps: must be between 1 and 50 (got 0)",
        ),
        (
            ('tempo = "2-1-2"', 'tempo = "2-1"'),
            'mine.toml: exercise 1 (bridge), dose.tempo: expected "up-hold-down" seconds such as "2-1-2" (got \'2-1\')',
        ),
        (
            ('tempo = "2-1-2"', 'tempo = "0-1-2"'),
            "mine.toml: exercise 1 (bridge), dose.tempo: up and down take at least 1 second each (got '0-1-2')",
        ),
        (
            ('tempo = "2-1-2"', 'tempo = "2-1-2", hold = "5s"'),
            "mine.toml: exercise 1 (bridge), dose: give either 'tempo' (moving reps) or 'hold' (held positions), not both or neither",
        ),
        (
            ('hold = "10s"', 'hold = "-10s"'),
            "mine.toml: exercise 2 (side plank), dose.hold: duration must be more than 0 seconds (got '-10s')",
        ),
        (
            ('sides = "left/right"', 'sides = "both"'),
            "mine.toml: exercise 2 (side plank), sides: expected one of: none, left/right (got string 'both')",
        ),
        (
            ('rest = "15s"', 'rest = "15 secs"'),
            'mine.toml: exercise 2 (side plank), rest: expected a duration such as 90, "90s", "4.5m" or "1m30s" (got \'15 secs\')',
        ),
        (
            ('how = "On your side."', 'howto = "On your side."'),
            "mine.toml: exercise 2 (side plank), howto: unknown field (expected one of: dose, how, name, pain_free, rest, rest_after, say, sides, words)",
        ),
        (('purpose = "Test."', ""), "mine.toml: top level: missing field 'purpose'"),
        (
            ('between_sets = "20s"', 'between = "20s"'),
            "mine.toml: rest.between: unknown field (expected one of: after_exercise, between_sets)",
        ),
        (
            ('words = "lift-hold-lower"', 'words = "lift-lower"'),
            "mine.toml: exercise 2 (side plank), words: expected three words such as \"up-hold-down\" (got 'lift-lower')",
        ),
        (
            ("dose = { sets = 3,", "dose = { sets = 30,"),
            "mine.toml: exercise 1 (bridge), dose.sets: must be between 1 and 10 (got 30)",
        ),
    ],
)
def test_a_broken_routine_is_one_line_naming_file_field_and_problem(
    change: tuple[str, str], message: str
) -> None:
    text = GOOD.replace(*change, 1)
    assert text != GOOD
    with pytest.raises(RoutineError) as err:
        parse_routine(text, "mine.toml")
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_builtin_routines_load_and_cover_the_issue() -> None:
    assert builtin_names() == ["full-range-mobility", "gentle-mobility", "trunk-strength"]
    strength = load_routine("trunk-strength")
    names = [e.name.lower() for e in strength.exercises]
    assert names == ["bridge", "bird-dog", "side plank", "dead bug", "curl-up"]
    for name in builtin_names():
        r = load_routine(name)
        assert r.sources and all(e.how and e.pain_free for e in r.exercises), name
        assert "physio" in r.description.lower(), name
    assert any("McGill" in s for s in strength.sources)
    assert any("NG59" in s for s in load_routine(GENTLE_MOBILITY).sources)


def test_the_injury_category_picks_the_mobility_routine() -> None:
    assert set(MOBILITY_BY_INJURY) == set(HEALING)  # every category of coach plan --injury has one
    assert set(MOBILITY_BY_INJURY.values()) <= set(builtin_names())
    for category in ("sprain-mild", "sprain-significant", "disc-mild", "disc-severe"):
        assert (
            default_routine(category) == GENTLE_MOBILITY
        )  # acute strains and disc injuries: pain-free range
    assert default_routine("nerve") == FULL_RANGE_MOBILITY
    assert default_routine(None) == GENTLE_MOBILITY


def test_a_routine_file_keeps_its_path_and_text(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    r = load_file(path)
    assert r.source_fields() == {"routine_file": str(path.resolve()), "routine_toml": GOOD}
    assert load_routine(str(path)).name == "mine"
    with pytest.raises(RoutineError, match="unknown routine 'nope'"):
        load_routine("nope")


def test_routine_validate_list_and_show_cli(tmp_path: Path) -> None:
    good = tmp_path / "mine.toml"
    good.write_text(GOOD)
    code, out, err = run_main("routine", "validate", good)
    assert (code, err) == (0, "") and out.strip() == f"{good}: ok: 'mine', 2 exercises"
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("reps = 10, tempo", "reps = 0, tempo"))
    code, out, err = run_main("routine", "validate", bad)
    assert code == EXIT_PROGRAMME and out == ""
    assert err == f"coach: error: {bad}: exercise 1 (bridge), dose.reps: must be between 1 and 50 (got 0)\n"
    code, out, err = run_main("routine", "validate", tmp_path / "missing.toml")
    assert code == EXIT_PROGRAMME and err.count("\n") == 1 and "no such file" in err
    code, out, _ = run_main("routine", "list")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()] == builtin_names()
    code, out, _ = run_main("routine", "show", "trunk-strength")
    assert code == 0 and "1. Bridge: 3 x 10 (tempo 2-2-2 s)" in out and "Sources:" in out


def test_a_builtin_routine_can_be_copied_and_changed(tmp_path: Path) -> None:
    code, out, _ = run_main("routine", "show", "trunk-strength", "--toml")
    assert code == 0
    mine = tmp_path / "mine.toml"
    mine.write_text(out.replace('name = "trunk-strength"', 'name = "my-strength"'))
    assert load_file(mine).exercises == load_routine("trunk-strength").exercises
    code, out, _ = run_main("routine", "validate", mine)
    assert code == 0 and "'my-strength', 5 exercises" in out


# ------------------------------------------------------------------------------------- fuzz (as tests/test_fuzz_inputs.py)

TRUNK = (
    Path(__file__).resolve().parents[1] / "coach" / "data" / "routines" / "trunk-strength.toml"
).read_text()


def _only_routine_error(text: str) -> None:
    """Any text: a valid routine whose timeline has finite, ordered times, or one RoutineError line."""
    import math

    from coach.session.exercise import timeline

    try:
        routine = parse_routine(text, "fuzz.toml")
    except RoutineError as exc:
        assert str(exc).startswith("fuzz.toml"), str(exc)
        assert "\n" not in str(exc).strip() or "TOML" in str(exc)
    else:
        tl = timeline(routine)
        times = [c.t for c in tl.cues]
        assert all(math.isfinite(t) and t >= 0 for t in times) and times == sorted(times)


@FUZZ
@given(mutations)
def test_routine_mutated_builtin(ops: list[tuple[str, int, bytes]]) -> None:
    try:
        text = mutate(TRUNK.encode(), ops).decode("utf-8")
    except UnicodeDecodeError:
        return
    _only_routine_error(text)


doses = st.fixed_dictionaries(
    {},
    optional={
        "sets": scalars,
        "reps": scalars,
        "tempo": st.one_of(scalars, st.sampled_from(["2-1-2", "0-0-0", "1-0-1", "30-30-31", "a-b-c"])),
        "hold": scalars,
        "relax": scalars,
    },
)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "name": st.one_of(st.just("Ex"), scalars),
                "how": st.one_of(st.just("Do it."), scalars),
                "dose": doses,
            },
            optional={"sides": st.one_of(st.sampled_from(["none", "left/right"]), scalars), "rest": scalars},
        ),
        max_size=3,
    )
)
def test_routine_structured_random_values(exercises: list[dict[str, object]]) -> None:
    lines = ['name = "fuzz"', 'title = "Fuzz"', 'purpose = "Fuzz."']
    for ex in exercises:
        lines.append("[[exercises]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in ex.items()]
    _only_routine_error("\n".join(lines) + "\n")
