"""The algorithms compared side by side, behind one small adapter interface.

- ``coach``: :class:`coach.signal.GaitAnalysis`, the after-the-run estimator (what `coach analyze`, the report
  and import give).
- ``coach_live``: ``GaitAnalysis(estimator="live")``, exactly the live timeline (batch = the streaming code).
- ``fft``: :class:`bench.baselines.FftPeakBaseline`, the plain FFT-peak baseline named in issue 3, offline
  (centred window, zero-phase filter): the peer of the after-the-run estimator.
- ``fft_causal``: the same restricted to the past (trailing 6-s window, causal filter): the live peer.
- ``gaitlumbar``: scikit-digital-health 0.17's published lower-back pipeline, used as documented:
  ``skdh.context.PredictGaitLumbarLgbm`` finds gait bouts, ``skdh.gait.GaitLumbar.predict(time=, accel=,
  fs=, gait_bouts=)`` finds initial contacts ('IC Timestamp') and per-cycle 'cadence'. It has no running or
  standing class: inside its gait bouts the mode is "walk", elsewhere "still".
- ``gaitlumbar_ref``: ``GaitLumbar.predict(..., gait_bouts=)`` told the reference gait bouts (INDIP walking
  bouts padded by 1 s, hexoskin labelled walk and run spans, each widened to >= 10 s because GaitLumbar
  drops bouts shorter than its 8-s ``min_bout_time``): its best case, isolating the quality of its
  contact detection and cadence. Its mode rows are not scored (it was told where gait is).
  (``GaitLumbar.predict``'s own default, ``gait_pred=True`` = the whole recording is one bout, finds no
  valid gait cycle at all on the longer recordings here, so it is not shown.)
- ``mobgap`` / ``mobgap_ref``: the Mobilise-D consortium's own pipeline (mobgap 1.2.0), its gait sequences,
  initial contacts and per-second cadence without reference, and its contact detection + cadence told the
  same reference gait spans as ``gaitlumbar_ref``: see :mod:`bench.mobgap_peer`.

Each adapter returns an :class:`AlgoResult` (timeline arrays, steps, wall time) or the error it raised, so
one broken algorithm never stops the benchmark.
"""

from __future__ import annotations

import contextlib
import io
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.datasets import resample_linear
from bench.metrics import timeline_arrays
from bench.mobgap_peer import run_mobgap, run_mobgap_ref

FloatArray = NDArray[np.float64]
Timeline = list[dict[str, Any]]


@dataclass
class AlgoResult:
    """What one algorithm reported on one recording."""

    t_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    cadence_spm: FloatArray = field(default_factory=lambda: np.zeros(0))
    mode: NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype=str))
    steps_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    elapsed_s: float = 0.0
    error: str | None = None


Runner = Callable[..., tuple[Timeline, FloatArray]]


#: StreamingGaitEstimator parameters for the coach column (`python -m bench signal --set NAME=VALUE`); empty =
#: the shipped defaults, the only setting whose results are written to bench/RESULTS.md
COACH_PARAMS: dict[str, Any] = {}


