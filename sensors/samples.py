"""Typed samples and the one place raw notifications become them (:class:`SampleDecoder`).

Every source (live strap, virtual strap, replay) feeds ``(t, characteristic UUID, payload)`` into a
:class:`SampleDecoder` and yields what it returns, so a replay runs exactly the code path of a live strap.
Times are session seconds (the host's monotonic clock at arrival, as recorded in capture files).

Accelerometer sample times come from the sensor's own clock (:class:`sensors.codecs.pmd.AccTimestamper`), mapped
to session seconds by anchoring the first PMD frame's last sample at its arrival time; the anchor moves only when
the sensor clock jumps against the host clock by more than ``reanchor_s`` (a strap reset or a reconnection to a
rebooted strap), never to follow the notification latency jitter.

:func:`decode_record` gives the JSON-able decoded fields of one payload (``coach capture decode --json``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sensors import uuids
from sensors.codecs.gatt_misc import BatteryLevel, BodySensorLocation
from sensors.codecs.heart_rate import HeartRateMeasurement
from sensors.codecs.pmd import (
    AccTimestamper,
    MeasurementType,
    PmdControlMessage,
    PmdDataFrame,
    PmdFeatures,
    PmdOpCode,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    decode_acc,
    decode_ecg,
    measurement_type_name,
    parse_control_point,
)
from sensors.codecs.rsc import RscMeasurement
from sensors.errors import DecodeError
from sensors.events import STREAM_BREAK_EVENTS, SensorEventName, event_name

logger = logging.getLogger(__name__)

DEFAULT_ACC_RATE_HZ = 100.0


@dataclass(frozen=True)
class HeartRateSample:
    """One Heart Rate Measurement: ``contact`` None = the strap cannot tell; ``rr_s`` in seconds."""

    t: float
    bpm: int
    rr_s: tuple[float, ...] = ()
    contact: bool | None = None
    energy_kj: int | None = None


@dataclass(frozen=True, eq=False)
class AccBlock:
    """Accelerometer samples of one PMD frame.

    ``t_s``: (n,) float64 session seconds per sample; ``xyz_mg``: (n, 3) int32 in mG; ``timestamp_ns``: the sensor
    time of the last sample (ns since 2000-01-01), as sent.
    """

    t_s: npt.NDArray[np.float64]
    xyz_mg: npt.NDArray[Any]
    timestamp_ns: int

    def __post_init__(self) -> None:
        if self.t_s.ndim != 1 or self.xyz_mg.shape != (len(self.t_s), 3):
            raise ValueError(f"t_s {self.t_s.shape} and xyz_mg {self.xyz_mg.shape} must be (n,) and (n, 3)")

    @property
    def t(self) -> float:
        """Session time of the last sample (NaN for an empty block)."""
        return float(self.t_s[-1]) if len(self.t_s) else math.nan

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True)
class FootPodSample:
    """One RSC Measurement (foot pod, or a strap that reports running speed and cadence)."""

    t: float
    speed_mps: float
    cadence_per_min: int  # as sent: steps or strides, decided at ingest (sensors.units.cadence_unit)
    stride_length_m: float | None = None
    total_distance_m: float | None = None
    running: bool = False


@dataclass(frozen=True)
class BatterySample:
    t: float
    percent: int


@dataclass(frozen=True)
class SensorEvent:
    """Something that happened to a sensor: connected, disconnected, pmd_response, decode_error, ...

    ``event`` is a :class:`~sensors.events.SensorEventName` (a ``StrEnum``: it equals its string), or the plain
    string of a name outside the vocabulary read from a capture file. ``fields`` holds JSON-able details.
    """

    t: float
    event: SensorEventName | str
    fields: Mapping[str, Any] = field(default_factory=dict)


Sample = HeartRateSample | AccBlock | FootPodSample | BatterySample | SensorEvent


@dataclass
class PmdState:
    """What the PMD control point traffic told us about the ACC stream (nominal rate, resolution, factor).

    Update it with every control point payload (:meth:`update`): a start request's settings become current when
    its response reports success (or, when no response was recorded, when the first ACC frame arrives); a start
    response's FACTOR setting sets :attr:`factor`.
    """

    sample_rate_hz: float | None = None
    resolution_bits: int = 16
    range_g: int | None = None
    factor: float | None = None
    pending: PmdSettings | None = None

    def update(self, message: PmdControlMessage) -> None:
        if isinstance(message, PmdRequest):
            if message.op_code == PmdOpCode.START and message.measurement_type == MeasurementType.ACC:
                self.pending = message.settings or PmdSettings()
            return
        if not isinstance(message, PmdResponse):
            return
        if message.op_code != PmdOpCode.START or message.measurement_type != MeasurementType.ACC:
            return
        if not message.ok:
            self.pending = None
            return
        self.apply_pending()
        settings = message.settings
        if settings is not None:
            self.apply(settings)

    def apply_pending(self) -> None:
        if self.pending is not None:
            self.apply(self.pending)
            self.pending = None

    def apply(self, settings: PmdSettings) -> None:
        if settings.sample_rate_hz:
            self.sample_rate_hz = float(settings.sample_rate_hz)
        if settings.resolution_bits and 1 <= settings.resolution_bits <= 32:
            self.resolution_bits = settings.resolution_bits
        if settings.range:
            self.range_g = settings.range
        if settings.factor is not None:
            self.factor = settings.factor

    def apply_fields(self, fields: Mapping[str, Any]) -> None:
        """Take settings from an event's fields (``sample_rate_hz``, ``resolution_bits``, ``range_g``, ``factor``).

        Values a strap cannot send (a rate outside the PMD setting's uint16 range 1..65535, a non-finite factor)
        are ignored: the fields come from a file that may be damaged.
        """
        rate = fields.get("sample_rate_hz")
        if isinstance(rate, int | float) and 1 <= rate <= 0xFFFF:  # the wire's uint16 range
            self.sample_rate_hz = float(rate)
        resolution = fields.get("resolution_bits")
        if isinstance(resolution, int) and 1 <= resolution <= 32:
            self.resolution_bits = resolution
        range_g = fields.get("range_g")
        if isinstance(range_g, int) and range_g > 0:
            self.range_g = range_g
        factor = fields.get("factor")
        if isinstance(factor, int | float) and math.isfinite(factor):
            self.factor = float(factor)


def _char_key(char: str | int) -> str | None:
    try:
        return uuids.normalize_uuid(char)
    except (ValueError, AttributeError):
        return None


def _control_fields(message: PmdControlMessage) -> dict[str, Any]:
    if isinstance(message, PmdFeatures):
        return {
            "message": "features",
            "measurement_types": [measurement_type_name(m) for m in message.measurement_types],
        }
    settings = message.settings
    out: dict[str, Any] = {
        "message": "request" if isinstance(message, PmdRequest) else "response",
        "op": message.op_code,
        "op_name": message.op_name,
        "type": message.measurement_type,
        "type_name": measurement_type_name(message.measurement_type),
        "status": None,
        "status_name": None,
        "status_text": None,
        "settings": settings.as_dict() if settings is not None else None,
    }
    if isinstance(message, PmdResponse):
        out.update(
            status=message.status,
            status_name=message.status_name,
            status_text=message.status_text,
            more=None if message.more is None else bool(message.more),
            parameters_hex=message.parameters.hex(),
        )
    return out


def decode_record(char: str, data: bytes, pmd: PmdState | None = None) -> dict[str, Any]:
    """The JSON-able decoded fields of one payload, with ``kind`` naming what it is.

    Kinds: ``heart_rate``, ``rsc``, ``battery``, ``body_sensor_location``, ``pmd_control``, ``pmd_acc``,
    ``pmd_ecg``, ``pmd_data`` (other PMD measurement types: header only) and ``unknown`` (any other
    characteristic). Pass one :class:`PmdState` for a whole capture so that control point traffic (start settings,
    FACTOR) is used for the ACC frames after it. Bad bytes raise :class:`DecodeError`; the caller decides.
    """
    data = bytes(data)
    key = _char_key(char)
    if key == uuids.HEART_RATE_MEASUREMENT:
        hr = HeartRateMeasurement.from_bytes(data)
        return {
            "kind": "heart_rate",
            "bpm": hr.bpm,
            "rr_s": list(hr.rr_s),
            "rr_1024": list(hr.rr_1024),
            "energy_kj": hr.energy_kj,
            "contact": hr.contact,
        }
    if key == uuids.RSC_MEASUREMENT:
        rsc = RscMeasurement.from_bytes(data)
        return {
            "kind": "rsc",
            "speed_mps": rsc.speed_mps,
            "cadence_per_min": rsc.cadence_per_min,
            "stride_length_m": rsc.stride_length_m,
            "total_distance_m": rsc.total_distance_m,
            "running": rsc.running,
        }
    if key == uuids.BATTERY_LEVEL:
        return {"kind": "battery", "percent": BatteryLevel.from_bytes(data).percent}
    if key == uuids.BODY_SENSOR_LOCATION:
        loc = BodySensorLocation.from_bytes(data)
        return {"kind": "body_sensor_location", "location": loc.name, "code": loc.location}
    if key == uuids.PMD_CONTROL_POINT:
        message = parse_control_point(data)
        if pmd is not None:
            pmd.update(message)
        return {"kind": "pmd_control", **_control_fields(message)}
    if key == uuids.PMD_DATA:
        frame = PmdDataFrame.from_bytes(data)
        header = {
            "timestamp_ns": frame.timestamp_ns,
            "measurement_type": frame.measurement_type,
            "frame_type": frame.frame_type,
            "compressed": frame.compressed,
        }
        if frame.measurement_type == MeasurementType.ACC:
            state = pmd if pmd is not None else PmdState()
            state.apply_pending()
            xyz = decode_acc(frame, resolution_bits=state.resolution_bits, factor=state.factor)
            return {"kind": "pmd_acc", **header, "samples_mg": [list(s) for s in xyz]}
        if frame.measurement_type == MeasurementType.ECG:
            return {"kind": "pmd_ecg", **header, "samples_uv": list(decode_ecg(frame))}
        return {"kind": "pmd_data", **header, "payload_hex": frame.payload.hex()}
    return {"kind": "unknown", "hex": data.hex()}


class SampleDecoder:
    """Turns raw notifications into typed samples; one per connection or replay.

    ``feed(t, char, data)`` returns the samples of one payload (possibly none). Bad payloads give a
    ``SensorEvent(t, "decode_error", {...})`` and a warning in the log (or raise :class:`DecodeError` with
    ``strict=True``), so a corrupt notification never stops a session. ``default_acc_rate_hz`` is the nominal ACC
    rate used until a start request/response or a ``pmd_started`` event says otherwise.

    Results: ``pmd`` (the :class:`PmdState`), ``offset_s_`` (session seconds minus sensor seconds, None before the
    first ACC frame), ``reanchors_`` (how often the sensor clock jumped), ``errors_`` (decode errors so far).
    """

    def __init__(
        self,
        *,
        default_acc_rate_hz: float = DEFAULT_ACC_RATE_HZ,
        reanchor_s: float = 2.0,
        strict: bool = False,
    ) -> None:
        if not default_acc_rate_hz > 0:
            raise ValueError("default_acc_rate_hz must be positive")
        self.default_acc_rate_hz = default_acc_rate_hz
        self.reanchor_s = reanchor_s
        self.strict = strict
        self.pmd = PmdState()
        self.offset_s_: float | None = None
        self.reanchors_ = 0
        self.errors_ = 0
        self._anchor: tuple[float, int] | None = None  # (session s, sensor ns) of the anchoring sample
        self._timestamper: AccTimestamper | None = None

    def feed(self, t: float, char: str, data: bytes) -> list[Sample]:
        """Decode one payload received at session time ``t`` on characteristic ``char``."""
        key = _char_key(char)
        try:
            return self._feed(t, key, bytes(data))
        except DecodeError as exc:
            self.errors_ += 1
            if self.strict:
                raise
            logger.warning("t=%.3f %s: %s", t, uuids.short_name(key) if key else char, exc)
            return [
                SensorEvent(
                    t,
                    SensorEventName.DECODE_ERROR,
                    {"char": key or char, "reason": exc.reason, "hex": exc.data.hex()},
                )
            ]

    def feed_event(self, t: float, event: str, fields: Mapping[str, Any] | None = None) -> list[Sample]:
        """Pass a recorded event through as a :class:`SensorEvent` (a known name as its
        :class:`~sensors.events.SensorEventName`, an unknown one as read).

        ``pmd_started`` fields (``sample_rate_hz``, ``resolution_bits``, ``range_g``, ``factor``) update :attr:`pmd`.
        ``connected``, ``disconnected``, ``pmd_started`` and ``pmd_stopped`` end the run of consecutive frames: the
        next ACC frame is laid out at the nominal rate instead of being spread over the interruption.
        """
        fields = dict(fields or {})
        name = event_name(event)
        if name == SensorEventName.PMD_STARTED:
            self.pmd.apply_fields(fields)
        if name in STREAM_BREAK_EVENTS:
            self._timestamper = None
        return [SensorEvent(t, name, fields)]

    def _feed(self, t: float, key: str | None, data: bytes) -> list[Sample]:
        if key == uuids.HEART_RATE_MEASUREMENT:
            hr = HeartRateMeasurement.from_bytes(data)
            return [HeartRateSample(t, hr.bpm, hr.rr_s, hr.contact, hr.energy_kj)]
        if key == uuids.RSC_MEASUREMENT:
            rsc = RscMeasurement.from_bytes(data)
            return [
                FootPodSample(
                    t,
                    rsc.speed_mps,
                    rsc.cadence_per_min,
                    rsc.stride_length_m,
                    rsc.total_distance_m,
                    rsc.running,
                )
            ]
        if key == uuids.BATTERY_LEVEL:
            return [BatterySample(t, BatteryLevel.from_bytes(data).percent)]
        if key == uuids.BODY_SENSOR_LOCATION:
            loc = BodySensorLocation.from_bytes(data)
            return [SensorEvent(t, SensorEventName.BODY_SENSOR_LOCATION, {"location": loc.name})]
        if key == uuids.PMD_CONTROL_POINT:
            return self._feed_control(t, parse_control_point(data))
        if key == uuids.PMD_DATA:
            return self._feed_frame(t, PmdDataFrame.from_bytes(data))
        return []

    def _feed_control(self, t: float, message: PmdControlMessage) -> list[Sample]:
        rate_before = self.pmd.sample_rate_hz
        self.pmd.update(message)
        if self.pmd.sample_rate_hz != rate_before:
            self._timestamper = None
        if isinstance(message, PmdRequest):
            return []
        fields = _control_fields(message)
        name = (
            SensorEventName.PMD_FEATURES if isinstance(message, PmdFeatures) else SensorEventName.PMD_RESPONSE
        )
        return [SensorEvent(t, name, fields)]

    def _feed_frame(self, t: float, frame: PmdDataFrame) -> list[Sample]:
        if frame.measurement_type != MeasurementType.ACC:
            logger.debug("ignoring PMD %s frame", measurement_type_name(frame.measurement_type))
            return []
        if self.pmd.pending is not None:
            rate_before = self.pmd.sample_rate_hz
            self.pmd.apply_pending()
            if self.pmd.sample_rate_hz != rate_before:
                self._timestamper = None
        xyz = decode_acc(frame, resolution_bits=self.pmd.resolution_bits, factor=self.pmd.factor)
        if not xyz:
            return []
        out: list[Sample] = []
        if self._anchor is None:
            self._anchor = (t, frame.timestamp_ns)
        else:
            jump = (t - self._anchor[0]) - (frame.timestamp_ns - self._anchor[1]) * 1e-9
            if abs(jump) > self.reanchor_s:
                self.reanchors_ += 1
                logger.info("sensor clock jumped %.3f s against the host clock: re-anchoring", jump)
                out.append(SensorEvent(t, SensorEventName.PMD_REANCHORED, {"jump_s": jump}))
                self._anchor = (t, frame.timestamp_ns)
                if self._timestamper is not None:
                    self._timestamper.reset()
        anchor_t, anchor_ns = self._anchor
        self.offset_s_ = anchor_t - anchor_ns * 1e-9
        if self._timestamper is None:
            rate = self.pmd.sample_rate_hz or self.default_acc_rate_hz
            self._timestamper = AccTimestamper(nominal_rate_hz=rate)
        stamps = self._timestamper.stamp(frame.timestamp_ns, len(xyz))
        t_s = anchor_t + np.array([s - anchor_ns for s in stamps], dtype=np.float64) * 1e-9
        out.append(AccBlock(t_s, np.asarray(xyz, dtype=np.int32).reshape(-1, 3), frame.timestamp_ns))
        return out
