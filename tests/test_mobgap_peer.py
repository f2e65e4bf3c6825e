"""bench.mobgap_peer: the Mobilise-D pipeline (mobgap) as a benchmark peer. Its contacts and per-second
cadence must be exactly those of mobgap's own full ``MobilisedPipelineHealthy.run()`` on the Mobilise-D
example files, with or without the gyroscope; data in another frame is refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("mobgap")  # the bench extra
import pandas as pd  # a mobgap dependency

from bench.mobgap_peer import _merge, _timeline, run_mobgap, run_mobgap_ref
from tests.realdata import MOBILISE_DIR


def test_merge_joins_overlapping_spans_only() -> None:
    assert _merge([(5.0, 8.0), (0.0, 2.0), (7.0, 9.0), (9.5, 10.0)]) == [(0.0, 2.0), (5.0, 9.0), (9.5, 10.0)]
    assert _merge([]) == []


def test_timeline_interpolates_inside_spans_and_is_still_outside() -> None:
    fs = 100.0
    rel = np.arange(0, 1000) / fs  # 10 s
    centres = np.array([250, 350, 450, 550])  # 2.5 .. 5.5 s
    cad = pd.DataFrame(
        {"cadence_spm": [100.0, 110.0, np.nan, 90.0]},
        index=pd.Index(centres, name="sec_center_samples"),
    )
    tl = _timeline(rel, fs, [(2.0, 7.0)], cad)
    assert [e["t"] for e in tl] == [float(k) for k in range(10)]
    assert [e["mode"] for e in tl] == ["still"] * 2 + ["walk"] * 6 + ["still"] * 2
    by_t = {e["t"]: e["cadence_spm"] for e in tl}
    assert by_t[2.0] == pytest.approx(100.0)  # held within half a second of the first centre
    assert by_t[3.0] == pytest.approx(105.0)  # between 2.5 (100) and 3.5 (110)
    assert by_t[5.0] == pytest.approx(110.0 + (90.0 - 110.0) * 1.5 / 2.0)  # NaN centre skipped
    assert by_t[7.0] is None  # beyond the covered span: walk, no cadence
    assert by_t[0.0] is None


def test_data_not_in_the_mobilise_frame_is_refused() -> None:
    t = np.arange(0, 2000) / 100.0
    xyz = np.column_stack([np.zeros_like(t), -np.ones_like(t), np.zeros_like(t)])  # gravity on -y
    with pytest.raises(ValueError, match="Mobilise-D sensor frame"):
        run_mobgap(t, xyz, 100.0)
    with pytest.raises(ValueError, match="gyr_dps"):
        run_mobgap(t, -np.roll(xyz, -1, axis=1), 100.0, gyr_dps=np.zeros((5, 3)))  # upright, bad gyro


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")  # mobgap's loader: "Global caching is a little tricky..."
def test_contacts_and_cadence_equal_the_full_official_pipeline() -> None:
    with warnings.catch_warnings():  # importing it unpickles LrcUllrich's model (sklearn version warnings)
        warnings.simplefilter("ignore")
        from mobgap.data import GenericMobilisedDataset
        from mobgap.pipeline import MobilisedPipelineHealthy

    from bench.mobgap_peer import _contacts_and_cadence, _imu_body_frame, _pipeline

    ds = GenericMobilisedDataset(
        [MOBILISE_DIR / "data" / "lab" / "HA" / "001" / "data.mat"],
        GenericMobilisedDataset.COMMON_TEST_LEVEL_NAMES["tvs_lab"],
        parent_folders_as_metadata=["cohort", "participant_id"],  # the pipeline needs the cohort
        measurement_condition="laboratory",
        reference_system="INDIP",
    )
    checked = 0
    for dp in ds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = MobilisedPipelineHealthy().run(dp)
        fs = dp.sampling_rate_hz
        data = dp.data_ss
        acc_g = data[["acc_x", "acc_y", "acc_z"]].to_numpy() / 9.80665
        gyr = data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
        want_ic = np.sort(full.raw_ic_list_["ic"].to_numpy())
        want_cad = full.raw_per_sec_parameters_["cadence_spm"]
        assert want_ic.size >= 5
        for g in (None, gyr):  # the gyroscope changes nothing: no algorithm used reads it
            imu = _imu_body_frame(acc_g, g)
            p = _pipeline()
            gs = p.gait_sequence_detection.clone().detect(imu, sampling_rate_hz=fs).gs_list_
            ic, cad = _contacts_and_cadence(imu, gs, fs, p)
            np.testing.assert_array_equal(np.sort(ic["ic"].to_numpy()), want_ic)
            np.testing.assert_array_equal(
                cad.index.get_level_values("sec_center_samples"),
                want_cad.index.get_level_values("sec_center_samples"),
            )
            np.testing.assert_allclose(cad["cadence_spm"].to_numpy(), want_cad.to_numpy(), equal_nan=True)
        # the runner reports those contacts as steps (s from the first sample)
        _, steps = run_mobgap(np.arange(len(data)) / fs, acc_g, fs)
        np.testing.assert_allclose(steps, np.unique(want_ic) / fs)
        checked += 1
    assert checked == 3  # Test5 Trial1, Trial2, Test11 Trial1


@pytest.mark.slow
def test_runners_on_a_real_walk_find_its_steps() -> None:
    from bench import metrics as M
    from bench.datasets import load_mobilise

    rec = next(r for r in load_mobilise(MOBILISE_DIR) if r.name == "HA/001 Test5 Trial1")
    (bout,) = rec.bouts
    for timeline, steps in (
        run_mobgap(rec.t_s, rec.xyz_g, rec.fs_hz),
        run_mobgap_ref(rec.t_s, rec.xyz_g, rec.fs_hz, bouts_s=[(bout.start_s - 1.0, bout.end_s + 1.0)] * 2),
    ):
        t, cad, mode = M.timeline_arrays(timeline)
        np.testing.assert_array_equal(t, np.arange(t.size, dtype=float))
        assert t.size == int(np.floor(rec.t_s[-1])) + 1
        assert set(mode) <= {"walk", "still"}
        m = M.match_events(M.events_in(steps, bout.start_s - 0.25, bout.end_s + 0.25), bout.ic_s, 0.25)
        assert m.f1 >= 0.9
        c = M.mean_cadence_spm(t, cad, bout.start_s, bout.end_s)
        assert abs(c - bout.cadence_spm) < 5.0
        assert np.all(np.diff(steps) > 0)  # the duplicated span was merged: no step twice
