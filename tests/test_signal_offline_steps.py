"""After-the-run step recovery (coach.signal.offline_steps.StepRecovery), on constructed candidates, synthetic
signals and the real lower-back recordings in tests/data."""

from __future__ import annotations

import numpy as np
import pytest

from bench import metrics as M
from bench import signal_bench
from bench.datasets import load_mobilise, load_oxford
from coach.signal import GaitAnalysis
from coach.signal.offline_steps import StepRecovery
from tests.realdata import MOBILISE_DIR, THIRD_PARTY
from tests.test_signal_gait import gait_signal, random_rotation

PERIOD = 0.55


def _walk(n: int = 12, t0: float = 10.0) -> np.ndarray:
    return t0 + PERIOD * np.arange(n)


# ----------------------------------------------------------------------------------------------- recover()


def test_a_missing_step_in_regular_walking_is_recovered() -> None:
    steps = _walk()
    live = np.delete(steps, 6)
    cand_t = np.concatenate((steps, steps[6:7] + 0.2))  # the missed step's peak, and a weaker one nearby
    cand_h = np.concatenate((np.ones(steps.size), [0.45]))
    cand_h[6] = 0.5  # weaker than the others, above min_height_fraction x their median
    order = np.argsort(cand_t)
    got = StepRecovery(max_edge_steps=0).recover(live, [(9.0, 18.0, PERIOD)], cand_t[order], cand_h[order])
    assert np.allclose(got, steps)


def test_no_step_is_added_under_the_height_floor_or_in_irregular_walking() -> None:
    steps = _walk()
    live = np.delete(steps, 6)
    cand_h = np.ones(steps.size)
    cand_h[6] = 0.2  # the sway of a weight shift: under 0.3 x the steps' peaks
    rec = StepRecovery(max_edge_steps=0)
    assert np.array_equal(rec.recover(live, [(9.0, 18.0, PERIOD)], steps, cand_h), live)
    # the same gap after an irregular interval (a hesitation): no rhythm says a step is missing
    hesitant = live.copy()
    hesitant[:6] -= 0.3
    hesitant[5] += 0.3
    cand_t = np.sort(np.concatenate((hesitant, steps[6:7])))
    got = rec.recover(hesitant, [(9.0, 18.0, PERIOD)], cand_t, np.ones(cand_t.size))
    assert np.array_equal(got, hesitant)


def test_the_first_and_last_steps_of_a_bout_are_recovered_within_reach() -> None:
    steps = _walk(16)
    live = steps[3:-2]  # the live gate was convinced late and let go early
    t0, t1 = float(steps[0]), float(steps[-1])
    cand_t = np.concatenate(([steps[0] - 3 * PERIOD], steps))  # a peak far before the bout: out of reach
    got = StepRecovery().recover(live, [(t0, t1, PERIOD)], cand_t, np.ones(cand_t.size))
    assert np.allclose(got, steps)
    one = StepRecovery(max_edge_steps=1).recover(live, [(t0, t1, PERIOD)], cand_t, np.ones(cand_t.size))
    assert np.allclose(one, steps[2:-1])


def test_an_edge_step_off_the_bouts_rhythm_and_phase_is_not_added() -> None:
    """The wearer stops: the last live step came late (1.25 periods, still "regular"); a peak one such interval
    later fits that drift but not the bout's period, and one that keeps the stride (the same foot two periods
    on) comes 0.75 period after the edge step: neither is a step. The start, in rhythm, is still recovered."""
    steps = _walk(16)
    live = steps[3:-2].copy()
    live[-1] += 0.25 * PERIOD
    t0, t1 = float(steps[0]), float(steps[-1])
    drift = live[-1] + 1.25 * PERIOD
    stride = live[-2] + 2.0 * PERIOD
    for extra in (drift, stride):
        cand_t = np.sort(np.concatenate((steps[:3], live, [extra])))
        got = StepRecovery().recover(live, [(t0, t1, PERIOD)], cand_t, np.ones(cand_t.size))
        assert np.allclose(got, np.concatenate((steps[:3], live)))
    # in rhythm, the same peak one period on is a step
    in_rhythm = np.concatenate((steps[:3], steps[3:-2], steps[-2:-1]))
    got = StepRecovery(max_edge_steps=1).recover(
        steps[3:-2], [(t0, t1, PERIOD)], in_rhythm, np.ones(in_rhythm.size)
    )
    assert np.allclose(got, steps[2:-1])


def test_a_stretch_with_too_few_live_steps_is_left_alone() -> None:
    steps = _walk(6)
    live = steps[2:4]
    got = StepRecovery().recover(live, [(9.0, 14.0, PERIOD)], steps, np.ones(steps.size))
    assert np.array_equal(got, live)


# ----------------------------------------------------------------------------------------------- the signal


