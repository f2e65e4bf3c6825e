"""mobgap, the Mobilise-D consortium's own Python implementation of its gait pipeline, as a peer in the
signal benchmark (issue 3). mobgap 1.2.0 (Apache-2.0), used through its public API:

- ``mobgap``: the initial-contact and cadence path of ``mobgap.pipeline.MobilisedPipelineHealthy`` (the "P1"
  pipeline for healthy and mildly impaired walking; Micó-Amigo et al. 2023, J NeuroEng Rehabil 20:78), with
  the algorithm instances the pipeline itself predefines (``MobilisedPipelineHealthy().gait_sequence_detection``
  etc., so they follow its ``PredefinedParameters.regular_walking``) and no reference information:
  ``mobgap.gait_sequences.GsdIluz`` finds gait sequences; per sequence (``mobgap.pipeline.GsIterator``)
  ``mobgap.initial_contacts.IcdIonescu`` finds the initial contacts (= our steps), ``refine_gs`` trims the
  sequence to its first..last contact and ``mobgap.cadence.CadFromIcDetector`` (re-detecting contacts with
  ``IcdShinImproved``, Hampel-smoothed step times) gives the cadence per second (``cadence_per_sec_``).
  This is ``GenericMobilisedPipeline._run_per_gs`` without the steps that change neither contacts nor
  cadence: laterality (``LrcUllrich``, needs a gyroscope), turns (``TdElGohary``, gyroscope), stride length
  (``SlZijlstra``, needs the sensor height), walking speed, stride selection and walking-bout assembly.
  The whole pipeline object cannot run here: ``run()`` takes a mobgap dataset with participant metadata
  (cohort, height) and a gyroscope. The contacts equal its ``raw_ic_list_`` and the cadence its
  ``raw_per_sec_parameters_["cadence_spm"]``.
  Timeline: inside a detected gait sequence the mode is "walk" and the cadence is the per-second output
  (centred on half seconds) interpolated to the whole second, where the second lies within the span those
  values cover; elsewhere "still". mobgap has no running class.
- ``mobgap_ref``: ``IcdIonescu`` + ``refine_gs`` + ``CadFromIcDetector`` run the same way on the reference
  gait spans it is given (``bouts_s``, like ``gaitlumbar_ref``; overlapping spans are merged first): the best
  case of its contact detection and cadence.

Input (mobgap's documented data format): a DataFrame in the Mobilise-D *sensor frame* (``acc_x`` = vertical,
pointing up, so about +1 g when upright; ``acc_y`` = medio-lateral; ``acc_z`` = anterior-posterior), acc in
m/s^2, gyr in deg/s, renamed to the body frame by ``mobgap.utils.conversions.to_body_frame``. The
Mobilise-D ``SU.LowerBack.Acc`` columns are in that frame already (mobgap's own loader multiplies them by
``mobgap.consts.GRAV_MS2`` and nothing else), so ``xyz_g`` is used as is. Data in another frame (e.g. the
hexoskin chest strap) is refused with a ValueError instead of being scored in the wrong axes.

Gyroscope: none of the algorithms used reads it (their docstrings: "Uses accelerometer data only.
Gyroscope data is not used."), but mobgap's frame checks require the ``gyr_*`` columns. Pass the real
``gyr_dps`` if you have it; without it the columns are NaN (no data is invented, and a NaN would poison any
result that used it). The results are the same either way (checked on the Mobilise-D recordings).

Nothing is downloaded: only computations are used (mobgap's example-data registry is never fetched).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Timeline = list[dict[str, Any]]

# column 0 of the input must be the vertical axis pointing up (Mobilise-D sensor frame): its median over the
# recording, in g, must be at least this
MIN_VERTICAL_G = 0.5


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """mobgap warns freely (unpickling its laterality model, empty contact lists) and tqdm may print."""
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        yield


def _imu_body_frame(xyz_g: FloatArray, gyr_dps: FloatArray | None) -> Any:
    """The recording as mobgap's body-frame DataFrame (acc_is/ml/pa in m/s^2, gyr_is/ml/pa in deg/s)."""
    import pandas as pd
    from mobgap.consts import GRAV_MS2, SF_ACC_COLS, SF_GYR_COLS
    from mobgap.utils.conversions import to_body_frame

    acc = np.asarray(xyz_g, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"xyz_g must be (n, 3), got {acc.shape}")
    vertical = float(np.median(acc[:, 0])) if acc.size else float("nan")
    if not vertical >= MIN_VERTICAL_G:
        raise ValueError(
            f"not in the Mobilise-D sensor frame: median of axis 0 is {vertical:.2f} g, mobgap needs x = vertical "
            f"(about +1 g upright)"
        )
    if gyr_dps is None:
        gyr = np.full_like(acc, np.nan)
    else:
        gyr = np.asarray(gyr_dps, dtype=float)
        if gyr.shape != acc.shape:
            raise ValueError(f"gyr_dps must have the shape of xyz_g {acc.shape}, got {gyr.shape}")
    frame = pd.DataFrame(np.column_stack([acc * GRAV_MS2, gyr]), columns=[*SF_ACC_COLS, *SF_GYR_COLS])
    return to_body_frame(frame)