def run_coach(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[Timeline, FloatArray]:
    from coach.signal import GaitAnalysis

    ga = GaitAnalysis(**COACH_PARAMS).analyze(t_s, xyz_g)
    return list(ga.timeline_), np.asarray(ga.steps_, dtype=float)


def run_coach_live(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[Timeline, FloatArray]:
    from coach.signal import GaitAnalysis

    ga = GaitAnalysis(estimator="live", **COACH_PARAMS).analyze(t_s, xyz_g)
    return list(ga.timeline_), np.asarray(ga.steps_, dtype=float)


def run_fft(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[Timeline, FloatArray]:
    from bench.baselines import FftPeakBaseline

    b = FftPeakBaseline().analyze(t_s, xyz_g)
    return b.timeline_, b.steps_


def run_fft_causal(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[Timeline, FloatArray]:
    from bench.baselines import FftPeakBaseline

    b = FftPeakBaseline(causal=True).analyze(t_s, xyz_g)
    return b.timeline_, b.steps_


#: The highest rate GaitLumbar is given (see :func:`run_gaitlumbar`).
GAITLUMBAR_MAX_FS_HZ = 100.0


def run_gaitlumbar(
    t_s: FloatArray,
    xyz_g: FloatArray,
    fs_hz: float,
    *,
    bouts_s: Sequence[tuple[float, float]] | None = None,
) -> tuple[Timeline, FloatArray]:
    """GaitLumbar with its own gait detection, or told the gait bouts (``bouts_s``, s from the start).

    Above ``GAITLUMBAR_MAX_FS_HZ`` the recording is first resampled (linearly) to that rate: scikit-digital-health
    0.17.18 downsamples to 50 Hz but designs its 0.25-5 Hz band-pass with the original rate, so at the oxford
    phone's 405 Hz its pass band ends near 0.6 Hz and it finds no gait at all; resampled, it finds the walks. A peer
    is given data it can take, as coach is.
    """
    from skdh.context import PredictGaitLumbarLgbm
    from skdh.gait import GaitLumbar

    if fs_hz > GAITLUMBAR_MAX_FS_HZ:
        t_s, xyz_g, fs_hz = resample_linear(t_s, xyz_g, GAITLUMBAR_MAX_FS_HZ)

    t0_unix = 1.6e9  # skdh wants unix seconds; a fixed origin, results are mapped back
    rel = t_s - t_s[0]
    t_unix = rel + t0_unix
    res: dict[str, object] = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if bouts_s is None:
            gb = PredictGaitLumbarLgbm().predict(time=t_unix, accel=xyz_g, fs=fs_hz)
            bouts_idx = np.column_stack([gb["Gait Bout Start Index"], gb["Gait Bout Stop Index"]]).astype(int)
        else:
            last = rel.size - 1
            rows = [
                [int(np.searchsorted(rel, s)), min(last, int(np.searchsorted(rel, e)))] for s, e in bouts_s
            ]
            bouts_idx = np.array(rows, dtype=int).reshape(-1, 2)
        if bouts_idx.size:
            res = GaitLumbar().predict(time=t_unix, accel=xyz_g, fs=fs_hz, gait_bouts=bouts_idx)
    ic = np.asarray(res.get("IC Timestamp", []), dtype=float) - t0_unix
    cad = np.asarray(res.get("cadence", []), dtype=float)
    starts = np.asarray(res.get("Bout Starts", []), dtype=float) - t0_unix
    durs = np.asarray(res.get("Bout Duration", []), dtype=float)
    bouts = {(round(float(s), 3), round(float(s + d), 3)) for s, d in zip(starts, durs, strict=True)}
    if bouts_s is not None:  # report over the bouts it was given, even where it found no valid cycle
        bouts |= {(float(s), float(e)) for s, e in bouts_s}
    steps = np.unique(ic[np.isfinite(ic)])
    n_s = int(np.floor(rel[-1])) + 1
    timeline: Timeline = []
    for k in range(n_s):
        tk = float(k)
        in_bout = sorted((s, e) for s, e in bouts if s <= tk <= e)
        if not in_bout:
            timeline.append({"t": tk, "cadence_spm": None, "mode": "still"})
            continue
        s, e = in_bout[0]
        near = (ic >= tk - 2.0) & (ic <= tk + 1.0) & np.isfinite(cad)
        in_b = (ic >= s) & (ic <= e) & np.isfinite(cad)
        c = float(np.mean(cad[near])) if near.any() else (float(np.mean(cad[in_b])) if in_b.any() else None)
        timeline.append({"t": tk, "cadence_spm": c, "mode": "walk"})
    return timeline, steps


def run_gaitlumbar_ref(
    t_s: FloatArray, xyz_g: FloatArray, fs_hz: float, *, bouts_s: Sequence[tuple[float, float]] = ()
) -> tuple[Timeline, FloatArray]:
    return run_gaitlumbar(t_s, xyz_g, fs_hz, bouts_s=list(bouts_s))


ALGORITHMS: dict[str, Runner] = {
    "coach": run_coach,
    "coach_live": run_coach_live,
    "fft": run_fft,
    "fft_causal": run_fft_causal,
    "gaitlumbar": run_gaitlumbar,
    "gaitlumbar_ref": run_gaitlumbar_ref,
    "mobgap": run_mobgap,
    "mobgap_ref": run_mobgap_ref,
}
TITLES = {
    "coach": "coach after-run",
    "coach_live": "coach live",
    "fft": "FFT baseline",
    "fft_causal": "FFT causal",
    "gaitlumbar": "GaitLumbar",
    "gaitlumbar_ref": "GaitLumbar ref-bouts",
    "mobgap": "Mobilise-D (mobgap)",
    "mobgap_ref": "Mobilise-D ref-bouts",
}
# algorithms told the reference gait bouts: their mode rows are not scored
ORACLE = {"gaitlumbar_ref", "mobgap_ref"}
# the live (causal) column and its peer: compared with each other ("live best?"), not with the offline methods
LIVE = {"coach_live", "fft_causal"}


def run_algorithm(
    name: str,
    t_s: FloatArray,
    xyz_g: FloatArray,
    fs_hz: float,
    *,
    bouts_s: Sequence[tuple[float, float]] = (),
) -> AlgoResult:
    """Run one algorithm, timing it; errors are captured into the result. Only ORACLE algorithms see
    ``bouts_s`` (the reference gait spans)."""
    runner = ALGORITHMS[name]
    start = time.perf_counter()
    try:
        if name in ORACLE:
            timeline, steps = runner(t_s, xyz_g, fs_hz, bouts_s=bouts_s)
        else:
            timeline, steps = runner(t_s, xyz_g, fs_hz)
    except Exception as exc:  # one failing algorithm must not stop the benchmark
        tb = traceback.format_exc(limit=3).strip().splitlines()
        where = tb[-3].strip() if len(tb) >= 3 else ""
        return AlgoResult(
            error=f"{type(exc).__name__}: {exc} ({where})", elapsed_s=time.perf_counter() - start
        )
    elapsed = time.perf_counter() - start
    t, cad, mode = timeline_arrays(timeline)
    return AlgoResult(
        t_s=t, cadence_spm=cad, mode=mode, steps_s=np.sort(np.asarray(steps, dtype=float)), elapsed_s=elapsed
    )
