"""The phone accelerometer reader: an Android sensor log as the Oxford step counter dataset records it.

A folder holding ``accelerometer.csv`` (or ``accelerometer.csv.xz`` / ``.gz``): one row per sample,
``timestamp_ns, accuracy, x, y, z``, no header; the time is Android's sensor clock (nanoseconds since boot, so not a
date), x/y/z in m/s^2, at the phone's own rate and not evenly spaced (the Oxford Pixel logs run at about 405 Hz,
2.47 ms apart with the odd longer gap; the analysis resamples onto its own grid, as it does for any csv). Other
files of the folder (the dataset's ``stepcounter.csv`` foot-switch truth, ``metadata.txt``) are not read.
:func:`read_phone` -> :class:`PhoneAcc`; problems raise :class:`~sensors.readers.ReaderError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sensors.readers._common import ReaderError

FloatArray = npt.NDArray[np.float64]

#: The accelerometer file names a phone recording folder may hold (plain or compressed).
PHONE_ACC_NAMES = ("accelerometer.csv", "accelerometer.csv.xz", "accelerometer.csv.gz")
#: Columns of a row: time (ns), accuracy, x, y, z.
PHONE_COLUMNS = 5


@dataclass(frozen=True)
class PhoneAcc:
    """``t_s`` seconds from the first sample, ``xyz_ms2`` (n, 3) in m/s^2 as written; ``first_ns`` is the first
    sample's Android sensor time (ns since boot), the clock the folder's other logs share."""

    path: Path
    t_s: FloatArray
    xyz_ms2: FloatArray
    first_ns: int | None = None


def find_phone_files(folder: Path) -> Path | None:
    """The accelerometer file of a phone recording folder, or ``None``."""
    return next((folder / n for n in PHONE_ACC_NAMES if (folder / n).is_file()), None)


def _text(path: Path) -> str:
    import gzip  # here, not at the top: `coach analyze` imports this module for PHONE_ACC_NAMES alone
    import lzma

    try:
        raw = path.read_bytes()
        if path.suffix == ".xz":
            raw = lzma.decompress(raw)
        elif path.suffix == ".gz":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (OSError, lzma.LZMAError, EOFError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{path}: cannot read: {exc}") from None


def read_phone(path: str | Path) -> PhoneAcc:
    """Read a phone recording folder (or its accelerometer file) once."""
    p = Path(path)
    acc = find_phone_files(p) if p.is_dir() else p
    if acc is None:
        raise ReaderError(f"{p}: no {' / '.join(PHONE_ACC_NAMES)} in this folder")
    text = _text(acc).replace("\r", "").strip()
    lines = text.split("\n")
    if lines and lines[0] and not lines[0][:1].isdigit():
        header = [c.strip().lower() for c in lines[0].split(",")]
        if (
            len(header) != PHONE_COLUMNS
            or header[2:] != ["x", "y", "z"]
            or not header[0].startswith("timestamp")
        ):
            raise ReaderError(
                f"{acc}:1: not a phone accelerometer log coach knows: expected the columns timestamp_ns, accuracy, "
                f"x, y, z, found {lines[0][:60]!r}"
            )
        lines = lines[1:]
    if len(lines) < 2:
        raise ReaderError(f"{acc}: fewer than two samples")
    try:
        table = np.array([[float(v) for v in ln.split(",")] for ln in lines], dtype=np.float64)
    except ValueError:
        bad = next(k for k, ln in enumerate(lines) if not _numbers(ln))
        raise ReaderError(
            f"{acc}:{bad + 1}: expected {PHONE_COLUMNS} numbers (timestamp_ns, accuracy, x, y, z), "
            f"found {lines[bad][:60]!r}"
        ) from None
    if table.ndim != 2 or table.shape[1] != PHONE_COLUMNS or not np.isfinite(table).all():
        raise ReaderError(
            f"{acc}: expected {PHONE_COLUMNS} finite numbers per row (timestamp_ns, accuracy, x, y, z)"
        )
    ns = table[:, 0]
    return PhoneAcc(
        path=acc, t_s=(ns - ns[0]) * 1e-9, xyz_ms2=np.ascontiguousarray(table[:, 2:5]), first_ns=int(ns[0])
    )


def _numbers(line: str) -> bool:
    try:
        return len([float(v) for v in line.split(",")]) == PHONE_COLUMNS
    except ValueError:
        return False
