"""Progression rules: a table of pain/adherence histories and the decision the rules give for each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coach.plan.progression import (
    Decision,
    ProgressionConfig,
    SessionOutcome,
    WalkOutcome,
    decide,
    walking_base_decision,
)

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
    # Recovery after a step-back: good sessions count only since the last flare-up.
    (
        "after a step-back, one good session: repeat (the sessions before the flare-up do not count)",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(20, 2)],
        "repeat",
        2,
    ),
    (
        "after a step-back, two good sessions: progress again",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(20, 2), s(22, 2)],
        "progress",
        3,
    ),
    (
        "after a step-back, back at the stage of the flare-up: its earlier sessions do not count",
        [s(0, 2), s(2, 2), s(4, 2, after=6), s(6, 1), s(8, 1), s(10, 2)],
        "repeat",
        2,
    ),
    (
        "a second flare-up after a good session: step back again, not stop",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(10, 2), s(12, 2, after=7)],
        "step_back",
        1,
    ),
    (
        "a flare-up again right after the step-back: stop, see physio",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(10, 2, during=6)],
        "stop",
        1,
    ),
    (
        "a step-back, then weeks off: the count still restarts at the flare-up",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(50, 2)],
        "repeat",
        2,
    ),
    (
        "a step-back, then weeks off, then two good sessions: progress",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(50, 2), s(52, 2)],
        "progress",
        3,
    ),
    (
        "two good sessions in the week of the flare-up: repeat (pain went up week to week)",
        [s(4, 2), s(6, 2), s(8, 3, during=6), s(10, 2), s(12, 2)],
        "repeat",
        2,
    ),
]


@pytest.mark.parametrize(("name", "history", "action", "stage"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, history: list[SessionOutcome], action: str, stage: int) -> None:
    d = decide(history, n_stages=5)
    assert isinstance(d, Decision)
    assert (d.action, d.next_stage) == (action, stage), d.explain()
    assert d.reasons and all(r.endswith(".") or r.endswith(")") for r in d.reasons)


def test_the_count_restarts_after_a_step_back_and_says_so() -> None:
    # issue 11: stage 2 on days 4 and 6, a flare-up at stage 3 on day 8, one good stage-2 session on day 20
    history = [s(4, 2), s(6, 2), s(8, 3, during=6), s(20, 2)]
    d = decide(history, n_stages=5)
    assert d.reasons == (
        "Each stage is done at least 2 times: 1 more at stage 2 since the flare-up on 2026-11-10.",
    )
    d = decide([*history, s(22, 2)], n_stages=5)
    assert d.action == "progress" and d.reasons[0].startswith(
        "Stage 2 done 2 times since the flare-up on 2026-11-10"
    )
    # without a flare-up nothing is said about one
    assert "flare-up" not in decide([s(0, 1)], n_stages=5).explain()


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


#: (name, history, {stage: sessions} from the programme, action, next stage)
BY_STAGE_CASES = [
    ("stage says 3: two good sessions repeat", [s(0, 1), s(2, 1)], {1: 3}, "repeat", 1),
    ("stage says 3: three good sessions progress", [s(0, 1), s(2, 1), s(4, 1)], {1: 3}, "progress", 2),
    ("stage says 1: one good session progresses", [s(0, 1)], {1: 1}, "progress", 2),
    ("another stage's count does not apply", [s(0, 2), s(2, 2)], {1: 4}, "progress", 3),
    ("flare-up still steps back", [s(0, 2), s(2, 2, during=7)], {2: 1}, "step_back", 1),
]


@pytest.mark.parametrize(
    ("name", "history", "by_stage", "action", "stage"), BY_STAGE_CASES, ids=[c[0] for c in BY_STAGE_CASES]
)
def test_per_stage_minimum_from_the_programme(
    name: str, history: list[SessionOutcome], by_stage: dict[int, int], action: str, stage: int
) -> None:
    d = decide(history, n_stages=5, min_sessions_by_stage=by_stage)
    assert (d.action, d.next_stage) == (action, stage), d.explain()


def test_per_stage_minimum_names_the_stage_and_refuses_zero() -> None:
    d = decide([s(0, 1)], n_stages=5, min_sessions_by_stage={1: 3})
    assert d.reasons == ("Stage 1 is done at least 3 times: 2 more at stage 1.",)
    with pytest.raises(ValueError):
        decide([s(0, 1)], n_stages=5, min_sessions_by_stage={1: 0})


def test_config_from_toml_reads_every_field_and_names_file_and_field() -> None:
    from coach.errors import InputError
    from coach.plan.progression import config_as_dict, config_from_toml

    text = (
        "pain_safe_max = 1\npain_acceptable_max = 4\nmin_sessions_per_stage = 3\nmin_adherence = 0.7\n"
        "next_morning_tolerance = 0.5\nflareups_before_stop = 3\nwalking_base_sessions = 3\n"
    )
    cfg = config_from_toml(text, "p.toml")
    assert config_as_dict(cfg) == {
        "pain_safe_max": 1.0,
        "pain_acceptable_max": 4.0,
        "min_sessions_per_stage": 3,
        "min_adherence": 0.7,
        "next_morning_tolerance": 0.5,
        "flareups_before_stop": 3,
        "walking_base_sessions": 3,
    }
    assert config_from_toml("", "p.toml") == ProgressionConfig()
    assert decide([s(0, 1), s(2, 1)], n_stages=5, config=cfg).action == "repeat"  # 3 sessions now
    for bad, needle in [
        ("min_adherence = 80", "p.toml: min_adherence: must be between 0 and 1 (got 80)"),
        ("flareups_before_stop = true", "p.toml: flareups_before_stop: expected a whole number"),
        ('pain_safe_max = "2"', "p.toml: pain_safe_max: expected a number"),
        ("[pain]\nsafe = 2", "p.toml: pain: unknown field"),
    ]:
        with pytest.raises(InputError) as info:
            config_from_toml(bad, "p.toml")
        assert str(info.value).startswith(needle), str(info.value)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ({"source": "ble:AA:BB:CC:DD:EE:FF", "speed": 1.0, "demo": False}, None),
        ({"source": "ble:name=Polar H10", "speed": 1, "demo": False}, None),
        ({"source": "import:fit:run.fit#sha256=0123456789abcdef", "speed": None, "demo": False}, None),
        ({"source": "import:polar-csv:x_ACC.txt#sha256=0123456789abcdef"}, None),
        ({}, None),
        ({"source": "replay:fixtures/walk.jsonl", "speed": 1.0, "demo": False}, "a replay of a recording"),
        ({"source": "replay:walk.jsonl", "speed": 20.0}, "a replay of a recording at --speed 20"),
        ({"source": "virtual:walk.jsonl", "speed": 1.0}, "a recording streamed by the virtual strap"),
        ({"source": "virtual:walk.jsonl", "speed": 8.0, "demo": True}, "a demo"),
        ({"source": None, "speed": 20.0}, "a rehearsal at --speed 20"),
        ({"speed": 0.0}, "a rehearsal at --speed 0"),
        ({"demo": True}, "a demo"),
    ],
)
def test_rehearsal_is_decided_in_one_place(start: dict[str, object], reason: str | None) -> None:
    from coach.plan.progression import is_rehearsal, rehearsal_reason

    assert rehearsal_reason(start) == reason
    assert is_rehearsal(start) is (reason is not None)


# ------------------------------------------------------------------------------------------------ walking base

LADDER = (15.0, 20.0, 25.0, 30.0)  # back-pain's walking base, W1..W4


def w(
    day: int,
    brisk_min: float | None,
    *,
    during: float | None = None,
    after: float | None = 1,
    morning: float | None = 1,
    before: float | None = 1,
    completed: bool = True,
) -> WalkOutcome:
    return WalkOutcome(
        when=DAY0 + timedelta(days=day),
        brisk_s=None if brisk_min is None else brisk_min * 60.0,
        duration_s=None if brisk_min is None else (brisk_min + 5) * 60.0,
        completed=completed,
        pain_before=before,
        pain_during=during,
        pain_after=after,
        pain_next_morning=morning,
    )


#: W1-W3 done (two good walks of 25+ brisk minutes) and one good 30-minute walk: one more for stage 1
AT_W4 = [w(0, 26), w(2, 26), w(4, 31)]

#: (name, walks, ready, step, a phrase the reasons must contain)
WALKING_BASE_CASES = [
    ("no walks: W1", [], False, 1, "Start with the walking base: W1"),
    (
        "ready: 30 brisk minutes twice, pain 0-2, settled",
        [w(0, 31), w(2, 30.5)],
        True,
        4,
        "Ready for stage 1",
    ),
    ("ready counts longer walks at every step", [w(0, 45), w(2, 40, during=2, after=2)], True, 4, "2 times"),
    (
        "ready after climbing the ladder",
        [w(d, m) for d, m in enumerate((15, 16, 21, 20, 26, 25, 30, 30))],
        True,
        4,
        "Ready",
    ),
    (
        "not ready for pain: 3/10 after the walk",
        [*AT_W4, w(6, 31, after=3)],
        False,
        4,
        "pain reached 3/10 during or after your walk",
    ),
    (
        "not ready for pain: 3/10 during the walk",
        [*AT_W4, w(6, 31, during=3, after=0)],
        False,
        4,
        "the walking base asks for 2/10 or less",
    ),
    (
        "not ready: pain not settled by the next morning",
        [*AT_W4, w(6, 31, before=1, morning=3)],
        False,
        4,
        "it must settle by the next morning",
    ),
    (
        "not ready for too little brisk time: 28 of 30 minutes",
        [*AT_W4, w(6, 28)],
        False,
        4,
        "had 28 minutes at brisk cadence (100 steps/min or more); W4 asks for 30",
    ),
    (
        "too little brisk time keeps a beginner at W1",
        [w(0, 12), w(2, 14)],
        False,
        1,
        "W1 asks for 15",
    ),
    ("one good W1 walk: one more", [w(0, 15)], False, 1, "1 more before W2"),
    ("two good W1 walks: W2", [w(0, 15), w(2, 15)], False, 2, "W2 asks for 20"),
    ("no strap data: brisk time unknown", [w(0, None)], False, 1, "no cadence"),
    ("pain after not logged yet", [w(0, 16, after=None)], False, 1, "Log your pain after the walk"),
    ("next morning not logged yet", [w(0, 16, morning=None)], False, 1, "the morning after the walk"),
    (
        "a flare-up (pain 6/10) restarts the count",
        [w(0, 31), w(2, 31), w(4, 31, after=6), w(6, 31)],
        False,
        1,
        "since the painful walk on 2026-11-06",
    ),
    ("an unfinished walk does not count", [*AT_W4, w(6, 31, completed=False)], False, 4, "not finished"),
]


@pytest.mark.parametrize(
    ("name", "walks", "ready", "step", "phrase"), WALKING_BASE_CASES, ids=[c[0] for c in WALKING_BASE_CASES]
)
def test_walking_base_decision_table(
    name: str, walks: list[WalkOutcome], ready: bool, step: int, phrase: str
) -> None:
    d = walking_base_decision(walks, LADDER)
    assert (d.ready, d.step, d.target_min) == (ready, step, LADDER[step - 1]), d.explain()
    assert phrase in d.explain(), d.explain()
    assert walking_base_decision(list(reversed(walks)), LADDER) == d  # any order


def test_walking_base_thresholds_come_from_the_config() -> None:
    walks = [w(0, 31, after=3), w(2, 31, after=3)]
    assert not walking_base_decision(walks, LADDER).ready  # 3/10 is above the safe 2/10
    assert walking_base_decision(walks, LADDER, ProgressionConfig(pain_safe_max=3)).ready
    three = ProgressionConfig(walking_base_sessions=3)
    d = walking_base_decision([w(0, 31), w(2, 31)], LADDER, three)
    assert not d.ready and d.step == 1 and "1 more before W2" in d.explain()
    with pytest.raises(ValueError):
        walking_base_decision([], ())
