"""Sanity check on ../shared/data/garmin-fit: `coach analyze FILE.fit --json` must report the device's cadence.

FIT files carry no accelerometer, only the device's cadence (strides/min + fractional_cadence, so
steps/min = 2 x (cadence + fractional_cadence)). Each record is read with fitdecode; the timeline second t of
`coach analyze` is compared with the record at the same time since the first record. A unit slip (strides
reported as steps) shows up as a ~50 % error.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from bench.datasets import DATA
from bench.metrics import timeline_arrays
from bench.speed import coach_command


def device_cadence(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(t_s since the first record, steps/min) of every record with a running cadence."""
    import fitdecode

    ts: list[float] = []
    spm: list[float] = []
    t0: float | None = None
    with fitdecode.FitReader(str(path)) as fit:
        for frame in fit:
            if not isinstance(frame, fitdecode.FitDataMessage) or frame.name != "record":
                continue
            stamp = frame.get_value("timestamp", fallback=None)
            if stamp is None:
                continue
            t = stamp.timestamp()
            t0 = t if t0 is None else t0
            cad = frame.get_value("cadence", fallback=None)
            if cad is None:
                continue
            frac = frame.get_value("fractional_cadence", fallback=None) or 0.0
            ts.append(t - t0)
            spm.append(2.0 * (float(cad) + float(frac)))
    return np.asarray(ts), np.asarray(spm)


def check_file(path: Path) -> dict[str, object]:
    t_dev, c_dev = device_cadence(path)
    out: dict[str, object] = {"file": path.name, "records_with_cadence": int(t_dev.size)}
    if t_dev.size == 0:
        out["skipped"] = "no cadence in the file"
        return out
    p = subprocess.run(
        [*coach_command(), "analyze", str(path), "--json"], capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        out["error"] = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
        return out
    doc = json.loads(p.stdout)
    t, cad, _ = timeline_arrays(doc["timeline"])
    idx = np.clip(np.searchsorted(t_dev, t), 0, t_dev.size - 1)
    near = np.abs(t_dev[idx] - t) <= 0.5
    ok = near & np.isfinite(cad) & (c_dev[idx] > 0)
    diff = np.abs(cad[ok] - c_dev[idx][ok])
    out.update(
        {
            "seconds_compared": int(ok.sum()),
            "median_abs_diff_spm": float(np.median(diff)) if diff.size else float("nan"),
            "within_1_spm_pct": float(100.0 * np.mean(diff <= 1.0)) if diff.size else float("nan"),
            "median_ratio": float(np.median(cad[ok] / c_dev[idx][ok])) if diff.size else float("nan"),
        }
    )
    return out


def run() -> list[dict[str, object]]:
    return [check_file(p) for p in sorted((DATA / "garmin-fit").glob("*.fit"))]
