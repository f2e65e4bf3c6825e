"""Half-rate cadence on flight-less ("grounded") jogs and the slow walk it must not be confused with (issue 16,
FINDINGS 2 and 3), on signals from a physical gait model (bench/gait_model.py: Alexander & Jayes leg forces,
stride-periodic sway) at several rates, placements (amplitude) and mountings (rotation)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from bench.gait_model import gait, rotation
from coach.signal import GaitAnalysis, StreamingGaitEstimator
from coach.signal.cadence import AcfStepPeriod
from coach.signal.decision import WalkRunScore
from coach.signal.features import HopFeatures

MOUNTINGS = [(0.0, 0.0, 0.0), (180.0, 0.0, 0.0), (30.0, 60.0, 10.0), (90.0, 20.0, 135.0)]
SKIP_S = 10  # the first seconds fill the ACF window


def _steady(t: np.ndarray, xyz: np.ndarray) -> list:
    return StreamingGaitEstimator().feed_acc(t, xyz)[SKIP_S:]


@pytest.mark.parametrize("cadence_spm", [75.0, 82.0, 90.0])
@pytest.mark.parametrize("placement", [0.6, 1.0])
@pytest.mark.parametrize("mounting", MOUNTINGS[:3])
def test_slow_walk_keeps_its_rate_and_walk(cadence_spm: float, placement: float, mounting: tuple) -> None:
    t, xyz = gait(
        cadence_spm=cadence_spm, duty_factor=0.62, q=0.4, placement=placement, mounting_deg=mounting, seed=1
    )
    seconds = _steady(t, xyz)
    assert all(s.mode == "walk" for s in seconds)
    cad = np.array([s.cadence_spm for s in seconds])
    assert np.all(np.abs(cad - cadence_spm) < 1.0)


@pytest.mark.parametrize("fs_hz", [50.0, 100.0, 200.0])
@pytest.mark.parametrize("cadence_spm", [155.0, 165.0, 175.0])
@pytest.mark.parametrize("placement", [0.5, 1.0])
@pytest.mark.parametrize("asymmetry", [0.0, 0.3])
def test_grounded_jog_keeps_its_rate_and_is_run(
    fs_hz: float, cadence_spm: float, placement: float, asymmetry: float
) -> None:
    mounting = MOUNTINGS[int(cadence_spm) % len(MOUNTINGS)]
    t, xyz = gait(
        cadence_spm=cadence_spm,
        duty_factor=0.56,
        q=0.05,
        fs_hz=fs_hz,
        placement=placement,
        mounting_deg=mounting,
        asymmetry=asymmetry,
        seed=2,
    )
    seconds = _steady(t, xyz)
    hops = [s.features.hop for s in seconds]
    # grounded: no flight phase (the trunk never near free fall), no running impact
    assert all(h.flight_fraction == 0.0 and h.vertical_low_g > 0.3 for h in hops)
    assert all(h.vertical_high_g - h.vertical_low_g < 1.7 for h in hops)
    assert all(s.mode == "run" for s in seconds)
    cad = np.array([s.cadence_spm for s in seconds])
    assert np.all(np.abs(cad - cadence_spm) < 1.0)


def _horizontal_acf(xyz: np.ndarray, n_lags: int) -> np.ndarray:
    """The normalised ACF of the horizontal vector (gravity along the mean), summed over the sensor axes."""
    g = xyz.mean(axis=0)
    u = g / np.linalg.norm(g)
    d = xyz - g
    h = d - np.outer(d @ u, u)
    r = np.array([np.sum(h[: h.shape[0] - k] * h[k:]) / (h.shape[0] - k) for k in range(n_lags)])
    return (r / r[0])[None, :]


@pytest.mark.parametrize("cadence_spm", [78.0, 84.0, 90.0])
@pytest.mark.parametrize("mounting", MOUNTINGS)
def test_the_horizontal_stride_tells_a_step_from_a_within_step_harmonic(
    cadence_spm: float, mounting: tuple
) -> None:
    """A slow walk's step lag L: the stride (sway) at 2 L; its heel-strike/push-off harmonic L / 2: at 4 x that."""
    fs = 100
    _, xyz = gait(cadence_spm=cadence_spm, duty_factor=0.62, q=0.4, fs_hz=fs, mounting_deg=mounting, seed=3)
    step_lag = 60.0 / cadence_spm * fs
    acf = _horizontal_acf(xyz[: 5 * fs], 5 * fs - 100)
    piece = AcfStepPeriod()
    score = WalkRunScore()
    at_2x, at_4x = piece.stride_evidence(acf, np.array([step_lag]))
    steady = [math.nan] * 3 + [0.9] + [math.nan] * 7  # confidence 0.9, the rest unused
    as_step = HopFeatures(*steady, stride_at_2x=float(at_2x[0]), stride_at_4x=float(at_4x[0]))
    assert score.step_verified(as_step)
    at_2x, at_4x = piece.stride_evidence(acf, np.array([step_lag / 2]))
    as_harmonic = HopFeatures(*steady, stride_at_2x=float(at_2x[0]), stride_at_4x=float(at_4x[0]))
    assert not score.step_verified(as_harmonic)
    assert at_4x[0] >= score.harmonic_evidence_r
    # the decision: a walking-like second at twice the walking rate is halved only when it is a harmonic
    assert score.walking_harmonic(-1.0, 2 * cadence_spm, as_harmonic)
    assert not score.walking_harmonic(-1.0, 2 * cadence_spm, as_step)


