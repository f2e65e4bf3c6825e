"""The benchmark harness itself: metric functions on constructed cases, the FFT baseline on synthetic gait,
the evaluation and report code end to end on tiny synthetic recordings, and the hand labels' consistency."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench import metrics as M
from bench.baselines import FftPeakBaseline
from bench.datasets import Recording, RefBout
from bench.metrics import Segment
from tests.realdata import DATA, MOBILISE_DIR

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "bench" / "labels" / "hexoskin.json"


# ---------------------------------------------------------------- event matching


def test_match_events_exact_and_within_tolerance() -> None:
    ref = [1.0, 2.0, 3.0, 4.0]
    det = [1.1, 2.0, 2.8, 4.25]  # 0.1, 0.0, 0.2 and exactly 0.25 away: all match
    m = M.match_events(det, ref, 0.25)
    assert (m.tp, m.fp, m.fn) == (4, 0, 0)
    assert m.f1 == 1.0


def test_match_events_is_one_to_one() -> None:
    # two detections near one reference event: one match, one false positive
    m = M.match_events([0.95, 1.05], [1.0], 0.25)
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)
    # one detection between two reference events: one match, one miss
    m = M.match_events([1.5], [1.4, 1.6], 0.25)
    assert (m.tp, m.fp, m.fn) == (1, 0, 1)


def test_match_events_prefers_closest_pairs() -> None:
    # greedy-by-order would pair 1.2 with 1.0 and leave 1.4 unmatched; closest-first matches both
    m = M.match_events([1.2, 1.45], [1.0, 1.4], 0.25)
    assert m.tp == 2
    assert set(m.pairs) == {(0, 0), (1, 1)}


def test_match_events_counts_and_f1_known_values() -> None:
    ref = np.arange(10) * 0.5  # 10 reference steps
    det = np.r_[ref[:8] + 0.1, 7.0, 8.0]  # 8 good, 2 far away; 2 reference steps missed
    m = M.match_events(det, ref, 0.25)
    assert (m.tp, m.fp, m.fn) == (8, 2, 2)
    assert m.precision == pytest.approx(0.8)
    assert m.recall == pytest.approx(0.8)
    assert m.f1 == pytest.approx(0.8)
    assert M.match_events(det, ref, 0.05).tp == 0  # 0.1 s off is outside a 0.05 s tolerance


def test_match_events_empty_inputs() -> None:
    assert (M.match_events([], [1.0]).fn, M.match_events([1.0], []).fp) == (1, 1)
    assert math.isnan(M.match_events([], []).f1)
    pooled = M.sum_matches([M.match_events([1.0], [1.0]), M.match_events([5.0], [])])
    assert (pooled.tp, pooled.fp, pooled.fn) == (1, 1, 0)


# ---------------------------------------------------------------- rates, windows, errors


def test_rate_from_events() -> None:
    assert M.rate_from_events_spm(np.arange(0, 10, 0.5)) == pytest.approx(120.0)
    assert math.isnan(M.rate_from_events_spm([1.0]))


def test_regular_windows_drop_windows_with_a_missed_step() -> None:
    steps = np.arange(0.0, 40.0, 0.5)  # 120 spm
    wins = M.regular_windows(0.0, 40.0, steps, width_s=10.0, skip_s=3.0)
    assert [(a, b) for a, b, _ in wins] == [(3.0, 13.0), (13.0, 23.0), (23.0, 33.0)]
    assert all(r == pytest.approx(120.0) for _, _, r in wins)
    missed = steps[steps != 15.0]  # one step missing in the second window
    wins = M.regular_windows(0.0, 40.0, missed, width_s=10.0, skip_s=3.0)
    assert [(a, b) for a, b, _ in wins] == [(3.0, 13.0), (23.0, 33.0)]


def test_cadence_helpers_and_error_stats() -> None:
    t = np.arange(10.0)
    cad = np.r_[np.full(5, np.nan), np.full(5, 100.0)]
    assert M.mean_cadence_spm(t, cad, 0.0, 9.0) == 100.0
    # the seconds in [3, 9) are 3..8: the second that starts at the span's end is after it
    assert M.coverage(t, cad, 3.0, 9.0) == (4, 6)
    assert M.seconds_in(t, 3.0, 9.0).nonzero()[0].tolist() == [3, 4, 5, 6, 7, 8]
    # fractional spans (INDIP bouts): a second is in when its middle is
    assert M.seconds_in(t, 3.9, 8.6).nonzero()[0].tolist() == [4, 5, 6, 7, 8]
    st = M.abs_error_stats([-1.0, 2.0, 3.0, float("nan")])
    assert (st["n"], st["median"], st["max"]) == (3.0, 2.0, 3.0)
    assert st["p90"] == pytest.approx(2.8)


# ---------------------------------------------------------------- modes and latency


SEGS = [Segment(0.0, 20.0, "walk"), Segment(20.0, 40.0, "run"), Segment(40.0, 60.0, "still")]


def test_mode_confusion_excludes_seconds_near_label_changes() -> None:
    t = np.arange(60.0)
    mode = np.array(["walk"] * 22 + ["run"] * 20 + ["still"] * 18)  # follows 2 s late
    conf = M.mode_confusion(SEGS, t, mode, margin_s=3.0)
    right, total = M.accuracy_from_confusion(conf, ("walk", "run", "still"))
    assert right == total  # the late seconds are all within 3 s of a change
    assert total == 60 - 21  # excluded: 0-3, 17-23, 37-43, 57-59
    conf = M.mode_confusion(SEGS, t, mode, margin_s=0.5)
    right, total = M.accuracy_from_confusion(conf, ("walk", "run", "still"))
    assert total == 57
    assert total - right == 2  # t=21 (run called walk) and t=41 (still called run)
    assert conf[("run", "walk")] == 1
    assert conf[("still", "run")] == 1


def test_false_run_counts() -> None:
    t = np.arange(60.0)
    mode = np.array(["walk"] * 20 + ["run"] * 20 + ["still"] * 20)
    mode[10] = "run"
    mode[50] = "run"
    conf = M.mode_confusion(SEGS, t, mode, margin_s=3.0)
    bad, total = M.false_label_count(conf, "run", ("walk", "still"))
    assert bad == 2
    assert total > 0


def test_transition_latency_known_delay_and_never() -> None:
    t = np.arange(60.0)
    mode = np.array(["walk"] * 22 + ["run"] * 18 + ["walk"] * 20)  # run 2 s late; still never
    trans = M.label_changes(SEGS)
    assert [(a, b, c) for a, b, c in trans] == [(20.0, "walk", "run"), (40.0, "run", "still")]
    lat = M.transition_latencies(trans, SEGS, t, mode, stay_s=10.0)
    assert lat[0][3] == pytest.approx(2.0)
    assert math.isinf(lat[1][3])


def test_transition_latency_needs_the_mode_to_stay() -> None:
    t = np.arange(60.0)
    mode = np.array(["walk"] * 60)
    mode[21] = "run"  # a one-second flicker, then the real switch at 25
    mode[25:40] = "run"
    lat = M.transition_latencies([(20.0, "walk", "run")], SEGS, t, mode, stay_s=10.0)
    assert lat[0][3] == pytest.approx(5.0)


# ---------------------------------------------------------------- FFT baseline on synthetic gait


def _gait(freq_hz: float, amp_g: float, seconds: float, fs: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * fs)) / fs
    z = 1.0 + amp_g * np.sin(2 * np.pi * freq_hz * t)
    xyz = np.column_stack([0.05 * np.sin(np.pi * freq_hz * t), np.zeros_like(t), z])
    return t, xyz


@pytest.mark.parametrize(("freq_hz", "mode"), [(1.8, "walk"), (2.7, "run")])
def test_fft_baseline_cadence_steps_and_mode(freq_hz: float, mode: str) -> None:
    t, xyz = _gait(freq_hz, 0.4, 30.0)
    b = FftPeakBaseline().analyze(t, xyz)
    tl_t, cad, modes = M.timeline_arrays(b.timeline_)
    late = tl_t >= 8
    assert np.nanmedian(cad[late]) == pytest.approx(60 * freq_hz, abs=1.0)
    assert set(modes[late]) == {mode}
    steps = M.events_in(b.steps_, 8.0, 29.0)
    assert M.rate_from_events_spm(steps) == pytest.approx(60 * freq_hz, abs=1.0)


def test_fft_baseline_still_when_flat() -> None:
    t = np.arange(2000) / 100.0
    xyz = np.column_stack([np.zeros_like(t), np.zeros_like(t), np.ones_like(t)])
    tl_t, cad, modes = M.timeline_arrays(FftPeakBaseline().analyze(t, xyz).timeline_)
    assert set(modes[tl_t >= 6]) == {"still"}
    assert np.isnan(cad).all()


# ---------------------------------------------------------------- the benchmark code end to end (tiny input)


def _tiny_recordings() -> tuple[Recording, Recording]:
    _, walk = _gait(1.8, 0.3, 40.0, fs=64.0)
    _, run = _gait(2.6, 0.9, 30.0, fs=64.0)
    xyz = np.vstack([walk, run])
    t = np.arange(xyz.shape[0]) / 64.0
    steps = np.r_[np.arange(0.3, 40.0, 1 / 1.8), 40.0 + np.arange(0.2, 30.0, 1 / 2.6)]
    hexo = Recording(
        dataset="hexoskin",
        name="synthetic",
        t_s=t,
        xyz_g=xyz,
        fs_hz=64.0,
        placement="chest",
        segments=[Segment(0.0, 40.0, "walk"), Segment(40.0, 70.0, "run")],
        device_steps_s=steps,
        transitions=[(40.0, "walk", "run")],
    )
    tm, lower = _gait(1.7, 0.3, 30.0, fs=100.0)
    ic = np.arange(5.0, 25.0, 1 / 1.7)
    mob = Recording(
        dataset="mobilise-d",
        name="synthetic",
        t_s=tm,
        xyz_g=lower,
        fs_hz=100.0,
        placement="lower back",
        bouts=[RefBout(start_s=5.0, end_s=25.0, cadence_spm=102.0, ic_s=ic)],
    )
    return hexo, mob


def test_evaluation_and_report_run_on_tiny_input(tmp_path: Path) -> None:
    from bench import report, signal_bench

    hexo, mob = _tiny_recordings()
    rep_h = signal_bench.evaluate_hexoskin([hexo], ["fft_causal"])
    rep_m = signal_bench.evaluate_mobilise([mob], ["fft_causal"])
    assert not rep_h.errors
    assert not rep_m.errors
    rows_h = {r.metric: r for r in rep_h.rows}
    rows_m = {r.metric: r for r in rep_m.rows}
    walk_row = next(r for k, r in rows_h.items() if k.startswith("walking cadence") and "median" in k)
    assert walk_row.values["fft_causal"] == pytest.approx(0.0, abs=1.5)  # 108 spm signal vs 108 spm steps
    assert next(r for k, r in rows_m.items() if k.startswith("cadence abs error")).values["fft_causal"] < 2.0
    wr = next(r for k, r in rows_h.items() if k.startswith("walk/run right"))
    assert (
        90.0 < wr.values["fft_causal"] < 100.0
    )  # its causal 6-s window still says walk 4-5 s after the change
    lat = next(r for k, r in rows_h.items() if k.startswith("transition latency, median"))
    assert (
        2.0 <= lat.values["fft_causal"] <= 5.0
    )  # second t sees up to t + 1: about half the window, less 1 s
    res = {
        "reports": [rep_m, rep_h],
        "speed_rows": [],
        "speed_raw": {},
        "algos": ["fft_causal"],
        "elapsed_s": 1.0,
        "machine": "test",
        "versions": "test",
        "notes": ["- a note"],
    }
    out = tmp_path / "RESULTS.md"
    other = "<!-- ble_bench:start -->\n## BLE\nkept\n<!-- ble_bench:end -->\n"
    out.write_text("# Benchmark results\n\n" + other + "\n## By hand\n\nhand-written notes\n")
    report.write_results(res, out, ["signal"])
    report.write_results(res, out, ["signal"])  # twice: replaced, not appended
    text = out.read_text()
    assert other.strip() in text  # another benchmark's section survives
    assert (
        "## By hand\n\nhand-written notes" in text
    )  # and so does text outside the markers (bench/results.py)
    assert "### hexoskin-chest" in text
    assert text.count("<!-- signal_bench:start -->") == 1
    assert "| metric | target | FFT causal |" in text
    assert "python -m bench signal" in text


def test_variants_alter_the_recordings_as_described() -> None:
    from bench.variants import VARIANTS, altered

    hexo, _ = _tiny_recordings()
    norm = np.linalg.norm(hexo.xyz_g, axis=1)
    by = {name: altered([hexo], name) for name in VARIANTS}
    assert by["as recorded"][0].t_s is hexo.t_s
    for name, fs in (("25 Hz", 25.0), ("50 Hz", 50.0), ("200 Hz", 200.0)):
        (r,) = by[name]
        assert r.fs_hz == fs and np.median(np.diff(r.t_s)) == pytest.approx(1.0 / fs)
        assert r.t_s[-1] == pytest.approx(hexo.t_s[-1], abs=2.0 / 64.0)
    rotated = by["rotated (3 mountings)"]
    assert len(rotated) == 3 and len({r.name for r in rotated}) == 3
    for r in rotated:
        assert np.allclose(np.linalg.norm(r.xyz_g, axis=1), norm)  # a rotation, nothing else
        assert not np.allclose(r.xyz_g, hexo.xyz_g)
    (jd,) = by["jitter + drift"]
    dt = np.diff(jd.t_s)
    assert (dt > 0).all() and dt.std() > 0.001 and jd.t_s[-1] <= hexo.t_s[-1]
    (lost,) = by["lost packets"]
    assert np.isin(lost.t_s, hexo.t_s).all()
    assert 0.85 < lost.t_s.size / hexo.t_s.size < 0.97  # 5 % bursts + a 3-s gap in a 70-s recording
    assert np.diff(lost.t_s).max() >= 3.0
    (noisy,) = by["noise 0.02 g"]
    assert np.std(noisy.xyz_g - hexo.xyz_g) == pytest.approx(0.02, rel=0.1)
    (grounded,) = by["grounded jog (0.4x, asymmetric)"]
    walking, running = hexo.t_s < 40.0, hexo.t_s >= 40.0
    assert np.array_equal(grounded.xyz_g[walking], hexo.xyz_g[walking])  # only the run is altered
    v_before, v_after = norm[running], np.linalg.norm(grounded.xyz_g[running], axis=1)
    # the dynamic part shrinks to about 0.4 x, so the minimum rises well above free fall
    assert np.std(v_after) == pytest.approx(0.4 * np.std(v_before), rel=0.15)
    assert v_before.min() < 0.35 < 0.5 < v_after.min()
    for name, k in (("impacts x0.7", 0.7), ("impacts x1.4", 1.4)):
        (r,) = by[name]
        # the whole recording's dynamic part, walking and running, scaled; the slow part (gravity) kept
        assert np.std(np.linalg.norm(r.xyz_g, axis=1)) == pytest.approx(k * np.std(norm), rel=0.1)
        assert np.allclose(r.xyz_g.mean(axis=0), hexo.xyz_g.mean(axis=0), atol=0.02)


def test_variants_table_and_perfect_step_ceiling_on_tiny_input(tmp_path: Path) -> None:
    from bench import report, signal_bench
    from bench.variants import VARIANTS

    hexo, mob = _tiny_recordings()
    tables = signal_bench.evaluate_variants([mob], [hexo], algos=["coach", "coach_live"])
    assert set(tables) == {"coach", "coach_live"}
    header, table = tables["coach"]
    assert [row[0] for row in table] == list(VARIANTS)
    assert all(len(row) == len(header) for row in table)
    assert table[0][1] != "-"  # walk/run right is a number
    # perfect steps: regular contacts give the bout's cadence back exactly...
    assert signal_bench.perfect_step_ceiling([mob]) == pytest.approx((0.0, 0.0), abs=1e-9)
    # ...a 2.5-s pause inside the bout does not (INDIP: stride-weighted over the bout; timeline: per second)
    ic = np.r_[np.arange(5.0, 12.0, 0.6), np.arange(14.5, 25.0, 0.6)]
    paused = RefBout(5.0, 25.0, float(np.mean(120.0 / (ic[2:] - ic[:-2]))), ic)
    med, _ = signal_bench.perfect_step_ceiling([Recording(**{**mob.__dict__, "bouts": [paused]})])
    assert med > 1.0
    # the floor of the rows from steps: nil where the reference cadence is the formula on its own contacts,
    # the difference where INDIP left a stride out (here the one over the pause)
    assert signal_bench.reference_contact_bound([mob]) == pytest.approx((0.0, 0.0, 0), abs=1e-9)
    strides = ic[2:] - ic[:-2]
    kept = RefBout(5.0, 25.0, float(np.mean(120.0 / strides[strides < 2.0])), ic)
    med, p90, off = signal_bench.reference_contact_bound([Recording(**{**mob.__dict__, "bouts": [kept]})])
    assert med == p90 == pytest.approx(kept.cadence_spm - paused.cadence_spm) and off == 1
    sub_header, sub_table = signal_bench.evaluate_subjects([hexo])
    assert [row[0] for row in sub_table] == ["synthetic"] and len(sub_table[0]) == len(sub_header)
    res = {
        "reports": [],
        "speed_rows": [],
        "speed_raw": {},
        "algos": ["coach"],
        "elapsed_s": 1.0,
        "machine": "test",
        "versions": "test",
        "variants": (header, table),
        "subjects": (sub_header, sub_table),
    }
    out = tmp_path / "RESULTS.md"
    report.write_results(res, out, ["signal"])
    text = out.read_text()
    assert "### robustness: the same recordings, altered (coach after-run)" in text
    assert "| lost packets |" in text
    assert "### per person: hexoskin-chest, each subject alone (coach)" in text and "| synthetic |" in text


def test_lower_back_only_methods_are_not_run_on_the_chest_data(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import algorithms, signal_bench

    def must_not_run(*_: object, **__: object) -> tuple[list[dict[str, object]], np.ndarray]:
        raise AssertionError("a lower-back-only method ran on chest data")

    monkeypatch.setitem(algorithms.ALGORITHMS, "mobgap", must_not_run)
    hexo, _ = _tiny_recordings()
    rep = signal_bench.evaluate_hexoskin([hexo], ["fft", "mobgap"])
    assert not rep.errors
    assert all(row.note.get("mobgap") == "n/a" for row in rep.rows)
    assert rep.keyed["wr"].coach_best(["fft", "mobgap"]) == ""  # no coach column: nothing to rank


def test_a_failing_algorithm_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import algorithms, signal_bench

    def boom(*_: object) -> tuple[list[dict[str, object]], np.ndarray]:
        raise RuntimeError("broken")

    monkeypatch.setitem(algorithms.ALGORITHMS, "fft", boom)
    _, mob = _tiny_recordings()
    rep = signal_bench.evaluate_mobilise([mob], ["fft"])
    assert "broken" in rep.errors["fft"]


# ---------------------------------------------------------------- labels


def test_hexoskin_labels_are_consistent() -> None:
    doc = json.loads(LABELS.read_text())
    assert doc["subjects"]
    for subject, entry in doc["subjects"].items():
        segs = entry["segments"]
        assert segs, subject
        starts = [s["start"] for s in segs]
        assert starts == sorted(starts)
        for a, b in itertools.pairwise(segs):
            assert a["end"] <= b["start"], (subject, a, b)
        assert {s["label"] for s in segs} <= {"walk", "run", "still", "stairs"}
        for tr in entry["transitions"]:
            before = [s for s in segs if s["end"] <= tr["t"] + 1e-6]
            after = [s for s in segs if s["start"] >= tr["t"] - 1e-6]
            assert before and after, (subject, tr)
            assert before[-1]["label"] == tr["from"]
            assert after[0]["label"] == tr["to"]


def test_label_rules_classify_constructed_features() -> None:
    from bench.label_tool import classify, spans

    f = {
        "sd": np.r_[np.full(10, 0.01), np.full(10, 0.3), np.full(10, 0.8)],
        "min": np.r_[np.full(10, 0.99), np.full(10, 0.6), np.full(10, 0.05)],
        "rate": np.r_[np.zeros(10), np.full(10, 110.0), np.full(10, 160.0)],
        "devcad": np.r_[np.zeros(10), np.full(10, 110.0), np.full(10, 160.0)],
    }
    assert [(s["start"], s["end"], s["label"]) for s in spans(classify(f))] == [
        (0.0, 10.0, "still"),
        (10.0, 20.0, "walk"),
        (20.0, 30.0, "run"),
    ]


def test_coach_best_ignores_the_oracle_column_and_reports_ties() -> None:
    from bench.signal_bench import Row, le

    algos = ["coach", "fft", "gaitlumbar", "gaitlumbar_ref"]
    row = Row(
        "x",
        "<= 1",
        le(1.0),
        "lower",
        values={"coach": 1.0, "fft": 2.0, "gaitlumbar": 3.0, "gaitlumbar_ref": 0.1},
    )
    assert row.coach_best(algos) == "yes"
    assert (row.verdict("coach"), row.verdict("fft")) == ("pass", "FAIL")
    row.values["gaitlumbar"] = 1.0
    assert row.coach_best(algos) == "tie"
    row.values["fft"] = 0.5
    assert row.coach_best(algos) == "no"
    higher = Row(
        "f1", ">= 0.97", None, "higher", values={"coach": 0.9, "fft": 0.8, "gaitlumbar": float("nan")}
    )
    assert higher.coach_best(algos[:3]) == "yes"


# ---------------------------------------------------------------- loaders on the real data (read-only)


def test_mobilise_loader_matches_the_source_example() -> None:
    from bench.datasets import load_mobilise

    recs = {r.name: r for r in load_mobilise(MOBILISE_DIR)}
    rec = recs["HA/001 Test5 Trial1"]  # SOURCE.txt: 1246 samples, INDIP cadence 100.5 spm, 9 ICs
    assert rec.xyz_g.shape == (1246, 3)
    assert rec.fs_hz == 100.0
    (bout,) = rec.bouts
    assert bout.cadence_spm == pytest.approx(100.5, abs=0.05)
    assert bout.ic_s.size == 9
    assert bout.start_s <= bout.ic_s[0] <= bout.ic_s[-1] <= bout.end_s
    assert not recs["HA/002 Test5 Trial1"].bouts  # SOURCE.txt: no INDIP reference for these trials


def test_speed_csv_writer_makes_a_private_tzyx_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import datasets
    from bench.speed import write_csv

    monkeypatch.setattr(datasets, "DATA", DATA)  # the committed chest recordings, not the whole corpus

    path = tmp_path / "x.csv"
    write_csv(path, 3.0, 100.0)
    lines = path.read_text().splitlines()
    assert lines[0] == "t,x,y,z"
    assert len(lines) == 301
    t, x, y, z = (float(v) for v in lines[2].split(","))
    assert t == pytest.approx(0.01)
    assert 0.5 < math.sqrt(x * x + y * y + z * z) < 2.0  # g, gravity present
    assert path.stat().st_mode & 0o777 == 0o600


def test_speed_alone_prints_its_measurements_and_the_fft_ratio(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m bench.speed``: the speed part alone, printed (the measuring itself is stubbed here)."""
    import json

    from bench import speed

    seen: dict[str, object] = {}

    def fake_run_speed(*, quick: bool = False, runs: int = 5) -> dict[str, object]:
        seen.update(quick=quick, runs=runs)
        return {"hour_s": 0.8, "fft_hour_s": 3.2, "help_s": 0.07}

    monkeypatch.setattr(speed, "run_speed", fake_run_speed)
    assert speed.main(["--runs", "7"]) == 0
    assert seen == {"quick": False, "runs": 7}
    out = json.loads(capsys.readouterr().out)
    assert out["hour_over_fft"] == pytest.approx(0.25)


