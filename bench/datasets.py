"""Loaders for the real recordings in ../shared/data used by the signal benchmark.

Every loader returns plain numpy arrays with times in seconds from the first sample and acceleration in g.
See each folder's SOURCE.txt for provenance; what counts as reference here:

- mobilise-d-lowerback: INDIP insole reference per walking bout (``MicroWB``): Start/End [s], Cadence
  [steps/min] and the initial contacts (``InitialContact_Event`` [s], de-duplicated; these are the heel
  strikes, the union of the ``Stride_InitialContacts`` plus contacts that did not form a valid stride).
  MATLAB times count the first sample as 1/fs, so 1/fs is subtracted to get seconds from the first sample.
- hexoskin-chest: hand labels from bench/labels/hexoskin.json (walk/run/still/stairs spans) and the device's
  own step events (step.csv, a commercial algorithm: a reference of lesser quality).
- third-party/oxford-step-counter (Oxford step counter project, CC BY 4.0): a phone in a pouch hanging on the
  chest, walking on a hard floor; the truth is two foot switches (stepcounter.csv, ~11 Hz, on the phone's sensor
  clock): every 0 -> 1 change of either switch is one step (the dataset's own rule), ``true_steps_s``. The walk
  is labelled from the first to the last true step (one ``walk`` segment). Read with the project's phone reader
  (:func:`sensors.readers.phone.read_phone`), m/s^2 -> g by standard gravity, as ``coach analyze`` does.
- third-party/biobss (obss/BIOBSS, MIT): a Polar Sensor Logger export of a Polar Verity Sense, 52 Hz, 8.5 min at
  rest: one ``still`` segment over the whole recording. Read with the project's Polar Sensor Logger reader
  (:func:`sensors.readers.polar_logger.read_polar_export`), mG -> g.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.metrics import Segment

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LABELS = Path(__file__).resolve().parent / "labels"

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RefBout:
    """One reference walking bout (mobilise-d INDIP MicroWB)."""

    start_s: float
    end_s: float
    cadence_spm: float
    ic_s: FloatArray


@dataclass
class Recording:
    """One accelerometer recording with whatever reference the dataset has."""

    dataset: str
    name: str
    t_s: FloatArray
    xyz_g: FloatArray
    fs_hz: float
    placement: str
    bouts: list[RefBout] = field(default_factory=list)  # mobilise-d reference walking bouts
    segments: list[Segment] = field(default_factory=list)  # hexoskin hand labels
    device_steps_s: FloatArray = field(default_factory=lambda: np.zeros(0))  # hexoskin step.csv
    transitions: list[tuple[float, str, str]] = field(default_factory=list)  # hexoskin labelled changes
    true_steps_s: FloatArray = field(default_factory=lambda: np.zeros(0))  # oxford foot-switch steps

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if self.t_s.size else 0.0


def _as_list(x: object) -> list[object]:
    if x is None:
        return []
    if isinstance(x, np.ndarray):
        return list(x.ravel())
    return [x]


def load_mobilise(root: Path | None = None) -> list[Recording]:
    """All lower-back recordings of the Mobilise-D lab example data (with or without reference bouts)."""
    import scipy.io as sio

    root = root or DATA / "mobilise-d-lowerback"
    out: list[Recording] = []
    for mat in sorted((root / "data" / "lab").glob("*/*/data.mat")):
        participant = f"{mat.parent.parent.name}/{mat.parent.name}"
        data = sio.loadmat(mat, squeeze_me=True, struct_as_record=False)["data"]
        for tm_name in data._fieldnames:
            tm = getattr(data, tm_name)
            for test_name in tm._fieldnames:
                test = getattr(tm, test_name)
                for trial_name in test._fieldnames:
                    trial = getattr(test, trial_name)
                    lb = trial.SU.LowerBack
                    acc = np.asarray(lb.Acc, dtype=float)
                    fs = 100.0  # SOURCE.txt: 100 Hz (the Fs field is a struct per sensor)
                    fs_field = getattr(lb, "Fs", None)
                    if fs_field is not None and hasattr(fs_field, "Acc"):
                        fs = float(fs_field.Acc)
                    t = np.arange(acc.shape[0], dtype=float) / fs
                    bouts: list[RefBout] = []
                    indip = getattr(trial.Standards, "INDIP", None)
                    wbs: list[Any] = _as_list(getattr(indip, "MicroWB", None) if indip is not None else None)
                    for wb in wbs:
                        ic = np.unique(
                            np.asarray(getattr(wb, "InitialContact_Event", []), dtype=float).ravel()
                        )
                        ic = ic[np.isfinite(ic)] - 1.0 / fs
                        bouts.append(
                            RefBout(
                                start_s=float(wb.Start) - 1.0 / fs,
                                end_s=float(wb.End) - 1.0 / fs,
                                cadence_spm=float(wb.Cadence),
                                ic_s=ic,
                            )
                        )
                    out.append(
                        Recording(
                            dataset="mobilise-d",
                            name=f"{participant} {test_name} {trial_name}",
                            t_s=t,
                            xyz_g=acc,
                            fs_hz=fs,
                            placement="lower back",
                            bouts=bouts,
                        )
                    )
    return out


def read_hexoskin_acc(folder: Path) -> tuple[FloatArray, FloatArray, float]:
    """(t_s, xyz_g, fs) from the three 64 Hz int16 WAVs (1/256 g)."""
    from scipy.io import wavfile

    chans = []
    fs = 0.0
    for axis in "XYZ":
        rate, x = wavfile.read(folder / f"acceleration_{axis}.wav")
        fs = float(rate)
        chans.append(np.asarray(x, dtype=float) / 256.0)
    n = min(len(c) for c in chans)
    xyz = np.column_stack([c[:n] for c in chans])
    return np.arange(n, dtype=float) / fs, xyz, fs


def load_hexoskin_labels(
    path: Path | None = None,
) -> dict[str, tuple[list[Segment], list[tuple[float, str, str]]]]:
    """Labels: subject id -> (segments, transitions (time, from, to))."""
    path = path or LABELS / "hexoskin.json"
    doc = json.loads(path.read_text())
    out: dict[str, tuple[list[Segment], list[tuple[float, str, str]]]] = {}
    for subject, entry in doc["subjects"].items():
        segs = [Segment(float(s["start"]), float(s["end"]), str(s["label"])) for s in entry["segments"]]
        trans = [(float(x["t"]), str(x["from"]), str(x["to"])) for x in entry.get("transitions", [])]
        out[subject] = (segs, trans)
    return out


def load_hexoskin(root: Path | None = None, labels_path: Path | None = None) -> list[Recording]:
    """The hexoskin chest recordings that have hand labels (those of them present under ``root``: tests/data
    holds two of the seven)."""
    root = root or DATA / "hexoskin-chest"
    labels = load_hexoskin_labels(labels_path)
    out: list[Recording] = []
    for subject in sorted(labels):
        folder = root / f"{subject}hexoskin"
        if root != DATA / "hexoskin-chest" and not folder.is_dir():
            continue
        t, xyz, fs = read_hexoskin_acc(folder)
        steps = np.loadtxt(folder / "step.csv", delimiter=",", skiprows=1, ndmin=2)
        out.append(
            Recording(
                dataset="hexoskin",
                name=subject,
                t_s=t,
                xyz_g=xyz,
                fs_hz=fs,
                placement="chest",
                segments=labels[subject][0],
                transitions=labels[subject][1],
                device_steps_s=np.asarray(steps[:, 0], dtype=float),
            )
        )
    return out


THIRD_PARTY = DATA / "third-party"
#: the Oxford step counter recordings in the corpus (a phone in a neck pouch on the chest, hard floor)
OXFORD_RECORDINGS = ("Pixel_Jamie_Hard_NeckPouch_1", "Pixel_Jamie_Hard_NeckPouch_2")


def foot_switch_steps_ns(path: Path) -> NDArray[np.int64]:
    """The Oxford truth from ``stepcounter.csv`` (``timestamp_ns, foot1, foot2``, no header): the sensor time of
    every 0 -> 1 change of either foot switch (one step each, the dataset's own counting rule), sorted."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 3 or table.shape[0] < 2:
        raise ValueError(f"{path}: expected rows of timestamp_ns, foot1, foot2")
    ns = table[:, 0]
    rises = [ns[1:][np.diff(table[:, k]) == 1] for k in (1, 2)]
    return np.sort(np.concatenate(rises))


def load_oxford(root: Path | None = None) -> list[Recording]:
    """The Oxford step counter walks (those of ``OXFORD_RECORDINGS`` present under ``root``), with their
    foot-switch steps on the accelerometer's time base (s from its first sample)."""
    from coach.signal.io import STANDARD_GRAVITY_MS2
    from sensors.readers.phone import read_phone

    root = root or THIRD_PARTY / "oxford-step-counter"
    out: list[Recording] = []
    for name in OXFORD_RECORDINGS:
        folder = root / name
        if not folder.is_dir():
            continue
        acc = read_phone(folder)
        if acc.first_ns is None:
            raise ValueError(f"{acc.path}: no sensor time to align the foot switches with")
        steps = np.asarray(
            (foot_switch_steps_ns(folder / "stepcounter.csv") - acc.first_ns) * 1e-9, dtype=np.float64
        )
        dt = np.diff(acc.t_s)
        out.append(
            Recording(
                dataset="oxford",
                name=name,
                t_s=acc.t_s,
                xyz_g=acc.xyz_ms2 / STANDARD_GRAVITY_MS2,
                fs_hz=float(1.0 / np.median(dt[dt > 0])),
                placement="chest",
                segments=[Segment(float(steps[0]), float(steps[-1]), "walk")] if steps.size >= 2 else [],
                true_steps_s=steps,
            )
        )
    return out


def load_biobss(root: Path | None = None) -> list[Recording]:
    """The BIOBSS Polar Sensor Logger sample (Verity Sense, at rest): one ``still`` segment over all of it."""
    from sensors.readers.polar_logger import read_polar_export

    root = root or THIRD_PARTY / "biobss"
    if not root.is_dir():
        return []
    acc, _ = read_polar_export(root)
    dt = np.diff(acc.t_s)
    return [
        Recording(
            dataset="biobss",
            name=acc.path.name,
            t_s=acc.t_s,
            xyz_g=acc.xyz_mg / 1000.0,
            fs_hz=float(1.0 / np.median(dt[dt > 0])),
            placement="unknown (Verity Sense: arm or temple)",
            segments=[Segment(float(acc.t_s[0]), float(acc.t_s[-1]), "still")],
        )
    ]


def resample_linear(t_s: FloatArray, xyz_g: FloatArray, fs_hz: float) -> tuple[FloatArray, FloatArray, float]:
    """A recording with its own (possibly uneven) sample times linearly interpolated onto a uniform ``fs_hz``
    grid from its first sample: (grid times, (n, 3) signal, ``fs_hz``)."""
    grid = t_s[0] + np.arange(int(np.floor((t_s[-1] - t_s[0]) * fs_hz)) + 1) / fs_hz
    return grid, np.column_stack([np.interp(grid, t_s, xyz_g[:, k]) for k in range(xyz_g.shape[1])]), fs_hz


def resample_uniform(xyz_g: FloatArray, fs_in: float, fs_out: float) -> FloatArray:
    """Polyphase resampling of a uniformly sampled (n, 3) signal to another rate."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    return np.asarray(resample_poly(xyz_g, frac.numerator, frac.denominator, axis=0), dtype=float)


def tiled_signal(duration_s: float, fs_hz: float, root: Path | None = None) -> FloatArray:
    """Real chest data (all hexoskin subjects, resampled to ``fs_hz``) repeated to ``duration_s``."""
    root = root or DATA / "hexoskin-chest"
    parts = []
    for folder in sorted(root.glob("*hexoskin")):
        _, xyz, fs = read_hexoskin_acc(folder)
        parts.append(resample_uniform(xyz, fs, fs_hz))
    base = np.concatenate(parts)
    n = round(duration_s * fs_hz)
    reps = int(np.ceil(n / base.shape[0]))
    return np.tile(base, (reps, 1))[:n]