def hop_features(
    at_2x: float, at_4x: float, *, low_g: float = 0.6, high_g: float = 1.7, confidence: float = 0.8
) -> HopFeatures:
    """One hop's features at a 165 steps/min rhythm with the given stride evidence and impacts (also used by
    tests/test_signal_walking_level.py)."""
    return HopFeatures(
        period_s=60.0 / 165.0,
        double_period_s=120.0 / 165.0,
        asymmetry=0.0,
        confidence=confidence,
        band_std_g=0.2,
        valid_window_s=5.0,
        valid_fraction=1.0,
        dynamic_rms_g=0.2,
        hop_rms_g=0.2,
        vertical_high_g=high_g,
        vertical_low_g=low_g,
        flight_fraction=0.0,
        stride_at_2x=at_2x,
        stride_at_4x=at_4x,
    )


@pytest.mark.parametrize(
    ("at_2x", "at_4x", "verified"),
    [
        (0.5, 0.0, True),
        (0.5, 0.4, False),
        (0.05, 0.0, False),
        (math.nan, math.nan, False),
        (0.5, math.nan, False),
    ],
)
def test_step_verified_and_the_grounded_run(at_2x: float, at_4x: float, verified: bool) -> None:
    score = WalkRunScore()
    f = hop_features(at_2x, at_4x)
    assert score.step_verified(f) is verified
    # no evidence: the old rule (a walking-like second above the walking limit is a harmonic)
    assert score.walking_harmonic(-1.0, 165.0, f) is not verified
    z = score.score(f, 165.0, None, verified_step=score.step_verified(f))
    assert (z > 0) is verified  # a verified step rate above the walking limit is a run without flight
    # below the walking limit the verified step changes nothing
    assert score.score(f, 140.0, None, verified_step=True) == score.score(f, 140.0, None)


def test_a_weak_rhythm_verifies_no_step() -> None:
    """Below the ACF confidence where the period is unreliable (a hesitant walk), no step is verified."""
    score = WalkRunScore()
    assert score.step_verified(hop_features(0.5, 0.0, confidence=score.verify_min_confidence))
    assert not score.step_verified(hop_features(0.5, 0.0, confidence=score.verify_min_confidence - 0.01))


def test_grounded_jog_streaming_equals_batch() -> None:
    t1, x1 = gait(cadence_spm=85.0, duty_factor=0.62, q=0.4, duration_s=20.0, fs_hz=130.0, seed=4)
    t2, x2 = gait(
        cadence_spm=168.0, duty_factor=0.55, q=0.0, duration_s=20.0, fs_hz=130.0, asymmetry=0.3, seed=5
    )
    t = np.concatenate([t1, t2 + 20.0])
    xyz = np.concatenate([x1, x2])
    batch = StreamingGaitEstimator().feed_acc(t, xyz)
    rng = np.random.default_rng(6)
    for sizes in (np.array([1]), rng.integers(1, 300, 40)):
        est = StreamingGaitEstimator()
        live = []
        i = k = 0
        while i < t.size:
            n = int(sizes[k % sizes.size])
            live.extend(est.feed_acc(t[i : i + n], xyz[i : i + n]))
            i += n
            k += 1
        assert live == batch
    assert [s.mode for s in batch[30:]] == ["run"] * len(batch[30:])