def test_set_parses_estimator_parameters_and_reaches_the_coach_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from bench import algorithms
    from bench.__main__ import _parse_params

    p = argparse.ArgumentParser()
    assert _parse_params(p, ["switch_still_s=3", "run_weights=(6.0, 3.0, 0.0)"]) == {
        "switch_still_s": 3,
        "run_weights": (6.0, 3.0, 0.0),
    }
    for bad in (["nope=1"], ["window_s"], ["window_s=abc"], ["internal_rate_hz=7"]):
        with pytest.raises(SystemExit):
            _parse_params(p, bad)
    monkeypatch.setattr(algorithms, "COACH_PARAMS", {"internal_rate_hz": 7})  # the column really uses them
    _, mob = _tiny_recordings()
    res = algorithms.run_algorithm("coach", mob.t_s, mob.xyz_g, mob.fs_hz)
    assert res.error is not None and "internal_rate_hz" in res.error


def test_bout_start_delay_and_bout_starts() -> None:
    t = np.arange(10.0)
    mode = np.array(
        ["still", "still", "unknown", "unknown", "walk", "walk", "run", "still", "still", "still"]
    )
    assert M.bout_start_delay(t, mode, 2.5, 7.0) == 1.5  # second 4 is the first to say walk
    assert M.bout_start_delay(t, mode, 4.5, 7.0) == 0.0  # second 4 overlaps the bout and says walk
    assert M.bout_start_delay(t, mode, 7.2, 9.5) == pytest.approx(2.3)  # never: the whole bout
    segs = [
        Segment(0, 10, "still"),
        Segment(10, 20, "walk"),
        Segment(20.5, 30, "run"),
        Segment(40, 50, "walk"),
    ]
    assert [s.start_s for s in M.bout_starts(segs)] == [10, 40]  # the run follows a walk: not a start


