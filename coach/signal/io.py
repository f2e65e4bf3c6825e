"""Load recordings for analysis: plain CSV, Polar Sensor Logger ACC export, capture files and FIT activities.

Every loader returns a :class:`Recording`; every problem with a file raises :class:`coach.errors.InputError`
with one line naming the file (and the line when there is one). The files of other programs are read by the one
reader of their format in :mod:`sensors.readers` (FIT, Polar Sensor Logger) or :mod:`sensors.sources.replay` (capture);
this module only turns a reader's output into a :class:`Recording`. Steps vs strides is decided here, at ingest,
by the one rule :func:`sensors.units.cadence_unit`: a Recording's cadence is always steps/min. Formats:

- ``csv``: header ``t,x,y,z``; ``t`` in seconds (any start, jitter, gaps); x, y, z in g, mg or m/s² (``units``;
  ``auto`` decides from the median magnitude, which is about 1 g at walking and running).
- ``polar-csv``: the ACC export of the Polar Sensor Logger app, semicolon separated, header
  ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]`` (extra columns such as ``timestamp [ms]`` are
  tolerated; columns are found by name). The sensor timestamp is nanoseconds since 2000-01-01.
- ``capture``: a coach capture file replayed through :class:`sensors.sources.replay.ReplaySource` (PMD accelerometer,
  RSC cadence, heart rate), the same code path as a live strap. RSC cadence does not say steps or strides: the
  step length decides (:func:`sensors.units.cadence_unit`).
- ``fit``, ``tcx``, ``gpx``: an activity file, read into a :class:`sensors.readers.activity.ActivityFile` (cadence
  already in steps/min: FIT and TCX ``RunCadence`` are strides/min, x 2) and turned into one :class:`Recording` per
  walking or running leg by :func:`recordings_from_activity`, which asks :func:`sensors.readers.sport.decide` what
  each leg is (docs/import.md). There is no accelerometer: the analysis uses the device cadence.
- ``phone-csv``: a phone accelerometer folder (``accelerometer.csv``: ``timestamp_ns, accuracy, x, y, z`` in m/s^2),
  :mod:`sensors.readers.phone`.

A Polar Sensor Logger export may be given as its ACC file, its folder or the app's zip (with the HR or RR file); a
zip holding one ``.fit``, ``.tcx`` or ``.gpx`` (Garmin Connect's "export original") is read as that file.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from coach.errors import InputError
from coach.signal.dsp import median
from sensors.readers import ReaderError
from sensors.units import CadenceUnit, cadence_unit

if TYPE_CHECKING:
    from sensors.readers.activity import ActivityFile, ActivityLeg
    from sensors.readers.sport import Verdict

# The readers of activity files (FIT, TCX, GPX) and phone folders are imported where they are used, so that
# `coach analyze` of a csv file does not pay for them at start-up.

logger = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "UNITS",
    "Recording",
    "TrackRow",
    "detect_format",
    "fit_read_errors",
    "load_recording",
    "load_recordings",
    "recordings_from_activity",
]

FORMATS = ("auto", "csv", "polar-csv", "capture", "fit", "tcx", "gpx", "phone-csv")
UNITS = ("auto", "g", "mg", "ms2")
STANDARD_GRAVITY_MS2 = 9.80665
MIN_DURATION_S = 2.0
#: Longer than this is not one session: a broken time stamp (a jump of years would need a grid of billions of samples).
MAX_DURATION_S = 24 * 3600.0


@dataclass(frozen=True)
class FileFacts:
    """What an activity file states about itself, kept by ``coach import`` (``session_start.imported_from``):
    its format, device, sport, the leg of a multisport file, its own step total (and how it was got), distance,
    average speed, number of laps, and what was recovered from a damaged file."""

    format: str
    device: str | None = None
    sport: str | None = None
    sub_sport: str | None = None
    what: str | None = None
    leg: int | None = None
    legs: int = 1
    steps: int | None = None
    steps_note: str | None = None
    distance_m: float | None = None
    avg_speed_mps: float | None = None
    laps: int = 0
    recovery: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "device": self.device,
            "sport": self.sport,
            "sub_sport": self.sub_sport,
            "what": self.what,
            "leg": self.leg,
            "legs": self.legs,
            "steps": self.steps,
            "steps_note": self.steps_note,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "avg_speed_mps": None if self.avg_speed_mps is None else round(self.avg_speed_mps, 3),
            "laps": self.laps,
            "recovery": self.recovery,
        }


class TrackRow(NamedTuple):
    """One point of an activity file's own motion: distance (m, cumulative), speed (m/s) and position (WGS84
    degrees), at ``t_s`` on the recording's time base; ``None`` = not in the file."""

    t_s: float
    distance_m: float | None
    speed_mps: float | None
    lat_deg: float | None = None
    lon_deg: float | None = None

    @property
    def has_position(self) -> bool:
        return self.lat_deg is not None and self.lon_deg is not None


