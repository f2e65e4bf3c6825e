"""The after-run cadence of clear-rhythm seconds from a centred spectral peak (issue 16):
coach.signal.cadence.centred_spectral_cadence, its use in AfterRunEstimator, and bench.centred_cadence (the
measurement that compares it with the ACF cadence)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from bench.algorithms import run_coach
from bench.centred_cadence import after_run_runner
from coach.signal.cadence import centred_spectral_cadence

FS = 100.0
spectral = partial(centred_spectral_cadence, window_s=6.0, band_fraction=0.1)


def _grid(seconds: float) -> np.ndarray:
    return np.arange(round(seconds * FS)) / FS


def test_peak_near_the_reference_at_sub_bin_precision() -> None:
    t = _grid(30.0)
    step_hz = 111.3 / 60.0
    # a stronger stride component at half the step rate: outside the band around the reference, never taken
    y = np.sin(2 * np.pi * step_hz * t) + 2.0 * np.sin(np.pi * step_hz * t)
    out = spectral(t, y, np.ones(t.size, dtype=bool), np.array([10.5, 20.5]), np.array([105.0] * 2))
    assert np.all(np.abs(out - 111.3) < 0.05)


def test_no_peak_in_the_band_or_invalid_signal_gives_nan() -> None:
    t = _grid(30.0)
    y = np.sin(2 * np.pi * (111.0 / 60.0) * t)
    valid = np.ones(t.size, dtype=bool)
    # the band 135-165 around 150 holds only the skirt of the 111 peak: its highest bin is on the edge
    assert math.isnan(spectral(t, y, valid, np.array([15.5]), np.array([150.0]))[0])
    valid[1400:1500] = False  # a gap inside the window centred on 15.5 s
    assert math.isnan(spectral(t, y, valid, np.array([15.5]), np.array([111.0]))[0])
    # a window that does not fit inside the signal
    assert math.isnan(spectral(t, y, np.ones(t.size, dtype=bool), np.array([1.0]), np.array([111.0]))[0])


def test_the_after_run_estimator_reads_its_clear_rhythm_seconds_from_the_spectrum() -> None:
    """A steady walk: the after-run cadence is on the rhythm; with the spectral window off (the ACF cadence,
    bench.centred_cadence's ``coach_acf``) the modes are the same and the clear-rhythm seconds differ."""
    t = _grid(60.0)
    rng = np.random.default_rng(3)
    f = 112.0 / 60.0
    vertical = (
        1.0
        + 0.35 * np.sin(2 * np.pi * f * t)
        + 0.1 * np.sin(4 * np.pi * f * t)
        + 0.02 * rng.normal(size=t.size)
    )
    xyz = np.column_stack([0.05 * np.sin(np.pi * f * t), 0.02 * rng.normal(size=t.size), vertical])
    timeline, _ = run_coach(t, xyz, FS)
    acf, _ = after_run_runner(spectral_window_s=0.0)(t, xyz, FS)
    cad = np.array(
        [e["cadence_spm"] for e in timeline if e["mode"] == "walk" and e["cadence_spm"] is not None]
    )
    assert cad.size > 40
    assert abs(float(np.median(cad)) - 112.0) < 0.3
    assert [e["mode"] for e in timeline] == [e["mode"] for e in acf]
    changed = [a["cadence_spm"] != b["cadence_spm"] for a, b in zip(timeline, acf, strict=True)]
    assert sum(changed) > 20
