"""Handling the strap is not gait (issue 16, FINDINGS 5): the gravity swing and the gait gate's handling rule.

Putting a shirt or strap on or taking it off turns the sensor over and shakes it: erratic "steps" at 150-240/min
with big impacts, which the walk/run score alone reads as running. A runner's trunk stays upright, so a run-like
second whose gravity direction swung by more than ``max_run_swing_deg`` is ``unknown``, live and after the run
(coach.signal.decision.GaitGate.handled). Each test also runs with the rule switched off, so it can fail.
"""

from __future__ import annotations

import math
from dataclasses import astuple, replace

import numpy as np
import pytest

from bench import metrics as M
from bench.datasets import load_hexoskin
from coach.signal import GaitAnalysis, StreamingGaitEstimator
from coach.signal.decision import GaitGate
from coach.signal.features import HopFeatures
from tests.realdata import HEXOSKIN_DIR

FS_HZ = 100.0
#: the rule switched off (a swing no sensor can reach)
NO_GATE = {"max_run_swing_deg": 1e9}


def _shaken(
    *,
    turn_deg: float,
    shake_hz: float = 3.5,
    amp_g: float = 1.0,
    turn_hz: float = 0.3,
    dur_s: float = 30.0,
    fs_hz: float = FS_HZ,
) -> tuple[np.ndarray, np.ndarray]:
    """5 s still, then ``dur_s - 10`` s of vertical shaking at about ``shake_hz`` (its rate wanders by
    +-0.5 Hz) of ``amp_g`` while the sensor turns about its x axis by up to ``turn_deg`` and back at
    ``turn_hz``, then 5 s still. ``turn_deg`` = 0 is an upright bouncing sensor: a run-like signal."""
    t = np.arange(0.0, dur_s, 1.0 / fs_hz)
    on = (t >= 5.0) & (t < dur_s - 5.0)
    theta = np.radians(turn_deg) * np.sin(2 * np.pi * turn_hz * (t - 5.0)) * on
    phase = 2 * np.pi * np.cumsum(shake_hz + 0.5 * np.sin(2 * np.pi * 0.23 * t)) / fs_hz
    rng = np.random.default_rng(0)
    world = np.stack(
        [0.1 * rng.standard_normal(t.size) * on, np.zeros(t.size), 1.0 + amp_g * np.sin(phase) * on], axis=1
    )
    c, s = np.cos(theta), np.sin(theta)
    sensor = np.stack(
        [world[:, 0], c * world[:, 1] + s * world[:, 2], -s * world[:, 1] + c * world[:, 2]], axis=1
    )
    return t, sensor


def _modes(t: np.ndarray, x: np.ndarray, estimator: str, **params: float) -> list[str]:
    return [s.mode for s in GaitAnalysis(estimator=estimator, **params).analyze(t, x).seconds_]


@pytest.mark.parametrize("estimator", ["live", "after-run"])
@pytest.mark.parametrize(
    ("shake_hz", "fs_hz"), [(3.0, 100.0), (3.5, 100.0), (4.0, 100.0), (3.5, 25.0), (3.5, 52.0)]
)
def test_a_sensor_turned_over_and_shaken_is_not_run(estimator: str, shake_hz: float, fs_hz: float) -> None:
    t, x = _shaken(turn_deg=150.0, shake_hz=shake_hz, fs_hz=fs_hz)
    assert "run" not in _modes(t, x, estimator)
    # the walk/run score alone calls it a run: the handling rule is what keeps it out
    assert _modes(t, x, estimator, **NO_GATE).count("run") >= 10


@pytest.mark.parametrize("estimator", ["live", "after-run"])
@pytest.mark.parametrize("turn_deg", [0.0, 8.0])
def test_an_upright_bouncing_sensor_is_still_run(estimator: str, turn_deg: float) -> None:
    """The same bounce with the sensor upright (or swaying by a few degrees, as a trunk does) stays a run."""
    t, x = _shaken(turn_deg=turn_deg)
    modes = _modes(t, x, estimator)
    assert modes == _modes(t, x, estimator, **NO_GATE)
    assert modes.count("run") >= 15


def test_gravity_swing_measures_the_turn_of_the_sensor() -> None:
    upright_t, upright = _shaken(turn_deg=0.0)
    turned_t, turned = _shaken(turn_deg=150.0)
    est = StreamingGaitEstimator()
    swing_upright = [s.features.hop.gravity_swing_deg for s in est.feed_acc(upright_t, upright) if s.features]
    est = StreamingGaitEstimator()
    swing_turned = [s.features.hop.gravity_swing_deg for s in est.feed_acc(turned_t, turned) if s.features]
    assert max(swing_upright) < 3.0
    assert max(swing_turned[8:20]) > 60.0


def test_handled_needs_a_run_like_second_and_a_swing() -> None:
    gate = GaitGate(max_run_swing_deg=25.0)
    base = HopFeatures(*([0.5] * 11))
    f = replace(base, flight_fraction=0.2, gravity_swing_deg=40.0)
    assert gate.handled(f, run_score=3.0)
    assert not gate.handled(f, run_score=-3.0)  # walking keeps its call (a walker bends and sits)
    assert not gate.handled(f, run_score=math.nan)
    assert not gate.handled(f, run_score=3.0, running=True)  # a run already reported goes on: a slipped strap
    calm = replace(base, flight_fraction=0.2, gravity_swing_deg=10.0)
    assert not gate.handled(calm, run_score=3.0)


def test_streaming_equals_batch_with_handling() -> None:
    t, x = _shaken(turn_deg=150.0)
    batch = StreamingGaitEstimator().feed_acc(t, x)
    est = StreamingGaitEstimator()
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, t.size), size=40, replace=False))
    streamed = [
        s for a, b in zip([0, *cuts], [*cuts, t.size], strict=True) for s in est.feed_acc(t[a:b], x[a:b])
    ]
    assert streamed == batch
    np.testing.assert_array_equal(  # every feature bit for bit (NaN where no period was found)
        [astuple(s.features.hop) for s in streamed if s.features],
        [astuple(s.features.hop) for s in batch if s.features],
    )


def test_taking_the_shirt_off_is_not_run_on_real_data() -> None:
    """Hexoskin subject 008 takes the shirt off at the end of the recording (last 25 s, unlabelled): the
    signal swings through 150 degrees with 'steps' at 150-220/min. Not run, live or after the run; the labelled
    runs and walks of both subjects keep every call."""
    recs = {r.name: r for r in load_hexoskin(HEXOSKIN_DIR)}
    rec = recs["008"]
    tail = rec.t_s >= rec.t_s[-1] - 25.0
    t, x = rec.t_s[tail], rec.xyz_g[tail]
    for estimator in ("live", "after-run"):
        assert "run" not in _modes(t, x, estimator), estimator
    assert any("run" in _modes(t, x, est, **NO_GATE) for est in ("live", "after-run"))
    for rec in recs.values():
        for estimator in ("live", "after-run"):
            ga = GaitAnalysis(estimator=estimator).analyze(rec.t_s, rec.xyz_g)
            t_s = np.array([row["t"] for row in ga.timeline_])  # as the bench scores them
            mode = np.array([row["mode"] for row in ga.timeline_])
            conf = M.mode_confusion(rec.segments, t_s, mode, margin_s=3.0)
            wrong = sum(v for (lab, got), v in conf.items() if lab in ("walk", "run") and got != lab)
            assert wrong == 0, (rec.name, estimator, conf)
