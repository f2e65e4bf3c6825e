"""coach.plan.dose: the exercise dose that progresses with pain (a decision table), its notches and its config."""

from __future__ import annotations

from dataclasses import fields

import pytest

from coach.errors import InputError
from coach.plan.dose import (
    CONFIG_FIELDS,
    DoseConfig,
    ExerciseOutcome,
    at_level,
    decide_dose,
    dose_config_from_toml,
    notched,
    top_level,
)
from coach.plan.progression import config_from_toml
from coach.plan.routine import Dose, Tempo, load_routine

CFG = DoseConfig()  # 3 pain-free sessions a notch; pain 0 is pain-free; above 2 steps back
FREE = ExerciseOutcome(pain=0)
MILD = ExerciseOutcome(pain=2)
SORE = ExerciseOutcome(pain=4)
NO_SCORE = ExerciseOutcome(pain=None)
STOPPED = ExerciseOutcome(completed=False, pain=0)


@pytest.mark.parametrize(
    ("history", "level", "action", "streak"),
    [
        ([], 0, "start", 0),
        ([FREE], 0, "stay", 1),
        ([FREE, FREE], 0, "stay", 2),
        ([FREE, FREE, FREE], 1, "up", 0),  # N pain-free sessions: a notch up
        ([FREE, FREE, MILD], 0, "stay", 0),  # some pain: stay, count again
        ([FREE, FREE, MILD, FREE, FREE, FREE], 1, "up", 0),
        ([FREE, FREE, NO_SCORE], 0, "stay", 2),  # no score: does not count, does not reset
        ([FREE, FREE, STOPPED], 0, "stay", 2),  # stopped early: does not count
        ([FREE] * 3 + [SORE], 0, "down", 0),  # pain rises: back a notch
        ([FREE] * 6, 2, "up", 0),
        ([FREE] * 6 + [SORE], 1, "down", 0),
        ([SORE], 0, "stay", 0),  # at the file's dose: never below it (see your physio)
        ([FREE] * 3 + [SORE, FREE, FREE, FREE], 1, "up", 0),
    ],
)
def test_dose_decision_table(history: list[ExerciseOutcome], level: int, action: str, streak: int) -> None:
    d = decide_dose(history, CFG)
    assert (d.level, d.action, d.pain_free_streak) == (level, action, streak), d.reasons
    assert d.reasons


def test_reasons_say_why() -> None:
    assert "back a notch" in decide_dose([FREE] * 3 + [SORE], CFG).explain()
    assert "see your physio" in decide_dose([SORE], CFG).explain()
    assert "1 more before the next notch" in decide_dose([FREE, FREE], CFG).explain()
    assert "no pain score" in decide_dose([NO_SCORE], CFG).explain()


def test_a_notch_raises_reps_then_hold_seconds_then_sets_with_caps() -> None:
    reps = Dose(sets=2, reps=10, tempo=Tempo(2, 1, 2))
    assert [(d.sets, d.reps) for d in (notched(reps, n, CFG) for n in range(6))] == [
        (2, 10),
        (2, 12),
        (2, 14),
        (2, 15),  # capped at max_reps
        (3, 15),
        (4, 15),  # capped at max_sets
    ]
    assert notched(reps, 9, CFG) == notched(reps, 5, CFG)
    holds = Dose(sets=2, reps=12, hold_s=35.0)
    assert [(d.sets, d.reps, d.hold_s) for d in (notched(holds, n, CFG) for n in range(6))] == [
        (2, 12, 35.0),
        (2, 14, 35.0),
        (2, 15, 35.0),
        (2, 15, 40.0),
        (2, 15, 45.0),
        (3, 15, 45.0),
    ]
    single = Dose(sets=1, hold_s=30.0)  # one hold a set: more seconds, not more holds
    assert [(d.sets, d.reps, d.hold_s) for d in (notched(single, n, CFG) for n in range(5))] == [
        (1, 1, 30.0),
        (1, 1, 35.0),
        (1, 1, 40.0),
        (1, 1, 45.0),
        (2, 1, 45.0),
    ]


def test_the_top_notch_stops_progress() -> None:
    routine = load_routine("trunk-strength")
    top = top_level(routine, CFG)
    assert top > 0
    assert at_level(routine, top + 1, CFG) == at_level(routine, top, CFG) != at_level(routine, top - 1, CFG)
    d = decide_dose([FREE] * (3 * top + 3), CFG, top=top)
    assert (d.level, d.action) == (top, "top") and "physio" in d.explain()
    bridge = at_level(routine, 1, CFG).exercises[0]
    assert (bridge.dose.sets, bridge.dose.reps) == (3, 12)


def test_the_exercise_table_lives_in_progression_toml() -> None:
    assert set(CONFIG_FIELDS) == {f.name for f in fields(DoseConfig)}
    text = "pain_safe_max = 2\n[exercise]\nsessions_to_progress = 2\nmax_reps = 20\n"
    assert config_from_toml(text).pain_safe_max == 2  # the running progression reads its own keys
    cfg = dose_config_from_toml(text)
    assert (cfg.sessions_to_progress, cfg.max_reps, cfg.rep_step) == (2, 20, 2)
    assert dose_config_from_toml("pain_safe_max = 2\n") == DoseConfig()
    with pytest.raises(InputError, match=r"^p.toml: exercise.max_reps: must be between 1 and 50 \(got 80\)$"):
        dose_config_from_toml("[exercise]\nmax_reps = 80\n", "p.toml")
    with pytest.raises(InputError, match=r"^p.toml: exercise.reps: unknown field"):
        dose_config_from_toml("[exercise]\nreps = 8\n", "p.toml")
    with pytest.raises(InputError, match="pain_free_max <= step_back_above"):
        dose_config_from_toml("[exercise]\npain_free_max = 3\nstep_back_above = 1\n", "p.toml")