@dataclass
class Recording:
    """What a loader found. Times are seconds in the file's own time base (``t_s[0]`` need not be 0).

    ``xyz_g`` is ``None`` when the file has no accelerometer (FIT); ``foot_pod`` rows are
    ``(t_s, cadence_spm)`` or ``(t_s, cadence_spm, speed_mps)``, always in steps/min (``cadence_unit`` says what
    the device sent: ``"steps"``, ``"strides"`` (doubled) or ``"unknown"`` (taken as steps)); ``heart_rate`` rows
    are ``(t_s, bpm)``. ``started_utc`` is the recording's start when the file says it (FIT: the first record;
    Polar: the first sensor timestamp), ``phone_start`` the Polar phone time of the first row, ``laps_s`` the FIT
    laps as ``(start_s, end_s)``.
    """

    t_s: np.ndarray | None
    xyz_g: np.ndarray | None
    heart_rate: list[tuple[float, float]] = field(default_factory=list)
    foot_pod: list[tuple[float, ...]] = field(default_factory=list)
    format: str = "csv"
    notes: list[str] = field(default_factory=list)
    cadence_unit: CadenceUnit = "steps"
    started_utc: _dt.datetime | None = None
    phone_start: _dt.datetime | None = None
    laps_s: list[tuple[float, float]] = field(default_factory=list)
    #: What an activity file (FIT, TCX, GPX) states about itself; ``None`` for sensor recordings.
    file: FileFacts | None = None
    #: An activity file's own distance, speed and position, a :class:`TrackRow` per point that has any of them (the
    #: import keeps them, so an export of the session has them too: docs/formats/events.md).
    track: list[TrackRow] = field(default_factory=list)
    #: The Polar Sensor Logger HR export whose readings are in ``heart_rate`` (found in the folder or zip).
    hr_file: Path | None = None

    @classmethod
    def without_accelerometer(
        cls,
        format: str,
        *,
        heart_rate: list[tuple[float, float]],
        foot_pod: list[tuple[float, ...]],
        notes: list[str],
        cadence_unit: CadenceUnit,
        started_utc: _dt.datetime | None = None,
        laps_s: list[tuple[float, float]] | None = None,
    ) -> Recording:
        """A recording whose timeline comes from a device's cadence (FIT, a capture with a foot pod only)."""
        return cls(
            t_s=None,
            xyz_g=None,
            heart_rate=heart_rate,
            foot_pod=foot_pod,
            format=format,
            notes=notes,
            cadence_unit=cadence_unit,
            started_utc=started_utc,
            laps_s=laps_s or [],
        )


def load_recording(
    path: str | Path, format: str = "auto", units: str = "auto", *, allow_heart_rate_only: bool = False
) -> Recording:
    """Load ``path`` as ``format`` (``auto`` looks at the name and the first bytes). A FIT file with heart rate but
    no cadence is an error unless ``allow_heart_rate_only`` (then ``foot_pod`` is empty: ``coach import``). A
    multisport file gives its first walking or running leg (with a note); :func:`load_recordings` gives all."""
    recs = load_recordings(path, format, units, allow_heart_rate_only=allow_heart_rate_only)
    if len(recs) > 1:
        legs = ", ".join(str(r.file.leg) for r in recs if r.file is not None)
        recs[0].notes.append(
            f"the file has {len(recs)} walking or running legs ({legs}): this is the first; "
            "`coach import` makes one session of each"
        )
    return recs[0]


def load_recordings(
    path: str | Path, format: str = "auto", units: str = "auto", *, allow_heart_rate_only: bool = False
) -> list[Recording]:
    """Every walking or running recording in ``path``: one, or one per leg of a multisport activity file."""
    p = Path(path)
    if format not in FORMATS:
        raise InputError(f"{p}: unknown format {format!r} (one of {', '.join(FORMATS)})")
    if units not in UNITS:
        raise InputError(f"{p}: unknown units {units!r} (one of {', '.join(UNITS)})")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        fmt = detect_folder(p) if format == "auto" else format
    else:
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from exc
        if size == 0:
            raise InputError(f"{p}: file is empty")
        fmt = detect_format(p) if format == "auto" else format
    logger.info("loading %s as %s", p, fmt)
    if fmt in ZIPPED_ACTIVITY_SUFFIXES_FORMATS and p.is_file() and _is_zip(p):
        return _load_zipped_activity(p, fmt, allow_heart_rate_only=allow_heart_rate_only)
    if fmt == "csv":
        return [_load_csv(p, units)]
    if fmt == "polar-csv":
        return [_load_polar_csv(p, units)]
    if fmt == "capture":
        return [_load_capture(p)]
    if fmt == "phone-csv":
        return [_load_phone_csv(p)]
    if fmt in ("tcx", "gpx"):
        return _load_xml_activity(p, fmt, allow_heart_rate_only=allow_heart_rate_only)
    return _load_fit(p, allow_heart_rate_only=allow_heart_rate_only)


