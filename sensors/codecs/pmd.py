"""Polar Measurement Data (PMD): control point requests/responses, settings, data frames, ACC decoding.

Implements the online-streaming part of Polar's "Measurement data specification" (polar-ble-sdk,
technical_documentation/online_measurement.pdf, version 1.0, August 2024) as its example exchanges and the
vendor SDK's tests show it (see ../shared/data/ble-vectors):

- Control point (``PMD_CONTROL_POINT``, write + indicate), section "PMD control point":
  requests ``[op, type, settings...]`` with op 0x01 get settings, 0x02 start, 0x03 stop;
  responses ``[0xF0, op, type, status, more, parameters...]``; a read returns ``[0x0F, feature bitmask...]``.
- Settings, section "Measurement settings": TLV entries ``[setting type, count, value * count]``; value sizes
  by type: sample rate, resolution, range uint16; range in milli-units uint32; channels uint8; factor float32.
- Data (``PMD_DATA``, notify), section "Measurement data": ``[type, uint64 timestamp, frame type, payload]``;
  the timestamp is in ns since 2000-01-01T00:00:00Z and belongs to the LAST sample of the frame;
  frame-type bit 0x80 marks delta-compressed payloads.
- ACC frames: raw types 0x00 / 0x01 / 0x02 hold int8 / int16 / int24 x, y, z (mG); compressed type 0x81 holds
  mG, compressed type 0x80 raw units to be multiplied by the FACTOR of the start response (G per LSB).
- Delta compression: a reference sample (channels x ceil(resolution / 8) bytes, signed little endian), then
  blocks ``[bit width u8][count u8][ceil(width * count * channels / 8) bytes]``: LSB-first bit fields,
  sign-extended, each sample the previous one plus its deltas; as many blocks as fill the payload.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Self

from sensors.errors import DecodeError

PMD_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Unix time of the PMD epoch in ns: add it to a PMD timestamp to get Unix ns.
PMD_EPOCH_UNIX_NS = 946_684_800 * 1_000_000_000
RESPONSE_CODE = 0xF0
FEATURES_CODE = 0x0F
HEADER_SIZE = 10
MAX_DELTA_BITS = 32


class MeasurementType(enum.IntEnum):
    """PMD measurement types (data frame byte 0 & 0x3F, control point byte 1)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12


def measurement_type_name(code: int) -> str:
    """``"ACC"`` for 2, ``"TYPE_7"`` for codes without a name."""
    try:
        return MeasurementType(code).name
    except ValueError:
        return f"TYPE_{code}"


class PmdOpCode(enum.IntEnum):
    """Control point operation codes for online streaming."""

    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03


class PmdStatus(enum.IntEnum):
    """Status (error) code of a control point response; names as in the Polar documentation."""

    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13
    ERROR_DISK_FULL = 14


STATUS_TEXT: dict[int, str] = {
    0: "The sensor accepted the request.",
    1: "The sensor does not know this control point operation.",
    2: "The sensor does not offer this measurement type.",
    3: "The sensor does not support this request.",
    4: "The request had the wrong length.",
    5: "A parameter of the request is invalid (a start request needs every setting the sensor offers).",
    6: "The measurement is already in the requested state (already started or already stopped).",
    7: "The sensor does not offer this resolution.",
    8: "The sensor does not offer this sample rate.",
    9: "The sensor does not offer this range.",
    10: "The connection MTU is too small for this measurement; negotiate a larger MTU first.",
    11: "The sensor does not offer this number of channels.",
    12: "The sensor cannot do this in its current state.",
    13: "The sensor is on its charger and cannot measure.",
    14: "The sensor's storage is full.",
}


def status_name(code: int) -> str:
    try:
        return PmdStatus(code).name
    except ValueError:
        return f"UNKNOWN_STATUS_{code}"


def status_text(code: int) -> str:
    return STATUS_TEXT.get(
        code, f"The sensor answered with status code {code}, which Polar does not document."
    )


# ---------------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------------


