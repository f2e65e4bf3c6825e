"""The strap side of the Polar PMD control point: requests in, responses out. Pure: no bumble, no I/O.

Polar "online measurement" document v1.0 (Aug 2024), pp.12-15: a request is ``[op, measurement type,
settings TLVs...]``; the strap answers with an indication ``[0xF0, op, type, status, more, parameters...]``
(wire format: :mod:`sensors.codecs.pmd`). This server offers one measurement, ACC, with the settings of the
capture the strap replays, and answers like an H10: a start without its settings is 5 INVALID_PARAMETER
(seen on a real H10), a value it does not offer names the setting (7 resolution, 8 sample rate, 9 range), a
second start is 6 ALREADY_IN_STATE, a frame larger than the MTU allows is 10 INVALID_MTU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sensors.codecs.pmd import (
    MeasurementType,
    PmdFeatures,
    PmdOpCode,
    PmdResponse,
    PmdSettings,
    PmdSettingType,
    PmdStatus,
)
from sensors.errors import DecodeError

#: The control point's read value: ACC only (a real H10 also sets ECG, which this strap does not serve).
FEATURES_ACC_ONLY = bytes(PmdFeatures.for_types([MeasurementType.ACC]))
#: The H10 answers a successful start with one reserved byte after the header (Polar doc p.13).
START_RESERVED = b"\x01"

_NOT_OFFERED = {
    PmdSettingType.SAMPLE_RATE: PmdStatus.ERROR_INVALID_SAMPLE_RATE,
    PmdSettingType.RESOLUTION: PmdStatus.ERROR_INVALID_RESOLUTION,
    PmdSettingType.RANGE: PmdStatus.ERROR_INVALID_RANGE,
    PmdSettingType.CHANNELS: PmdStatus.ERROR_INVALID_NUMBER_OF_CHANNELS,
}
_REQUIRED = (PmdSettingType.SAMPLE_RATE, PmdSettingType.RESOLUTION)


@dataclass
class PmdServer:
    """Control point state for one strap. ``started`` holds the settings of the running ACC stream (or None);
    ``refused`` the status of the last refused start on this connection (or None); ``requests`` every request
    received, raw."""

    offered: PmdSettings
    max_notification_bytes: int = 0
    started: PmdSettings | None = None
    refused: PmdStatus | None = None
    requests: list[bytes] = field(default_factory=list)

    def reset(self) -> None:
        """The link dropped: a real strap stops streaming."""
        self.started = None
        self.refused = None

    def handle(self, request: bytes, *, mtu: int) -> bytes:
        """Apply ``request`` and return the response indication's bytes."""
        request = bytes(request)
        self.requests.append(request)
        op = request[0] if request else 0
        kind = request[1] if len(request) > 1 else 0
        status, params = self._handle(request, op, kind, mtu)
        if op == PmdOpCode.START:
            self.refused = None if self.started is not None else PmdStatus(status)
        return bytes(PmdResponse(op, kind, status, 0, params))

    def _handle(self, request: bytes, op: int, kind: int, mtu: int) -> tuple[PmdStatus, bytes]:
        if op not in tuple(PmdOpCode):
            return PmdStatus.ERROR_INVALID_OP_CODE, b""
        if len(request) < 2:
            return PmdStatus.ERROR_INVALID_LENGTH, b""
        if kind != MeasurementType.ACC:
            return PmdStatus.ERROR_NOT_SUPPORTED, b""
        if op == PmdOpCode.GET_SETTINGS:
            return PmdStatus.SUCCESS, bytes(self.offered)
        if op == PmdOpCode.STOP:
            if self.started is None:
                return PmdStatus.ERROR_ALREADY_IN_STATE, b""
            self.started = None
            return PmdStatus.SUCCESS, b""
        if self.started is not None:
            return PmdStatus.ERROR_ALREADY_IN_STATE, b""
        try:
            asked = PmdSettings.from_bytes(request[2:])
        except DecodeError:
            return PmdStatus.ERROR_INVALID_LENGTH, b""
        if any(not asked.values(k) for k in _REQUIRED):
            return PmdStatus.ERROR_INVALID_PARAMETER, b""
        for kind_, values in asked.entries:
            if len(values) != 1:
                return PmdStatus.ERROR_INVALID_PARAMETER, b""
            offered = self.offered.values(kind_)
            if offered and values[0] not in offered:
                return _NOT_OFFERED.get(PmdSettingType(kind_), PmdStatus.ERROR_INVALID_PARAMETER), b""
        if self.max_notification_bytes and mtu - 3 < self.max_notification_bytes:
            return PmdStatus.ERROR_INVALID_MTU, b""
        self.started = asked
        return PmdStatus.SUCCESS, START_RESERVED
