"""Capture files: a session's raw sensor traffic as JSON Lines, written as it arrives and replayable later.

The format is specified in docs/formats/capture.md (version :data:`FORMAT_VERSION`). In short: line 1 is a
header object, every further line is a payload record ``{"t", "char", "hex"}`` (one notification or read,
``t`` in seconds since the start of the recording on the host's monotonic clock) or an event record ``{"t",
"event", ...}``.

:class:`CaptureWriter` appends records as they arrive, hands each line to the operating system at once (a
killed process loses nothing it has written) and fsyncs at most once a second on its injected clock (a power
cut loses about the last second). :func:`read_capture` and :func:`iter_capture` read a file back: a torn
last line, as left by a killed writer, is a warning; anything else that is wrong raises
:class:`~sensors.errors.CaptureError` naming the file, the line and the reason, unless the reader is
*lenient*, in which case each bad line becomes a warning and is skipped so that every good record is still
delivered.

This module only reads and writes records; it does not decode payloads (see :mod:`sensors.samples`), so a
characteristic it does not know is not an error here.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Protocol, Self

from sensors.clock import Clock, MonotonicClock
from sensors.errors import CaptureError
from sensors.uuids import normalize_uuid

logger = logging.getLogger(__name__)

FORMAT_NAME: Final = "coach-capture"
FORMAT_VERSION: Final = 1
#: A record may be this much older than the newest record before it; more is an error (out-of-order writers).
T_BACKWARDS_TOLERANCE_S: Final = 0.5
#: Longest line a reader accepts; a real record is about 1 KB (a 512-byte PMD frame is 1024 hex digits).
MAX_LINE_BYTES: Final = 1 << 20
#: Default for how often the writer fsyncs at most (and at least, while records keep arriving).
SYNC_INTERVAL_S: Final = 1.0

#: Event fields a writer may not use: they would make the line a different record (``hex`` means payload).
_RESERVED_EVENT_KEYS: Final = frozenset({"t", "event", "hex"})
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


# ----------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The sensor a capture was recorded from; either field may be unknown (``None``)."""

    name: str | None = None
    address: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "address": self.address}


@dataclass(frozen=True, slots=True)
class CaptureHeader:
    """Line 1 of a capture file. ``extra`` keeps header keys this version does not define."""

    version: int
    created: str
    device: DeviceInfo
    source: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PayloadRecord:
    """One notification or read: ``data`` arrived from characteristic ``char`` at ``t`` seconds.

    ``line`` is the 1-based line in the file it was read from (0 when built in memory).
    """

    t: float
    char: str
    data: bytes
    line: int = 0

    @property
    def hex(self) -> str:
        return self.data.hex()


@dataclass(frozen=True, slots=True)
class EventRecord:
    """Something that happened to the link or stream at ``t`` seconds (``connected``, ``pmd_started``...)."""

    t: float
    event: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


Record = PayloadRecord | EventRecord


@dataclass(frozen=True, slots=True)
class CaptureWarning:
    """A problem the reader tolerated: a torn last line, or (lenient mode) a bad line it skipped."""

    path: str
    line: int | None
    reason: str
    torn: bool = False  # True for the torn last line a killed writer leaves; False for a skipped bad line

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class Capture:
    """A whole capture file in memory, as returned by :func:`read_capture`."""

    path: str
    header: CaptureHeader
    records: list[Record]
    warnings: list[CaptureWarning]

    @property
    def payloads(self) -> list[PayloadRecord]:
        return [r for r in self.records if isinstance(r, PayloadRecord)]

    @property
    def events(self) -> list[EventRecord]:
        return [r for r in self.records if isinstance(r, EventRecord)]

    @property
    def start_s(self) -> float:
        """Time of the first record (0.0 for a capture without records)."""
        return self.records[0].t if self.records else 0.0

    @property
    def end_s(self) -> float:
        """Time of the newest record (0.0 for a capture without records)."""
        return max((r.t for r in self.records), default=0.0)

    @property
    def duration_s(self) -> float:
        """Seconds from the first record to the newest one."""
        return self.end_s - self.start_s if self.records else 0.0


# ----------------------------------------------------------------------------------------------- the writer


