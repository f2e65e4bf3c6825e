"""The hard zone on the physical gait model: fast walks and slow jogs at 125-150 steps/min (issue 16, FINDINGS 3).

``python -m bench.hard_zone`` (about 10 s) synthesises steady 40-s gaits with bench/gait_model.py (Alexander & Jayes
leg forces; walking: duty factor above 0.5 and a double hump ``q`` > 0; running: duty factor below 0.5, one hump)
at several amplitudes (``placement``: a sensor nearer or farther from the centre of mass, or softer tissue), and
prints what both coach estimators say of them after their first 8 s, with the features the run score weighs: the
vertical range and minimum (2nd-98th percentiles of the vertical acceleration), the flight fraction (share of the
window below 0.35 g) and the median run score (> 0: run). It reproduces FINDINGS 3 in both directions: a
double-humped fast walk whose amplitude reaches a range of about 1.7-1.8 g and a minimum near 0 g reads "run",
and a slow jog damped to a range of about 1.1-1.4 g with its minimum well above free fall reads "walk". The model
is not a recording: it says where the rule's boundary lies, not how often real walks cross it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.gait_model import gait
from coach.signal import GaitAnalysis

SKIP_S = 8  # the first seconds fill the windows

#: (label, cadence steps/min, duty factor, q, placement)
CASES: list[tuple[str, float, float, float, float]] = [
    *[
        ("walk", cad, duty, q, pl)
        for cad in (125.0, 135.0, 145.0)
        for duty, q, pl in (
            (0.6, 0.3, 1.0),
            (0.55, 0.5, 1.0),
            (0.56, 0.6, 1.6),
            (0.56, 0.6, 2.0),
            (0.58, 0.45, 3.0),
        )
    ],
    *[
        ("jog", cad, duty, 0.0, pl)
        for cad in (136.0, 143.0)
        for duty, pl in ((0.42, 1.0), (0.45, 0.8), (0.48, 0.7))
    ],
]


def case(label: str, cadence_spm: float, duty: float, q: float, placement: float) -> dict[str, Any]:
    """What both estimators say of one steady synthetic gait, with the run score's features."""
    t, xyz = gait(cadence_spm=cadence_spm, duty_factor=duty, q=q, placement=placement, duration_s=40.0)
    v = xyz[:, 2]
    out: dict[str, Any] = {
        "label": label,
        "cadence_spm": cadence_spm,
        "duty": duty,
        "q": q,
        "placement": placement,
        "range_g": float(np.percentile(v, 98) - np.percentile(v, 2)),
        "min_g": float(np.percentile(v, 2)),
    }
    for estimator in ("after-run", "live"):
        ga = GaitAnalysis(estimator=estimator).analyze(t, xyz)
        seconds = ga.seconds_[SKIP_S:]
        out[f"{estimator} run %"] = 100.0 * float(np.mean([s.mode == "run" for s in seconds]))
        cad = [s.cadence_spm for s in seconds if s.cadence_spm is not None]
        out[f"{estimator} cadence"] = float(np.median(cad)) if cad else float("nan")
        if estimator == "live":
            hops = [s.features for s in seconds if s.features is not None]
            out["flight"] = float(np.median([f.hop.flight_fraction for f in hops]))
            scores = [f.run_score for f in hops if f.run_score is not None]
            out["run score"] = float(np.median(scores)) if scores else float("nan")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args(argv)
    cols = ["label", "cadence_spm", "duty", "q", "placement", "range_g", "min_g", "flight", "run score"]
    cols += ["after-run run %", "after-run cadence", "live run %", "live cadence"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for c in CASES:
        row = case(*c)
        print(
            "| "
            + " | ".join(f"{row[k]:.2f}" if isinstance(row[k], float) else str(row[k]) for k in cols)
            + " |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
