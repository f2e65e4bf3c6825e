"""The Polar Sensor Logger reader: the app's ACC and HR exports (semicolon separated text).

- ACC (``..._ACC.txt``/``.csv``): header ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]`` (extra
  columns such as ``timestamp [ms]`` are tolerated; columns are found by name). The sensor timestamp is nanoseconds
  since the PMD epoch (2000-01-01, :data:`sensors.codecs.pmd.PMD_EPOCH`); the phone timestamp is the phone's local
  ISO time, the only clock the ACC and HR files share.
- HR (``..._HR.txt``): header ``Phone timestamp;HR [bpm];...``.
- RR (``..._RR.txt``): header ``Phone timestamp;RR-interval [ms]``: one beat interval per row. Used for the heart
  rate (60000 / RR, intervals outside :data:`sensors.readers.fit.RR_RANGE_S` left out) when there is no HR file.

:func:`read_polar_export` takes the ACC file, the folder holding the files, or the zip the app shares, as one
argument.

Each file is read once: :func:`read_polar_acc` -> :class:`PolarAcc`, :func:`read_polar_hr` -> :class:`PolarHr`.
Problems raise :class:`~sensors.readers.ReaderError` naming the file and the line.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sensors.codecs.pmd import PMD_EPOCH
from sensors.readers._common import ReaderError, read_text

FloatArray = npt.NDArray[np.float64]

_POLAR_NS = re.compile(r"sensor timestamp \[ns\]", re.IGNORECASE)
_PHONE_COL = re.compile(r"^[^;\n]*;", re.MULTILINE)
_PHONE = "phone timestamp"


@dataclass(frozen=True)
class PolarAcc:
    """An ACC export: ``t_s`` seconds from the first row's sensor time, ``xyz_mg`` (n, 3) in mG as written.

    ``first_sensor_ns`` is the first row's sensor timestamp (ns since the PMD epoch) and ``phone_start`` its phone
    time (``None`` when the file has no such column or the value does not parse).
    """

    path: Path
    t_s: FloatArray
    xyz_mg: FloatArray
    first_sensor_ns: int | None
    phone_start: datetime | None

    @property
    def start_utc(self) -> datetime | None:
        """The first sample's time from the sensor clock (PMD epoch + ns)."""
        if self.first_sensor_ns is None:
            return None
        return PMD_EPOCH + timedelta(microseconds=self.first_sensor_ns / 1000)


@dataclass(frozen=True)
class PolarHr:
    """An HR export: one ``(phone time, bpm)`` per row, in file order (bpm 0 = no reading, kept)."""

    path: Path
    rows: tuple[tuple[datetime, float], ...]

    def on_time_base(self, phone_t0: datetime | None) -> list[tuple[float, float]]:
        """``(t_s, bpm)`` of the readings (bpm > 0), seconds after ``phone_t0`` (the ACC file's first phone time;
        ``None``: the first HR row)."""
        if not self.rows:
            return []
        t0 = self.rows[0][0] if phone_t0 is None else phone_t0
        if any((when.tzinfo is None) != (t0.tzinfo is None) for when, _ in self.rows):
            raise ReaderError(
                f"{self.path}: phone timestamps with and without a time zone cannot be aligned with the ACC file"
            )
        return [((when - t0).total_seconds(), bpm) for when, bpm in self.rows if bpm > 0]


