"""Progression rules: a table of pain/adherence histories and the decision the rules give for each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coach.progression import Decision, ProgressionConfig, SessionOutcome, decide

DAY0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def s(day: int, stage: int, *, before=1, during=2, after=2, morning=1, adherence=0.95, completed=True):
    return SessionOutcome(
        when=DAY0 + timedelta(days=day),
        stage=stage,
        completed=completed,
        adherence=adherence,
        pain_before=before,
        pain_during=during,
        pain_after=after,
        pain_next_morning=morning,
    )


CASES = [
    ("no history", [], "start", 1),
    ("one good session: repeat (each stage twice)", [s(0, 1)], "repeat", 1),
    ("two good sessions: progress", [s(0, 1), s(2, 1)], "progress", 2),
    ("acceptable pain 4/10 still progresses", [s(0, 1, during=4), s(2, 1, during=4)], "progress", 2),
    ("next morning missing: repeat and ask", [s(0, 1), s(2, 1, morning=None)], "repeat", 1),
    ("next morning worse than before: repeat", [s(0, 1), s(2, 1, before=1, morning=3)], "repeat", 1),
    ("flare-up 6/10: step back", [s(0, 2), s(2, 2), s(4, 3, during=6)], "step_back", 2),
    ("flare-up at stage 1 stays at 1", [s(0, 1, after=7)], "step_back", 1),
    ("two flare-ups in a row: stop, see physio", [s(0, 3), s(2, 3, during=6), s(4, 2, after=6)], "stop", 1),
    ("poor adherence: repeat", [s(0, 1), s(2, 1, adherence=0.5)], "repeat", 1),
    ("unfinished session: repeat", [s(0, 1), s(2, 1, completed=False)], "repeat", 1),
    ("poor-adherence sessions do not count towards twice", [s(0, 1, adherence=0.4), s(2, 1)], "repeat", 1),
    ("last stage: stay", [s(0, 5), s(2, 5)], "repeat", 5),
    (
        "pain rising week to week: repeat",
        [s(0, 2, during=1, after=1), s(2, 2, during=1, after=1), s(8, 2, during=3, after=3, morning=1)],
        "repeat",
        2,
    ),
    (
        "unknown adherence (no sensor) does not block",
        [s(0, 1, adherence=None), s(2, 1, adherence=None)],
        "progress",
        2,
    ),
]


@pytest.mark.parametrize(("name", "history", "action", "stage"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, history: list[SessionOutcome], action: str, stage: int) -> None:
    d = decide(history, n_stages=5)
    assert isinstance(d, Decision)
    assert (d.action, d.next_stage) == (action, stage), d.explain()
    assert d.reasons and all(r.endswith(".") or r.endswith(")") for r in d.reasons)


def test_history_order_does_not_matter() -> None:
    hist = [s(0, 1), s(2, 1)]
    assert decide(list(reversed(hist)), n_stages=5) == decide(hist, n_stages=5)


def test_thresholds_are_configurable() -> None:
    strict = ProgressionConfig(pain_acceptable_max=3.0)
    assert decide([s(0, 2), s(2, 2, during=4)], n_stages=5, config=strict).action == "step_back"
    assert decide([s(0, 2), s(2, 2, during=4)], n_stages=5).action == "progress"


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError):
        ProgressionConfig(pain_safe_max=6, pain_acceptable_max=5)
