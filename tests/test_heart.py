"""Heart-rate cleaning (coach.signal.heart): Kubios RR correction on real chest RR with injected artefacts, the
causal cleaner (live: tracker, display, HR ceiling cue), HR recovery, and the same cleaning after the run."""

from __future__ import annotations

import numpy as np
import pytest

from bench.hr_bench import beat_times, causal_hr, errors, hexoskin_rr, inject, per_second_hr
from coach.session.adherence import gait_rows, hr_cleaning
from coach.session.tracker import SignalTracker
from coach.signal.heart import CausalHrCleaner, KubiosRrCorrector, clean_hr_series, hr_recovery_bpm
from sensors.samples import HeartRateSample
from tests.realdata import HEXOSKIN_DIR

#: The chest RR of tests/data (Hexoskin 008: the stretches its device did not flag; 005 has none that clean).
STRETCHES = hexoskin_rr(HEXOSKIN_DIR)["008hexoskin"]


def test_kubios_finds_and_fixes_injected_artefacts_on_real_rr() -> None:
    clean = np.concatenate(STRETCHES)
    inj = inject(STRETCHES)
    assert inj.n_missed and inj.n_extra and inj.n_spikes
    kub = KubiosRrCorrector().correct(inj.rr_s)
    flagged = {i for v in kub.found_.values() for i in v}
    found = sum(1 for p in inj.positions if {p, p + 1, p + 2} & flagged)
    assert found >= 0.9 * len(inj.positions)
    n = int(min(np.cumsum(clean)[-1], np.cumsum(inj.rr_s)[-1]))
    ref = per_second_hr(clean, n)
    raw = errors(per_second_hr(inj.rr_s, n), ref)
    fixed = errors(per_second_hr(kub.rr_s_, n), ref)
    assert fixed["mae_bpm"] < raw["mae_bpm"] / 3
    assert fixed["wrong_share"] < raw["wrong_share"] / 3
    # a clean series stays as it is, beat for beat, but for the few the method itself doubts
    same = KubiosRrCorrector().correct(clean)
    assert len(same.rr_s_) == len(clean)
    assert same.share_corrected_ < 0.03
    assert np.mean(np.abs(same.rr_s_ - clean) < 0.002) > 0.9  # a moved beat changes the intervals either side


def test_the_live_cleaner_on_real_rr_with_injected_artefacts() -> None:
    clean = np.concatenate(STRETCHES)
    inj = inject(STRETCHES)
    starts = tuple(int(x) for x in np.cumsum([0] + [len(x) for x in STRETCHES[:-1]]))
    times = beat_times(inj.rr_s, inj.starts)
    n = int(min(beat_times(clean, starts)[-1], times[-1]))
    ref = per_second_hr(clean, n, beat_times(clean, starts))
    live, rejected = causal_hr(inj.rr_s, n, times)
    raw = errors(per_second_hr(inj.rr_s, n, times), ref)
    got = errors(live, ref)
    assert got["mae_bpm"] < raw["mae_bpm"] / 2
    assert got["p99_bpm"] < raw["p99_bpm"] / 2
    assert 0 < rejected < 0.6


def test_kubios_is_neurokit2_beat_for_beat() -> None:
    """Runs with the ``hrref`` extra (neurokit2, too heavy to be a dependency: docs/heart-rate.md)."""
    nk = pytest.importorskip("neurokit2", reason="the hrref extra (neurokit2) is not installed")
    for rr in (np.concatenate(STRETCHES), inject(STRETCHES).rr_s):
        peaks = np.concatenate(([0], np.cumsum(np.round(rr * 1000)))).astype(np.int64)
        mine, _ = KubiosRrCorrector().correct_peaks(peaks)
        _, theirs = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=True)
        assert np.array_equal(mine, np.asarray(theirs))


def _steady(cleaner: CausalHrCleaner, t0: float, n: int, bpm: float) -> list[float | None]:
    return [cleaner.feed(t0 + k, bpm) for k in range(n)]


def test_one_spike_never_passes_and_a_real_rise_does() -> None:
    c = CausalHrCleaner()
    assert _steady(c, 0, 70, 120)[-1] == 120
    assert c.feed(70, 185) is None  # one spike
    assert c.feed(71, 121) == 121
    # a rise of 2 bpm/s (hard effort) is followed, every value
    assert all(v is not None for v in [c.feed(72 + k, 121 + 2 * (k + 1)) for k in range(20)])


