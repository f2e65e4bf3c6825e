"""Pure wire codecs: bytes in, frozen dataclasses out, and back (``from_bytes`` / ``bytes(value)``).

Every decoder raises :class:`sensors.errors.DecodeError` (a ``ValueError``) for bytes that are not a valid
payload, never ``IndexError`` or ``struct.error``. No I/O here.
"""

from sensors.codecs.gatt_misc import BatteryLevel, BodySensorLocation
from sensors.codecs.heart_rate import HeartRateMeasurement
from sensors.codecs.pmd import (
    AccTimestamper,
    MeasurementType,
    PmdDataFrame,
    PmdFeatures,
    PmdOpCode,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    PmdSettingType,
    PmdStatus,
    build_acc_frame,
    decode_acc,
    decode_delta_samples,
    decode_ecg,
    delta_blocks,
    encode_delta_samples,
    parse_control_point,
)
from sensors.codecs.rsc import RscMeasurement

__all__ = [
    "AccTimestamper",
    "BatteryLevel",
    "BodySensorLocation",
    "HeartRateMeasurement",
    "MeasurementType",
    "PmdDataFrame",
    "PmdFeatures",
    "PmdOpCode",
    "PmdRequest",
    "PmdResponse",
    "PmdSettingType",
    "PmdSettings",
    "PmdStatus",
    "RscMeasurement",
    "build_acc_frame",
    "decode_acc",
    "decode_delta_samples",
    "decode_ecg",
    "delta_blocks",
    "encode_delta_samples",
    "parse_control_point",
]