# ---------------------------------------------------------------- third-party data sets (the copies in tests/data)


def test_foot_switch_steps_count_every_rise_of_either_switch(tmp_path: Path) -> None:
    from bench.datasets import foot_switch_steps_ns

    path = tmp_path / "stepcounter.csv"
    # foot1 starts closed (not a step), opens, closes at 30; foot2 closes at 20 and 50
    path.write_text("10,1,0\n20,0,1\n30,1,1\n40,0,0\n50,0,1\n60,0,1\n")
    assert foot_switch_steps_ns(path).tolist() == [20, 30, 50]


def test_oxford_loader_reads_the_phone_walks_with_their_foot_switches() -> None:
    from bench.datasets import load_oxford
    from tests.realdata import THIRD_PARTY

    recs = {r.name: r for r in load_oxford(THIRD_PARTY / "oxford-step-counter")}
    assert sorted(recs) == ["Pixel_Jamie_Hard_NeckPouch_1", "Pixel_Jamie_Hard_NeckPouch_2"]
    for name, n_steps in (("Pixel_Jamie_Hard_NeckPouch_1", 248), ("Pixel_Jamie_Hard_NeckPouch_2", 272)):
        rec = recs[name]
        assert rec.true_steps_s.size == n_steps  # the dataset's own counts (third-party README)
        assert 0.0 < rec.true_steps_s[0] < rec.true_steps_s[-1] < rec.duration_s  # on the phone's time base
        assert 380.0 < rec.fs_hz < 420.0
        assert 0.9 < float(np.median(np.linalg.norm(rec.xyz_g, axis=1))) < 1.1  # m/s^2 -> g
        (walk,) = rec.segments
        assert (walk.label, walk.start_s, walk.end_s) == ("walk", rec.true_steps_s[0], rec.true_steps_s[-1])