class CaptureSink(Protocol):
    """Where raw traffic is copied as it happens: a :class:`CaptureWriter`, or one seen through a time shift."""

    def payload(self, t: float, char: str | int, data: bytes | bytearray | memoryview) -> None: ...

    def event(self, t: float, name: str, /, **fields: Any) -> None: ...


class ShiftedCapture:
    """A capture writer seen through a time offset: each loop of a recording (replayed or played by the virtual
    strap) starts its own clock at 0 while the session's capture keeps counting."""

    def __init__(self, writer: CaptureSink, offset_s: float) -> None:
        self.writer = writer
        self.offset_s = offset_s

    def payload(self, t: float, char: str | int, data: bytes | bytearray | memoryview) -> None:
        self.writer.payload(t + self.offset_s, char, data)

    def event(self, t: float, name: str, /, **fields: Any) -> None:
        self.writer.event(t + self.offset_s, name, **fields)

    def sync_if_due(self) -> bool:
        sync = getattr(self.writer, "sync_if_due", None)
        return bool(sync()) if sync is not None else False


class CaptureWriter:
    """Writes a capture file record by record (docs/formats/capture.md).

    ``CaptureWriter(path, device=..., source=...)`` creates ``path`` user-only (0600; missing parent folders
    0700) and writes the header at once. It refuses to replace an existing file unless ``overwrite=True``.
    Use it as a context manager, or call :meth:`close`.

    Durability: every record is handed to the operating system as soon as it is written, so a killed process
    loses nothing already written. ``os.fsync`` (what survives a power cut) runs when a record arrives and the
    last sync is at least ``sync_interval_s`` old on ``clock`` (so at most about once a second), after every
    event, on :meth:`sync_if_due` (for a caller with a periodic tick) and on :meth:`close`.

    ``t`` is the caller's session time in seconds (host monotonic, from the start of the recording); it is
    written with microsecond resolution and may not go back more than :data:`T_BACKWARDS_TOLERANCE_S`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        device: DeviceInfo | Mapping[str, str | None] | None = None,
        source: str = "",
        created: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        sync_interval_s: float = SYNC_INTERVAL_S,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        self.device = _device_info(device)
        self.source = source
        self.sync_interval_s = sync_interval_s
        self.records_written = 0
        self.syncs = 0
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._lock = threading.Lock()
        self._last_t = -math.inf
        created = created if created is not None else datetime.now(UTC)
        if created.tzinfo is None:
            raise ValueError("created must be timezone-aware")
        header: dict[str, Any] = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created": created.isoformat(timespec="seconds"),
            "device": self.device.to_json(),
            "source": source,
        }
        for key, value in (extra or {}).items():
            if key in header:
                raise ValueError(f"header key {key!r} is reserved")
            header[key] = value
        header_line = _dumps(header)
        make_private_dirs(self.path.parent)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        fd = os.open(self.path, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an overwritten file keeps its old mode otherwise
            self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        except BaseException:
            os.close(fd)
            raise
        try:
            self._write_line(header_line)
            self._sync()
        except BaseException:
            self._file.close()
            self._file = None
            raise

    # -- records

    def payload(self, t: float, char: str | int, data: bytes | bytearray | memoryview) -> None:
        """Record one notification or read of ``char`` (any form :func:`normalize_uuid` takes)."""
        record = {"t": self._check_t(t), "char": normalize_uuid(char), "hex": bytes(data).hex()}
        self._append(record, sync_now=False)

    def event(self, t: float, name: str, /, **fields: Any) -> None:
        """Record an event (``connected``, ``disconnected``, ``pmd_started``...) with JSON-able ``fields``."""
        if not isinstance(name, str) or not name:
            raise ValueError("an event needs a non-empty name")
        clash = _RESERVED_EVENT_KEYS & fields.keys()
        if clash:
            raise ValueError(f"event fields may not be named {sorted(clash)}")
        self._append({"t": self._check_t(t), "event": name, **fields}, sync_now=True)

    def sync_if_due(self) -> bool:
        """Flush and fsync if the last sync is ``sync_interval_s`` old; returns whether it synced."""
        with self._lock:
            if self._file is not None and self._sync_due():
                self._sync()
                return True
        return False

    # -- lifecycle

    def close(self) -> None:
        """Flush, fsync and close the file. Closing twice is harmless."""
        with self._lock:
            if self._file is None:
                return
            try:
                self._sync()
            finally:
                self._file.close()
                self._file = None

    @property
    def closed(self) -> bool:
        return self._file is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals

    def _check_t(self, t: float) -> float:
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t) or t < 0:
            raise ValueError(f"t must be a finite number of seconds >= 0, not {t!r}")
        return round(float(t), 6)

    def _append(self, record: dict[str, Any], *, sync_now: bool) -> None:
        line = _dumps(record)  # before taking the lock: a bad field raises without touching the file
        with self._lock:
            if self._file is None:
                raise ValueError(f"capture writer for {self.path} is closed")
            t = record["t"]
            if t < self._last_t - T_BACKWARDS_TOLERANCE_S:
                raise ValueError(f"t goes back from {self._last_t} s to {t} s")
            self._last_t = max(self._last_t, t)
            self._write_line(line)
            self.records_written += 1
            if sync_now or self._sync_due():
                self._sync()

    def _write_line(self, line: str) -> None:
        assert self._file is not None
        self._file.write(line + "\n")
        self._file.flush()

    def _sync_due(self) -> bool:
        return self._clock.now() - self._last_sync >= self.sync_interval_s

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self.syncs += 1
        self._last_sync = self._clock.now()


def _device_info(device: DeviceInfo | Mapping[str, str | None] | None) -> DeviceInfo:
    if device is None:
        return DeviceInfo()
    if isinstance(device, DeviceInfo):
        return device
    unknown = set(device) - {"name", "address"}
    if unknown:
        raise ValueError(f"device has unknown keys {sorted(unknown)}; use name and address")
    return DeviceInfo(name=device.get("name"), address=device.get("address"))


def _dumps(obj: Mapping[str, Any]) -> str:
    """One compact JSON line; refuses NaN/Infinity (not JSON) and non-JSON values with a ``ValueError``."""
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    except TypeError as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from exc


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents user-only (0700); existing folders are left alone."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask


# ----------------------------------------------------------------------------------------------- the reader


class _LineProblem(Exception):
    """A problem with one line; becomes a CaptureError (strict) or a CaptureWarning (lenient)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaptureReader:
    """Streaming reader: opens ``path``, reads and checks the header, then yields records as it reads them.

    ``with CaptureReader(path) as reader: header = reader.header; for record in reader: ...``.
    Problems with the header always raise :class:`CaptureError`. For record lines, ``lenient=False`` raises on
    the first problem; ``lenient=True`` turns each problem into a :class:`CaptureWarning` in :attr:`warnings`
    and skips the line. A torn last line (no newline at the end and not valid JSON, as a killed writer leaves
    it) is a warning in both modes. Every warning is also logged unless ``log_warnings=False`` (for a
    caller that reports :attr:`warnings` itself).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, lenient: bool = False, log_warnings: bool = True
    ) -> None:
        self.path = os.fspath(path)
        self.lenient = lenient
        self.log_warnings = log_warnings
        self.warnings: list[CaptureWarning] = []
        self._file: IO[bytes] | None = None
        self._header: CaptureHeader | None = None
        self._line_no = 0
        self._last_t = -math.inf
        self._iterated = False

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> CaptureHeader:
        """Open the file and read the header (done by ``with`` too)."""
        if self._header is not None:
            return self._header
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise CaptureError(self.path, None, "no such file") from None
        except IsADirectoryError:
            raise CaptureError(self.path, None, "is a folder, not a capture file") from None
        except PermissionError:
            raise CaptureError(self.path, None, "permission denied (cannot read the file)") from None
        except OSError as exc:
            raise CaptureError(self.path, None, f"cannot open: {exc.strerror or exc}") from None
        try:
            self._header = self._read_header()
        except BaseException:
            self.close()
            raise
        return self._header

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def header(self) -> CaptureHeader:
        return self.open()

    def __iter__(self) -> Iterator[Record]:
        self.open()
        if self._iterated:
            raise RuntimeError("a CaptureReader can be iterated only once")
        self._iterated = True
        while True:
            raw = self._next_line()
            if raw is None:
                return
            line_no = self._line_no
            torn = not raw.endswith(b"\n")
            if not raw.strip():
                continue  # blank lines carry nothing (a trailing one is common in hand-edited files)
            try:
                record = self._parse_record(raw, line_no)
            except _LineProblem as problem:
                if torn and not _is_complete_json(raw):
                    reason = f"torn last line ignored (the recording was cut off): {problem.reason}"
                    self._warn(line_no, reason, torn=True)
                    return
                if not self.lenient:
                    raise CaptureError(self.path, line_no, problem.reason) from None
                self._warn(line_no, f"{problem.reason}; line skipped")
                continue
            yield record

    # -- internals

    def _warn(self, line: int | None, reason: str, *, torn: bool = False) -> None:
        warning = CaptureWarning(self.path, line, reason, torn)
        self.warnings.append(warning)
        if self.log_warnings:
            logger.warning("%s", warning)

    def _next_line(self) -> bytes | None:
        assert self._file is not None
        try:
            raw = self._file.readline(MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise CaptureError(self.path, self._line_no + 1, f"read failed: {exc.strerror or exc}") from None
        if not raw:
            return None
        self._line_no += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CaptureError(
                self.path, self._line_no, f"line longer than {MAX_LINE_BYTES} bytes: not a capture file"
            )
        return raw

    def _read_header(self) -> CaptureHeader:
        raw = self._next_line()
        if raw is None:
            raise CaptureError(self.path, None, "empty file: not a capture (no header line)")
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte order mark some editors add
        try:
            obj = _parse_object(raw)
        except _LineProblem as problem:
            reason = problem.reason
            if not raw.endswith(b"\n") and _looks_like_text_json(raw):
                reason = f"the header line is incomplete (the recording was cut off): {reason}"
            elif not _looks_like_text_json(raw):
                reason = f"not a capture file (the first line is not a JSON header): {reason}"
            raise CaptureError(self.path, 1, reason) from None
        try:
            return _header_from_json(obj)
        except _LineProblem as problem:
            raise CaptureError(self.path, 1, problem.reason) from None

    def _parse_record(self, raw: bytes, line_no: int) -> Record:
        obj = _parse_object(raw)
        t = _parse_t(obj)
        has_hex, has_event = "hex" in obj, "event" in obj
        record: Record
        if has_hex and has_event:
            raise _LineProblem('a record has either "hex" (a payload) or "event", not both')
        if has_hex:
            record = PayloadRecord(t=t, char=_parse_char(obj), data=_parse_hex(obj["hex"]), line=line_no)
        elif has_event:
            name = obj["event"]
            if not isinstance(name, str) or not name:
                raise _LineProblem('"event" must be a non-empty string')
            fields = {k: v for k, v in obj.items() if k not in ("t", "event")}
            record = EventRecord(t=t, event=name, fields=fields, line=line_no)
        else:
            raise _LineProblem('missing field: a record needs "hex" (a payload) or "event" (an event)')
        if t < self._last_t - T_BACKWARDS_TOLERANCE_S:
            raise _LineProblem(
                f"t goes backwards from {self._last_t:g} s to {t:g} s "
                f"(more than the {T_BACKWARDS_TOLERANCE_S:g} s tolerated)"
            )
        self._last_t = max(self._last_t, t)
        return record


def iter_capture(
    path: str | os.PathLike[str], *, lenient: bool = False, warnings: list[CaptureWarning] | None = None
) -> Iterator[Record]:
    """Yield the records of a capture file as they are read (the header is checked first).

    Raises :class:`CaptureError` as :class:`CaptureReader` does; warnings are logged and, when ``warnings`` is
    given, appended to it.
    """
    with CaptureReader(path, lenient=lenient) as reader:
        try:
            yield from reader
        finally:
            if warnings is not None:
                warnings.extend(reader.warnings)


def read_capture(
    path: str | os.PathLike[str], *, lenient: bool = False, log_warnings: bool = True
) -> Capture:
    """Read a whole capture file (see :class:`CaptureReader` for what is an error and what a warning)."""
    with CaptureReader(path, lenient=lenient, log_warnings=log_warnings) as reader:
        records = list(reader)
        return Capture(path=reader.path, header=reader.header, records=records, warnings=reader.warnings)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_object(raw: bytes) -> dict[str, Any]:
    if b"\x00" in raw:
        raise _LineProblem("binary data (NUL byte), not a line of text")
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise _LineProblem(f"not UTF-8 text (byte {exc.start + 1} of the line)") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _LineProblem(f"bad JSON: {exc.msg} (column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise _LineProblem(f"bad JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise _LineProblem(f"expected a JSON object, got {_json_type(obj)}")
    return obj


def _is_complete_json(raw: bytes) -> bool:
    """Whether a line parses as JSON at all (a torn line does not)."""
    try:
        json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return False
    return True


def _looks_like_text_json(raw: bytes) -> bool:
    return raw.lstrip()[:1] == b"{" and b"\x00" not in raw


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _parse_t(obj: Mapping[str, Any]) -> float:
    if "t" not in obj:
        raise _LineProblem('missing field "t" (seconds since the start)')
    t = obj["t"]
    if isinstance(t, bool) or not isinstance(t, int | float):
        raise _LineProblem(f'"t" is not a number: {_json_type(t)}')
    try:
        value = float(t)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise _LineProblem(f'"t" is not a finite number: {t!r}')
    if value < 0:
        raise _LineProblem(f'"t" is negative: {t!r}')
    return value


def _parse_char(obj: Mapping[str, Any]) -> str:
    if "char" not in obj:
        raise _LineProblem('missing field "char" (the characteristic UUID) in a payload record')
    char = obj["char"]
    if not isinstance(char, str):
        raise _LineProblem(f'"char" is not a string: {_json_type(char)}')
    try:
        return normalize_uuid(char)
    except ValueError:
        raise _LineProblem(f'"char" is not a Bluetooth UUID: {char[:60]!r}') from None


def _parse_hex(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _LineProblem(f'bad hex: "hex" is not a string but {_json_type(value)}')
    if len(value) % 2:
        raise _LineProblem(f"bad hex: odd number of digits ({len(value)})")
    bad = next((c for c in value if c not in _HEX_DIGITS), None)
    if bad is not None:
        raise _LineProblem(f"bad hex: {bad!r} is not a hex digit")
    return bytes.fromhex(value)


def _header_from_json(obj: Mapping[str, Any]) -> CaptureHeader:
    fmt = obj.get("format")
    if fmt != FORMAT_NAME:
        got = f"format is {fmt!r}" if "format" in obj else 'no "format" field'
        raise _LineProblem(f'not a coach capture ({got}; expected "format": "{FORMAT_NAME}")')
    version = obj.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _LineProblem(f'"version" must be a whole number >= 1, not {version!r}')
    if version > FORMAT_VERSION:
        raise _LineProblem(
            f"made by a newer coach (capture format version {version}; this coach reads up to version "
            f"{FORMAT_VERSION}); upgrade coach to read it"
        )
    for key in ("created", "device", "source"):
        if key not in obj:
            raise _LineProblem(f'missing field "{key}" in the header')
    created = obj["created"]
    if not isinstance(created, str):
        raise _LineProblem(f'"created" is not an ISO-8601 time string but {_json_type(created)}')
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise _LineProblem(f'"created" is not an ISO-8601 time: {created[:60]!r}') from None
    device = obj["device"]
    if not isinstance(device, dict):
        raise _LineProblem(f'"device" must be an object with "name" and "address", not {_json_type(device)}')
    for key in ("name", "address"):
        value = device.get(key)
        if value is not None and not isinstance(value, str):
            raise _LineProblem(f'"device.{key}" must be a string or null, not {_json_type(value)}')
    source = obj["source"]
    if not isinstance(source, str):
        raise _LineProblem(f'"source" must be a string, not {_json_type(source)}')
    known = {"format", "version", "created", "device", "source"}
    return CaptureHeader(
        version=version,
        created=created,
        device=DeviceInfo(name=device.get("name"), address=device.get("address")),
        source=source,
        extra={k: v for k, v in obj.items() if k not in known},
    )