@pytest.mark.parametrize("fs_hz", [25.0, 50.0, 200.0])
def test_candidates_do_not_depend_on_rate_or_mounting(fs_hz: float) -> None:
    """The vertical axis is where gravity points: a rotated sensor at another rate gives the same peaks."""
    rec = StepRecovery()
    t, xyz = gait_signal(fs_hz=100.0, cadence_spm=105.0, rotate=False, noise_g=0.0, duration_s=30, seed=3)
    ref_t, _ = rec.candidates(*rec.vertical(t, xyz))
    t2, xyz2 = gait_signal(fs_hz=fs_hz, cadence_spm=105.0, rotate=False, noise_g=0.0, duration_s=30, seed=3)
    xyz2 = xyz2 @ random_rotation(np.random.default_rng(11)).T
    got_t, _ = rec.candidates(*rec.vertical(t2, xyz2))
    inner = (ref_t > t[0] + 4.0) & (ref_t < t[-1] - 4.0)
    j = np.clip(np.searchsorted(got_t, ref_t[inner]), 1, got_t.size - 1)
    nearest = np.minimum(np.abs(got_t[j] - ref_t[inner]), np.abs(got_t[j - 1] - ref_t[inner]))
    assert np.max(nearest) < 1.5 / fs_hz + 0.01


def test_a_gap_is_not_interpolated_over() -> None:
    t, xyz = gait_signal(fs_hz=100.0, duration_s=20, seed=4)
    keep = (t < 20.0) | (t > 22.0)
    tg, y, valid = StepRecovery().vertical(t[keep], xyz[keep])
    assert not valid[(tg > 20.01) & (tg < 21.99)].any()
    assert valid[(tg < 19.9) | (tg > 22.1)].all()
    cand_t, _ = StepRecovery().candidates(tg, y, valid)
    assert not ((cand_t > 20.3) & (cand_t < 21.7)).any()


def test_synthetic_walking_gets_no_extra_steps() -> None:
    """On clean walking the live detector misses nothing, so after the run the steps are the live ones."""
    t, xyz = gait_signal(cadence_spm=112.0, duration_s=40, seed=8)
    live = GaitAnalysis(estimator="live").analyze(t, xyz).steps_
    after = GaitAnalysis().analyze(t, xyz).steps_
    assert after == live


# ----------------------------------------------------------------------------------------------- real data


def test_real_lower_back_walks_gain_steps_and_keep_every_live_one() -> None:
    recs = [r for r in load_mobilise(MOBILISE_DIR) if r.bouts]
    assert recs
    gained = 0
    for rec in recs:
        live = np.asarray(GaitAnalysis(estimator="live").analyze(rec.t_s, rec.xyz_g).steps_)
        after = np.asarray(GaitAnalysis().analyze(rec.t_s, rec.xyz_g).steps_)
        assert np.isin(live, after).all()
        assert np.all(np.diff(after) > 0)
        score = {}
        for name, st in (("live", live), ("after", after)):
            ms = [
                M.match_events(M.events_in(st, b.start_s - 0.25, b.end_s + 0.25), b.ic_s, 0.25)
                for b in rec.bouts
            ]
            score[name] = M.sum_matches(ms)
        assert score["after"].tp >= score["live"].tp
        assert score["after"].f1 >= score["live"].f1
        gained += score["after"].tp - score["live"].tp
    assert gained >= 3  # HA/001 and HA/002 (tests/data): 3 insole contacts more, measured 2026-12-03


def test_real_chest_walks_after_the_run_are_not_worse_than_live() -> None:
    """A phone on the chest (the Oxford step counter walks in tests/data, foot-switch steps): the recording ends
    with the wearer stopping and handling the phone, where the live detector's last steps already drift off the
    rhythm; no step is recovered there (an edge step must keep the bout's period and phase), so step F1, F1 with
    the offset removed and the step counts, like every other annotated row, are at least the live ones."""
    recs = load_oxford(THIRD_PARTY / "oxford-step-counter")
    assert len(recs) == 2
    rep = signal_bench.evaluate_oxford(recs, ["coach", "coach_live"])
    assert not rep.errors
    compared = []
    for key, row in rep.keyed.items():
        after, live = row.values.get("coach"), row.values.get("coach_live")
        if row.better not in ("lower", "higher") or after is None or live is None:
            continue
        sign = 1.0 if row.better == "lower" else -1.0
        assert sign * (after - live) <= 1e-9, f"{row.metric}: after {after} vs live {live}"
        compared.append(key)
    assert {"f1", "f1o", *(f"cnt_{r.name}" for r in recs)} <= set(compared)


def test_a_long_gap_costs_bounded_memory_after_the_run() -> None:
    """The signal is rebuilt only around the gait stretches: a 3-hour hole in a file allocates nothing for it."""
    import tracemalloc

    t1, x1 = gait_signal(duration_s=30.0, t_start_s=0.0, seed=1)
    t2, x2 = gait_signal(duration_s=30.0, t_start_s=0.0, seed=2)
    t = np.concatenate((t1, t2 + t1[-1] + 3 * 3600.0))
    x = np.concatenate((x1, x2))
    tracemalloc.start()
    ga = GaitAnalysis().analyze(t, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64e6, f"peak {peak / 1e6:.0f} MB for a 3-hour gap"
    steps = np.asarray(ga.steps_)
    assert ((steps > 5.0) & (steps < 29.0)).sum() > 40 and (steps > t[-1] - 25.0).sum() > 40