def test_oxford_evaluation_scores_steps_against_the_foot_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import algorithms, signal_bench
    from bench.datasets import load_oxford
    from tests.realdata import THIRD_PARTY

    rec = load_oxford(THIRD_PARTY / "oxford-step-counter")[0]

    def must_not_run(*_: object, **__: object) -> tuple[list[dict[str, object]], np.ndarray]:
        raise AssertionError("a lower-back-only method ran on the phone on the chest")

    monkeypatch.setitem(algorithms.ALGORITHMS, "mobgap", must_not_run)
    # a perfect step detector: the foot switches themselves, a second per timeline entry at their rate
    truth = rec.true_steps_s
    rate = 60.0 * (truth.size - 1) / (truth[-1] - truth[0])

    def oracle_steps(t_s: np.ndarray, *_: object) -> tuple[list[dict[str, object]], np.ndarray]:
        timeline = [{"t": float(k), "cadence_spm": rate, "mode": "walk"} for k in range(int(t_s[-1]) + 1)]
        return timeline, truth + 0.1

    monkeypatch.setitem(algorithms.ALGORITHMS, "fft", oracle_steps)
    rep = signal_bench.evaluate_oxford([rec], ["fft", "mobgap"])
    assert not rep.errors
    k = rep.keyed
    # 0.1 s late: raw, a few late steps sit closer to the next switch closure (closures 0.18 s apart exist)
    assert 0.95 < k["f1"].values["fft"] < 1.0
    assert k["f1o"].values["fft"] == 1.0
    assert k["off"].values["fft"] == pytest.approx(0.1)
    assert k[f"cnt_{rec.name}"].values["fft"] == 0.0
    assert k["walk"].values["fft"] == 100.0 and k["run"].values["fft"] == 0.0
    assert k["w_med"].values["fft"] < 10.0  # one cadence for the whole walk, compared window by window
    assert all(row.note.get("mobgap") == "n/a" for row in rep.rows)
    assert "refuse" in rep.description


def test_rest_evaluation_counts_false_alarms_on_the_polar_export() -> None:
    from bench import signal_bench
    from bench.datasets import load_biobss
    from tests.realdata import THIRD_PARTY

    (rec,) = load_biobss(THIRD_PARTY / "biobss")
    assert 50.0 < rec.fs_hz < 54.0 and 8.0 < rec.duration_s / 60.0 < 9.0
    assert [s.label for s in rec.segments] == ["still"]
    rep = signal_bench.evaluate_rest([rec], ["coach_live", "gaitlumbar_ref", "mobgap"])
    assert not rep.errors
    k = rep.keyed
    shares = [k[f"m_{m}"].values["coach_live"] for m in signal_bench.REST_MODES]
    assert sum(shares) == pytest.approx(100.0)
    assert k["frun_s"].values["coach_live"] == 0.0  # a strap at rest never runs
    assert all(row.note.get(a) == "n/a" for row in rep.rows for a in ("gaitlumbar_ref", "mobgap"))