def detect_folder(path: Path) -> str:
    """A folder is a Polar Sensor Logger export (an ``..._ACC`` file) or a phone recording (``accelerometer.csv``)."""
    from sensors.readers.phone import find_phone_files
    from sensors.readers.polar_logger import find_polar_files

    if find_polar_files(path) is not None:
        return "polar-csv"
    if find_phone_files(path) is not None:
        return "phone-csv"
    raise InputError(
        f"{path}: a directory, but neither a Polar Sensor Logger export (an ..._ACC.txt file) nor a phone recording "
        "(accelerometer.csv): give a recording file"
    )


#: Activity files a zip may hold (Garmin Connect's "export original" is a zip of the .fit).
ZIPPED_ACTIVITY_SUFFIXES = (".fit", ".tcx", ".gpx")
ZIPPED_ACTIVITY_SUFFIXES_FORMATS = tuple(s[1:] for s in ZIPPED_ACTIVITY_SUFFIXES)
#: A zip member larger than this (bytes) is not unpacked (a zip bomb, not an activity).
MAX_ZIP_MEMBER_BYTES = 256 * 1024 * 1024


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _zip_format(path: Path) -> str:
    """A zip is the Polar Sensor Logger app's export (an ``..._ACC`` file inside) or one zipped activity file."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = [Path(m.filename).name for m in zf.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip: {exc}") from None
    activities = [n for n in names if Path(n).suffix.lower() in ZIPPED_ACTIVITY_SUFFIXES]
    if len(activities) == 1 and not any("_ACC." in n.upper() for n in names):
        return Path(activities[0]).suffix.lower()[1:]
    return "polar-csv"


def _load_zipped_activity(path: Path, fmt: str, *, allow_heart_rate_only: bool) -> list[Recording]:
    """The one activity file of a zip, unpacked to a temporary folder that is gone on return; messages name
    ``ZIP!MEMBER``."""
    import tempfile
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
            members = [
                m
                for m in zf.infolist()
                if not m.is_dir() and Path(m.filename).suffix.lower() in ZIPPED_ACTIVITY_SUFFIXES
            ]
            if len(members) != 1:
                raise InputError(
                    f"{path}: a zip with {len(members)} activity files (.fit, .tcx, .gpx): unpack it and give one"
                )
            member = members[0]
            if member.file_size > MAX_ZIP_MEMBER_BYTES:
                raise InputError(
                    f"{path}: {member.filename} unpacks to {member.file_size} bytes: not an activity"
                )
            target = Path(tmp) / Path(member.filename).name
            target.write_bytes(zf.read(member))
            try:
                return load_recordings(target, fmt, allow_heart_rate_only=allow_heart_rate_only)
            except InputError as exc:
                raise InputError(str(exc).replace(str(target), f"{path}!{member.filename}")) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip: {exc}") from None


def detect_format(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    suffix = path.suffix.lower()
    if suffix == ".fit":
        return "fit"
    from sensors.readers.phone import PHONE_ACC_NAMES

    if path.name.lower() in PHONE_ACC_NAMES:
        return "phone-csv"
    if head.startswith(b"PK\x03\x04") or suffix == ".zip":
        return _zip_format(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if suffix == ".tcx" or "<TrainingCenterDatabase" in text:
        return "tcx"
    if suffix == ".gpx" or "<gpx" in text:
        return "gpx"
    first = text.split("\n", 1)[0].strip().lower()
    if "sensor timestamp" in first or (";" in first and "[mg]" in first):
        return "polar-csv"
    if first.startswith("{") and "coach-capture" in text.split("\n", 1)[0]:
        return "capture"
    if first.startswith("{"):
        return "capture"
    if b"\x00" in head:
        raise InputError(f"{path}: looks like a binary file, not a csv, capture, FIT, TCX or GPX recording")
    return "csv"


# ---------------------------------------------------------------------------------------------- csv


def _read_text(path: Path) -> str:
    from sensors.readers._common import read_text

    try:
        return read_text(path)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc


#: The plain-decimal parser works on slices of about this many bytes (cut at line ends), so that its arrays stay in
#: the processor's cache; any size gives the same numbers.
PLAIN_CHUNK_BYTES = 1 << 17
#: A field of the plain-decimal layout has at most this many digits, so that they make an integer below 2**53 and
#: ``digits / 10**k`` is the correctly rounded double (both exact, one IEEE division): the value any correct decimal
#: parser gives. Up to 8 digits are read as one 64-bit word, up to 16 as two.
PLAIN_TOTAL_DIGITS = 15
_WORD_DIGITS = 8

_ASCII_ZERO, _ASCII_NINE, _ASCII_DOT, _ASCII_MINUS, _ASCII_NEWLINE = 48, 57, 46, 45, 10
_POW10_F = 10.0 ** np.arange(PLAIN_TOTAL_DIGITS + 1)
# SWAR constants: ASCII digit -> 0..9, then pairs, fours and eights of digits joined by one multiply each
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_LANES_8 = np.uint64(0x00FF00FF00FF00FF)
_LANES_16 = np.uint64(0x0000FFFF0000FFFF)
_JOIN_2 = np.uint64(10 * (1 << 8) + 1)
_JOIN_4 = np.uint64(100 * (1 << 16) + 1)
_JOIN_8 = np.uint64(10000 * (1 << 32) + 1)
_U = {bits: np.uint64(bits) for bits in (3, 8, 16, 32, 64)}


def _word_digits(words: np.ndarray, end: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The integer written by the ``count`` (0..8) ASCII digits that end each field, as doubles (exact: below
    10**8). ``words[end]`` is the little-endian word of the 8 bytes before the field's end, so the digits are its
    high bytes, most significant first: the bytes below them are shifted out (numpy shifts by 64 give 0), the ASCII
    digits masked to 0..9, and then joined by the SWAR multiply-shift steps (10 * first + second in each pair of
    bytes, then 100 * ... in each pair of 16-bit lanes, then 10000 * ...)."""
    x = words[end]
    drop = _U[64] - (count.astype(np.uint64) << _U[3])
    x >>= drop
    x <<= drop
    x &= _LOW_NIBBLES
    x *= _JOIN_2
    x >>= _U[8]
    x &= _LANES_8
    x *= _JOIN_4
    x >>= _U[16]
    x &= _LANES_16
    x *= _JOIN_8
    x >>= _U[32]
    value: np.ndarray = x.astype(np.float64)
    return value


