"""The exceptions of the ``sensors`` package: one root, subclasses that carry data.

Decode errors are also ``ValueError`` (as in bumble/core.py), so callers that only know "bad value" still work.
"""

from __future__ import annotations


class SensorError(Exception):
    """Root of every error raised on purpose by :mod:`sensors`."""


class DecodeError(SensorError, ValueError):
    """Bytes that do not form a valid payload of the format being decoded.

    ``data`` holds the offending payload, ``reason`` says what is wrong with it in words.
    """

    def __init__(self, what: str, data: bytes, reason: str) -> None:
        self.what = what
        self.data = bytes(data)
        self.reason = reason
        super().__init__(f"{what}: {reason} (payload {self.data.hex() or 'empty'})")


class CaptureError(SensorError):
    """A capture file that cannot be read: names the file, the line and the reason."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class SensorUnavailableError(SensorError):
    """The Bluetooth stack or the sensor cannot be used; ``advice`` says what the user can do about it."""

    def __init__(self, message: str, advice: str = "") -> None:
        self.message = message
        self.advice = advice
        super().__init__(f"{message}: {advice}" if advice else message)


class BluetoothUnavailable(SensorUnavailableError):
    """No adapter, no D-Bus, BlueZ missing, Bluetooth switched off or permission denied."""


class SensorNotFound(SensorUnavailableError):
    """No sensor matched the moniker during the scan; ``seen`` lists what was seen instead."""

    def __init__(self, message: str, advice: str = "", seen: tuple[str, ...] = ()) -> None:
        self.seen = seen
        super().__init__(message, advice)


class SensorBusy(SensorUnavailableError):
    """The sensor is connected to another device (a phone, a watch) or the adapter is busy."""


class MonikerError(SensorError, ValueError):
    """A ``--sensor`` value that is not ``ble:ADDRESS``, ``ble:name=NAME``, ``virtual:PATH`` or ``replay:PATH``."""
