"""Streaming equals batch for the live estimator with every live input, not only the accelerometer (issue 16).

``coach run`` feeds heart rate and foot-pod cadence between accelerometer blocks as they arrive
(coach.session.tracker); ``GaitAnalysis(estimator="live").analyze(t, xyz, foot_pod=..., heart_rate=...)`` hands them
over up front. A reading is looked up by its time, and a second counts the readings stamped up to its last resampled
point (``StreamingGaitEstimator._reading_time``): the accelerometer sample that completes the second comes after that
point, so a reading fed before the first block holding a sample stamped after it is always seen, whatever the
block sizes. The Hexoskin heart rate is stamped on whole seconds, which are also sample times: before the fix a
second looked up the reading stamped at its end, which a live feed delivers with the block after the one that
completed the second.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.io import wavfile

from bench.datasets import Recording, load_hexoskin
from coach.signal import GaitAnalysis, GaitSecond, StreamingGaitEstimator
from tests.realdata import HEXOSKIN_DIR

#: (recording, start s, end s): the cut fed to the estimator (heart rate from the same Hexoskin record)
CUTS = [
    ("008", 1150.0, 1220.0),  # the end of the treadmill run and the walk after it
    ("005", 1070.0, 1115.0),  # the end of the run and the walk after it
    ("005", 70.0, 100.0),  # the first walk
]
#: block sizes in samples; "random" is a seeded sequence of sizes 1..299
BLOCKS = ["1", "13", "64", "random"]
#: where a reading goes in the feed: "early" = before the block holding its time (with every reading up to that
#: block's end), "late" = the block split at the reading: the samples up to its time, then the reading, then the rest
PLACES = ["early", "late"]
#: the foot-pod cadence: from the device's steps over the last few seconds, or a constant
PODS = ["steps", "constant"]
#: the foot pod's reading interval (s), drawn uniformly: 1-2 Hz with jitter
POD_INTERVAL_S = (0.5, 1.0)
#: the window the synthetic foot pod counts the device's steps over (s)
POD_WINDOW_S = 4.0
#: the constant foot-pod cadence (steps/min): a walking rate
POD_CONSTANT_SPM = 112.0


@cache
def _recordings() -> dict[str, Recording]:
    return {r.name: r for r in load_hexoskin(HEXOSKIN_DIR)}


@cache
def _heart_rate(name: str) -> np.ndarray:
    rate, bpm = wavfile.read(HEXOSKIN_DIR / f"{name}hexoskin" / "heart_rate.wav")
    t = np.arange(bpm.size) / float(rate)
    return np.column_stack((t, bpm.astype(np.float64)))


def _inputs(name: str, start_s: float, end_s: float, pod: str) -> tuple[np.ndarray, ...]:
    rec = _recordings()[name]
    keep = (rec.t_s >= start_s) & (rec.t_s < end_s)
    hr = _heart_rate(name)
    hr = hr[(hr[:, 0] >= start_s - 5.0) & (hr[:, 0] <= end_s)]
    rng = np.random.default_rng(int(start_s))
    t_pod = start_s - 5.0 + np.cumsum(rng.uniform(*POD_INTERVAL_S, int(2 * (end_s - start_s + 5.0))))
    t_pod = t_pod[t_pod <= end_s]
    if pod == "constant":
        spm = np.full(t_pod.size, POD_CONSTANT_SPM)
    else:
        steps = rec.device_steps_s
        count = np.searchsorted(steps, t_pod, side="right") - np.searchsorted(steps, t_pod - POD_WINDOW_S)
        spm = 60.0 * count / POD_WINDOW_S
    return rec.t_s[keep], rec.xyz_g[keep], hr, np.column_stack((t_pod, spm))


@cache
def _batch(name: str, start_s: float, end_s: float, pod: str) -> list[GaitSecond]:
    t, xyz, hr, fp = _inputs(name, start_s, end_s, pod)
    return (
        GaitAnalysis(estimator="live").analyze(t, xyz, foot_pod=fp.tolist(), heart_rate=hr.tolist()).seconds_
    )


def _stream(
    t: np.ndarray, xyz: np.ndarray, readings: list[tuple[float, str, float]], blocks: str, place: str
) -> list[GaitSecond]:
    sizes = np.random.default_rng(16).integers(1, 300, 64) if blocks == "random" else np.array([int(blocks)])
    est = StreamingGaitEstimator()

    def feed(reading: tuple[float, str, float]) -> None:
        t_r, kind, value = reading
        (est.feed_heart_rate if kind == "hr" else est.feed_foot_pod)(t_r, value)

    live: list[GaitSecond] = []
    i = k = r = 0
    while i < t.size:
        j = min(t.size, i + int(sizes[k % sizes.size]))
        k += 1
        if place == "early":
            while r < len(readings) and readings[r][0] <= t[j - 1]:
                feed(readings[r])
                r += 1
            live += est.feed_acc(t[i:j], xyz[i:j])
        else:
            while r < len(readings) and (cut := int(np.searchsorted(t, readings[r][0], side="right"))) < j:
                if cut > i:  # the samples stamped up to the reading, then the reading
                    live += est.feed_acc(t[i:cut], xyz[i:cut])
                    i = cut
                feed(readings[r])
                r += 1
            live += est.feed_acc(t[i:j], xyz[i:j])
        i = j
    return live


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("pod", PODS)
@pytest.mark.parametrize("blocks", BLOCKS)
@pytest.mark.parametrize(("name", "start_s", "end_s"), CUTS)
def test_streaming_with_heart_rate_and_foot_pod_equals_batch(
    name: str, start_s: float, end_s: float, blocks: str, pod: str, place: str
) -> None:
    t, xyz, hr, fp = _inputs(name, start_s, end_s, pod)
    batch = _batch(name, start_s, end_s, pod)
    # the inputs count: heart rate reaches the run score and the foot pod the cadence in most seconds
    assert (
        sum(s.features is not None and s.features.foot_pod_spm is not None for s in batch) > len(batch) // 2
    )
    alone = GaitAnalysis(estimator="live").analyze(t, xyz).seconds_
    assert [repr(s.features) for s in batch] != [repr(s.features) for s in alone]
    readings = sorted(
        [(float(a), "hr", float(b)) for a, b in hr] + [(float(a), "pod", float(b)) for a, b in fp]
    )
    live = _stream(t, xyz, readings, blocks, place)
    assert [s.t for s in live] == [s.t for s in batch]
    for a, b in zip(live, batch, strict=True):  # every field, floats bit for bit
        assert a == b, (a.t, a.cadence_spm, b.cadence_spm)
        # the diagnostics too (GaitSecond's equality leaves them out; repr: bit for bit, NaN equal to NaN)
        assert repr(a.features) == repr(b.features), (a.t, a.features, b.features)
