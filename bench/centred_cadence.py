"""Issue 16 measurement: the after-run cadence of clear-rhythm seconds, ACF against a centred spectral peak.

Where the rhythm is clear and the strides confirm it (the ACF path of ``AfterRunEstimator._cadence``), the
after-run estimator reads the cadence from the highest peak of the Hann-windowed spectrum of
``spectral_window_s`` (6 s) of the zero-phase vertical signal that :class:`coach.signal.offline_steps.StepRecovery`
rebuilds, centred on the second, within ``spectral_band`` (10 %) of the ACF cadence
(:func:`coach.signal.cadence.centred_spectral_cadence`). This script compares that (``coach``) with the ACF
cadence of the live hop whose window is centred on the second (``coach_acf``: ``spectral_window_s=0``, what the
after-run estimator did before) and with the centred FFT baseline (``fft``); ``--window-s``, ``--band`` and
``--set NAME=VALUE`` (any :class:`~coach.signal.offline.AfterRunEstimator` parameter, repeatable) give a third
column (``coach_other``) with other values, ``--variants`` adds the chest rows on the robustness alterations of
:mod:`bench.variants`. Run from the repository root::

    PYTHONPATH=$PWD python -m bench.centred_cadence [--window-s 6] [--band 0.1] [--set NAME=VALUE] [--variants]

Findings: docs/signal.md, "After the run", step 3.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench import algorithms as A
from bench import signal_bench as sb
from bench.datasets import load_hexoskin, load_mobilise, load_oxford


def after_run_runner(**after_run: Any) -> A.Runner:
    """A bench runner: ``GaitAnalysis`` whose after-run estimator takes these parameters (measurement only: the
    class that coach.signal.analysis uses is swapped for the run and put back)."""
    from coach.signal import analysis
    from coach.signal.offline import AfterRunEstimator

    class Variant(AfterRunEstimator):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**{**kw, **after_run})

    def run(t_s: np.ndarray, xyz_g: np.ndarray, fs_hz: float) -> tuple[A.Timeline, np.ndarray]:
        analysis.AfterRunEstimator = Variant  # type: ignore[attr-defined]
        try:
            ga = analysis.GaitAnalysis(**A.COACH_PARAMS).analyze(t_s, xyz_g)
        finally:
            analysis.AfterRunEstimator = AfterRunEstimator  # type: ignore[attr-defined]
        return list(ga.timeline_), np.asarray(ga.steps_, dtype=float)

    return run


def _print(rep: sb.DatasetReport, algos: Sequence[str], label: str = "") -> None:
    for key, row in rep.keyed.items():
        if not any(w in row.metric for w in ("cadence abs error", "regular")):
            continue
        vals = " ".join(
            f"{a}={row.values[a]:.3f}" if row.values.get(a) is not None else f"{a}=-" for a in algos
        )
        print(f"{label or rep.name:28s} {key:9s} {row.metric[:62]:62s} {vals}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--window-s", type=float, default=None, help="a third column with this spectral window")
    p.add_argument("--band", type=float, default=None, help="... and this band (fraction of the ACF cadence)")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="an AfterRunEstimator parameter"
    )
    p.add_argument("--variants", action="store_true", help="also the chest robustness alterations")
    args = p.parse_args(argv)
    A.ALGORITHMS["coach_acf"] = after_run_runner(spectral_window_s=0.0)
    A.TITLES["coach_acf"] = "coach after-run, ACF cadence"
    algos = ["coach", "coach_acf", "fft"]
    other: dict[str, Any] = {"spectral_window_s": args.window_s, "spectral_band": args.band}
    other = {k: v for k, v in other.items() if v is not None}
    for item in args.set:
        name, _, value = item.partition("=")
        other[name] = ast.literal_eval(value)
    if other:
        A.ALGORITHMS["coach_other"] = after_run_runner(**other)
        A.TITLES["coach_other"] = "coach after-run, " + ", ".join(f"{k}={v}" for k, v in other.items())
        algos.insert(2, "coach_other")
    hex_recs = load_hexoskin()
    _print(sb.evaluate_hexoskin(hex_recs, algos), algos)
    _print(sb.evaluate_oxford(load_oxford(), algos), algos)
    _print(sb.evaluate_mobilise([r for r in load_mobilise() if r.bouts], algos), algos)
    if args.variants:
        from bench.variants import VARIANTS, altered

        mine = [a for a in algos if a != "fft"]
        for v in [v for v in VARIANTS if v != "as recorded"]:
            _print(sb.evaluate_hexoskin(altered(hex_recs, v), mine), mine, f"hexoskin {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