def phone_time(value: str) -> datetime | None:
    """A Polar Sensor Logger phone timestamp (ISO 8601), or ``None``."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _header(text: str) -> tuple[str, str, list[str]]:
    header, _, body = text.partition("\n")
    cols = [c.strip() for c in header.strip().rstrip(";").split(";")]
    return header, body, cols


def read_polar_acc(path: str | Path) -> PolarAcc:
    """Read an ACC export once (a fast vectorised parse; on any problem a line-by-line one names the bad line)."""
    p = Path(path)
    header, body, cols = _header(read_text(p))
    low = [c.lower() for c in cols]
    try:
        i_ns = next(i for i, c in enumerate(cols) if _POLAR_NS.fullmatch(c))
        i_xyz = tuple(low.index(f"{a} [mg]") for a in "xyz")
    except (StopIteration, ValueError):
        raise ReaderError(
            f"{p}:1: not a Polar Sensor Logger ACC file: expected 'sensor timestamp [ns]' and "
            f"'X [mg]', 'Y [mg]', 'Z [mg]' columns, found {header.strip()[:80]!r}"
        ) from None
    flat = body.replace("\r", "").strip()
    if not flat:
        raise ReaderError(f"{p}: no data rows after the header")
    ix, iy, iz = i_xyz
    fast = _fast(flat, len(cols), i_ns, (ix, iy, iz), low)
    t, vals = fast if fast is not None else _slow(p, flat, cols, i_ns, (ix, iy, iz))
    first = flat.split("\n", 1)[0].rstrip(";").split(";")
    try:
        first_ns: int | None = int(first[i_ns])
    except (ValueError, IndexError):
        first_ns = None
    phone = phone_time(first[low.index(_PHONE)]) if _PHONE in low and low.index(_PHONE) < len(first) else None
    return PolarAcc(path=p, t_s=t, xyz_mg=vals, first_sensor_ns=first_ns, phone_start=phone)


def _fast(
    flat: str, ncols: int, i_ns: int, i_xyz: tuple[int, int, int], low: list[str]
) -> tuple[FloatArray, FloatArray] | None:
    """All rows at once: drop the phone time stamp (a date, the first column) and parse the rest as numbers.

    Returns None when the layout is not the plain one (the slow path then finds and names any bad line).
    """
    if low[0].startswith("phone"):
        flat = _PHONE_COL.sub("", flat)
        ncols -= 1
        i_ns, i_xyz = i_ns - 1, (i_xyz[0] - 1, i_xyz[1] - 1, i_xyz[2] - 1)
    flat = flat.replace(";\n", "\n").rstrip(";")
    n_lines = flat.count("\n") + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = np.fromstring(flat.replace("\n", ";"), dtype=np.float64, sep=";")
        except ValueError:
            return None
    if values.size != n_lines * ncols or not np.isfinite(values).all():
        return None
    table = values.reshape(n_lines, ncols)
    ns = table[:, i_ns]
    # ns since 2000 (~6e17) is past float64's exact integers; differences stay exact to well under 1 us
    t = (ns - ns[0]) * 1e-9
    return t, np.ascontiguousarray(table[:, list(i_xyz)])


def _slow(
    path: Path, flat: str, cols: list[str], i_ns: int, i_xyz: tuple[int, int, int]
) -> tuple[FloatArray, FloatArray]:
    lines = flat.split("\n")
    need = max(i_ns, *i_xyz)
    ns_list: list[int] = []
    vals = np.empty((len(lines), 3), dtype=np.float64)
    for k, line in enumerate(lines):
        parts = line.rstrip(";").split(";")
        if len(parts) <= need:
            raise ReaderError(
                f"{path}:{k + 2}: expected {len(cols)} ';'-separated values, found {len(parts)}"
            )
        try:
            stamp = int(parts[i_ns])
            if not -(2**63) <= stamp < 2**63:
                raise ReaderError(f"{path}:{k + 2}: sensor timestamp {parts[i_ns][:30]!r} is out of range")
            ns_list.append(stamp)
            for j, col in enumerate(i_xyz):
                vals[k, j] = float(parts[col])
        except ValueError as exc:
            if isinstance(exc, ReaderError):
                raise
            raise ReaderError(f"{path}:{k + 2}: not a number in {line.strip()[:60]!r}") from None
    ns = np.asarray(ns_list, dtype=np.int64)
    return (ns - ns[0]).astype(np.float64) * 1e-9, vals


def _phone_rows(p: Path, lines: list[str], i_t: int, i_value: int) -> list[tuple[datetime, float]]:
    """The data rows of a Polar Sensor Logger HR or RR file: (phone time, the number in column ``i_value``); a bad
    row raises :class:`ReaderError` naming its line."""
    rows: list[tuple[datetime, float]] = []
    for k, line in enumerate(lines[1:], start=2):
        row = line.rstrip(";").split(";")
        try:
            when = phone_time(row[i_t])
            value = float(row[i_value])
        except (ValueError, IndexError):
            raise ReaderError(f"{p}:{k}: bad row {';'.join(row)[:60]!r}") from None
        if when is None:
            raise ReaderError(f"{p}:{k}: bad phone timestamp {row[i_t][:40]!r}")
        rows.append((when, value))
    return rows


def read_polar_hr(path: str | Path) -> PolarHr:
    """Read an HR export once."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{p}: cannot read ({exc})") from None
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    if not lines:
        raise ReaderError(f"{p}: empty file")
    low = [c.strip().lower() for c in lines[0].rstrip(";").split(";")]
    if "hr [bpm]" not in low or _PHONE not in low:
        raise ReaderError(
            f"{p}:1: not a Polar Sensor Logger HR file (needs 'Phone timestamp' and 'HR [bpm]')"
        )
    i_t, i_hr = low.index(_PHONE), low.index("hr [bpm]")
    return PolarHr(path=p, rows=tuple(_phone_rows(p, lines, i_t, i_hr)))