def _digits_before(words: np.ndarray, end: np.ndarray, count: np.ndarray) -> np.ndarray:
    """:func:`_word_digits` for up to 16 digits: the last 8, and those before them times 10**8."""
    if count.max() <= _WORD_DIGITS:
        return _word_digits(words, end, count)
    low = _word_digits(words, end, np.minimum(count, _WORD_DIGITS))
    high = _word_digits(words, end - _WORD_DIGITS, np.maximum(count - _WORD_DIGITS, 0))
    value: np.ndarray = high * _POW10_F[_WORD_DIGITS] + low  # below 2**53: exact
    return value


def _plain_decimal_chunk(body: bytes, sep: int, ncols: int) -> np.ndarray | None:
    """The numbers of ``body`` (whole lines, each ending in a newline), or ``None`` when it is not the plain layout."""
    b = np.frombuffer(body, np.uint8)
    is_digit = (b - np.uint8(_ASCII_ZERO)) <= np.uint8(_ASCII_NINE - _ASCII_ZERO)
    is_end = b == sep
    is_newline = b == _ASCII_NEWLINE
    is_dot = b == _ASCII_DOT
    is_minus = b == _ASCII_MINUS
    if not (is_digit | is_end | is_newline | is_dot | is_minus).all():
        return None  # a space, an exponent, nan, a plus sign, a letter...: the general parser decides
    is_end |= is_newline
    end = np.flatnonzero(is_end)  # each field ends at a separator or a newline
    n_fields = end.size
    if n_fields % ncols:
        return None
    at_newline = is_newline[end]
    if np.count_nonzero(at_newline) != n_fields // ncols or not at_newline[ncols - 1 :: ncols].all():
        return None  # a line with too few or too many fields
    start = np.empty(n_fields, np.int64)
    start[0] = 0
    start[1:] = end[:-1] + 1
    negative = b[start] == _ASCII_MINUS
    if np.count_nonzero(is_minus) != np.count_nonzero(negative):
        return None  # a minus sign inside a number
    dot = np.flatnonzero(is_dot)
    if dot.size != n_fields or not ((dot > start) & (dot < end)).all():
        # not one point in every field: a field without one has its "point" at its end
        field = np.searchsorted(end, dot)
        if field.size > 1 and not (np.diff(field) > 0).all():
            return None  # two points in a number
        point = end.copy()
        point[field] = dot
        dot = point
    n_int = dot - start - negative
    n_frac = np.maximum(end - dot - 1, 0)
    n_all = n_int + n_frac
    if n_all.min() < 1 or n_all.max() > PLAIN_TOTAL_DIGITS:
        return None  # "-", "." or an empty field; or too many digits to be exact in one division
    # words[e + 8] is the (little-endian, unaligned) word of the 8 bytes before byte e of body, words[e] that of the
    # 8 before those (16 zero bytes in front of the body keep every index in range)
    padded = bytes(2 * _WORD_DIGITS) + body
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, offset=0, strides=(1,))
    scale = _POW10_F[n_frac]
    # integers below 2**53 (at most 15 digits) in doubles: the product and the sum are exact
    digits = _digits_before(words, dot + _WORD_DIGITS, n_int) * scale + _digits_before(
        words, end + _WORD_DIGITS, n_frac
    )
    scale[negative] *= -1.0  # -(d / s) == d / -s exactly (rounding is symmetric); -0 stays -0
    values: np.ndarray = digits / scale
    return values