@pytest.mark.parametrize("cadence_spm", [78.0, 84.0, 90.0])
@pytest.mark.parametrize("mounting", MOUNTINGS[1:])
def test_a_slow_walk_whose_vertical_locks_onto_the_double_bump_is_halved_back(
    cadence_spm: float, mounting: tuple
) -> None:
    """A placement where the vertical shows mostly the heel-strike and push-off bumps (twice per step): the
    vertical ACF locks onto half the step, a walking-like second above 150 "steps/min"; the horizontal stride at
    four times that lag says it is a harmonic, and the walk keeps its rate and "walk"."""
    _, body = gait(cadence_spm=cadence_spm, duty_factor=0.62, q=0.4, seed=7)
    t = np.arange(body.shape[0]) / 100.0
    f_step = cadence_spm / 60.0
    body[:, 2] = (
        1.0
        + 0.2 * np.cos(2 * np.pi * 2 * f_step * t)
        + 0.03 * np.cos(2 * np.pi * f_step * t)
        + np.random.default_rng(8).normal(0.0, 0.01, t.size)
    )
    xyz = body @ rotation(mounting).T
    every = StreamingGaitEstimator().feed_acc(t, xyz)
    # from its first second: the window cannot yet hold four lags there, which is no evidence of a step (it
    # was read as an ACF of 0 and verified the harmonic, and the pooled evidence then said "run" at 168)
    assert not any(s.mode == "run" for s in every)
    seconds = _steady(t, xyz)
    hops = [s.features.hop for s in seconds]
    assert np.median([60.0 / h.period_s for h in hops]) > 1.8 * cadence_spm  # the lock
    assert all(h.stride_at_4x >= WalkRunScore().harmonic_evidence_r for h in hops)
    assert all(s.mode == "walk" for s in seconds)
    cad = np.array([s.cadence_spm for s in seconds])
    assert np.all(np.abs(cad - cadence_spm) < 1.0)


@pytest.mark.parametrize("cadence_spm", [125.0, 135.0, 145.0])
@pytest.mark.parametrize("placement", [1.0, 1.3])
def test_a_fast_double_humped_walk_keeps_its_rate_after_the_run(cadence_spm: float, placement: float) -> None:
    """A brisk walk whose steps each show two humps of about the same height (heel strike, push-off): the live
    step detector takes some steps at one hump and some at the other, so the detected strides scatter (about
    0.7-1.2 x the true one) while the vertical rhythm is as clear as it gets. After the run the cadence must keep
    the clear rhythm (it read 89-116 steps/min from those strides before), and stay a walk."""
    t, xyz = gait(cadence_spm=cadence_spm, duty_factor=0.55, q=0.5, placement=placement)
    after = GaitAnalysis().analyze(t, xyz).seconds_[SKIP_S:-3]
    live = GaitAnalysis(estimator="live").analyze(t, xyz).seconds_[SKIP_S:-3]
    assert all(s.mode == "walk" for s in after + live)
    for seconds in (after, live):
        cad = np.array([s.cadence_spm for s in seconds])
        assert np.all(np.abs(cad - cadence_spm) < 1.0)


def test_pooled_evidence_averages_the_recent_seconds_at_the_same_period() -> None:
    """One second's horizontal ACF is noisy: the stride evidence is pooled over the last ``evidence_window_s``
    at the same step period, so a second that fails alone inside a verified jog is verified, while a slow walk's
    harmonic (failing at every second) stays unverified and a second at another period is not pooled with it."""
    score = WalkRunScore()
    strong, weak = hop_features(0.3, 0.0), hop_features(0.02, 0.35)
    assert score.step_verified(strong) and not score.step_verified(weak)
    for t in range(4):
        score.pooled_evidence(float(t), strong)
    pooled = score.pooled_evidence(4.0, weak)
    assert pooled == pytest.approx(((4 * 0.3 + 0.02) / 5, 0.35 / 5))
    assert score.step_verified(weak, pooled)
    # long after: the strong seconds are out of the window
    assert score.pooled_evidence(4.0 + score.evidence_window_s, weak) == pytest.approx((0.02, 0.35))
    # another step period (a walk at half the rate) does not pool with them
    other = replace(weak, period_s=weak.period_s * 1.2)
    assert score.pooled_evidence(5.0 + score.evidence_window_s, other) == pytest.approx((0.02, 0.35))
    # a harmonic at every second stays a harmonic
    walk = WalkRunScore()
    assert not any(walk.step_verified(weak, walk.pooled_evidence(float(t), weak)) for t in range(20))
    # a second without evidence has none pooled either, and does not enter the pool
    assert all(math.isnan(v) for v in walk.pooled_evidence(100.0, hop_features(math.nan, math.nan)))
    assert walk.pooled_evidence(100.5, weak) == pytest.approx((0.02, 0.35))