class PmdSettingType(enum.IntEnum):
    """Setting types of the settings TLV, with their value sizes in :data:`SETTING_FORMAT`."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


#: struct format of one value of each setting type.
SETTING_FORMAT: dict[int, str] = {0: "<H", 1: "<H", 2: "<H", 3: "<I", 4: "<B", 5: "<f"}
#: JSON / keyword names of the setting types, units in the name where the unit is fixed.
SETTING_KEY: dict[int, str] = {
    0: "sample_rate_hz",
    1: "resolution_bits",
    2: "range",
    3: "range_milliunit",
    4: "channels",
    5: "factor",
}

SettingValue = int | float


@dataclass(frozen=True)
class PmdSettings:
    """A settings TLV list, in wire order (the order is free, and kept so that encoding round-trips).

    ``entries`` holds ``(setting type, values)`` pairs. In a get-settings response each type lists every value the
    sensor offers; in a start request (and a start response) each type has one value.
    """

    entries: tuple[tuple[int, tuple[SettingValue, ...]], ...] = ()

    def __post_init__(self) -> None:
        for kind, values in self.entries:
            if kind not in SETTING_FORMAT:
                raise ValueError(f"unknown PMD setting type {kind}")
            if len(values) > 0xFF:
                raise ValueError(f"{len(values)} values for setting {kind}: at most 255")
            for value in values:
                if kind == PmdSettingType.FACTOR:
                    if not math.isfinite(value) or abs(value) > 3.4028234663852886e38:
                        raise ValueError(f"factor {value} does not fit a float32")
                    continue
                if not isinstance(value, int):
                    raise ValueError(f"setting {SETTING_KEY[kind]} needs integers, got {value!r}")
                try:
                    struct.pack(SETTING_FORMAT[kind], value)
                except struct.error as exc:
                    raise ValueError(f"setting {SETTING_KEY[kind]} = {value} does not fit its field") from exc

    @classmethod
    def build(
        cls,
        *,
        sample_rate_hz: int | None = None,
        resolution_bits: int | None = None,
        range: int | None = None,
        range_milliunit: int | None = None,
        channels: int | None = None,
        factor: float | None = None,
    ) -> Self:
        """Settings with one value per given type, in type order (what a start request carries)."""
        given: list[SettingValue | None] = [
            sample_rate_hz,
            resolution_bits,
            range,
            range_milliunit,
            channels,
            factor,
        ]
        return cls(tuple((kind, (value,)) for kind, value in enumerate(given) if value is not None))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        entries: list[tuple[int, tuple[SettingValue, ...]]] = []
        offset = 0
        while offset < len(data):
            if offset + 2 > len(data):
                raise DecodeError("PMD settings", data, f"setting header cut off at byte {offset}")
            kind, count = data[offset], data[offset + 1]
            offset += 2
            fmt = SETTING_FORMAT.get(kind)
            if fmt is None:
                raise DecodeError("PMD settings", data, f"unknown setting type {kind} at byte {offset - 2}")
            size = struct.calcsize(fmt)
            if offset + size * count > len(data):
                raise DecodeError(
                    "PMD settings",
                    data,
                    f"setting {SETTING_KEY[kind]} announces {count} values, bytes run out",
                )
            values = tuple(v for (v,) in struct.iter_unpack(fmt, data[offset : offset + size * count]))
            if kind == PmdSettingType.FACTOR and not all(math.isfinite(v) for v in values):
                raise DecodeError("PMD settings", data, "factor is not a finite number")
            entries.append((kind, values))
            offset += size * count
        return cls(tuple(entries))

    def __bytes__(self) -> bytes:
        out = bytearray()
        for kind, values in self.entries:
            out += bytes([kind, len(values)])
            for value in values:
                out += struct.pack(SETTING_FORMAT[kind], value)
        return bytes(out)

    def values(self, kind: int) -> tuple[SettingValue, ...]:
        """All values of one setting type (across repeated entries), in wire order."""
        return tuple(v for k, vs in self.entries if k == kind for v in vs)

    def first(self, kind: int) -> SettingValue | None:
        found = self.values(kind)
        return found[0] if found else None

    def _first_int(self, kind: int) -> int | None:
        value = self.first(kind)
        return None if value is None else int(value)

    @property
    def sample_rate_hz(self) -> int | None:
        return self._first_int(PmdSettingType.SAMPLE_RATE)

    @property
    def resolution_bits(self) -> int | None:
        return self._first_int(PmdSettingType.RESOLUTION)

    @property
    def range(self) -> int | None:
        """Range in the unit of the measurement type (G for ACC, deg/s for GYRO)."""
        return self._first_int(PmdSettingType.RANGE)

    @property
    def channels(self) -> int | None:
        return self._first_int(PmdSettingType.CHANNELS)

    @property
    def factor(self) -> float | None:
        value = self.first(PmdSettingType.FACTOR)
        return None if value is None else float(value)

    def as_dict(self) -> dict[str, list[SettingValue]]:
        """JSON-able ``{"sample_rate_hz": [25, 50], ...}`` (keys from :data:`SETTING_KEY`)."""
        out: dict[str, list[SettingValue]] = {}
        for kind, values in self.entries:
            out.setdefault(SETTING_KEY[kind], []).extend(values)
        return out


# ---------------------------------------------------------------------------------------------------------------
# Control point
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PmdRequest:
    """A control point write: get settings ``[01, type]``, start ``[02, type, settings]``, stop ``[03, type]``."""

    op_code: int
    measurement_type: int
    settings: PmdSettings | None = None

    def __post_init__(self) -> None:
        if self.op_code not in tuple(PmdOpCode):
            raise ValueError(f"unknown PMD op code {self.op_code}")
        if not 0 <= self.measurement_type <= 0xFF:
            raise ValueError(f"measurement type {self.measurement_type} does not fit a byte")
        if self.settings is not None and self.settings.entries and self.op_code != PmdOpCode.START:
            raise ValueError("only a start request carries settings")

    @classmethod
    def get_settings(cls, measurement_type: int) -> Self:
        return cls(PmdOpCode.GET_SETTINGS, measurement_type)

    @classmethod
    def start(cls, measurement_type: int, settings: PmdSettings) -> Self:
        return cls(PmdOpCode.START, measurement_type, settings)

    @classmethod
    def stop(cls, measurement_type: int) -> Self:
        return cls(PmdOpCode.STOP, measurement_type)

    @property
    def op_name(self) -> str:
        return PmdOpCode(self.op_code).name.lower()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) < 2:
            raise DecodeError("PMD request", data, f"{len(data)} bytes, need at least 2 (op code, type)")
        op, kind, rest = data[0], data[1], data[2:]
        if op not in tuple(PmdOpCode):
            raise DecodeError("PMD request", data, f"unknown op code {op:#04x}")
        if op == PmdOpCode.START:
            return cls(op, kind, PmdSettings.from_bytes(rest))
        if rest:
            raise DecodeError(
                "PMD request", data, f"{len(rest)} unexpected bytes after a {PmdOpCode(op).name}"
            )
        return cls(op, kind)

    def __bytes__(self) -> bytes:
        tail = bytes(self.settings) if self.settings is not None else b""
        return bytes([self.op_code, self.measurement_type]) + tail


@dataclass(frozen=True)
class PmdResponse:
    """A control point indication ``[F0, op, type, status, more, parameters...]``.

    ``more`` is the "more frames follow" byte (``None`` when the sensor left it out: 4-byte responses exist);
    ``parameters`` the raw bytes after it. :attr:`settings` parses them as a settings TLV when they are one
    (get-settings responses list the offered values, a start response may carry the FACTOR); some sensors put
    other bytes there (the H10 answers a start with one reserved byte), which stay available raw.
    """

    op_code: int
    measurement_type: int
    status: int = PmdStatus.SUCCESS
    more: int | None = 0
    parameters: bytes = b""

    def __post_init__(self) -> None:
        for name in ("op_code", "measurement_type", "status"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} {getattr(self, name)} does not fit a byte")
        if self.more is None:
            if self.parameters:
                raise ValueError("parameters need the more byte before them")
        elif not 0 <= self.more <= 0xFF:
            raise ValueError(f"more {self.more} does not fit a byte")

    @classmethod
    def for_request(
        cls, request: PmdRequest, status: int = PmdStatus.SUCCESS, settings: PmdSettings | None = None
    ) -> Self:
        """The answer a sensor gives to ``request`` (what the virtual strap sends)."""
        params = bytes(settings) if settings is not None else b""
        return cls(request.op_code, request.measurement_type, status, 0, params)

    @property
    def ok(self) -> bool:
        return self.status == PmdStatus.SUCCESS

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    @property
    def status_text(self) -> str:
        return status_text(self.status)

    @property
    def op_name(self) -> str:
        try:
            return PmdOpCode(self.op_code).name.lower()
        except ValueError:
            return f"op_{self.op_code}"

    @property
    def settings(self) -> PmdSettings | None:
        """The parameters as a settings TLV, or None when there are none or they are not a settings TLV."""
        if not self.parameters:
            return None
        try:
            return PmdSettings.from_bytes(self.parameters)
        except DecodeError:
            return None

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) < 4:
            raise DecodeError("PMD response", data, f"{len(data)} bytes, need at least 4")
        if data[0] != RESPONSE_CODE:
            raise DecodeError("PMD response", data, f"starts with {data[0]:#04x}, not 0xf0")
        more = data[4] if len(data) > 4 else None
        return cls(data[1], data[2], data[3], more, data[5:])

    def __bytes__(self) -> bytes:
        head = bytes([RESPONSE_CODE, self.op_code, self.measurement_type, self.status])
        if self.more is None:
            return head
        return head + bytes([self.more]) + self.parameters


@dataclass(frozen=True)
class PmdFeatures:
    """The control point's read value ``[0F, bitmask...]``: bit n set = measurement type n is offered."""

    mask: int
    length: int = 17

    def __post_init__(self) -> None:
        if self.length < 2:
            raise ValueError("a features value has at least 2 bytes")
        if not 0 <= self.mask < 1 << (8 * (self.length - 1)):
            raise ValueError(f"mask {self.mask:#x} does not fit {self.length - 1} bytes")

    @classmethod
    def for_types(cls, types: Iterable[int], length: int = 17) -> Self:
        mask = 0
        for kind in types:
            mask |= 1 << kind
        return cls(mask, length)

    def supports(self, measurement_type: int) -> bool:
        return bool(self.mask >> measurement_type & 1)

    @property
    def measurement_types(self) -> tuple[int, ...]:
        return tuple(n for n in range(8 * (self.length - 1)) if self.mask >> n & 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) < 2 or data[0] != FEATURES_CODE:
            raise DecodeError("PMD features", data, "a features value is 0x0f followed by a bitmask")
        return cls(int.from_bytes(data[1:], "little"), len(data))

    def __bytes__(self) -> bytes:
        return bytes([FEATURES_CODE]) + self.mask.to_bytes(self.length - 1, "little")