def test_a_step_the_heart_cannot_make_is_believed_once_it_holds() -> None:
    c = CausalHrCleaner()
    _steady(c, 0, 70, 100)
    got = _steady(c, 70, 5, 150)
    assert got[0] is None and got[-1] == 150  # the lock: LOCK_SAMPLES values that agree


def test_dry_start_contact_loss_and_range() -> None:
    c = CausalHrCleaner()
    # a dry strap: values all over the place at the start are never believed
    assert [c.feed(k, b) for k, b in enumerate([66, 149, 79, 121, 58, 140, 95, 180])] == [None] * 8
    got = _steady(c, 8, 10, 90)
    assert got[: c.dry_lock_samples - 1] == [None] * (c.dry_lock_samples - 1) and got[-1] == 90
    assert c.feed(18, 90, contact=False) is None  # no skin contact
    assert c.feed(19, 90) is None  # ... and it must lock again
    assert c.feed(20, 250) is None  # no heart beats this fast
    assert c.n_seen_ == 21 and 0 < c.share_rejected_ < 1


def test_rr_artefacts_reject_the_sample_or_correct_its_figure() -> None:
    c = CausalHrCleaner()
    for k in range(70):
        c.feed(k, 100, (0.6,))
    assert c.feed(70, 185, (0.32,)) is None  # an extra beat: its interval is half the usual
    assert c.feed(71, 80, (0.6, 1.2)) == pytest.approx(
        100
    )  # a missed beat among good ones: the good one decides


def test_the_tracker_never_shows_a_spike() -> None:
    tr = SignalTracker()
    shown = []
    for k in range(120):
        bpm = 185 if k in (80, 95, 96) else 130
        tr.feed(HeartRateSample(float(k), bpm, (), True))
        shown.append(tr.state(float(k)).hr_bpm)
    assert max(v for v in shown if v is not None) == 130
    assert tr.hr_cleaner.n_rejected_ >= 3


def test_hr_recovery() -> None:
    t = [float(k) for k in range(200)]
    bpm: list[float | None] = [150.0 if k < 100 else 150.0 - min(k - 100, 50) for k in range(200)]
    # run's last 10 s: 150; 50-60 s into the walk: 100
    assert hr_recovery_bpm(t, bpm, 100.0, 200.0) == pytest.approx(50.0)
    assert hr_recovery_bpm(t, bpm, 100.0, 145.0) is None  # a walk shorter than 60 s
    sparse = [b if k % 3 else None for k, b in enumerate(bpm)]
    sparse[150:160] = [None] * 10  # no clean value 50-60 s into the walk
    assert hr_recovery_bpm(t, sparse, 100.0, 200.0) is None


def test_hr_recovery_needs_a_run_then_a_walk_when_the_gait_is_known() -> None:
    t = [float(k) for k in range(200)]
    bpm: list[float | None] = [150.0 if k < 100 else 150.0 - min(k - 100, 50) for k in range(200)]
    ran_then_walked = ["run" if k < 100 else "walk" for k in range(200)]
    assert hr_recovery_bpm(t, bpm, 100.0, 200.0, ran_then_walked) == pytest.approx(50.0)
    # standing still in the walk counts as recovering; 1 s of 10 seen as walking in the run window still counts
    stood = ["run" if k < 100 else "still" for k in range(200)]
    stood[95] = "walk"
    assert hr_recovery_bpm(t, bpm, 100.0, 200.0, stood) == pytest.approx(50.0)
    # kept running into the walk: the HR change is not a recovery from running (the replayed demo did this)
    kept_running = ["run"] * 200
    assert hr_recovery_bpm(t, bpm, 100.0, 200.0, kept_running) is None
    # walked through the run interval's end: no run to recover from
    walked = ["walk"] * 200
    assert hr_recovery_bpm(t, bpm, 100.0, 200.0, walked) is None


def test_after_the_run_a_session_not_cleaned_live_is_cleaned_the_same_way() -> None:
    hr = [120.0] * 70 + [185.0] + [121.0] * 10
    records = [
        {"t": k + 0.5, "kind": "gait", "mode": "run", "cadence_spm": 160.0, "hr_bpm": h}
        for k, h in enumerate(hr)
    ]
    rows = gait_rows(records)
    want = clean_hr_series([r["t"] for r in records], hr)
    assert [r["hr_bpm"] for r in rows] == list(want.bpm)
    assert max(r["hr_bpm"] for r in rows if r["hr_bpm"] is not None) == 121
    share, seen = hr_cleaning(records)
    assert seen == len(hr) and share == pytest.approx(want.n_rejected / len(hr))
