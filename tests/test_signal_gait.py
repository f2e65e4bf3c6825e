"""The streaming gait estimator and the batch analysis, on synthetic signals of known step frequency.

The synthetic gait (:func:`gait_signal`) is a vertical acceleration with the step frequency, a stride
component (left/right asymmetry, as a chest strap sees it), harmonics and noise, plus small horizontal
sways; running adds an impact peak and a near-free-fall flight phase. It is rotated to a random strap
orientation and sampled at a given rate with jitter, drift and gaps.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any

import numpy as np
import pytest

from coach.signal import GaitAnalysis, GaitSecond, StreamingGaitEstimator, device_cadence_timeline
from coach.signal.cadence import AcfStepPeriod, FootPodBlend, StepRateCadence
from coach.signal.decision import GaitGate, ModeHysteresis, WalkRunScore
from coach.signal.features import GaitFeatures, HopFeatureExtractor, HopFeatures, HopFeatureTable
from coach.signal.offline import AfterRunEstimator
from coach.signal.steps import StepDetector


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def gait_signal(
    *,
    fs_hz: float = 100.0,
    duration_s: float = 60.0,
    cadence_spm: float = 110.0,
    run: bool = False,
    noise_g: float = 0.02,
    stride_g: float = 0.12,
    rotate: bool = True,
    jitter_s: float = 0.0,
    t_start_s: float = 12.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(t_s, xyz_g) of steady walking or running at ``cadence_spm`` steps/min (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * fs_hz)
    t = np.arange(n) / fs_hz
    if jitter_s:
        t = t + rng.uniform(-jitter_s, jitter_s, n)
        t.sort()
    ph = 2 * np.pi * cadence_spm / 60.0 * t
    if run:
        # impact + push-off half cycle, flight (vertical near -1 g dynamic) the other half
        v = 2.3 * np.maximum(0.0, np.sin(ph)) ** 2 - 0.6 + 0.1 * np.sin(ph / 2)
    else:
        v = 0.3 * np.sin(ph) + stride_g * np.sin(ph / 2 + 0.4) + 0.08 * np.sin(2 * ph + 1.0)
    xyz = np.stack([0.08 * np.sin(ph / 2), 0.12 * np.sin(ph + 0.5), 1.0 + v], axis=1)
    xyz += noise_g * rng.standard_normal(xyz.shape)
    if rotate:
        xyz = xyz @ random_rotation(rng).T
    return t + t_start_s, xyz


def standing(
    *, fs_hz: float = 100.0, duration_s: float = 30.0, t_start_s: float = 0.0, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(duration_s * fs_hz)
    t = t_start_s + np.arange(n) / fs_hz
    g = random_rotation(rng) @ np.array([0.0, 0.0, 1.0])
    return t, np.tile(g, (n, 1)) + 0.004 * rng.standard_normal((n, 3))


def steady(seconds: list[GaitSecond], skip: int = 6) -> list[GaitSecond]:
    return seconds[skip:-1]


def cadences(seconds: list[GaitSecond]) -> np.ndarray:
    return np.array([s.cadence_spm if s.cadence_spm is not None else np.nan for s in seconds])


# ----------------------------------------------------------------------------------------------- cadence


@pytest.mark.parametrize("fs_hz", [25.0, 50.0, 100.0, 200.0])
@pytest.mark.parametrize("cadence_spm", [75.0, 105.0, 128.0])
def test_walking_cadence_at_any_rate_and_orientation(fs_hz: float, cadence_spm: float) -> None:
    t, xyz = gait_signal(fs_hz=fs_hz, cadence_spm=cadence_spm, duration_s=40, seed=int(fs_hz + cadence_spm))
    ga = GaitAnalysis().analyze(t, xyz)
    got = cadences(steady(ga.seconds_))
    assert np.isfinite(got).all()
    assert np.median(np.abs(got - cadence_spm)) < 0.5
    assert np.max(np.abs(got - cadence_spm)) < 2.0
    assert {s.mode for s in steady(ga.seconds_)} == {"walk"}
    assert ga.sampling_rate_hz_ == pytest.approx(fs_hz, rel=1e-3)


@pytest.mark.parametrize("noise_g", [0.0, 0.05, 0.15])
def test_cadence_under_noise(noise_g: float) -> None:
    t, xyz = gait_signal(cadence_spm=112.0, noise_g=noise_g, duration_s=40, seed=3)
    got = cadences(steady(GaitAnalysis().analyze(t, xyz).seconds_))
    assert np.median(np.abs(got - 112.0)) < 1.0


@pytest.mark.parametrize("stride_g", [0.0, 0.15, 0.3])
@pytest.mark.parametrize("cadence_spm", [80.0, 118.0, 135.0])
def test_reports_step_rate_not_stride_rate_even_with_strong_asymmetry(
    stride_g: float, cadence_spm: float
) -> None:
    """Chest signals carry a stride component (left/right asymmetry, a limp); at 0.3 g it equals the step
    component and the ACF at the step lag is about 0: cadence must still be steps, one event per step."""
    t, xyz = gait_signal(cadence_spm=cadence_spm, stride_g=stride_g, duration_s=30, seed=4)
    ga = GaitAnalysis().analyze(t, xyz)
    got = cadences(steady(ga.seconds_, skip=8))  # the strongest asymmetry takes a few seconds to lock on
    assert np.median(got) == pytest.approx(cadence_spm, abs=1.0)
    steps = np.asarray(ga.steps_)
    inside = steps[(steps >= 3.0) & (steps < 28.0)]
    assert inside.size >= 0.85 * cadence_spm / 60.0 * 25.0


@pytest.mark.parametrize("cadence_spm", [135.0, 160.0, 185.0])
def test_running_cadence_and_mode(cadence_spm: float) -> None:
    t, xyz = gait_signal(cadence_spm=cadence_spm, run=True, duration_s=30, seed=5)
    sec = steady(GaitAnalysis().analyze(t, xyz).seconds_)
    assert {s.mode for s in sec} == {"run"}
    assert np.median(np.abs(cadences(sec) - cadence_spm)) < 0.5


def test_fast_walking_stays_walk_and_slow_jog_is_run() -> None:
    """Cadence alone cannot decide: 138 steps/min walking is walk, 138 steps/min jogging (impacts) is run."""
    tw, xw = gait_signal(cadence_spm=138.0, duration_s=30, seed=6)
    tr, xr = gait_signal(cadence_spm=138.0, run=True, duration_s=30, seed=6)
    assert {s.mode for s in steady(GaitAnalysis().analyze(tw, xw).seconds_)} == {"walk"}
    assert {s.mode for s in steady(GaitAnalysis().analyze(tr, xr).seconds_)} == {"run"}


def hesitant_walk(
    seed: int, *, n_steps: int = 70, mean_step_s: float = 0.6, spread: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t_s, xyz_g, step_times_s): one loading pulse per step, step intervals spread +-``spread`` at random
    (a hesitant, irregular walker: no clean rhythm for the autocorrelation to lock onto)."""
    rng = np.random.default_rng(seed)
    steps = 5.0 + np.cumsum(mean_step_s * (1.0 + spread * rng.uniform(-1.0, 1.0, n_steps)))
    t = np.arange(0.0, steps[-1] + 5.0, 0.01)
    v = np.zeros_like(t)
    for s in steps:
        v += 0.5 * np.exp(-0.5 * ((t - s - 0.06) / 0.05) ** 2) - 0.2 * np.exp(
            -0.5 * ((t - s - 0.25) / 0.1) ** 2
        )
    xyz = np.stack([np.zeros_like(t), np.zeros_like(t), 1.0 + v], axis=1) + 0.02 * rng.standard_normal(
        (t.size, 3)
    )
    return t, xyz, steps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_irregular_steps_cadence_follows_the_steps(seed: int) -> None:
    t, xyz, steps = hesitant_walk(seed)
    true_spm = 60.0 * (steps.size - 1) / (steps[-1] - steps[0])
    ga = GaitAnalysis(estimator="live").analyze(t, xyz)
    sec = [s for s in ga.seconds_ if steps[0] + 6.0 <= s.t <= steps[-1] - 1.0]
    got = cadences(sec)
    assert np.isfinite(got).all()
    assert abs(float(np.mean(got)) - true_spm) < 2.5
    # the weak rhythm is measured as such, and the cadence then comes from the step events
    weak = [s for s in sec if s.confidence < 0.6]
    assert weak and all(
        s.features is not None and s.features.cadence_steps_spm is not None for s in weak[len(weak) // 2 :]
    )
    live = _stream(t, xyz, np.random.default_rng(seed).integers(1, 250, 40))
    assert live == ga.seconds_  # the step-based path is as block-invariant as the rest
    # after the run: the same steps, read in centred windows, give the cadence within the same bound
    after = cadences(
        [s for s in GaitAnalysis().analyze(t, xyz).seconds_ if steps[0] + 6.0 <= s.t <= steps[-1] - 1.0]
    )
    assert np.isfinite(after).all()
    assert abs(float(np.mean(after)) - true_spm) < 2.5


def test_rate_drift_and_jitter() -> None:
    """A nominal 100 Hz stream that really runs at 100.3 Hz, with +-2 ms jitter: times come from t, not fs."""
    t, xyz = gait_signal(fs_hz=100.3, cadence_spm=104.0, jitter_s=0.002, duration_s=40, seed=7)
    got = cadences(steady(GaitAnalysis().analyze(t, xyz).seconds_))
    assert np.median(np.abs(got - 104.0)) < 0.5


# ----------------------------------------------------------------------------------------------- steps


@pytest.mark.parametrize(("cadence_spm", "run"), [(90.0, False), (115.0, False), (165.0, True)])
def test_one_step_event_per_step(cadence_spm: float, run: bool) -> None:
    t, xyz = gait_signal(cadence_spm=cadence_spm, run=run, duration_s=40, seed=8)
    ga = GaitAnalysis().analyze(t, xyz)
    steps = np.asarray(ga.steps_)  # seconds from the first sample
    inside = steps[(steps >= 2.0) & (steps < 37.0)]
    assert inside.size == pytest.approx(cadence_spm / 60.0 * 35.0, abs=1.5)
    iv = np.diff(inside)
    assert np.all(np.abs(iv - 60.0 / cadence_spm) < 0.1 * 60.0 / cadence_spm)
    assert np.all(np.diff(steps) > 0)


def test_step_events_sit_on_the_rising_edge_before_the_loading_peak() -> None:
    """The documented landmark: where the vertical acceleration, rising towards its peak after initial contact,
    crosses half the peak height (between the zero crossing, lowest vertical velocity, and the peak)."""
    cad = 100.0
    t, xyz = gait_signal(cadence_spm=cad, stride_g=0.0, noise_g=0.0, rotate=False, duration_s=30, t_start_s=0)
    steps = np.asarray(GaitAnalysis().analyze(t, xyz).steps_)
    period = 60.0 / cad
    ph = np.linspace(-np.pi, np.pi, 200001)
    v = 0.3 * np.sin(ph) + 0.08 * np.sin(2 * ph + 1.0)
    i_peak = int(np.argmax(v))
    i_half = i_peak - int(np.argmax(v[:i_peak][::-1] < 0.5 * v[i_peak]))
    expected = np.mod(ph[i_half] / (2 * np.pi) * period, period)
    offsets = np.mod(steps - expected + period / 2, period) - period / 2
    assert np.median(np.abs(offsets)) < 0.04
    assert np.all(np.abs(offsets[3:-3]) < 0.06)


# ----------------------------------------------------------------------------------------------- still, gaps


def test_standing_is_still_with_no_cadence_and_no_steps() -> None:
    t, xyz = standing(duration_s=30)
    ga = GaitAnalysis().analyze(t, xyz)
    assert {s.mode for s in ga.seconds_[3:]} == {"still"}
    assert all(s.cadence_spm is None for s in ga.seconds_)
    assert ga.steps_ == []


def test_still_walk_still_transitions_are_quick() -> None:
    t1, x1 = standing(duration_s=20, seed=9)
    t2, x2 = gait_signal(duration_s=30, t_start_s=20.0, cadence_spm=110, seed=9)
    t3, x3 = standing(duration_s=20, t_start_s=50.0, seed=9)
    t = np.concatenate([t1, t2, t3])
    xyz = np.concatenate([x1, x2, x3])
    ga = GaitAnalysis().analyze(t, xyz)
    modes = [r["mode"] for r in ga.timeline_]
    first_walk = modes.index("walk")
    assert 20 <= first_walk <= 23
    last_walk = len(modes) - 1 - modes[::-1].index("walk")
    assert 49 <= last_walk <= 52
    assert modes[-10:] == ["still"] * 10


def test_long_gap_resets_and_reports_unknown() -> None:
    t, xyz = gait_signal(duration_s=60, cadence_spm=110, seed=10, t_start_s=0.0)
    keep = (t < 25.0) | (t >= 33.0)
    ga = GaitAnalysis().analyze(t[keep], xyz[keep])
    by_t = {round(r["t"]): r for r in ga.timeline_}
    assert by_t[20]["mode"] == "walk"
    # held for gap_hold_s (3 s), then unknown until the signal is back
    assert [by_t[k]["mode"] for k in range(25, 33)] == ["walk"] * 3 + ["unknown"] * 5
    assert all(by_t[k]["cadence_spm"] is None for k in range(28, 33))
    assert by_t[40]["mode"] == "walk"
    assert not any(25.0 < s < 33.0 for s in ga.steps_)


def test_short_gap_holds_mode_and_cadence_without_confidence() -> None:
    """A lost notification or a quick reconnect (<= 3 s) does not stop the walk; no steps are made up."""
    t, xyz = gait_signal(duration_s=60, cadence_spm=110, seed=10, t_start_s=0.0)
    keep = (t < 25.0) | (t >= 28.0)
    ga = GaitAnalysis().analyze(t[keep], xyz[keep])
    by_sec = {round(s.t): s for s in ga.seconds_}
    for k in range(20, 45):
        assert by_sec[k].mode == "walk", k
        assert by_sec[k].cadence_spm == pytest.approx(110, abs=2), k
    assert [by_sec[k].confidence for k in (25, 26, 27)] == [0.0, 0.0, 0.0]
    assert not any(25.0 < s < 28.0 for s in ga.steps_)


def test_mode_does_not_flicker() -> None:
    """Alternating walk/run every 20 s: each mode holds as one segment per bout (hysteresis)."""
    pieces_t, pieces_x = [], []
    for k in range(6):
        t, x = gait_signal(
            duration_s=20,
            t_start_s=20.0 * k,
            run=bool(k % 2),
            cadence_spm=150 if k % 2 else 120,
            seed=11,
        )
        pieces_t.append(t)
        pieces_x.append(x)
    ga = GaitAnalysis().analyze(np.concatenate(pieces_t), np.concatenate(pieces_x))
    gait_segments = [s for s in ga.segments_ if s["mode"] in ("walk", "run")]
    assert [s["mode"] for s in gait_segments] == ["walk", "run"] * 3
    for k in range(1, 6):  # latency of each change
        change = 20.0 * k
        new = "run" if k % 2 else "walk"
        switched = next(r["t"] for r in ga.timeline_ if r["t"] >= change and r["mode"] == new)
        assert switched - change <= 3.0


# ----------------------------------------------------------------------------------------------- streaming


def _stream(t: np.ndarray, xyz: np.ndarray, sizes: np.ndarray, **params: Any) -> list[GaitSecond]:
    est = StreamingGaitEstimator(**params)
    out: list[GaitSecond] = []
    i = 0
    k = 0
    while i < t.size:
        n = int(sizes[k % sizes.size])
        out.extend(est.feed_acc(t[i : i + n], xyz[i : i + n]))
        i += n
        k += 1
    return out


@pytest.mark.parametrize("fs_hz", [52.0, 130.07, 200.0])
def test_streaming_equals_batch_exactly(fs_hz: float) -> None:
    t1, x1 = gait_signal(fs_hz=fs_hz, duration_s=25, cadence_spm=112, seed=12, t_start_s=3.0)
    t2, x2 = gait_signal(fs_hz=fs_hz, duration_s=25, cadence_spm=158, run=True, seed=12, t_start_s=28.2)
    t = np.concatenate([t1, t2])
    xyz = np.concatenate([x1, x2])
    keep = (t < 20.0) | (t > 21.3)  # a gap
    t, xyz = t[keep], xyz[keep]
    batch = GaitAnalysis(estimator="live").analyze(t, xyz).seconds_
    rng = np.random.default_rng(0)
    for sizes in (np.array([1]), np.array([36]), rng.integers(1, 300, 50)):
        live = _stream(t, xyz, sizes)
        assert live == batch  # dataclass equality: every field, floats bit for bit


def test_emits_once_per_second_of_signal_time() -> None:
    t, xyz = gait_signal(duration_s=10.0, t_start_s=100.0)
    est = StreamingGaitEstimator()
    times = [s.t for k in range(0, t.size, 20) for s in est.feed_acc(t[k : k + 20], xyz[k : k + 20])]
    assert times == pytest.approx([100.0 + k for k in range(9)])  # second 9 needs a sample at or after 110 s


def test_memory_is_bounded() -> None:
    est = StreamingGaitEstimator()
    t, xyz = gait_signal(duration_s=30, cadence_spm=110)
    est.feed_acc(t, xyz)
    size_30 = est._band.size
    for k in range(1, 5):
        est.feed_acc(t + 30.0 * k, xyz)
    assert est._band.size == size_30
    assert len(est._step_detector._recent) <= est._step_detector.max_recent_peaks
    assert len(est._step_rate._history) <= est._step_rate.max_history_steps


def test_out_of_order_and_duplicate_samples_are_dropped() -> None:
    t, xyz = gait_signal(duration_s=20)
    est = StreamingGaitEstimator()
    est.feed_acc(t[:1000], xyz[:1000])
    assert est.feed_acc(t[500:900], xyz[500:900]) == []
    out = est.feed_acc(t[1000:], xyz[1000:])
    assert out and out[0].t == pytest.approx(t[0] + 9.0)


def test_bad_shapes_are_value_errors() -> None:
    est = StreamingGaitEstimator()
    with pytest.raises(ValueError, match="shape"):
        est.feed_acc([0.0, 0.01], [[0, 0, 1]])
    with pytest.raises(ValueError, match="internal_rate_hz"):
        StreamingGaitEstimator(internal_rate_hz=64)
    with pytest.raises(ValueError):
        GaitAnalysis().analyze([0.0], [[0.0, 0.0, 1.0]])


# ----------------------------------------------------------------------------------------------- fusion


def test_foot_pod_reporting_strides_is_doubled_and_fused() -> None:
    t, xyz = gait_signal(duration_s=30, cadence_spm=120.0, seed=13)
    fp = [(float(s), 60.5) for s in np.arange(t[0], t[-1], 1.0)]  # strides/min
    ga = GaitAnalysis().analyze(t, xyz, foot_pod=fp)
    sec = steady(ga.seconds_)
    assert all(s.features is not None and s.features.foot_pod_spm == 121.0 for s in sec)
    got = cadences(sec)
    assert np.all(got > 120.0) and np.all(got < 121.0)


def test_disagreeing_foot_pod_is_ignored() -> None:
    t, xyz = gait_signal(duration_s=30, cadence_spm=120.0, seed=13)
    fp = [(float(s), 95.0) for s in np.arange(t[0], t[-1], 1.0)]
    base = cadences(steady(GaitAnalysis().analyze(t, xyz).seconds_))
    got = cadences(steady(GaitAnalysis().analyze(t, xyz, foot_pod=fp).seconds_))
    assert np.array_equal(base, got)


def test_heart_rate_alone_never_makes_a_run() -> None:
    t, xyz = standing(duration_s=20)
    hr = [(float(s), 175.0) for s in np.arange(0, 20)]
    ga = GaitAnalysis().analyze(t, xyz, heart_rate=hr)
    assert "run" not in {r["mode"] for r in ga.timeline_}
    tw, xw = gait_signal(duration_s=30, cadence_spm=115.0, seed=14)
    hr = [(float(s), 60.0 + 4.0 * (s - tw[0])) for s in np.arange(tw[0], tw[-1], 1.0)]  # climbing to 175
    modes = {s.mode for s in steady(GaitAnalysis().analyze(tw, xw, heart_rate=hr).seconds_)}
    assert modes == {"walk"}


# ----------------------------------------------------------------------------------------------- contract


def test_gait_analysis_follows_the_algorithm_convention() -> None:
    ga = GaitAnalysis(window_s=6.0)
    assert ga.params == {"window_s": 6.0}
    t, xyz = gait_signal(duration_s=12.0)
    assert ga.analyze(t, xyz) is ga
    for name in ("sampling_rate_hz_", "duration_s_", "timeline_", "steps_", "segments_", "summary_"):
        assert hasattr(ga, name)
    assert ga.duration_s_ == pytest.approx(t[-1] - t[0])
    assert [r["t"] for r in ga.timeline_] == [float(k) for k in range(len(ga.timeline_))]
    for row in ga.timeline_:
        assert set(row) == {"t", "cadence_spm", "mode", "confidence"}
        assert row["mode"] in ("walk", "run", "still", "unknown")
        assert 0.0 <= row["confidence"] <= 1.0
    s = ga.summary_
    assert s["seconds_walking"] + s["seconds_running"] + s["seconds_still"] + s["seconds_unknown"] == len(
        ga.timeline_
    )
    assert s["step_count"] == len(ga.steps_)
    assert all(seg["end"] > seg["start"] for seg in ga.segments_)
    with pytest.raises(TypeError):
        GaitAnalysis(no_such_param=1)


def test_device_cadence_path_without_accelerometer() -> None:
    fp = [(float(k), 112.0, 1.3) for k in range(30)] + [(float(k), 166.0, 3.0) for k in range(30, 60)]
    ga = GaitAnalysis().analyze(None, None, foot_pod=fp)
    assert ga.source_ == "device"
    modes = [r["mode"] for r in ga.timeline_]
    assert modes[5:28] == ["walk"] * 23 and modes[33:] == ["run"] * (len(modes) - 33)
    assert ga.steps_ == []
    assert ga.summary_["cadence_run_spm"] == 166.0
    assert not math.isnan(ga.duration_s_)


def test_foot_pod_fusion_covers_a_whole_long_recording() -> None:
    """Batch hands over all readings up front: fusion must work at the start, not only at the end."""
    t, xyz = gait_signal(duration_s=600, cadence_spm=120.0, seed=15)
    fp = [(float(s), 121.0) for s in np.arange(t[0], t[-1], 1.0)]
    sec = GaitAnalysis().analyze(t, xyz, foot_pod=fp).seconds_
    assert (
        sum(s.features is not None and s.features.foot_pod_spm is not None for s in sec[5:-1]) == len(sec) - 6
    )


def test_params_round_trip() -> None:
    est = StreamingGaitEstimator(window_s=6.0, switch_s=3)
    params = est.get_params()
    assert params["window_s"] == 6.0 and params["switch_s"] == 3
    assert StreamingGaitEstimator(**params).get_params() == params


def test_every_parameter_is_documented_with_its_default() -> None:
    """docs/signal.md names every parameter (in backticks) with its default next to it."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "signal.md").read_text(encoding="utf-8")
    flat = " ".join(doc.split())
    for name, value in StreamingGaitEstimator().get_params().items():
        assert f"`{name}`" in doc, f"{name} is not in docs/signal.md"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            after = flat[flat.index(f"`{name}`") :][:160]
            assert f"{value:g}" in after, f"docs/signal.md: {name} default {value:g} not next to its name"


def test_strap_slipping_mid_bout_does_not_break_the_bout() -> None:
    """The strap rotates by 40 degrees within a second: gravity is re-estimated, mode and cadence hold."""
    for run, cad in ((False, 115.0), (True, 160.0)):
        t, x = gait_signal(duration_s=60, cadence_spm=cad, run=run, rotate=False, seed=3, t_start_s=0.0)
        ang = np.deg2rad(40.0) * np.clip(t - 30.0, 0.0, 1.0)
        c, s = np.cos(ang), np.sin(ang)
        slipped = np.stack([x[:, 0], x[:, 1] * c - x[:, 2] * s, x[:, 1] * s + x[:, 2] * c], axis=1)
        sec = steady(GaitAnalysis().analyze(t, slipped).seconds_)
        assert {s.mode for s in sec} == {"run" if run else "walk"}
        assert np.max(np.abs(cadences(sec) - cad)) < 1.0


def test_running_clipped_at_2_g_is_still_running() -> None:
    """A strap left at its 2 G range clips the impacts; flight and cadence still tell it is running."""
    t, x = gait_signal(duration_s=30, cadence_spm=150.0, run=True, seed=0)
    clipped = np.clip(x, -2.0, 2.0)
    assert (clipped != x).any()
    sec = steady(GaitAnalysis().analyze(t, clipped).seconds_)
    assert {s.mode for s in sec} == {"run"}
    assert np.median(np.abs(cadences(sec) - 150.0)) < 0.5


def test_docs_example_runs() -> None:
    """The example in docs/signal.md is executed, so it cannot rot."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "signal.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks
    for code in blocks:
        namespace: dict[str, Any] = {}
        exec(compile(code, "docs/signal.md", "exec"), namespace)
        assert namespace["live"][-1].mode == "walk"
        assert round(namespace["live"][-1].cadence_spm) == 120


def test_a_long_gap_costs_bounded_memory_and_gives_unknown_seconds() -> None:
    """A strap lost for three hours (or a hole in a file): the internal grid across the gap is built a few minutes
    at a time (``GRID_CHUNK_S``), so memory does not grow with the gap (it used to allocate the whole gap at once:
    4 GB for 20 h)."""
    import tracemalloc

    t1, x1 = gait_signal(duration_s=20.0, t_start_s=0.0, seed=1)
    t2, x2 = gait_signal(duration_s=20.0, t_start_s=0.0, seed=2)
    gap_s = 3 * 3600.0
    est = StreamingGaitEstimator()
    out = est.feed_acc(t1, x1)
    tracemalloc.start()
    out += est.feed_acc(t2 + t1[-1] + gap_s, x2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64e6, f"peak {peak / 1e6:.0f} MB for a 3-hour gap"
    seconds = [g.t for g in out]
    assert seconds == sorted(seconds) and len(seconds) == len(set(seconds))
    in_gap = [g for g in out if t1[-1] + 5 < g.t < t1[-1] + gap_s - 2]  # after the 3-s hold
    assert len(in_gap) > 0.99 * (gap_s - 7)
    assert {g.mode for g in in_gap} == {"unknown"}
    assert all(g.cadence_spm is None for g in in_gap)
    # and walking is found again after the gap
    assert any(g.mode == "walk" for g in out if g.t > t1[-1] + gap_s + 8)


@pytest.mark.parametrize("fixture", ["005", "008"])
@pytest.mark.parametrize("fs_hz", [25.0, 200.0])
def test_walk_run_on_real_chest_data_does_not_depend_on_the_sample_rate(fs_hz: float, fixture: str) -> None:
    """The same real walk/jog/walk recording at 25 and 200 Hz gives (nearly) the same walk/run seconds as at its
    own rate (a few seconds at the changes may move)."""
    from fractions import Fraction
    from pathlib import Path

    from scipy.signal import resample_poly

    from coach.signal.io import load_recording

    path = Path(__file__).resolve().parents[1] / "fixtures" / f"chest-walk-jog-walk-hexoskin-{fixture}.jsonl"
    rec = load_recording(path)
    assert rec.t_s is not None and rec.xyz_g is not None
    fs0 = (rec.t_s.size - 1) / (rec.t_s[-1] - rec.t_s[0])
    t0 = np.arange(rec.t_s[0], rec.t_s[-1], 1.0 / round(fs0))
    x0 = np.column_stack([np.interp(t0, rec.t_s, rec.xyz_g[:, i]) for i in range(3)])
    frac = Fraction(fs_hz / round(fs0)).limit_denominator(100)
    x1 = resample_poly(x0, frac.numerator, frac.denominator, axis=0)
    t1 = t0[0] + np.arange(x1.shape[0]) / fs_hz
    base = [r["mode"] for r in GaitAnalysis().analyze(t0, x0).timeline_]
    other = [r["mode"] for r in GaitAnalysis().analyze(t1, x1).timeline_]
    n = min(len(base), len(other))
    assert base.count("run") > 30 and base.count("walk") > 60  # the recording has both
    gait = [k for k in range(n) if base[k] in ("walk", "run")]
    same = sum(base[k] == other[k] for k in gait)
    assert same >= 0.98 * len(gait), f"{len(gait) - same} of {len(gait)} gait seconds change at {fs_hz:g} Hz"


@pytest.mark.parametrize("fs_hz", [25, 50, 100, 200])
def test_sharp_heel_strikes_at_a_high_rate_do_not_make_a_walk_a_run(fs_hz: int) -> None:
    """A walk whose heel strikes are short sharp spikes (which a 200-Hz strap sees and a 25-Hz one smooths
    away) stays a walk at every rate: the impact and flight features are taken from the vertical acceleration
    low-passed at ``feature_lowpass_hz`` (10 Hz, under the 12.5-Hz Nyquist frequency of the lowest rate)."""
    rng = np.random.default_rng(5)
    fine = 1000  # the "true" signal at 1 kHz, then averaged to the strap's rate (its anti-alias filter)
    dur = 40.0
    tf = np.arange(round(dur * fine)) / fine
    step_hz = 112 / 60
    vert = 1.0 + 0.3 * np.sin(2 * np.pi * step_hz * tf)
    phase = (tf * step_hz) % 1.0
    vert += 2.0 * (phase < 0.03 * step_hz)  # a 30-ms 2-g spike at each heel strike
    xf = np.column_stack([0.05 * rng.standard_normal(tf.size), 0.05 * rng.standard_normal(tf.size), vert])
    k = fine // fs_hz
    x = xf[: xf.shape[0] // k * k].reshape(-1, k, 3).mean(axis=1)
    t = np.arange(x.shape[0]) / fs_hz
    modes = [r["mode"] for r in GaitAnalysis().analyze(t, x).timeline_][8:]
    assert modes.count("walk") >= len(modes) - 1 and "run" not in modes


# ---------------------------------------------------------------------- the pieces the estimator composes

PIECES = [AcfStepPeriod, FootPodBlend, StepRateCadence, StepDetector, GaitGate, WalkRunScore, ModeHysteresis]


@pytest.mark.parametrize("piece", [*PIECES, HopFeatureExtractor, AfterRunEstimator], ids=lambda p: p.__name__)
def test_pieces_follow_the_algorithm_convention(piece: type) -> None:
    """gaitmap's convention: ``__init__`` takes keyword-only parameters and only stores them, by name."""
    params = [p for p in inspect.signature(piece.__init__).parameters.values() if p.name != "self"]
    assert params and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    assert all(p.default is not inspect.Parameter.empty for p in params if p.name != "step_period")
    kwargs = {p.name: p.default for p in params}
    if piece is HopFeatureExtractor:
        kwargs["step_period"] = AcfStepPeriod()
    obj = piece(**kwargs)
    assert all(getattr(obj, name) is value for name, value in kwargs.items())


def test_estimator_parameters_reach_its_pieces() -> None:
    """Every estimator parameter a piece also has is handed to it (no piece silently keeps its default)."""
    est_params = StreamingGaitEstimator().get_params()
    changed: dict[str, Any] = {}
    for name, value in est_params.items():
        if isinstance(value, bool) or name in ("internal_rate_hz", "min_cadence_spm", "max_cadence_spm"):
            continue
        if isinstance(value, tuple):
            changed[name] = tuple(v * 1.25 for v in value)
        elif isinstance(value, int):
            changed[name] = value + 1
        else:
            changed[name] = value * 1.25 + 0.01
    changed.update(min_cadence_spm=50.0, max_cadence_spm=230.0)
    est = StreamingGaitEstimator(**changed)
    pieces = [v for v in vars(est).values() if type(v) in PIECES]
    assert {type(p) for p in pieces} == set(PIECES)
    shared = 0
    for piece in pieces:
        for name in inspect.signature(type(piece).__init__).parameters:
            if name in changed:
                assert getattr(piece, name) == changed[name], (type(piece).__name__, name)
                shared += 1
    assert shared >= 20
    assert est._features.window_s == changed["window_s"]


def test_hop_feature_table_rows_are_typed_records() -> None:
    assert HopFeatureTable._fields == tuple(f.name for f in dataclasses.fields(HopFeatures))
    t, xyz = gait_signal(duration_s=20, cadence_spm=120.0)
    sec = GaitAnalysis().analyze(t, xyz).seconds_
    f = sec[-1].features
    assert isinstance(f, GaitFeatures) and isinstance(f.hop, HopFeatures)
    assert f.cadence_acf_spm is not None and abs(f.cadence_acf_spm - 120.0) < 2.0
    assert f.as_dict()["period_s"] == f.hop.period_s


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # leaving unknown takes switch_s (2) agreeing seconds, like any other change
        ("walk walk walk", "unknown walk walk"),
        ("run walk run run", "unknown unknown unknown run"),
        # a one-second blip does not switch
        ("walk walk run walk", "unknown walk walk walk"),
        ("walk walk still still", "unknown walk walk still"),
        # gaps: a walk/run mode is held for gap_hold_s (3) seconds, then unknown; still is not held
        ("walk walk gap gap gap walk", "unknown walk walk walk walk walk"),
        ("walk walk gap gap gap gap", "unknown walk walk walk walk unknown"),
        ("still still gap still", "unknown still unknown unknown"),
        ("still still gap still still", "unknown still unknown unknown still"),
    ],
)
def test_mode_hysteresis_decision_table(raw: str, expected: str) -> None:
    h = ModeHysteresis(switch_s=2, switch_still_s=2, gap_hold_s=3)
    got = [h.gap() if r == "gap" else h.update(r) for r in raw.split()]
    assert got == expected.split()


def test_device_timeline_uses_the_same_hysteresis() -> None:
    """One walk/run hysteresis: the device-cadence path's modes are ModeHysteresis over its raw modes."""
    rows = [(float(k), 150.0 if 20 <= k < 40 else 110.0 if k != 10 else 20.0) for k in range(60)]
    seconds, _, _ = device_cadence_timeline(rows)
    h = ModeHysteresis(switch_s=2, switch_still_s=2)
    assert [s.mode for s in seconds] == [h.update(s.raw_mode) for s in seconds]
    assert seconds[0].mode == "unknown" and seconds[1].mode == "walk"
    assert seconds[10].raw_mode == "still" and seconds[10].mode == "walk"
    assert seconds[21].mode == "run" and seconds[20].mode == "walk"


@pytest.mark.parametrize("piece", [*PIECES, HopFeatureExtractor, AfterRunEstimator], ids=lambda p: p.__name__)
def test_every_piece_parameter_is_in_the_docs_table(piece: type) -> None:
    """docs/signal.md's table names each piece and every one of its parameters."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "signal.md").read_text(encoding="utf-8")
    table = doc[doc.index("## The pieces and their parameters") :]
    assert f"`{piece.__name__}`" in table
    for name in inspect.signature(piece.__init__).parameters:
        if name not in ("self", "step_period"):
            assert f"`{name}`" in table, f"{piece.__name__}.{name} is not in docs/signal.md's table"


def test_flight_fraction_is_the_share_of_near_free_fall_and_must_recur() -> None:
    """The flight feature (docs/signal.md step 7): running with a flight phase spends a good share of every step
    near 0 g, walking none; one drop (sitting down hard) in a second is not a flight phase."""
    fe = HopFeatureExtractor(step_period=AcfStepPeriod())
    fs = 100
    n = fe.window_samples(fs) + 2 * fs
    t = np.arange(n) / fs
    valid = np.ones(n, dtype=bool)
    zeros = np.zeros(n)
    ends = np.array([n])

    def flight(vertical: np.ndarray) -> float:
        return float(fe.extract(zeros, vertical, zeros, valid, ends, fs).flight_fraction[0])

    ph = 2 * np.pi * 160 / 60 * t
    # a spring-mass run: stance a half sine (mean 1 g over the step), flight at 0 g the other half
    run = 4.0 * np.maximum(0.0, np.sin(ph)) ** 2
    walk = 1.0 + 0.3 * np.sin(2 * np.pi * 110 / 60 * t)
    drop = np.ones(n)
    drop[-50:-30] = 0.0  # 0.2 s of free fall, once
    assert flight(run) > 0.2
    assert flight(walk) == 0.0
    assert flight(drop) == 0.0


START = {"switch_evident_s": 1}  # the evident path of a bout's start
STOP = {"switch_stop_evident_s": 1}  # the evident path of a bout's plain stop


@pytest.mark.parametrize(
    ("path", "raw", "evident", "expected"),
    [
        # a start into walking with the steps' evidence takes one second, without it two
        (START, "still walk walk", "0 1 1", "unknown walk walk"),
        (START, "still still walk walk", "0 0 0 0", "unknown still still walk"),
        (START, "still still walk walk", "0 0 1 1", "unknown still walk walk"),
        # never a start into running, never a change within a bout or to still
        (START, "still still run run", "0 0 1 1", "unknown still still run"),
        (START, "walk walk run run", "0 0 1 1", "unknown walk walk run"),
        (START, "walk walk still still", "0 0 1 1", "unknown walk walk still"),
        # a plain stop turns still after one second, without the evidence after two
        (STOP, "walk walk still still", "0 0 1 1", "unknown walk still still"),
        (STOP, "walk walk still still", "0 0 0 0", "unknown walk walk still"),
        (STOP, "run run still still", "0 0 1 0", "unknown run still still"),
        # the stop path is only for a bout's end: never a start, never walk -> run
        (STOP, "still still walk walk", "0 0 1 1", "unknown still still walk"),
        (STOP, "walk walk run run", "0 0 1 1", "unknown walk walk run"),
    ],
)
def test_mode_hysteresis_evident_paths(path: dict[str, int], raw: str, evident: str, expected: str) -> None:
    h = ModeHysteresis(switch_s=2, switch_still_s=2, **path)
    got = [h.update(r, evident=e == "1") for r, e in zip(raw.split(), evident.split(), strict=True)]
    assert got == expected.split()
    # without an evident path (None) the evidence changes nothing
    plain, reference = ModeHysteresis(switch_s=2), ModeHysteresis(switch_s=2)
    assert [plain.update(r, evident=True) for r in raw.split()] == [reference.update(r) for r in raw.split()]


def test_regular_start_wants_three_even_steps_at_the_acf_rhythm() -> None:
    def start(steps: list[float], t_end_s: float, cadence_spm: float = 100.0) -> float | None:
        rate = StepRateCadence()
        rate.add_steps(steps)
        return rate.regular_start(t_end_s, cadence_spm)

    got = start([10.0, 10.6, 11.2], 11.5)
    assert got is not None and abs(got - 100.0) < 1e-9  # three steps 0.6 s apart: 100 steps/min
    assert start([10.6, 11.2], 11.5) is None  # two steps are not enough
    assert start([10.0, 10.45, 11.2], 11.5) is None  # uneven: 0.45 then 0.75 s
    assert start([10.0, 10.6, 11.2], 11.5, cadence_spm=200.0) is None  # not the rhythm the ACF found
    assert start([10.0, 10.6, 11.2], 13.0) is None  # too old: the first step is out of the window
    assert start([7.0, 10.0, 10.6, 11.2], 11.5) is not None  # only the last three count


def test_a_walk_from_standing_is_reported_a_second_sooner_with_regular_steps() -> None:
    """Live: standing, then walking; the regular first steps start the walk after one second, and the same
    recording without the evident path takes a second more. Streaming still equals batch."""
    t1, x1 = standing(duration_s=20, seed=1)
    t2, x2 = gait_signal(duration_s=20, t_start_s=20.0, cadence_spm=150, seed=1)
    t = np.concatenate([t1, t2])
    xyz = np.concatenate([x1, x2])

    def first_walk(**params: Any) -> int:
        modes = [s.mode for s in GaitAnalysis(estimator="live", **params).analyze(t, xyz).seconds_]
        return modes.index("walk")

    quick, slow = first_walk(), first_walk(switch_evident_s=0)
    assert 20 <= quick <= 22
    assert quick == slow - 1
    sizes = np.random.default_rng(4).integers(1, 200, size=t.size)
    assert _stream(t, xyz, sizes) == GaitAnalysis(estimator="live").analyze(t, xyz).seconds_


def _stopping(ramp_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Walking for 25 s, then standing; with ``ramp_s`` > 0 the steps fade out over the last ``ramp_s`` seconds
    (a walker slowing to a halt), with 0 they stop at once."""
    t, x = gait_signal(duration_s=30, t_start_s=0.0, rotate=False, noise_g=0.0)
    env = np.clip((25.0 - t) / ramp_s, 0.0, 1.0) if ramp_s else (t < 25.0).astype(float)
    gravity = np.array([0.0, 0.0, 1.0])
    x = gravity + (x - gravity) * env[:, None] + 0.004 * np.random.default_rng(2).standard_normal(x.shape)
    return t, x


def test_a_walker_slowing_to_a_halt_is_still_a_second_sooner() -> None:
    """Live: steps fading out over 4 s turn still one second sooner than with the plain-stop path off; an
    abrupt stop (no falling motion before it) keeps the two-second rule. Streaming still equals batch."""

    def first_still(t: np.ndarray, x: np.ndarray, **params: Any) -> int:
        modes = [s.mode for s in GaitAnalysis(estimator="live", **params).analyze(t, x).seconds_]
        return modes.index("still", 10)

    t, x = _stopping(4.0)
    quick, slow = first_still(t, x), first_still(t, x, switch_stop_evident_s=0)
    assert 24 <= quick <= 26
    assert quick == slow - 1
    sizes = np.random.default_rng(5).integers(1, 200, size=t.size)
    assert _stream(t, x, sizes) == GaitAnalysis(estimator="live").analyze(t, x).seconds_
    t, x = _stopping(0.0)
    assert first_still(t, x) == first_still(t, x, switch_stop_evident_s=0)


def test_peak_rhythm_wants_three_even_peaks_at_a_walking_interval() -> None:
    rate = StepRateCadence()
    got = rate.peak_rhythm([10.0, 10.65, 11.3], 11.5, 0.4, 1.0)
    assert got is not None and abs(got - 60.0 / 0.65) < 1e-9
    assert rate.peak_rhythm([10.65, 11.3], 11.5, 0.4, 1.0) is None  # two peaks are not enough
    assert rate.peak_rhythm([10.0, 10.4, 11.3], 11.5, 0.4, 1.0) is None  # uneven: 0.4 then 0.9 s
    assert rate.peak_rhythm([10.0, 10.3, 10.6], 10.8, 0.4, 1.0) is None  # 0.3 s: faster than a walk
    assert rate.peak_rhythm([8.0, 9.2, 10.4], 10.5, 0.4, 1.0) is None  # 1.2 s: slower than a walk
    assert rate.peak_rhythm([10.0, 10.65, 11.3], 13.0, 0.4, 1.0) is None  # the first peak is too old
