"""Live bout starts on a real lower-back recording (tests/data/mobilise-d-lowerback, HA/002): a hesitant start whose
ACF has no rhythm yet is reported as walk from its loading peaks, and nothing else in the recording moves."""

from __future__ import annotations

import numpy as np

from bench import metrics as M
from bench.datasets import load_mobilise
from coach.signal import GaitAnalysis
from tests.realdata import MOBILISE_DIR


def test_a_hesitant_start_is_walk_from_its_loading_peaks() -> None:
    rec = next(r for r in load_mobilise(MOBILISE_DIR) if r.name == "HA/002 Test11 Trial1")

    def timeline(**params: object) -> tuple[np.ndarray, np.ndarray, list[float | None]]:
        seconds = GaitAnalysis(estimator="live", **params).analyze(rec.t_s, rec.xyz_g).seconds_
        return (
            np.array([s.t for s in seconds]),
            np.array([s.mode for s in seconds]),
            [s.cadence_spm for s in seconds],
        )

    t_on, mode_on, cad_on = timeline()
    t_off, mode_off, _ = timeline(peak_start=False)
    bout = next(b for b in rec.bouts if 60.0 < b.start_s < 61.0)  # the ACF finds no rhythm for 3 s
    on = M.bout_start_delay(t_on, mode_on, bout.start_s, bout.end_s)
    off = M.bout_start_delay(t_off, mode_off, bout.start_s, bout.end_s)
    assert off > 2.0 >= on
    moved = np.flatnonzero(mode_on != mode_off)
    # only "still"/"unknown" -> "walk", never a run; the first second of each start has no cadence (the peaks'
    # rate is not trusted as one)
    assert moved.size and all(mode_off[i] in ("still", "unknown") and mode_on[i] == "walk" for i in moved)
    firsts = [i for i in moved.tolist() if i - 1 not in moved.tolist()]
    assert all(cad_on[i] is None for i in firsts)
    assert "run" not in set(mode_on) - set(mode_off)