PmdControlMessage = PmdRequest | PmdResponse | PmdFeatures


def parse_control_point(data: bytes) -> PmdControlMessage:
    """Decode anything seen on the control point: a response (0xF0), a features read (0x0F) or a request."""
    data = bytes(data)
    if not data:
        raise DecodeError("PMD control point", data, "empty payload")
    if data[0] == RESPONSE_CODE:
        return PmdResponse.from_bytes(data)
    if data[0] == FEATURES_CODE:
        return PmdFeatures.from_bytes(data)
    return PmdRequest.from_bytes(data)


# ---------------------------------------------------------------------------------------------------------------
# Data frames
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PmdDataFrame:
    """One PMD data notification: 10-byte header and payload.

    ``timestamp_ns`` is the sensor time of the frame's LAST sample, ns since 2000-01-01T00:00:00Z.
    ``frame_type`` is the low 7 bits of byte 9, ``compressed`` its bit 0x80. ``type_flags`` keeps the top two
    bits of byte 0 (not part of the measurement type) so that encoding round-trips.
    """

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    payload: bytes = b""
    type_flags: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.measurement_type <= 0x3F:
            raise ValueError(f"measurement type {self.measurement_type} does not fit 6 bits")
        if self.type_flags & ~0xC0:
            raise ValueError("type_flags may only hold bits 6-7")
        if not 0 <= self.timestamp_ns < 1 << 64:
            raise ValueError(f"timestamp {self.timestamp_ns} does not fit a uint64")
        if not 0 <= self.frame_type <= 0x7F:
            raise ValueError(f"frame type {self.frame_type} does not fit 7 bits")

    @property
    def timestamp(self) -> dt.datetime:
        """The last sample's time as an aware UTC datetime (microsecond resolution)."""
        return PMD_EPOCH + dt.timedelta(microseconds=self.timestamp_ns // 1000)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        data = bytes(data)
        if len(data) < HEADER_SIZE:
            raise DecodeError(
                "PMD data frame", data, f"{len(data)} bytes, the header alone has {HEADER_SIZE}"
            )
        return cls(
            measurement_type=data[0] & 0x3F,
            timestamp_ns=int.from_bytes(data[1:9], "little"),
            frame_type=data[9] & 0x7F,
            compressed=bool(data[9] & 0x80),
            payload=data[HEADER_SIZE:],
            type_flags=data[0] & 0xC0,
        )

    def __bytes__(self) -> bytes:
        return (
            bytes([self.measurement_type | self.type_flags])
            + self.timestamp_ns.to_bytes(8, "little")
            + bytes([self.frame_type | (0x80 if self.compressed else 0)])
            + self.payload
        )


def _sign(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


@dataclass(frozen=True)
class DeltaBlock:
    """One block of a delta-compressed payload: ``count`` deltas of ``width`` bits per channel at ``offset``."""

    width: int
    count: int
    offset: int
    nbytes: int


def _check_layout(channels: int, resolution_bits: int) -> int:
    if channels < 1 or not 1 <= resolution_bits <= 32:
        raise ValueError("channels must be >= 1 and resolution_bits in 1..32")
    return (resolution_bits + 7) // 8


def delta_blocks(payload: bytes, *, channels: int, resolution_bits: int) -> list[DeltaBlock]:
    """The block headers of a delta-compressed payload, checked (see :func:`decode_delta_samples`)."""
    payload = bytes(payload)
    what = "PMD delta frame"
    ref_size = _check_layout(channels, resolution_bits)
    if len(payload) < channels * ref_size:
        raise DecodeError(
            what, payload, f"{len(payload)} bytes, the reference sample needs {channels * ref_size}"
        )
    blocks: list[DeltaBlock] = []
    offset = channels * ref_size
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise DecodeError(what, payload, f"delta block header cut off at byte {offset}")
        width, count = payload[offset], payload[offset + 1]
        if width == 0 or width > MAX_DELTA_BITS:
            raise DecodeError(what, payload, f"delta bit width {width} at byte {offset} (must be 1..32)")
        offset += 2
        nbytes = (width * count * channels + 7) // 8
        if offset + nbytes > len(payload):
            raise DecodeError(
                what,
                payload,
                f"delta block of {count} x {width} bits needs {nbytes} bytes at byte {offset}, "
                f"{len(payload) - offset} left",
            )
        blocks.append(DeltaBlock(width, count, offset, nbytes))
        offset += nbytes
    return blocks


def decode_delta_samples(payload: bytes, *, channels: int, resolution_bits: int) -> list[tuple[int, ...]]:
    """Decode a delta-compressed payload into samples (tuples of ``channels`` signed ints, wire units).

    Raises :class:`DecodeError` for a missing reference sample, a block header cut off, a bit width of 0 (the
    Polar SDK then yields no samples whatever the count says, so its meaning is ambiguous) or above 32, a block
    running past the end of the payload, and samples leaving the ``resolution_bits`` signed range. A block with
    count 0 is harmless and accepted. Work is bounded by the payload length: no input can make it hang.
    """
    payload = bytes(payload)
    blocks = delta_blocks(payload, channels=channels, resolution_bits=resolution_bits)
    ref_size = (resolution_bits + 7) // 8
    lo, hi = -(1 << (resolution_bits - 1)), (1 << (resolution_bits - 1)) - 1
    sample = [
        _sign(int.from_bytes(payload[c * ref_size : (c + 1) * ref_size], "little"), resolution_bits)
        for c in range(channels)
    ]
    samples = [tuple(sample)]
    for block in blocks:
        bits = int.from_bytes(payload[block.offset : block.offset + block.nbytes], "little")
        width = block.width
        mask = (1 << width) - 1
        for _ in range(block.count):
            for c in range(channels):
                sample[c] += _sign(bits & mask, width)
                bits >>= width
                if not lo <= sample[c] <= hi:
                    raise DecodeError(
                        "PMD delta frame",
                        payload,
                        f"sample {len(samples)} leaves the {resolution_bits}-bit range",
                    )
            samples.append(tuple(sample))
    return samples


def _min_signed_width(values: Iterable[int]) -> int:
    width = 1
    for v in values:
        need = (v if v >= 0 else ~v).bit_length() + 1
        width = max(width, need)
    return width


def encode_delta_samples(
    samples: Sequence[Sequence[int]], *, resolution_bits: int = 16, max_block_samples: int = 255
) -> bytes:
    """Encode samples as a delta-compressed payload (the inverse of :func:`decode_delta_samples`).

    The first sample is the reference; the deltas are cut into blocks of at most ``max_block_samples``, each with
    the smallest bit width (>= 1) that holds its deltas.
    """
    if not samples:
        raise ValueError("a delta-compressed payload needs at least the reference sample")
    if not 1 <= max_block_samples <= 255:
        raise ValueError("max_block_samples must be 1..255")
    channels = len(samples[0])
    ref_size = (resolution_bits + 7) // 8
    lo, hi = -(1 << (resolution_bits - 1)), (1 << (resolution_bits - 1)) - 1
    for s in samples:
        if len(s) != channels:
            raise ValueError("all samples need the same number of channels")
        if any(not lo <= int(v) <= hi for v in s):
            raise ValueError(f"sample {tuple(s)} does not fit {resolution_bits} signed bits")
    out = bytearray()
    for v in samples[0]:
        out += (int(v) & ((1 << (8 * ref_size)) - 1)).to_bytes(ref_size, "little")
    deltas = [
        [int(b) - int(a) for a, b in zip(prev, cur, strict=True)] for prev, cur in itertools.pairwise(samples)
    ]
    for start in range(0, len(deltas), max_block_samples):
        block = deltas[start : start + max_block_samples]
        width = _min_signed_width(v for d in block for v in d)
        if width > MAX_DELTA_BITS:
            raise ValueError("deltas wider than 32 bits")
        mask = (1 << width) - 1
        bits = 0
        shift = 0
        for d in block:
            for v in d:
                bits |= (v & mask) << shift
                shift += width
        out += bytes([width, len(block)])
        out += bits.to_bytes((shift + 7) // 8, "little")
    return bytes(out)


#: Bytes per axis of the raw (uncompressed) ACC frame types.
RAW_ACC_WIDTH: dict[int, int] = {0: 1, 1: 2, 2: 3}


def acc_wire_samples(frame: PmdDataFrame, *, resolution_bits: int = 16) -> tuple[tuple[int, int, int], ...]:
    """The x, y, z values of an ACC frame in wire units (before any factor)."""
    data = bytes(frame)
    if frame.measurement_type != MeasurementType.ACC:
        raise DecodeError("PMD ACC frame", data, f"measurement type {frame.measurement_type} is not ACC (2)")
    if frame.compressed:
        if frame.frame_type not in (0, 1):
            raise DecodeError(
                "PMD ACC frame", data, f"unknown compressed ACC frame type {frame.frame_type:#04x}"
            )
        try:
            decoded = decode_delta_samples(frame.payload, channels=3, resolution_bits=resolution_bits)
        except DecodeError as exc:
            raise DecodeError("PMD ACC frame", data, exc.reason) from exc
        return tuple((s[0], s[1], s[2]) for s in decoded)
    width = RAW_ACC_WIDTH.get(frame.frame_type)
    if width is None:
        raise DecodeError("PMD ACC frame", data, f"unknown raw ACC frame type {frame.frame_type:#04x}")
    step = 3 * width
    if len(frame.payload) % step:
        raise DecodeError(
            "PMD ACC frame",
            data,
            f"payload of {len(frame.payload)} bytes is not whole {width}-byte x/y/z samples",
        )
    p = frame.payload
    values = [int.from_bytes(p[i : i + width], "little", signed=True) for i in range(0, len(p), width)]
    return tuple((values[i], values[i + 1], values[i + 2]) for i in range(0, len(values), 3))


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def decode_acc(
    frame: PmdDataFrame, *, resolution_bits: int = 16, factor: float | None = None
) -> tuple[tuple[int, int, int], ...]:
    """Decode an ACC frame to x, y, z in mG (integers, truncated toward zero as the Polar SDK does).

    Raw types 0x00-0x02 and compressed type 0x81 are mG on the wire; compressed 0x81 is still multiplied by
    ``factor`` when one other than 1.0 was given (Polar SDK behaviour). Compressed type 0x80 is in sensor units
    and needs ``factor`` (G per LSB, from the start response's FACTOR setting): mG = trunc(f32(factor * 1000) *
    value) in float32 arithmetic, bit-exact with the SDK. Raises :class:`DecodeError` for a bad frame, for a
    0x80 frame when no factor is known, and for a factor that scales a value past float32 or int32.
    """
    wire = acc_wire_samples(frame, resolution_bits=resolution_bits)
    if frame.compressed and frame.frame_type == 0:
        if factor is None:
            raise DecodeError(
                "PMD ACC frame", bytes(frame), "compressed type 0x80 needs the FACTOR of the start response"
            )
        try:
            scale = _f32(_f32(factor) * 1000.0)
        except OverflowError:
            raise DecodeError(
                "PMD ACC frame", bytes(frame), f"factor {factor!r} does not fit a float32"
            ) from None
        return _scaled(frame, wire, lambda v: _f32(_f32(v) * scale), factor)
    if frame.compressed and factor is not None and _f32(factor) != 1.0:
        f = _f32(factor)
        return _scaled(frame, wire, lambda v: _f32(v * f), factor)
    return wire


#: Largest magnitude of a decoded ACC value in mG (int32, what :class:`sensors.samples.AccBlock` holds).
_MAX_MG = (1 << 31) - 1


def _scaled(
    frame: PmdDataFrame,
    wire: tuple[tuple[int, int, int], ...],
    scale: Callable[[int], float],
    factor: float,
) -> tuple[tuple[int, int, int], ...]:
    """Apply ``scale`` to every value and truncate toward zero; a FACTOR that overflows is a :class:`DecodeError`."""
    out: list[tuple[int, int, int]] = []
    try:
        for x, y, z in wire:
            row = (math.trunc(scale(x)), math.trunc(scale(y)), math.trunc(scale(z)))
            if any(abs(v) > _MAX_MG for v in row):
                raise OverflowError
            out.append(row)
    except (OverflowError, ValueError):
        raise DecodeError(
            "PMD ACC frame", bytes(frame), f"factor {factor!r} scales the samples out of any mG range"
        ) from None
    return tuple(out)


def decode_ecg(frame: PmdDataFrame) -> tuple[int, ...]:
    """Decode a raw ECG frame (type 0, frame type 0x00): int24 samples in microvolts."""
    data = bytes(frame)
    if frame.measurement_type != MeasurementType.ECG:
        raise DecodeError("PMD ECG frame", data, f"measurement type {frame.measurement_type} is not ECG (0)")
    if frame.compressed or frame.frame_type != 0:
        raise DecodeError("PMD ECG frame", data, f"unsupported ECG frame type {bytes(frame)[9]:#04x}")
    p = frame.payload
    if len(p) % 3:
        raise DecodeError("PMD ECG frame", data, f"payload of {len(p)} bytes is not whole int24 samples")
    return tuple(int.from_bytes(p[i : i + 3], "little", signed=True) for i in range(0, len(p), 3))


def build_acc_frame(
    samples: Sequence[Sequence[int]],
    timestamp_ns: int,
    *,
    compressed: bool = True,
    frame_type: int = 1,
    resolution_bits: int = 16,
    max_block_samples: int = 255,
) -> PmdDataFrame:
    """Build an ACC data frame from x, y, z samples in wire units (mG for frame type 1).

    ``timestamp_ns`` is the time of the last sample (ns since 2000-01-01). Compressed frames (frame type 0x81 by
    default) get the minimal delta bit width per block and at most ``max_block_samples`` deltas per block; raw
    frames use int8 / int16 / int24 for frame types 0 / 1 / 2.
    """
    rows = [tuple(int(v) for v in s) for s in samples]
    if any(len(r) != 3 for r in rows):
        raise ValueError("ACC samples have exactly 3 axes")
    if compressed:
        if frame_type not in (0, 1):
            raise ValueError("compressed ACC frame types are 0 and 1")
        payload = encode_delta_samples(
            rows, resolution_bits=resolution_bits, max_block_samples=max_block_samples
        )
    else:
        width = RAW_ACC_WIDTH.get(frame_type)
        if width is None:
            raise ValueError("raw ACC frame types are 0, 1 and 2")
        lo, hi = -(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1
        if any(not lo <= v <= hi for r in rows for v in r):
            raise ValueError(f"raw ACC frame type {frame_type} holds values {lo}..{hi}")
        payload = b"".join(v.to_bytes(width, "little", signed=True) for r in rows for v in r)
    return PmdDataFrame(MeasurementType.ACC, timestamp_ns, frame_type, compressed, payload)


# ---------------------------------------------------------------------------------------------------------------
# Sample timestamps
# ---------------------------------------------------------------------------------------------------------------


def _round_half_even_div(num: int, den: int) -> int:
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def spread_timestamps(previous_ns: int, timestamp_ns: int, n_samples: int) -> tuple[int, ...]:
    """Times of ``n_samples`` spread evenly after ``previous_ns`` (exclusive) up to ``timestamp_ns`` (inclusive).

    Exact integer arithmetic, rounding halves to even (as the Polar SDK's PmdTimeStampUtils does in floating point):
    previous 1e9, timestamp 11e9, 10 samples -> 2e9, 3e9, ..., 11e9.
    """
    span = timestamp_ns - previous_ns
    return tuple(previous_ns + _round_half_even_div(span * (i + 1), n_samples) for i in range(n_samples))


def nominal_timestamps(timestamp_ns: int, n_samples: int, rate_hz: float) -> tuple[int, ...]:
    """Times of ``n_samples`` ending at ``timestamp_ns``, spaced by the nominal ``1 / rate_hz``."""
    step = 1e9 / rate_hz
    return tuple(timestamp_ns - round(step * (n_samples - 1 - i)) for i in range(n_samples))


class AccTimestamper:
    """Per-sample sensor times from consecutive frame timestamps (the stream's real rate, not the nominal one).

    Samples of frame k are spread evenly between frame k-1's timestamp (exclusive) and frame k's (inclusive), as
    the Polar SDK does. The first frame, a frame after a gap and a frame whose timestamp does not move forward (a
    strap reset) are laid out backwards from their timestamp at the nominal rate instead. A gap is a frame whose
    implied rate (samples / time since the previous frame) is below ``nominal_rate_hz / max_rate_ratio``: frames
    were lost, and spreading would stretch this frame's samples over the hole. A frame implying a rate above
    nominal is still spread, so sample times never go backwards across frames.

    Results: ``last_timestamp_ns_``, ``rate_hz_`` (the rate implied by the last spread frame, None before),
    ``gaps_`` (frames laid out at the nominal rate after the first).
    """

    def __init__(self, *, nominal_rate_hz: float, max_rate_ratio: float = 1.5) -> None:
        if not nominal_rate_hz > 0 or not math.isfinite(nominal_rate_hz):
            raise ValueError("nominal_rate_hz must be a positive number")
        if not max_rate_ratio > 1:
            raise ValueError("max_rate_ratio must be > 1")
        self.nominal_rate_hz = nominal_rate_hz
        self.max_rate_ratio = max_rate_ratio
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame (after a reconnection or a new start request)."""
        self.last_timestamp_ns_: int | None = None
        self.rate_hz_: float | None = None
        self.gaps_ = 0

    def stamp(self, timestamp_ns: int, n_samples: int) -> tuple[int, ...]:
        """Sensor times (ns since 2000-01-01) of the ``n_samples`` samples of a frame stamped ``timestamp_ns``."""
        if n_samples <= 0:
            return ()
        previous = self.last_timestamp_ns_
        self.last_timestamp_ns_ = timestamp_ns
        if previous is not None and timestamp_ns > previous:
            rate = n_samples * 1e9 / (timestamp_ns - previous)
            if rate * self.max_rate_ratio >= self.nominal_rate_hz:
                self.rate_hz_ = rate
                return spread_timestamps(previous, timestamp_ns, n_samples)
        if previous is not None:
            self.gaps_ += 1
        return nominal_timestamps(timestamp_ns, n_samples, self.nominal_rate_hz)