def _contacts_and_cadence(imu: Any, gs_list: Any, fs_hz: float, pipeline: Any) -> tuple[Any, Any]:
    """The per-gait-sequence loop of ``GenericMobilisedPipeline._run_per_gs``, contacts and cadence only.
    Returns (ic samples from the start, cadence_per_sec DataFrame indexed by absolute sec_center_samples)."""
    from mobgap.initial_contacts import refine_gs
    from mobgap.pipeline import FullPipelinePerGsResult, GsIterator

    gs_iterator = GsIterator[FullPipelinePerGsResult]()
    for (_, gs_data), r in gs_iterator.iterate(imu, gs_list):
        icd = pipeline.initial_contact_detection.clone().detect(gs_data, sampling_rate_hz=fs_hz)
        r.ic_list = icd.ic_list_
        if len(r.ic_list) < 2:  # as the pipeline: no per-second values from fewer than 2 contacts
            continue
        refined_gs, refined_ic_list = refine_gs(r.ic_list)
        with gs_iterator.subregion(refined_gs) as ((_, refined_gs_data), rr):
            cad = pipeline.cadence_calculation.clone().calculate(
                refined_gs_data, initial_contacts=refined_ic_list, sampling_rate_hz=fs_hz
            )
            rr.cadence_per_sec = cad.cadence_per_sec_
    res = gs_iterator.results_
    return res.ic_list, res.cadence_per_sec


def _timeline(
    rel_s: FloatArray, fs_hz: float, spans_s: Sequence[tuple[float, float]], cad_per_sec: Any
) -> Timeline:
    """One entry per whole second: "walk" inside a span (cadence interpolated from the per-second values of
    that span), "still" elsewhere."""
    if len(cad_per_sec):
        centres = cad_per_sec.index.get_level_values("sec_center_samples").to_numpy(dtype=float) / fs_hz
        values = cad_per_sec["cadence_spm"].to_numpy(dtype=float)
    else:
        centres = values = np.zeros(0)
    per_span: list[tuple[float, float, FloatArray, FloatArray]] = []
    for s, e in sorted(spans_s):
        sel = (centres >= s) & (centres <= e) & np.isfinite(values)
        order = np.argsort(centres[sel])
        per_span.append((s, e, centres[sel][order], values[sel][order]))
    n_s = int(np.floor(rel_s[-1])) + 1 if rel_s.size else 0
    timeline: Timeline = []
    for k in range(n_s):
        tk = float(k)
        inside = [p for p in per_span if p[0] <= tk <= p[1]]
        if not inside:
            timeline.append({"t": tk, "cadence_spm": None, "mode": "still"})
            continue
        cadence: float | None = None
        for _, _, c, v in inside:
            if c.size and c[0] - 0.5 <= tk <= c[-1] + 0.5:
                cadence = float(np.interp(tk, c, v))
                break
        timeline.append({"t": tk, "cadence_spm": cadence, "mode": "walk"})
    return timeline


def _steps_s(ic_list: Any, rel_s: FloatArray) -> FloatArray:
    if not len(ic_list):
        return np.zeros(0)
    idx = np.clip(ic_list["ic"].to_numpy(dtype=np.int64), 0, rel_s.size - 1)
    return np.unique(rel_s[idx])


def _pipeline(impaired: bool = False) -> Any:
    with _quiet():  # importing mobgap.pipeline unpickles LrcUllrich's model (sklearn version warnings)
        from mobgap.pipeline import MobilisedPipelineHealthy, MobilisedPipelineImpaired

        return MobilisedPipelineImpaired() if impaired else MobilisedPipelineHealthy()


def run_mobgap(
    t_s: FloatArray,
    xyz_g: FloatArray,
    fs_hz: float,
    *,
    gyr_dps: FloatArray | None = None,
    impaired: bool = False,
) -> tuple[Timeline, FloatArray]:
    """The Mobilise-D P1 pipeline's gait sequences, initial contacts and per-second cadence, no reference.
    ``impaired=True``: the P2 pipeline's algorithms instead (``MobilisedPipelineImpaired``: ``GsdIonescu``,
    cadence contacts by ``IcdHKLeeImproved``), recommended by mobgap for MS, PD and PFF."""
    rel = np.asarray(t_s, dtype=float) - float(t_s[0])
    imu = _imu_body_frame(xyz_g, gyr_dps)
    pipeline = _pipeline(impaired)
    with _quiet():
        gsd = pipeline.gait_sequence_detection.clone().detect(imu, sampling_rate_hz=fs_hz)
        gs_list = gsd.gs_list_
        ic_list, cad = _contacts_and_cadence(imu, gs_list, fs_hz, pipeline)
    last = rel.size - 1
    spans = [
        (float(rel[min(last, int(s))]), float(rel[min(last, int(e))]))
        for s, e in zip(gs_list["start"], gs_list["end"], strict=True)
    ]
    return _timeline(rel, fs_hz, spans, cad), _steps_s(ic_list, rel)


def _merge(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted((float(a), float(b)) for a, b in spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def run_mobgap_ref(
    t_s: FloatArray,
    xyz_g: FloatArray,
    fs_hz: float,
    *,
    bouts_s: Sequence[tuple[float, float]] = (),
    gyr_dps: FloatArray | None = None,
) -> tuple[Timeline, FloatArray]:
    """mobgap's contact detection and cadence told the reference gait spans (``bouts_s``, s from the start)."""
    import pandas as pd

    rel = np.asarray(t_s, dtype=float) - float(t_s[0])
    imu = _imu_body_frame(xyz_g, gyr_dps)
    spans = _merge(bouts_s)
    last = rel.size - 1
    rows = [(int(np.searchsorted(rel, s)), min(last, int(np.searchsorted(rel, e)))) for s, e in spans]
    gs_list = pd.DataFrame(rows, columns=["start", "end"], dtype="int64").rename_axis(index="gs_id")
    pipeline = _pipeline()
    with _quiet():
        ic_list, cad = _contacts_and_cadence(imu, gs_list, fs_hz, pipeline)
    return _timeline(rel, fs_hz, spans, cad), _steps_s(ic_list, rel)
