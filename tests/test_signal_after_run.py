"""The after-the-run estimator against the live one on the real recordings in tests/data (issue 16).

Both run on the same recordings (Mobilise-D lower back HA/001 and HA/002 with insole initial contacts; Hexoskin
chest 005 and 008 with the hand labels of bench/labels/hexoskin.json and the device's steps) and are scored with
the benchmark's own metrics (bench/signal_bench.py); so are the third-party copies in tests/data (the Oxford
phone walks with foot-switch steps, the BIOBSS Polar recording at rest). After the run the analysis may look at
both sides of every second, so on each annotated metric it must be at least as good as the live timeline, except
the rows named in ``NOT_COMPARED`` (each with the reason; bench/RESULTS.md shows them on every recording).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import signal_bench
from bench.datasets import load_biobss, load_hexoskin, load_mobilise, load_oxford
from coach.signal import GaitAnalysis
from tests.realdata import HEXOSKIN_DIR, MOBILISE_DIR, THIRD_PARTY

ALGOS = ["coach", "coach_live"]
#: Rows not held to "at least as good", and why.
NOT_COMPARED = {
    # INDIP's bout cadence is the mean rate of the bout's valid strides; on two hesitant Test11 bouts of HA/002
    # (4.9-11.3 s, 17.5-35.5 s) the detected steps miss several of the reference's (F1 about 0.6 there), so both
    # timelines are off by 8-12 steps/min and the P90 of these 11 bouts (10.9 after the run, 10.1 live) is set by
    # them; the median ("cad_med") and the rows from the steps themselves ("cads_med", "cads_p90") are compared
    "cad_p90",
    # after the run a bout ends within a second of its last step, and the hand labels are whole seconds: where
    # the walker stopped before the label's end (008: last device step 807.2 s, label to 809 s; 007: last device
    # step 95.45 s, label to 97 s) the after-run "still" in the label's last second is right by the device's own
    # step detector, and live's lag covers it (2 seconds on the whole chest data, 99.97 against 100.00 %)
    "cov",
}


@pytest.fixture(scope="module")
def reports() -> list[signal_bench.DatasetReport]:
    mobilise = [r for r in load_mobilise(MOBILISE_DIR) if r.bouts]
    hexoskin = load_hexoskin(HEXOSKIN_DIR)
    assert mobilise and len(hexoskin) == 2
    return [signal_bench.evaluate_mobilise(mobilise, ALGOS), signal_bench.evaluate_hexoskin(hexoskin, ALGOS)]


def _compare(rep: signal_bench.DatasetReport) -> int:
    """Asserts after-the-run >= live on each scored row of ``rep`` but ``NOT_COMPARED``; the rows compared."""
    assert not rep.errors
    compared = 0
    for key, row in rep.keyed.items():
        if key in NOT_COMPARED or row.better not in ("lower", "higher"):
            continue
        after, live = row.values.get("coach"), row.values.get("coach_live")
        if after is None or live is None or (math.isnan(after) and math.isnan(live)):
            continue
        sign = 1.0 if row.better == "lower" else -1.0
        assert sign * (after - live) <= 1e-9, f"{rep.name}: {row.metric}: after {after} vs live {live}"
        compared += 1
    return compared


def test_after_run_is_never_worse_than_live_on_the_annotated_metrics(
    reports: list[signal_bench.DatasetReport],
) -> None:
    assert sum(_compare(rep) for rep in reports) >= 20


def test_after_run_is_never_worse_than_live_on_the_third_party_recordings() -> None:
    """The same rule on other people's devices in tests/data: the Oxford phone-in-a-pouch walks (foot-switch
    steps: step F1 and counts, cadence per 10-s window, walk/run, coverage, bout-start waits) and the Polar Verity
    Sense at rest (BIOBSS: still, no walk, no run, no steps)."""
    oxford = load_oxford(THIRD_PARTY / "oxford-step-counter")
    rest = load_biobss(THIRD_PARTY / "biobss")
    assert len(oxford) == 2 and len(rest) == 1
    compared = _compare(signal_bench.evaluate_oxford(oxford, ALGOS)) + _compare(
        signal_bench.evaluate_rest(rest, ALGOS)
    )
    assert compared >= 19


def test_after_run_is_better_where_the_live_one_lags(reports: list[signal_bench.DatasetReport]) -> None:
    """What context on both sides buys: transitions placed where they happen, bouts from their first step."""
    hexo = reports[1].keyed
    assert hexo["lat_med"].values["coach"] < hexo["lat_med"].values["coach_live"]
    assert hexo["lat_max"].values["coach"] <= 2.0
    assert hexo["j_med"].values["coach"] < hexo["j_med"].values["coach_live"]
    mob = reports[0].keyed
    assert mob["walk"].values["coach"] > mob["walk"].values["coach_live"]


def test_after_run_steps_are_the_live_steps_plus_the_recovered_ones(
    reports: list[signal_bench.DatasetReport],
) -> None:
    """After the run the steps the live detector missed at a bout's edges or inside its rhythm are added
    (coach.signal.offline_steps); every live step stays, and the timelines have the same seconds."""
    mob = reports[0].keyed
    assert mob["rec"].values["coach"] > mob["rec"].values["coach_live"]
    assert mob["f1"].values["coach"] > mob["f1"].values["coach_live"]
    for rec in [r for r in load_mobilise(MOBILISE_DIR) if r.bouts]:
        after = GaitAnalysis().analyze(rec.t_s, rec.xyz_g)
        live = GaitAnalysis(estimator="live").analyze(rec.t_s, rec.xyz_g)
        assert np.isin(live.steps_, after.steps_).all()
        assert len(after.timeline_) == len(live.timeline_)
        assert [r["t"] for r in after.timeline_] == [r["t"] for r in live.timeline_]


@pytest.mark.parametrize(
    ("hole", "steps_in_hole", "filled"),
    [((10, 12), True, True), ((10, 12), False, False), ((10, 13), True, False)],
)
def test_a_short_hole_where_the_steps_go_on_is_walking(
    hole: tuple[int, int], steps_in_hole: bool, filled: bool
) -> None:
    """A turn or a slow step: up to max_hole_s (2) seconds out of the live gate between two bouts, with a step
    within step_reach_s of each, stay walking after the run; a real stop (no steps) or a longer one does not."""
    from coach.signal.decision import GaitGate
    from coach.signal.offline import AfterRunEstimator

    n = 24
    a, b = hole
    rhythm = np.ones(n, dtype=bool)
    rhythm[a:b] = False
    steps = np.arange(0.3, n, 0.6)
    if not steps_in_hole:
        steps = steps[(steps < a - 1.0) | (steps >= b + 1.0)]
    hop_rms = np.full(n, 0.2)
    hop_rms[a:b] = 0.04  # quieter than the bout (a slow step): the bout's own start rule does not take it
    gait, filled_mask = AfterRunEstimator()._gait(rhythm, np.zeros(n, dtype=bool), hop_rms, steps, GaitGate())
    assert gait[a:b].all() == filled
    assert filled_mask[a:b].all() == filled
    assert gait[: a - 1].all() and gait[b + 1 :].all()


def test_the_centred_acf_needs_the_strides_to_agree_with_it() -> None:
    """A clear-rhythm second takes the centred ACF cadence only where the whole strides around it run at the same
    rate (within acf_stride_agreement); an ACF peak blended over a change of pace, or a wrong one, gives way to
    the strides' own rate."""
    from coach.signal.offline import AfterRunEstimator

    n = 20
    steps = np.arange(0.25, n, 0.5)  # 120 steps/min, perfectly regular
    rhythm = np.ones(n, dtype=bool)
    conf = np.full(n, 0.9)
    pod = np.zeros(n, dtype=bool)
    est = AfterRunEstimator()
    for acf_spm, expected in ((121.0, 121.0), (127.0, 120.0)):  # 0.8 % off: the ACF; 5.8 % off: the strides
        acf = np.full(n, acf_spm)
        out = est._cadence(acf, conf, rhythm, steps, 0, n, pod)
        assert np.allclose(out[3:-3], expected), (acf_spm, out)


@pytest.mark.parametrize(
    ("raw", "live", "expected"),
    [
        ("still", "walk", "still"),
        ("walk", "still", "still"),
        ("unknown", "still", "still"),
        ("unknown", "unknown", "unknown"),
        ("walk", "walk", "unknown"),
    ],
)
def test_a_second_outside_the_bouts_is_still_where_it_was_quiet_or_live_kept_still(
    raw: str, live: str, expected: str
) -> None:
    """A burst of one or two seconds without a step rhythm while standing (live: still, its switch rule let it
    pass) stays still after the run; a second that was not quiet and that live did not call still is unknown."""
    from coach.signal.offline import _non_gait_mode

    assert _non_gait_mode(raw, live) == expected
