"""What an activity file is (sensors/readers/sport.py): the decision table, each row a kind of file a runner may
bring. Rows are ``(t_s, steps_per_min, speed_mps)`` as the readers give them."""

from __future__ import annotations

import pytest

from sensors.readers.sport import STEP_CADENCE_RANGE_SPM, decide, describe


def rows(
    cadence: float | None, speed: float | None, n: int = 60
) -> list[tuple[float, float | None, float | None]]:
    return [(float(k), cadence, speed) for k in range(n)]


def ride(n: int = 100) -> list[tuple[float, float | None, float | None]]:
    """85 rpm pedalling (x 2 = 170 'steps/min') at 8 m/s with a fifth of the time coasting."""
    return [(float(k), 0.0 if k % 5 == 0 else 170.0, 8.0) for k in range(n)]


@pytest.mark.parametrize(
    ("sport", "sub", "data", "accept", "reason"),
    [
        ("running", None, rows(170, 3.0), True, None),
        ("running", "trail", rows(160, 2.5), True, None),
        ("running", "track", rows(190, 5.0), True, None),
        ("running", "treadmill", rows(166, None), True, None),
        ("walking", None, rows(112, 1.3), True, None),
        ("hiking", None, rows(100, 1.0), True, None),
        ("fitness_equipment", "treadmill", rows(164, 2.8), True, None),
        ("running", None, [], True, None),  # heart rate only: the caller says what is missing
        ("generic", None, rows(168, 3.0), True, "walking or running"),
        (None, None, rows(120, 1.4), True, "walking or running"),
        ("fitness_equipment", "indoor_rowing", rows(50, None), False, "not walking or running"),
        ("fitness_equipment", "elliptical", rows(130, None), False, "not walking or running"),
        ("cycling", "road", rows(170, 8.0), False, "not walking or running"),
        ("swimming", "lap_swimming", [], False, "not walking or running"),
        ("rowing", None, [], False, "not walking or running"),
        ("training", "strength_training", rows(120, None), False, "not walking or running"),
        ("paddling", None, [], False, "not walking or running"),
        ("stand_up_paddleboarding", None, rows(325, 1.5), False, "not walking or running"),
        # a SUP or anything else written as generic with 162 "strides" = 325 steps/min: not steps
        ("generic", None, rows(325, 1.5), False, "325 steps/min, outside walking and running"),
        # a declared run whose cadence cannot be steps is refused, never reported as is
        ("running", None, rows(330, 3.0), False, "330 steps/min"),
        ("running", None, rows(30, 0.5), False, "30 steps/min"),
        # rides without a sport: coasting, speed, step length
        (None, None, ride(), False, "coasting"),
        (None, None, rows(170, 8.0), False, "faster than anyone runs"),
        (None, None, rows(120, 5.0), False, "m long"),
        # no cadence at all: nothing says it was on foot
        ("generic", None, rows(None, 3.0), False, "no step cadence"),
    ],
)
def test_the_decision_table(
    sport: str | None, sub: str | None, data: list, accept: bool, reason: str | None
) -> None:
    verdict = decide(sport, sub, data)
    assert verdict.accept is accept, verdict
    if reason is not None:
        assert verdict.reason is not None and reason in verdict.reason, verdict.reason
    if not accept:
        assert "coach analyses walking and running" in (verdict.reason or "")


def test_a_transition_leg_is_skipped_not_refused() -> None:
    verdict = decide("transition", None, [])
    assert verdict.skip and not verdict.accept


def test_a_bike_computer_file_is_a_ride_whatever_it_says() -> None:
    verdict = decide("generic", None, rows(170, 3.0), product="edge500")
    assert not verdict.accept and "bike computer" in (verdict.reason or "")


def test_names() -> None:
    assert describe("fitness_equipment", "indoor_rowing") == "a fitness equipment activity (indoor rowing)"
    assert describe("running", "generic") == "a running activity"
    assert describe(None, None) == "an activity without a sport"
    assert describe("e_biking", None) == "an e biking activity"
    assert STEP_CADENCE_RANGE_SPM == (40.0, 240.0)