def parse_plain_decimal(text: str, sep: str, ncols: int) -> np.ndarray | None:
    """Fast path of the numeric CSV body: ``ncols`` fields a line, each a plain decimal number (``-`` sign, digits,
    at most one point: ``-0.0469``, ``3600``, ``.5``), ``sep`` between fields, no empty line. ``text`` is the body
    with carriage returns removed and surrounding whitespace stripped. Returns the ``(lines, ncols)`` array, the same
    doubles bit for bit as the general parser, or ``None`` for anything else (exponents, spaces, ``nan``, a bad line:
    the general parser then reads or rejects it, with its messages)."""
    try:
        body = text.encode("ascii") + b"\n"
    except UnicodeEncodeError:
        return None
    if len(sep) != 1 or not sep.isascii() or sep in "0123456789.-\n":
        return None
    chunks: list[np.ndarray] = []
    i, n = 0, len(body)
    while i < n:
        j = body.find(b"\n", min(i + PLAIN_CHUNK_BYTES, n - 1)) + 1
        values = _plain_decimal_chunk(body[i:j], ord(sep), ncols)
        if values is None:
            return None
        chunks.append(values)
        i = j
    return np.concatenate(chunks).reshape(-1, ncols)


def _parse_numeric_block(path: Path, body: str, ncols: int, sep: str, first_line: int) -> np.ndarray:
    """Fast paths: plain decimals (:func:`parse_plain_decimal`), else the whole body at once; on any problem, find
    the first bad line for the message."""
    flat = body.replace("\r", "").strip()
    if not flat:
        raise InputError(f"{path}: no data rows after the header")
    plain = parse_plain_decimal(flat, sep, ncols)
    if plain is not None:
        return plain
    return _parse_numbers(path, flat, ncols, sep, first_line)


def _parse_numbers(path: Path, flat: str, ncols: int, sep: str, first_line: int) -> np.ndarray:
    """The general parser of a stripped numeric body (any float syntax numpy reads); the first bad line is named."""
    n_lines = flat.count("\n") + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = np.fromstring(flat.replace("\n", sep), dtype=np.float64, sep=sep)
        except ValueError:
            values = np.empty(0)
    if values.size == n_lines * ncols and np.isfinite(values).all():
        return values.reshape(n_lines, ncols)
    # slow path: report the first bad line
    for i, line in enumerate(flat.split("\n")):
        parts = line.split(sep)
        if len(parts) != ncols:
            raise InputError(f"{path}:{first_line + i}: expected {ncols} values, found {len(parts)}")
        for part in parts:
            try:
                v = float(part)
            except ValueError:
                raise InputError(f"{path}:{first_line + i}: not a number: {part.strip()[:30]!r}") from None
            if not math.isfinite(v):
                raise InputError(f"{path}:{first_line + i}: not a finite number: {part.strip()[:30]!r}")
    raise InputError(f"{path}: could not parse the numbers")


def _load_csv(path: Path, units: str) -> Recording:
    text = _read_text(path)
    header, _, body = text.partition("\n")
    cols = [c.strip().lower() for c in header.strip().split(",")]
    if cols != ["t", "x", "y", "z"]:
        if cols and cols[0] not in ("t", "t_s", "time"):
            try:
                [float(c) for c in cols]
            except ValueError:
                pass
            else:
                raise InputError(f"{path}:1: missing header: the first line must be 't,x,y,z'")
        if cols[:1] in (["t"], ["t_s"], ["time"]) and len(cols) >= 4 and cols[1:4] == ["x", "y", "z"]:
            pass
        else:
            raise InputError(f"{path}:1: expected the header 't,x,y,z', found {header.strip()[:60]!r}")
    ncols = len(cols)
    data = _parse_numeric_block(path, body, ncols, ",", 2)
    t = data[:, 0].copy()
    xyz = np.ascontiguousarray(data[:, 1:4])
    return _finish_acc(path, t, xyz, units, "csv")


