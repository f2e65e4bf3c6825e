"""Streaming equals batch for the live estimator, bit for bit, on real recordings (issue 16).

tests/test_signal_gait.py checks this on synthetic signals, whose step period is constant; on real data the ACF's
step period and stride/step asymmetry change from one second to the next, so the comb that evens out the two feet's
steps (coach.signal.steps.StepDetector.candidates) takes a different lag in adjacent seconds. The samples at a call's
edges used to be combed with the lag of whichever hop the call happened to start or end with, so a block size moved a
step candidate (Hexoskin 008 at 1193.6 s: a step 20 ms earlier, the cadence 0.2 steps/min lower for a few seconds;
005: up to 12 steps/min for several seconds at a walk start and around its run's end). The cuts below are the
seconds where that showed, each a minute or less so that 1-sample blocks stay fast.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from bench.datasets import Recording, load_hexoskin, load_mobilise
from coach.signal import GaitAnalysis, GaitSecond, StreamingGaitEstimator
from coach.signal.steps import Peak, StepDetector
from tests.realdata import HEXOSKIN_DIR, MOBILISE_DIR

#: (recording, start s, end s): the cut fed to the estimator
CUTS = [
    ("008", 1150.0, 1220.0),  # the end of the treadmill run and the walk after it
    ("005", 1070.0, 1115.0),  # the end of the run and the walk after it
    ("005", 70.0, 100.0),  # the first walk
    ("HA/002 Test11 Trial1", 0.0, 60.0),  # Mobilise-D lower back, a free-living walk
]
#: block sizes in samples; "random" is a seeded sequence of sizes 1..299
BLOCKS = ["1", "7", "13", "64", "random"]


@cache
def _recordings() -> dict[str, Recording]:
    return {r.name: r for r in [*load_hexoskin(HEXOSKIN_DIR), *load_mobilise(MOBILISE_DIR)]}


def _cut(name: str, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray]:
    rec = _recordings()[name]
    keep = (rec.t_s >= start_s) & (rec.t_s < end_s)
    return rec.t_s[keep], rec.xyz_g[keep]


@cache
def _batch(name: str, start_s: float, end_s: float) -> list[GaitSecond]:
    return GaitAnalysis(estimator="live").analyze(*_cut(name, start_s, end_s)).seconds_


def _sizes(blocks: str) -> np.ndarray:
    if blocks == "random":
        return np.random.default_rng(16).integers(1, 300, 64)
    return np.array([int(blocks)])


@pytest.mark.parametrize("blocks", BLOCKS)
@pytest.mark.parametrize(("name", "start_s", "end_s"), CUTS)
def test_streaming_equals_batch_on_real_data(name: str, start_s: float, end_s: float, blocks: str) -> None:
    t, xyz = _cut(name, start_s, end_s)
    batch = _batch(name, start_s, end_s)
    assert len(batch) >= end_s - start_s - 2 and any(s.steps for s in batch)  # the cut is gait, with steps
    sizes = _sizes(blocks)
    est = StreamingGaitEstimator()
    live: list[GaitSecond] = []
    i = k = 0
    while i < t.size:
        n = int(sizes[k % sizes.size])
        live.extend(est.feed_acc(t[i : i + n], xyz[i : i + n]))
        i += n
        k += 1
    assert [s.t for s in live] == [s.t for s in batch]
    for a, b in zip(live, batch, strict=True):  # every field, floats bit for bit
        assert a == b, (a.t, a.steps, b.steps, a.cadence_spm, b.cadence_spm)
        # the diagnostics too (GaitSecond's equality leaves them out; repr: bit for bit, NaN equal to NaN)
        assert repr(a.features) == repr(b.features), (a.t, a.features, b.features)


def test_step_candidates_do_not_depend_on_how_hops_are_grouped() -> None:
    """The cause, on its own: a noise signal whose comb lag changes every hop gives the same candidates whether
    the hops come in one call or one call each (a sample is combed with the lag of the hop that holds it)."""
    fs = 50
    n_hops = 40
    rng = np.random.default_rng(3)
    band = rng.standard_normal((n_hops + 4) * fs)
    valid = np.ones(band.size, dtype=bool)
    offset = 3 * fs  # look-back room before the first hop
    ends = offset + fs * np.arange(1, n_hops + 1)
    lags = rng.choice([0, 17, 23, 31], n_hops).astype(np.int64)
    periods = np.full(n_hops, 25.0)

    def candidates(detector: StepDetector, hops: slice) -> list[list[Peak]]:
        return detector.candidates(
            band,
            valid,
            ends[hops],
            lags[hops],
            periods[hops],
            sampling_rate_hz=fs,
            index_offset=0,
            longest_lag=50,
            delay_s=0.0,
        )

    whole = candidates(StepDetector(), slice(None))
    one_by_one = StepDetector()
    split = [candidates(one_by_one, slice(h, h + 1))[0] for h in range(n_hops)]
    assert sum(map(len, whole)) > n_hops  # noise has peaks in every hop
    assert split == whole