#: Name parts that mark the app's ACC, HR and RR files (``Polar_H10_ABCD1234_20240101_120000_ACC.txt``).
ACC_MARK, HR_MARK, RR_MARK = "ACC", "HR", "RR"
#: Extensions of the app's text exports.
POLAR_SUFFIXES = (".txt", ".csv")


def _is_export(name: str, mark: str) -> bool:
    stem, dot, ext = name.rpartition(".")
    return bool(dot) and f".{ext.lower()}" in POLAR_SUFFIXES and stem.upper().endswith(f"_{mark}")


def find_polar_files(folder: Path) -> tuple[Path, Path | None] | None:
    """The ACC export of a folder and its heart-rate source: the HR export, else the RR export, else ``None``;
    ``None`` when there is no ACC export."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    acc = next((n for n in names if _is_export(n, ACC_MARK)), None)
    if acc is None:
        return None
    hr = next((n for n in names if _is_export(n, HR_MARK)), None)
    hr = hr or next((n for n in names if _is_export(n, RR_MARK)), None)
    return folder / acc, None if hr is None else folder / hr


def read_polar_rr(path: str | Path) -> PolarHr:
    """An RR export as heart rate: one ``(phone time, 60000 / RR ms)`` per beat interval in the beat range."""
    from sensors.readers.fit import RR_RANGE_S

    p = Path(path)
    lines = [ln for ln in read_text(p).replace("\r", "").split("\n") if ln.strip()]
    if not lines:
        raise ReaderError(f"{p}: empty file")
    low = [c.strip().lower() for c in lines[0].rstrip(";").split(";")]
    i_rr = next((i for i, c in enumerate(low) if c.startswith("rr") and "[ms]" in c), None)
    if i_rr is None or _PHONE not in low:
        raise ReaderError(
            f"{p}:1: not a Polar Sensor Logger RR file (needs 'Phone timestamp' and 'RR-interval [ms]')"
        )
    i_t = low.index(_PHONE)
    lo, hi = RR_RANGE_S
    rows = [
        (when, 60000.0 / rr_ms)
        for when, rr_ms in _phone_rows(p, lines, i_t, i_rr)
        if lo <= rr_ms / 1000.0 <= hi
    ]
    return PolarHr(path=p, rows=tuple(rows))


def read_polar_heart(path: Path) -> PolarHr:
    """An HR export, or an RR export read as heart rate (by its name)."""
    return read_polar_rr(path) if _is_export(path.name, RR_MARK) else read_polar_hr(path)


def read_polar_export(path: str | Path) -> tuple[PolarAcc, PolarHr | None]:
    """An ACC export and its HR export from one argument: the ACC file (its ``..._HR`` sibling is read when
    there), the folder holding both, or the zip the app shares. Zip members are read from a temporary folder that
    is gone on return (the arrays are in memory)."""
    import tempfile
    import zipfile

    p = Path(path)
    if p.is_dir():
        found = find_polar_files(p)
        if found is None:
            raise ReaderError(f"{p}: no Polar Sensor Logger ACC export (..._ACC.txt) in this folder")
        acc, hr = found
        return read_polar_acc(acc), None if hr is None else read_polar_heart(hr)
    if zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as zf, tempfile.TemporaryDirectory() as tmp:
                members = [m for m in zf.infolist() if not m.is_dir()]
                wanted = [m for m in members if _is_export(Path(m.filename).name, ACC_MARK)]
                wanted += [
                    m
                    for m in members
                    if _is_export(Path(m.filename).name, HR_MARK)
                    or _is_export(Path(m.filename).name, RR_MARK)
                ]
                if not wanted:
                    raise ReaderError(f"{p}: a zip without a Polar Sensor Logger ACC export (..._ACC.txt)")
                for m in wanted:
                    (Path(tmp) / Path(m.filename).name).write_bytes(zf.read(m))
                found = find_polar_files(Path(tmp))
                if found is None:
                    raise ReaderError(f"{p}: a zip without a Polar Sensor Logger ACC export (..._ACC.txt)")
                acc_obj = read_polar_acc(found[0])
                hr_obj = None if found[1] is None else read_polar_heart(found[1])
        except (zipfile.BadZipFile, OSError) as exc:
            raise ReaderError(f"{p}: not a readable zip: {exc}") from None
        # name the members inside the zip in later messages, not the temporary folder
        acc_obj = PolarAcc(
            p / acc_obj.path.name, acc_obj.t_s, acc_obj.xyz_mg, acc_obj.first_sensor_ns, acc_obj.phone_start
        )
        if hr_obj is not None:
            hr_obj = PolarHr(p / hr_obj.path.name, hr_obj.rows)
        return acc_obj, hr_obj
    return read_polar_acc(p), None
