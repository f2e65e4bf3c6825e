"""bench/energy_phase.py (the walk/run energy-phase measurement) on synthetic trunk motion with known physics.

Walking: forward speed highest when the trunk is lowest (energies out of phase); running: speed lowest when the
trunk is lowest (in phase). The vertical specific force is 1 g minus the trunk's position at the step frequency
scaled by w^2, so position ~ -acceleration; the forward acceleration is the derivative of the speed.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.datasets import Recording
from bench.energy_phase import measure
from bench.gait_model import rotation
from bench.metrics import Segment

FS = 100.0


def _trunk(cadence_spm: float, in_phase: bool, duration_s: float, t0: float, seed: int) -> np.ndarray:
    """(n, 3) body-frame acceleration (x forward, y left, z up) of steady gait at ``cadence_spm``."""
    t = t0 + np.arange(round(duration_s * FS)) / FS
    w = 2.0 * np.pi * cadence_spm / 60.0
    vertical = 1.0 + 0.3 * np.cos(w * t)  # trunk lowest at cos = 1
    # speed v0 -/+ b cos(w t): highest (walk) or lowest (run) where the trunk is lowest
    forward = (1.0 if in_phase else -1.0) * 0.15 * np.sin(w * t)
    sway = 0.08 * np.sin(w * t / 2.0)  # left/right, once per stride
    rng = np.random.default_rng(seed)
    return np.column_stack((forward, sway, vertical)) + rng.normal(0.0, 0.01, (t.size, 3))


def _recording(mounting_deg: tuple[float, float, float], slow_walk: bool = True) -> Recording:
    walk_spm = 105.0 if slow_walk else 135.0
    parts = [_trunk(walk_spm, False, 60.0, 0.0, 1), _trunk(145.0, True, 60.0, 60.0, 2)]
    body = np.vstack(parts)
    xyz = body @ rotation(mounting_deg).T
    t = np.arange(body.shape[0]) / FS
    return Recording(
        dataset="synthetic",
        name="walk then jog",
        t_s=t,
        xyz_g=xyz,
        fs_hz=FS,
        placement="chest",
        segments=[Segment(0.0, 60.0, "walk"), Segment(60.0, 120.0, "run")],
    )


@pytest.mark.parametrize(
    "mounting", [(0.0, 0.0, 0.0), (0.0, 0.0, 180.0), (180.0, 0.0, 0.0), (30.0, 60.0, 10.0)]
)
def test_phase_with_the_learned_sign_tells_walk_from_run_for_any_mounting(
    mounting: tuple[float, float, float],
) -> None:
    s = measure(_recording(mounting))
    label = np.array(s.label)
    learned = np.array(s.learned)
    cadence = np.array(s.cadence_spm)
    assert (label == "walk").sum() >= 50 and (label == "run").sum() >= 50
    assert np.all(np.abs(cadence[label == "walk"] - 105.0) < 3.0)
    assert np.all(np.abs(cadence[label == "run"] - 145.0) < 3.0)
    assert np.all(learned[label == "walk"] < -0.9)  # out of phase
    assert np.all(learned[label == "run"] > 0.9)  # in phase
    assert all(s.consistent[i] for i in np.flatnonzero(label == "walk"))


def test_without_slow_seconds_no_sign_is_learned() -> None:
    """A recording with no seconds under the learning cadence gets no sign: every second counts wrong (NaN)."""
    s = measure(_recording((0.0, 0.0, 0.0), slow_walk=False))
    assert s.label and np.all(np.isnan(np.array(s.learned)))