def test_a_real_chest_jog_made_flight_less_keeps_its_rate() -> None:
    """Subject 008's treadmill jog (tests/data) made flight-less and asymmetric as bench.variants does (the
    dynamic part 0.4 x, alternate steps 1 +- 0.15: FINDINGS 2, an older adult's slow jog). One second's stride
    evidence fails now and then, for up to 5 s in a row. Before the evidence was pooled, live and after the run
    halved 25 of the jog's 64 seconds to about 78 "steps/min" (live called them walk, after the run 37 seconds);
    with the pool alone, live still halved 8 (a run of weak evidence longer than its trailing pool bridges), which
    the hold of a verified step at the same period removes. Now neither halves any, and after the run all 64
    seconds are "run"."""
    from bench.datasets import load_hexoskin
    from bench.variants import altered
    from tests.realdata import HEXOSKIN_DIR

    (rec,) = [r for r in load_hexoskin(HEXOSKIN_DIR) if r.name == "008"]
    (grounded,) = altered([rec], "grounded jog (0.4x, asymmetric)")
    (run,) = [s for s in rec.segments if s.label == "run"]
    dev = rec.device_steps_s[(rec.device_steps_s >= run.start_s) & (rec.device_steps_s < run.end_s)]
    rate = 60.0 * (dev.size - 1) / (dev[-1] - dev[0])
    half = {}
    for estimator in ("after-run", "live"):
        timeline = GaitAnalysis(estimator=estimator).analyze(grounded.t_s, grounded.xyz_g).timeline_
        jog = [x for x in timeline if run.start_s + 5.0 <= x["t"] < run.end_s - 1.0]
        cad = np.array([math.nan if x["cadence_spm"] is None else x["cadence_spm"] for x in jog])
        assert cad.size == 64 and np.all(np.isfinite(cad))
        half[estimator] = int(np.sum(cad <= 0.75 * rate))
        if estimator == "after-run":
            assert all(x["mode"] == "run" for x in jog)
    assert half == {"after-run": 0, "live": 0}


def test_a_verified_step_is_held_at_the_same_period_for_the_pool_window_only() -> None:
    """After a step verified by the pooled evidence of two seconds or more, a second at the same step period whose
    own and pooled evidence both fail keeps the verdict for ``evidence_window_s`` after the last such second; not
    at another period, not longer; one second verified alone starts no hold, and a slow walk's harmonic, never
    verified, is never held."""
    score = WalkRunScore()
    strong, weak = hop_features(0.3, 0.0), hop_features(-0.3, 0.6)
    assert score.verify_step(0.0, strong) and score.verify_step(1.0, strong)
    assert all(score.verify_step(float(t), weak) for t in range(2, 7))  # the pool, then the hold
    assert not score.verify_step(2.0 + score.evidence_window_s, weak)  # the hold has expired
    score = WalkRunScore()
    assert score.verify_step(0.0, strong) and score.verify_step(1.0, strong)
    assert not score.verify_step(2.0, replace(weak, period_s=weak.period_s * 1.2))  # another rhythm
    alone = WalkRunScore()
    assert alone.verify_step(0.0, strong)
    assert not alone.verify_step(
        1.0, hop_features(-1.0, 2.0)
    )  # the pool fails, and one second started no hold
    walk = WalkRunScore()
    assert not any(walk.verify_step(float(t), weak) for t in range(30))


def test_the_hard_zone_script_reproduces_findings_3_on_the_model() -> None:
    """bench.hard_zone: a big double-humped fast walk reads "run" and a damped slow jog reads "walk" (the rule's
    known boundary, FINDINGS 3; bench/RESULTS.md "The hard zone"), while a moderate fast walk is a walk and a jog
    with flight a run. If the run rule learns to tell them apart, this test says so and the docs must change."""
    from bench.hard_zone import case

    big_walk = case("walk", 135.0, 0.56, 0.6, 2.0)
    walk = case("walk", 135.0, 0.55, 0.5, 1.0)
    damped_jog = case("jog", 136.0, 0.45, 0.0, 0.8)
    jog = case("jog", 136.0, 0.42, 0.0, 1.0)
    assert big_walk["range_g"] > 1.7 and big_walk["min_g"] < 0.05
    assert big_walk["after-run run %"] == 100.0 and damped_jog["after-run run %"] == 0.0
    assert walk["after-run run %"] == 0.0 and jog["after-run run %"] == 100.0
    assert all(
        abs(c["after-run cadence"] - c["cadence_spm"]) < 0.5 for c in (big_walk, walk, damped_jog, jog)
    )
