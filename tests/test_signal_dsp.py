"""The numpy.ma-free helpers of coach.signal.dsp equal the numpy functions they stand in for, bit for bit."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from coach.signal.dsp import median, nanmedian, sorted_unique


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


@pytest.mark.parametrize("seed", range(4))
def test_median_and_nanmedian_equal_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns on NaN / empty input
        for k in range(600):
            n = int(rng.integers(0, 30)) if k % 10 else int(rng.integers(1, 1500))
            a = [
                rng.normal(size=n) * 100.0,
                np.round(rng.uniform(50.0, 200.0, size=n), 1),  # ties
                rng.integers(0, 4, size=n).astype(float),  # many ties
            ][k % 3]
            if k % 5 == 0 and n:
                a = a.copy()
                a[rng.random(n) < 0.3] = np.nan
            assert _same(median(a), float(np.median(a))) if n else math.isnan(median(a))
            assert _same(median(a.tolist()), float(np.median(a))) if n else True
            if n and not np.isnan(a).all():
                assert _same(nanmedian(a), float(np.nanmedian(a)))


def test_sorted_unique_equals_numpy_unique() -> None:
    rng = np.random.default_rng(7)
    for k in range(500):
        a = np.round(rng.uniform(0.0, 5.0, size=int(rng.integers(0, 60))), 1)
        if k % 4 == 0 and a.size:
            a[rng.random(a.size) < 0.2] = np.nan
        got, want = sorted_unique(a), np.unique(a)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_analysis_does_not_import_numpy_ma() -> None:
    """numpy.ma costs ~10 ms of start-up: the analysis path must not pull it in (np.median, np.unique do)."""
    code = (
        "import sys, numpy as np\n"
        "from coach.signal import GaitAnalysis\n"
        "t = np.arange(0, 60, 0.01)\n"
        "x = np.stack([0.3 * np.sin(2 * np.pi * 1.8 * t), np.zeros_like(t), 1 + 0.4 * np.sin(2 * np.pi * 1.8 * t)], 1)\n"
        "GaitAnalysis().analyze(t, x)\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
