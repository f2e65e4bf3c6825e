"""The run score reads the impacts against the wearer's own walking (issue 16, FINDINGS 3): a sensor that sees the
same gait with bigger impacts (nearer the hip, a softer mounting, another gain) must not call brisk walking "run".
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import metrics as M
from bench.datasets import load_hexoskin
from bench.variants import impacts
from coach.signal import GaitAnalysis
from coach.signal.decision import WalkRunScore
from coach.signal.features import HopFeatures
from tests.realdata import HEXOSKIN_DIR
from tests.test_signal_grounded import hop_features


def _features(high_g: float, low_g: float) -> HopFeatures:
    """A second in gait with these robust extremes of the vertical acceleration (no stride evidence)."""
    return hop_features(math.nan, math.nan, low_g=low_g, high_g=high_g)


def test_the_walking_level_is_learned_from_plain_walking_only_and_scales_the_impacts_down_only() -> None:
    score = WalkRunScore()
    walk = _features(1.8, 0.3)  # a range of 1.5 g: a hot sensor's walking
    assert score.range_scale() == 1.0  # nothing learned: the impacts as they are
    score.learn_walking_range(walk, 150.0, -1.0)  # a fast walk's impacts are not the level
    score.learn_walking_range(walk, 110.0, 0.5)  # nor a second that looks like running
    assert score.walking_range_g_ is None
    score.learn_walking_range(walk, 110.0, -1.0)
    assert score.walking_range_g_ == pytest.approx(1.5)
    assert score.range_scale() == pytest.approx(score.walk_range_g / 1.5)
    # the range and the minimum's depth below 1 g shrink by that factor: the same second scores lower...
    fresh = WalkRunScore()
    brisk = _features(2.1, 0.1)
    assert score.score(brisk, 135.0, None) < 0.0 < fresh.score(brisk, 135.0, None)
    # ...while a run's impacts still read as a run
    assert score.score(_features(3.2, 0.0), 160.0, None) > 0.0
    # a walking level at or below walk_range_g changes nothing, and the factor has a floor
    calm = WalkRunScore()
    calm.learn_walking_range(_features(1.6, 0.7), 110.0, -1.0)
    assert calm.range_scale() == 1.0
    wild = WalkRunScore()
    wild.learn_walking_range(_features(4.0, 0.0), 110.0, -1.0)
    assert wild.range_scale() == wild.min_range_scale
    off = WalkRunScore(walk_range_g=math.inf)
    off.learn_walking_range(walk, 110.0, -1.0)
    assert off.range_scale() == 1.0


@pytest.fixture(scope="module")
def chest() -> list:
    return load_hexoskin(HEXOSKIN_DIR)


@pytest.mark.parametrize("estimator", ["after-run", "live"])
def test_bigger_impacts_do_not_turn_real_chest_walking_into_running(chest: list, estimator: str) -> None:
    """Both chest recordings of tests/data (walking, a treadmill jog) with the dynamic part of the acceleration
    x1.6 (bench.variants, "impacts"): with fixed impact pivots a third or more of the labelled walking seconds
    read "run"; read against the wearer's walking level, at most 1 %, and the jogs stay runs (95 % of their
    seconds, the walk->run change called within the live target of 4 s)."""
    for rec in chest:
        hot = impacts(1.6)(rec)
        share = {}
        for rule, params in (("level", {}), ("fixed", {"walk_range_g": math.inf})):  # fixed: the rule before
            timeline = GaitAnalysis(estimator=estimator, **params).analyze(hot.t_s, hot.xyz_g)
            t = np.array([x["t"] for x in timeline.timeline_])
            mode = np.array([x["mode"] for x in timeline.timeline_])
            label = M.label_at(rec.segments, t - rec.t_s[0] + 0.5)
            walking, running = label == "walk", label == "run"
            assert walking.sum() > 300 and running.sum() > 40
            share[rule] = 100.0 * float(np.mean(mode[walking] == "run"))
            assert np.mean(mode[running] == "run") >= 0.95, (rec.name, rule)
            latencies = M.transition_latencies(rec.transitions, rec.segments, t - rec.t_s[0], mode)
            assert all(lat <= 4.0 for _, _, new, lat in latencies if new == "run"), latencies
        assert share["fixed"] >= 30.0 and share["level"] <= 1.0, (rec.name, share)