def _finish_acc(path: Path, t: np.ndarray, xyz: np.ndarray, units: str, fmt: str) -> Recording:
    notes: list[str] = []
    if t.size < 2:
        raise InputError(f"{path}: too short: {t.size} sample(s)")
    dt = np.diff(t)
    if (dt <= 0).any():
        bad = int(np.flatnonzero(dt <= 0)[0])
        if (dt < 0).sum() > 0.01 * dt.size:
            raise InputError(f"{path}: time goes backwards at data row {bad + 2} (t={t[bad + 1]:g})")
        order = np.argsort(t, kind="stable")
        t, xyz = t[order], xyz[order]
        keep = np.concatenate(([True], np.diff(t) > 0))
        notes.append(f"{int((~keep).sum())} duplicate or out-of-order time stamps fixed")
        t, xyz = t[keep], xyz[keep]
    duration = float(t[-1] - t[0])
    if duration < MIN_DURATION_S:
        raise InputError(f"{path}: too short: {duration:.2f} s of data (need at least {MIN_DURATION_S:g} s)")
    if not duration <= MAX_DURATION_S:
        jump = int(np.argmax(np.diff(t)))
        raise InputError(
            f"{path}: {duration / 3600:.3g} hours from the first to the last sample (more than "
            f"{MAX_DURATION_S / 3600:g}); a broken time stamp near data row {jump + 2}?"
        )
    rate_hz = 1.0 / median(np.diff(t))
    if not 20.0 <= rate_hz <= 250.0:
        notes.append(
            f"sampling rate {rate_hz:.3g} Hz is outside the supported 25..200 Hz: results may be poor"
        )
    scale, unit_name = _unit_scale(path, xyz, units)
    if scale != 1.0:
        xyz = xyz * scale
    notes.append(f"accelerometer units: {unit_name}")
    return Recording(t_s=t, xyz_g=xyz, format=fmt, notes=notes)


