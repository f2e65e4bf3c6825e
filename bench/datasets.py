"""Loaders for the real recordings in ../shared/data used by the signal benchmark.

Every loader returns plain numpy arrays with times in seconds from the first sample and acceleration in g.
See each folder's SOURCE.txt for provenance; what counts as reference here:

- mobilise-d-lowerback: INDIP insole reference per walking bout (``MicroWB``): Start/End [s], Cadence
  [steps/min] and the initial contacts (``InitialContact_Event`` [s], de-duplicated; these are the heel
  strikes, the union of the ``Stride_InitialContacts`` plus contacts that did not form a valid stride).
  MATLAB times count the first sample as 1/fs, so 1/fs is subtracted to get seconds from the first sample.
- hexoskin-chest: hand labels from bench/labels/hexoskin.json (walk/run/still/stairs spans) and the device's
  own step events (step.csv, a commercial algorithm: a reference of lesser quality).
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
