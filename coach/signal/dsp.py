"""Small numeric helpers shared by the signal pieces: FIR design and filtering, parabolic peak refinement.

Everything here sums in a fixed order, so that results do not depend on how a stream was split into blocks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def lowpass_fir(cutoff_hz: float, fs: float, length_s: float) -> FloatArray:
    """Linear-phase windowed-sinc (Hamming) low-pass FIR, odd length, unit gain at 0 Hz."""
    n = round(length_s * fs) | 1
    k = np.arange(n) - (n - 1) / 2
    h = np.sinc(2.0 * cutoff_hz / fs * k) * np.hamming(n)
    return np.asarray(h / h.sum(), dtype=np.float64)


def median(values: Any) -> float:
    """``float(np.median(values))`` of a 1-D float sequence, bit for bit (NaN if it holds a NaN or is empty).

    np.median checks for masked arrays through ``np.ma``, whose first use imports numpy.ma (~10 ms of start-up);
    this takes the same partition and the same (lower + upper) / 2 without it.
    """
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    n = a.size
    if n == 0 or np.isnan(a).any():
        return math.nan
    h = n // 2
    if n % 2:
        return float(np.partition(a, h)[h])
    part = np.partition(a, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2.0)


def nanmedian(values: Any) -> float:
    """``float(np.nanmedian(values))`` of a 1-D float sequence, bit for bit: :func:`median` of its non-NaN values."""
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    return median(a[~np.isnan(a)])


def sorted_unique(values: Any) -> FloatArray:
    """``np.unique(values)`` of a 1-D float sequence without NaN, bit for bit: sorted, each value once (np.unique
    asks ``np.ma`` whether its input is masked, which imports numpy.ma; see :func:`median`)."""
    a = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    if a.size < 2:
        return a
    if np.isnan(a[-1]):  # NaN sorts last; np.unique folds the NaNs into one
        return np.asarray(np.unique(a), dtype=np.float64)
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def fir_valid(x: FloatArray, h: FloatArray) -> FloatArray:
    """``np.convolve(x, h, "valid")`` along axis 0, summed tap by tap in a fixed order.

    np.convolve's inner loop may sum in an order that depends on memory alignment, so the same sample could
    come out a few ulps different depending on how the stream was split into blocks; this keeps streaming and
    batch results bit-identical.
    """
    n = x.shape[0] - h.size + 1
    taps = h[::-1]
    y = taps[0] * x[0:n]
    term = np.empty_like(y)  # one buffer for every tap (the same products and sums, without new arrays)
    for k in range(1, h.size):
        np.multiply(taps[k], x[k : k + n], out=term)
        y += term
    return np.asarray(y, dtype=np.float64)


def parabolic_offset(r: FloatArray, rows: NDArray[np.int64], lag: NDArray[np.int64]) -> FloatArray:
    """Sub-sample offset (-0.5..0.5) of the vertex of the parabola through ``r[row, lag-1..lag+1]``, per row;
    0 where the three points do not bend downwards."""
    n = r.shape[1]
    lag = np.clip(lag, 1, n - 2)
    y0 = r[rows, lag - 1]
    y1 = r[rows, lag]
    y2 = r[rows, lag + 1]
    den = y0 - 2.0 * y1 + y2
    safe = np.where(den < 0, den, -1.0)
    d = np.where(den < 0, 0.5 * (y0 - y2) / safe, 0.0)
    return np.asarray(np.clip(d, -0.5, 0.5), dtype=np.float64)
