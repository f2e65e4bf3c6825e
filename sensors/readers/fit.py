"""The FIT activity reader: a FIT file is read ONCE into a :class:`FitFile` (fitdecode underneath).

What coach uses of a FIT activity (FIT SDK profile, "record", "lap", "session", "hrv", "event", "file_id" messages):

- ``record`` messages with a timestamp -> :class:`FitRecord`: heart rate, cadence, speed, distance, position
  (``position_lat``/``position_long`` in semicircles -> degrees, :func:`semicircles_to_deg`), activity type.
  Cadence is kept in the file's own unit, named honestly: ``cadence_strides_per_min`` = ``cadence`` +
  ``fractional_cadence`` (FIT running cadence is strides/min, :data:`CADENCE_UNIT`); :attr:`FitRecord.cadence_spm`
  is steps/min by the one unit rule (:func:`sensors.units.cadence_unit`);
- ``hrv`` beat intervals (seconds, 0.2-3 s kept) -> :attr:`FitFile.rr_s`;
- ``lap`` start times and elapsed times -> :attr:`FitFile.laps`;
- the sport and sub-sport (first ``sport`` or ``session`` message), the product and manufacturer (``file_id``) and
  the timer-start events;
- every ``session`` message -> :attr:`FitFile.sessions` (:class:`FitSession`: sport, start, end, distance, total
  strides or cycles, average speed and cadence). A multisport file has one per leg; :meth:`FitFile.legs` splits the
  records between them.

Files from any device:

- **unset clocks**: a timestamp below ``0x10000000`` (:data:`SYSTEM_TIME_LIMIT`) is seconds since the device was
  switched on, not a date (FIT profile, ``date_time``). Such times are kept as :data:`FIT_EPOCH` + seconds (so
  differences are right) and :attr:`FitFile.clock_set` is ``False``: the file does not know when it was recorded.
  Compressed-timestamp records are resolved by fitdecode against the last full timestamp;
- **developer fields** (Stryd, Connect IQ) are read past; a developer field named ``cadence`` stands in for a
  missing native one (its units say steps or strides);
- **unterminated or truncated files** (a watch whose battery died, a cut download): every intact message before the
  damage is kept and :attr:`FitFile.recovery` says how much was recovered and where the file stops being readable.
  A CRC mismatch is tolerated, as watches write them.

:func:`read_fit` raises :class:`~sensors.readers.ReaderError` ("FILE: not a readable FIT file: ...") only when
nothing at all could be read, whatever fitdecode trips on (:func:`fit_read_errors`).
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sensors.readers._common import ReaderError
from sensors.readers.activity import ActivityFile, ActivityLeg, TrackPoint
from sensors.units import CadenceUnit, cadence_unit

#: What FIT running cadence counts (FIT profile: ``record.cadence`` in rpm, strides per minute when running).
CADENCE_UNIT: CadenceUnit = "strides"
#: ``hrv`` intervals outside this range (seconds) are not beats (FIT writes 65.535 s for "invalid").
RR_RANGE_S = (0.2, 3.0)
#: FIT ``date_time`` zero: 1989-12-31T00:00:00Z.
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
#: FIT ``date_time`` values below this are seconds since the device was switched on (its clock was not set).
SYSTEM_TIME_LIMIT = 0x10000000
#: A session's records may end this much after its stated end (s) and still belong to it (rounding of end times).
LEG_END_SLACK_S = 1.0
#: FIT positions are semicircles (sint32): 2^31 semicircles = 180 degrees (FIT profile, ``position_lat``).
SEMICIRCLES_PER_DEGREE = 2**31 / 180.0


def semicircles_to_deg(value: float | None) -> float | None:
    """A FIT position (semicircles) in degrees; ``None`` stays ``None`` (no fix)."""
    return None if value is None else value / SEMICIRCLES_PER_DEGREE


def deg_to_semicircles(deg: float) -> int:
    """Degrees as a FIT position (whole semicircles, about 8 mm at the equator): the inverse of
    :func:`semicircles_to_deg`, what ``coach export`` writes."""
    return round(deg * SEMICIRCLES_PER_DEGREE)


def fit_read_errors() -> tuple[type[BaseException], ...]:
    """What reading a corrupt FIT file with fitdecode can raise: it trips anywhere, not only in FitError."""
    import fitdecode

    return (
        fitdecode.FitError,
        ValueError,
        KeyError,
        EOFError,
        IndexError,
        TypeError,
        OverflowError,
        AssertionError,
        struct.error,
    )


@dataclass(frozen=True, slots=True)
class FitRecord:
    """One ``record`` message; ``None`` = not recorded. ``timestamp`` is aware (UTC)."""

    timestamp: datetime
    heart_rate_bpm: float | None
    cadence_strides_per_min: float | None
    speed_mps: float | None
    distance_m: float | None
    activity_type: str | None
    lat_deg: float | None = None
    lon_deg: float | None = None

    @property
    def cadence_spm(self) -> float | None:
        """Steps/min: the FIT cadence times the factor of the one unit rule (strides -> x 2)."""
        if self.cadence_strides_per_min is None:
            return None
        return cadence_unit((), declared=CADENCE_UNIT).factor * self.cadence_strides_per_min


@dataclass(frozen=True, slots=True)
class FitSession:
    """One ``session`` message: one activity, or one leg of a multisport file. ``None`` = not in the file.

    ``strides`` is ``total_strides`` (running, walking) or else ``total_cycles`` as written: for walking and running
    FIT counts strides (two steps); for other sports cycles are strokes or pedal turns.
    """

    sport: str | None
    sub_sport: str | None
    start: datetime | None
    end: datetime | None
    elapsed_s: float | None
    distance_m: float | None
    strides: float | None
    avg_speed_mps: float | None
    avg_cadence_strides_per_min: float | None


@dataclass(frozen=True, slots=True)
class FitLeg:
    """The records of one session (the whole file when it has no session message)."""

    session: FitSession | None
    records: tuple[FitRecord, ...]
    sport: str | None
    sub_sport: str | None


@dataclass(frozen=True, slots=True)
class FitLap:
    """One ``lap`` message: its start and ``total_elapsed_time`` (s)."""

    start: datetime
    elapsed_s: float


@dataclass(frozen=True)
class FitFile:
    """Everything coach reads from one FIT activity, in file order (records as written)."""

    path: Path
    records: tuple[FitRecord, ...]
    laps: tuple[FitLap, ...]
    rr_s: tuple[float, ...]
    timer_starts: tuple[datetime, ...]
    sport: str | None
    sub_sport: str | None
    product: str | None

    cadence_unit: CadenceUnit = CADENCE_UNIT
    sessions: tuple[FitSession, ...] = ()
    file_type: str | None = None
    manufacturer: str | None = None
    #: ``False`` when the device clock was never set (times are seconds since power-on, see the module docstring).
    clock_set: bool = True
    #: Set when the file is cut short or damaged: how much was recovered and where it stops.
    recovery: str | None = None
    developer_fields: tuple[str, ...] = ()

    @property
    def first_record_time(self) -> datetime | None:
        return self.records[0].timestamp if self.records else None

    @property
    def device(self) -> str | None:
        """``"garmin fr70"``: the manufacturer and product as the file names them."""
        parts = [p for p in (self.manufacturer, self.product) if p]
        return " ".join(dict.fromkeys(parts)) or None

    def legs(self) -> list[FitLeg]:
        """The records split by session, in file order: a record belongs to the first session whose end (+
        :data:`LEG_END_SLACK_S`) it does not pass; records after the last session's end join it. Session start
        times are not trusted (a fenix 2 writes a multisport leg's start 45 min late); the previous leg's end is."""
        ends = [s.end for s in self.sessions]
        if not self.sessions or any(e is None for e in ends):
            return [FitLeg(None, self.records, self.sport, self.sub_sport)]
        order = sorted(range(len(self.sessions)), key=lambda k: ends[k])  # type: ignore[arg-type, return-value]
        buckets: list[list[FitRecord]] = [[] for _ in order]
        slack = timedelta(seconds=LEG_END_SLACK_S)
        for rec in sorted(self.records, key=lambda r: r.timestamp):
            inside = (i for i, j in enumerate(order) if rec.timestamp <= ends[j] + slack)  # type: ignore[operator]
            k = next(inside, len(order) - 1)
            buckets[k].append(rec)
        out = []
        for i, j in enumerate(order):
            s = self.sessions[j]
            out.append(FitLeg(s, tuple(buckets[i]), s.sport, s.sub_sport))
        return out

    def laps_s(self) -> list[tuple[float, float]]:
        """The laps as ``(start_s, end_s)`` relative to the first record (a start before it counts as 0)."""
        first = self.first_record_time
        if first is None:
            return []
        out = []
        for lap in self.laps:
            s = max(0.0, (lap.start - first).total_seconds())
            out.append((s, s + lap.elapsed_s))
        return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _when(value: Any) -> tuple[datetime | None, bool]:
    """A FIT time as an aware datetime and whether it is a real date (``False``: seconds since power-on)."""
    if isinstance(value, datetime):
        return _aware(value), True
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32 - 1:
        return FIT_EPOCH + timedelta(seconds=value), value >= SYSTEM_TIME_LIMIT
    return None, True


def _developer_cadence(frame: Any) -> float | None:
    """A developer field named ``cadence`` as strides/min (its units ``spm``/``steps...`` mean steps), else None."""
    import fitdecode

    for fld in frame.fields:
        if (
            isinstance(fld.field_def, fitdecode.types.DevFieldDefinition)
            and str(fld.name).lower() == "cadence"
        ):
            value = _number(fld.value)
            if value is None:
                return None
            units = str(fld.units or "").lower()
            return value / 2.0 if units.startswith(("spm", "step")) else value
    return None


def _session(values: dict[str, Any]) -> FitSession:
    start, _ = _when(values.get("start_time"))
    end, _ = _when(values.get("timestamp"))
    elapsed = _number(values.get("total_elapsed_time"))
    if end is None and start is not None and elapsed is not None:
        end = start + timedelta(seconds=elapsed)
    elif end is not None and elapsed is not None:
        # the end and the elapsed time agree with the records; a start_time can be late (fenix 2 multisport)
        start = end - timedelta(seconds=elapsed)
    strides = _number(values.get("total_strides"))
    if strides is None:
        strides = _number(values.get("total_cycles"))
    speed = _number(values.get("enhanced_avg_speed"))
    if speed is None:
        speed = _number(values.get("avg_speed"))
    cad = _number(values.get("avg_running_cadence"))
    if cad is None:
        cad = _number(values.get("avg_cadence"))
    if cad is not None:
        cad += _number(values.get("avg_fractional_cadence")) or 0.0
    return FitSession(
        sport=_text(values.get("sport")),
        sub_sport=_text(values.get("sub_sport")),
        start=start,
        end=end,
        elapsed_s=elapsed,
        distance_m=_number(values.get("total_distance")),
        strides=strides,
        avg_speed_mps=speed,
        avg_cadence_strides_per_min=cad,
    )


def _values(frame: Any) -> dict[str, Any]:
    """A data message's field values by name, read once (the first field of a name wins, as fitdecode's
    ``get_value`` takes it; a component or subfield also answers to its parent field's name, as there):
    ``has_field`` and ``get_value`` scan the message's fields at every call, most of the reading time of a
    large file."""
    out: dict[str, Any] = {}
    for fld in frame.fields:
        for owner in (fld.field, fld.parent_field):
            name = getattr(owner, "name", None) if owner else None
            if isinstance(name, str) and name not in out:
                out[name] = fld.value
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_fit(path: str | os.PathLike[str]) -> FitFile:
    """Read ``path`` once; see the module docstring (unset clocks, developer fields, damaged files)."""
    import fitdecode

    source = Path(path)
    records: list[FitRecord] = []
    laps: list[FitLap] = []
    sessions: list[FitSession] = []
    rr_s: list[float] = []
    starts: list[datetime] = []
    dev_names: dict[str, None] = {}
    sport = sub_sport = product = manufacturer = file_type = None
    clock_set = True
    lo, hi = RR_RANGE_S
    good_end = 0  # the byte offset after the last intact frame
    declared_end = None  # where the current FIT file's header says its CRC ends
    recovery = None
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise ReaderError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    try:
        with (
            warnings.catch_warnings(),
            fitdecode.FitReader(
                str(source), check_crc=fitdecode.CrcCheck.WARN, keep_raw_chunks=True
            ) as reader,
        ):
            # fitdecode warns (on stderr) about CRC mismatches and undecodable developer fields of damaged files;
            # what matters of them is said once, in FitFile.recovery
            warnings.simplefilter("ignore", UserWarning)
            for frame in reader:
                if frame.chunk is not None:
                    good_end = frame.chunk.offset + len(frame.chunk.bytes)
                if isinstance(frame, fitdecode.FitHeader) and frame.chunk is not None:
                    declared_end = frame.chunk.offset + frame.header_size + frame.body_size + CRC_SIZE
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                name = frame.name
                values = _values(frame)
                if name == "record":
                    ts, real = _when(values.get("timestamp"))
                    if ts is None:
                        continue
                    clock_set = clock_set and real
                    cad = _number(values.get("cadence"))
                    frac = _number(values.get("fractional_cadence")) or 0.0
                    strides = None if cad is None else cad + frac
                    if strides is None:
                        strides = _developer_cadence(frame)
                    speed = _number(values.get("enhanced_speed"))
                    if speed is None:
                        speed = _number(values.get("speed"))
                    activity = values.get("activity_type")
                    lat = semicircles_to_deg(_number(values.get("position_lat")))
                    lon = semicircles_to_deg(_number(values.get("position_long")))
                    fix = lat is not None and lon is not None
                    records.append(
                        FitRecord(
                            timestamp=ts,
                            heart_rate_bpm=_number(values.get("heart_rate")),
                            cadence_strides_per_min=strides,
                            speed_mps=speed,
                            distance_m=_number(values.get("distance")),
                            activity_type=activity if isinstance(activity, str) else None,
                            lat_deg=lat if fix else None,
                            lon_deg=lon if fix else None,
                        )
                    )
                elif name == "lap":
                    st, _ = _when(values.get("start_time"))
                    dur = _number(values.get("total_elapsed_time"))
                    if st is not None and dur is not None:
                        laps.append(FitLap(st, dur))
                elif name == "hrv":
                    times = values.get("time")
                    seq = times if isinstance(times, tuple | list) else (times,)
                    rr_s.extend(v for v in map(_number, seq) if v is not None and lo <= v <= hi)
                elif name == "event":
                    if values.get("event") == "timer" and values.get("event_type") == "start":
                        ts, _ = _when(values.get("timestamp"))
                        if ts is not None:
                            starts.append(ts)
                elif name == "field_description":
                    dev = values.get("field_name")
                    if isinstance(dev, str):
                        dev_names[dev] = None
                if name == "session":
                    sessions.append(_session(values))
                if name in ("sport", "session") and sport is None:
                    sport = _text(values.get("sport"))
                    sub_sport = _text(values.get("sub_sport"))
                elif name == "file_id" and file_type is None:
                    product = _text(values.get("garmin_product")) or _text(values.get("product"))
                    manufacturer = _text(values.get("manufacturer"))
                    file_type = _text(values.get("type"))
    except fit_read_errors() as exc:
        if not records and not sessions:
            raise ReaderError(f"{source}: not a readable FIT file: {exc}") from exc
        recovery = _recovery_note(exc, len(records), good_end, size, declared_end)
    return FitFile(
        path=source,
        records=tuple(records),
        laps=tuple(laps),
        rr_s=tuple(rr_s),
        timer_starts=tuple(starts),
        sport=sport,
        sub_sport=sub_sport,
        product=product,
        sessions=tuple(sessions),
        file_type=file_type,
        manufacturer=manufacturer,
        clock_set=clock_set,
        recovery=recovery,
        developer_fields=tuple(dev_names),
    )


#: The 2-byte CRC that closes a FIT file.
CRC_SIZE = 2


def _recovery_note(
    exc: BaseException, n_records: int, good_end: int, size: int, declared_end: int | None
) -> str:
    """What was recovered from a damaged file, in one line. A file as long as its header says whose end does not
    read is *unterminated* (the device stopped without closing it); a shorter one is *cut short*."""
    import fitdecode

    if isinstance(exc, fitdecode.FitEOFError):
        if declared_end is not None and size >= declared_end:
            return (
                "the file is unterminated (its last message is cut and it has no CRC, as when a device stops "
                f"without closing the file): {n_records} records recovered, all but the last {size - good_end} bytes"
            )
        whole = declared_end or size
        return (
            f"the file is cut short ({size} of the {whole} bytes its header announces): {n_records} records "
            f"recovered from the first {100.0 * good_end / whole:.0f} % of the file"
        )
    return (
        f"the file is damaged at byte {good_end} of {size} ({exc}): {n_records} records recovered "
        f"from the first {100.0 * good_end / size if size else 0.0:.0f} % of the file"
    )


#: Sports whose FIT ``total_strides`` / ``total_cycles`` count strides (two steps each).
STRIDE_SPORTS = frozenset({"running", "walking", "hiking"})


def to_activity(fit: FitFile) -> ActivityFile:
    """The FIT file as an :class:`~sensors.readers.activity.ActivityFile`: one leg per session, cadence in steps/min
    (:attr:`FitRecord.cadence_spm`), the session's ``total_strides`` x 2 as its steps."""
    legs = []
    for leg in fit.legs():
        s = leg.session
        points = tuple(
            TrackPoint(
                r.timestamp, r.heart_rate_bpm, r.cadence_spm, r.speed_mps, r.distance_m, r.lat_deg, r.lon_deg
            )
            for r in leg.records
        )
        first = points[0].timestamp if points else None
        last = points[-1].timestamp if points else None
        laps = tuple(
            (lap.start, lap.elapsed_s)
            for lap in fit.laps
            if first is not None
            and last is not None
            and lap.start <= last
            # the leg's laps: those that run into its records (a lap may start before the first record, as the
            # first lap of an export whose first seconds carry no record does); a previous leg's lap ends before
            and lap.start + timedelta(seconds=lap.elapsed_s) > first + timedelta(seconds=LEG_END_SLACK_S)
        )
        steps = steps_note = None
        sport = (leg.sport or "").lower()
        if (
            s is not None
            and s.strides
            and s.strides > 0
            and (sport in STRIDE_SPORTS or (leg.sub_sport or "").lower() == "treadmill")
        ):
            steps = round(2 * s.strides)
            steps_note = f"the file's total of {s.strides:.0f} strides x 2"
        distance = s.distance_m if s is not None else None
        if distance is None:
            distance = next((p.distance_m for p in reversed(points) if p.distance_m is not None), None)
        legs.append(
            ActivityLeg(
                sport=leg.sport,
                sub_sport=leg.sub_sport,
                points=points,
                laps=laps,
                distance_m=distance,
                elapsed_s=s.elapsed_s if s is not None else None,
                avg_speed_mps=s.avg_speed_mps if s is not None else None,
                steps=steps,
                steps_note=steps_note,
            )
        )
    notes = []
    if fit.file_type and fit.file_type != "activity":
        notes.append(f"FIT file type {fit.file_type!r}, not 'activity'")
    if fit.developer_fields:
        notes.append(f"developer fields: {', '.join(fit.developer_fields)}")
    return ActivityFile(
        path=fit.path,
        format="fit",
        legs=tuple(legs),
        device=fit.device,
        product=fit.product,
        clock_set=fit.clock_set,
        recovery=fit.recovery,
        cadence_unit=fit.cadence_unit,
        notes=tuple(notes),
    )