def _unit_scale(path: Path, xyz: np.ndarray, units: str) -> tuple[float, str]:
    if units == "g":
        return 1.0, "g"
    if units == "mg":
        return 1e-3, "mg"
    if units == "ms2":
        return 1.0 / STANDARD_GRAVITY_MS2, "m/s^2"
    step = max(1, xyz.shape[0] // 20000)
    sub = xyz[::step]
    med = median(np.sqrt((sub * sub).sum(axis=1)))
    if 0.3 <= med <= 3.0:
        return 1.0, "g (auto)"
    if 3.0 * 1.0 < med <= 30.0:
        return 1.0 / STANDARD_GRAVITY_MS2, "m/s^2 (auto)"
    if 300.0 <= med <= 3000.0:
        return 1e-3, "mg (auto)"
    raise InputError(
        f"{path}: cannot tell the accelerometer units (median magnitude {med:.3g}); pass --units g|mg|ms2"
    )


# ---------------------------------------------------------------------------------------------- polar


#: A Polar sensor clock before this is a clock that was never set (the strap counts from its 2019-01-01 default).
POLAR_UNSET_CLOCK_BEFORE = _dt.datetime(2019, 1, 2, tzinfo=_dt.UTC)


def polar_start(
    sensor_start: _dt.datetime | None, phone_start: _dt.datetime | None
) -> tuple[_dt.datetime | None, str]:
    """When a Polar Sensor Logger recording started, and how that is known. The phone's time stamp comes first: it
    is the only clock that is always set (a strap whose clock was never set starts at its 2019-01-01 default). The
    app writes it as the phone's local time without a zone; it is taken in this computer's time zone."""
    if phone_start is not None:
        start = phone_start if phone_start.tzinfo is not None else phone_start.astimezone()
        note = "start time from the phone's time stamp"
        if sensor_start is not None and sensor_start < POLAR_UNSET_CLOCK_BEFORE:
            note += f" (the strap's clock was never set: it says {sensor_start:%Y-%m-%d %H:%M})"
        return start.astimezone(_dt.UTC), note
    if sensor_start is not None and sensor_start >= POLAR_UNSET_CLOCK_BEFORE:
        return sensor_start, "start time from the strap's clock (no phone time stamp)"
    return None, "start time unknown (no phone time stamp and the strap's clock was never set)"


def _load_polar_csv(path: Path, units: str) -> Recording:
    from sensors.readers.polar_logger import read_polar_export

    try:
        acc, hr = read_polar_export(path)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc
    if units == "auto":
        units = "mg"  # the header says mg
    rec = _finish_acc(acc.path, acc.t_s, acc.xyz_mg, units, "polar-csv")
    rec.notes.append("time from 'sensor timestamp [ns]' (ns since 2000-01-01)")
    rec.phone_start = acc.phone_start
    rec.started_utc, how = polar_start(acc.start_utc, acc.phone_start)
    rec.notes.append(how)
    if hr is not None:
        try:
            rec.heart_rate = hr.on_time_base(acc.phone_start)
        except ReaderError as exc:
            raise InputError(str(exc)) from exc
        rec.hr_file = hr.path
    return rec


def _load_phone_csv(path: Path) -> Recording:
    from sensors.readers.phone import read_phone

    try:
        acc = read_phone(path)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc
    rec = _finish_acc(acc.path, acc.t_s, acc.xyz_ms2, "ms2", "phone-csv")
    rec.notes.append("phone accelerometer (Android sensor time: the start time is unknown)")
    return rec


# ---------------------------------------------------------------------------------------------- capture


def _load_capture(path: Path) -> Recording:
    from sensors.errors import SensorError
    from sensors.samples import AccBlock, FootPodSample, HeartRateSample
    from sensors.sources.replay import ReplaySource

    blocks_t: list[np.ndarray] = []
    blocks_x: list[np.ndarray] = []
    hr: list[tuple[float, float]] = []
    fp: list[tuple[float, ...]] = []
    try:
        for sample in ReplaySource(path, speed=0).iter_samples():
            if isinstance(sample, AccBlock):
                blocks_t.append(np.asarray(sample.t_s, dtype=np.float64))
                blocks_x.append(np.asarray(sample.xyz_mg, dtype=np.float64))
            elif isinstance(sample, HeartRateSample):
                if sample.bpm:
                    hr.append((float(sample.t), float(sample.bpm)))
            elif isinstance(sample, FootPodSample) and sample.cadence_per_min is not None:
                # RSC "cadence" per minute, steps or strides: decided below, once, by the one rule
                fp.append((float(sample.t), float(sample.cadence_per_min), float(sample.speed_mps)))
    except SensorError as exc:
        raise InputError(str(exc)) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a readable capture file: {exc}") from exc
    notes = [
        f"capture: {len(blocks_t)} accelerometer blocks, {len(hr)} heart-rate and {len(fp)} foot-pod samples"
    ]
    unit = cadence_unit(fp)
    if unit.factor != 1.0:
        fp = [(r[0], r[1] * unit.factor, *r[2:]) for r in fp]
    if unit.note:
        notes.append(unit.note)
    if not blocks_t:
        if not fp:
            raise InputError(f"{path}: the capture holds no accelerometer data and no foot-pod cadence")
        notes.append("no accelerometer in the capture: timeline from the foot pod's cadence")
        _check_device_span(path, fp)
        return Recording.without_accelerometer(
            "capture", heart_rate=hr, foot_pod=fp, notes=notes, cadence_unit=unit.unit
        )
    t = np.concatenate(blocks_t)
    xyz = np.concatenate(blocks_x) * 1e-3
    rec = _finish_acc(path, t, xyz, "g", "capture")
    rec.heart_rate, rec.foot_pod, rec.cadence_unit = hr, fp, unit.unit
    rec.notes = notes + rec.notes
    return rec


# ---------------------------------------------------------------------------------------------- fit


def fit_read_errors() -> tuple[type[BaseException], ...]:
    """What reading a FIT file can raise: :func:`sensors.readers.fit.fit_read_errors` (imported when asked for)."""
    from sensors.readers.fit import fit_read_errors as errors

    return errors()


def _load_fit(path: Path, *, allow_heart_rate_only: bool = False) -> list[Recording]:
    from sensors.readers.fit import read_fit, to_activity

    try:
        fit = read_fit(path)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc
    return recordings_from_activity(to_activity(fit), allow_heart_rate_only=allow_heart_rate_only)


def _leg_label(k: int, n: int, what: str, leg: ActivityLeg) -> str:
    from coach.text import mmss

    return f"leg {k} of {n} ({what}, {mmss(leg.duration_s)})"


def recordings_from_activity(act: ActivityFile, *, allow_heart_rate_only: bool = False) -> list[Recording]:
    """One :class:`Recording` per walking or running leg of a read activity file (FIT, TCX, GPX), in file order.

    What each leg is, is decided by :func:`sensors.readers.sport.decide` (one place); other legs of a multisport
    file are named and skipped (a note on each recording), and a file with no walking or running leg is refused
    with one line saying what it is and what coach needs. Cadence readings outside
    :data:`~sensors.readers.sport.STEP_CADENCE_RANGE_SPM` (0, standing, is kept) are left out, with a note. Times
    are seconds from the leg's start (:attr:`ActivityLeg.start`: its first point, or its first lap when that begins
    earlier); the start is unknown when the file's clock was never set."""
    from sensors.readers.sport import NEEDS, STEP_CADENCE_RANGE_SPM, decide

    path, n = act.path, len(act.legs)
    lo, hi = STEP_CADENCE_RANGE_SPM
    accepted: list[tuple[int, ActivityLeg, Verdict]] = []
    refused: list[str] = []
    for k, leg in enumerate(act.legs, 1):
        rows = [(0.0, p.cadence_spm, p.speed_mps) for p in leg.points]
        verdict = decide(leg.sport, leg.sub_sport, rows, product=act.product)
        if verdict.accept:
            accepted.append((k, leg, verdict))
        elif n > 1:
            refused.append(f"{_leg_label(k, n, verdict.what, leg)} skipped: {verdict.reason}")
        else:
            refused.append(f"{verdict.what}: {verdict.reason}")
    recovered = [f"recovered: {act.recovery}"] if act.recovery else []
    if not accepted:
        detail = "; ".join(refused) if n == 1 else "no walking or running leg: " + "; ".join(refused)
        raise InputError(f"{path}: {detail}" + (f" ({act.recovery})" if act.recovery else ""))
    out = []
    for k, leg, verdict in accepted:
        what = verdict.what if n == 1 else _leg_label(k, n, verdict.what, leg)
        t_first = leg.start  # the time base: the first point, or the first lap when it starts earlier
        fp: list[tuple[float, ...]] = []
        hr: list[tuple[float, float]] = []
        track: list[TrackRow] = []
        speed = False
        dropped = 0
        for pt in leg.points:
            t = (pt.timestamp - t_first).total_seconds() if t_first is not None else 0.0
            if pt.heart_rate_bpm is not None and pt.heart_rate_bpm > 0:
                hr.append((t, pt.heart_rate_bpm))
            row_here = TrackRow(t, pt.distance_m, pt.speed_mps, pt.lat_deg, pt.lon_deg)
            if pt.distance_m is not None or pt.speed_mps is not None or row_here.has_position:
                track.append(row_here)
            speed = speed or (pt.speed_mps is not None and pt.speed_mps > 0)
            cad = pt.cadence_spm
            if cad is None:
                continue
            if cad != 0 and not lo <= cad <= hi:
                dropped += 1
                continue
            row: tuple[float, ...] = (t, cad)
            if pt.speed_mps is not None:
                row = (*row, pt.speed_mps)
            fp.append(row)
        notes = [
            *recovered,
            f"{act.format.upper()}: {what}" + (f", {verdict.reason}" if verdict.reason else ""),
        ]
        if act.device:
            notes.append(f"device: {act.device}")
        notes += list(act.notes)
        notes += [r for r in refused if n > 1]
        if leg.steps is not None:
            notes.append(f"steps: {leg.steps} ({leg.steps_note})")
        if leg.distance_m:
            notes.append(f"distance: {leg.distance_m / 1000:.2f} km")
        if dropped:
            notes.append(
                f"{dropped} cadence readings outside {lo:.0f}-{hi:.0f} steps/min left out (not walking or running)"
            )
        if not fp:
            has = (
                "heart rate only" if hr else ("speed/GPS only" if speed else "no heart rate or speed either")
            )
            if not (allow_heart_rate_only and hr):
                raise InputError(
                    f"{path}: {what} without step cadence ({has}): nothing to analyse; {NEEDS}"
                    + (f" ({act.recovery})" if act.recovery else "")
                )
            notes.append(
                f"{act.format.upper()}: heart rate only (no cadence, no accelerometer): no walk/run "
                "detection, no cadence"
            )
        else:
            notes.append(
                "no accelerometer; timeline from the device cadence "
                + ("(strides/min x 2 = steps/min; " if act.cadence_unit == "strides" else "(")
                + "mode from cadence and speed)"
            )
            _check_device_span(path, fp)
        if not act.clock_set:
            notes.append(
                "the device clock was never set (times are seconds since power-on): the start time is unknown"
            )
        laps = []
        if t_first is not None:
            for start, elapsed in leg.laps:
                s = max(0.0, (start - t_first).total_seconds())
                laps.append((s, s + elapsed))
        fp.sort(key=lambda row: row[0])  # stable; a TCX or GPX may list points out of order
        hr.sort(key=lambda row: row[0])
        rec = Recording.without_accelerometer(
            act.format,
            heart_rate=hr,
            foot_pod=fp,
            notes=notes,
            cadence_unit=act.cadence_unit,
            started_utc=t_first if act.clock_set else None,
            laps_s=laps,
        )
        rec.track = sorted(track, key=lambda row: row.t_s)
        rec.file = FileFacts(
            format=act.format,
            device=act.device,
            sport=leg.sport,
            sub_sport=leg.sub_sport,
            what=verdict.what,
            leg=k if n > 1 else None,
            legs=n,
            steps=leg.steps,
            steps_note=leg.steps_note,
            distance_m=leg.distance_m,
            avg_speed_mps=leg.avg_speed_mps
            if leg.avg_speed_mps is not None
            else (leg.distance_m / leg.duration_s if leg.distance_m and leg.duration_s > 0 else None),
            laps=len(leg.laps),
            recovery=act.recovery,
        )
        out.append(rec)
    return out


def _load_xml_activity(path: Path, fmt: str, *, allow_heart_rate_only: bool = False) -> list[Recording]:
    from sensors.readers.tcx import read_gpx, read_tcx

    try:
        act = read_tcx(path) if fmt == "tcx" else read_gpx(path)
    except ReaderError as exc:
        raise InputError(str(exc)) from exc
    return recordings_from_activity(act, allow_heart_rate_only=allow_heart_rate_only)


def _check_device_span(path: Path, foot_pod: list[tuple[float, ...]]) -> None:
    """A device-cadence timeline has one entry per second from the first reading to the last: refuse a span
    longer than :data:`MAX_DURATION_S` (one corrupt time stamp anywhere, not only the last one)."""
    times = [row[0] for row in foot_pod]
    span_s = max(times) - min(times)
    if not span_s <= MAX_DURATION_S:
        raise InputError(
            f"{path}: {span_s / 3600:.3g} hours of records (more than {MAX_DURATION_S / 3600:g}): a broken time stamp?"
        )
