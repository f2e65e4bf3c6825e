"""Turn what bleak and the OS raise into :mod:`sensors.errors` with one clear sentence and advice.

bleak reports a missing Bluetooth stack in platform-specific ways: on Linux without a D-Bus system bus the first
scan raises a bare ``FileNotFoundError`` (the socket path), without BlueZ a ``BleakDBusError``
(``org.freedesktop.DBus.Error.ServiceUnknown``), with the adapter off ``org.bluez.Error.NotReady`` or
``BleakBluetoothNotAvailableError``. :func:`classify` maps each to a :class:`~sensors.errors.SensorUnavailableError`
subclass; errors it does not recognise (a link that dropped mid-connect, a GATT error) return ``None`` and are
treated as transient by the caller. BlueZ's ``InProgress`` (another connection or scan under way, typically one that
BlueZ is still finishing) is transient too: the caller retries within its connect budget.

:func:`needs_pairing` says whether an error means "the strap wants to be paired (bonded) first": BlueZ's
``org.bluez.Error.NotAuthorized`` / ``AuthenticationFailed``, and the ATT errors Insufficient Authentication (0x05),
Insufficient Authorization (0x08) and Insufficient Encryption (0x0F) as WinRT and CoreBluetooth word them.
"""

from __future__ import annotations

import re

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from sensors.errors import BluetoothUnavailable, SensorBusy, SensorNotFound, SensorUnavailableError

ADVICE_NO_DBUS = (
    "is BlueZ installed and running? (Debian/Raspberry Pi OS: sudo apt install bluez && "
    "sudo systemctl enable --now bluetooth; in a container, mount /run/dbus)"
)
ADVICE_NO_BLUEZ = "install and start BlueZ (sudo apt install bluez && sudo systemctl enable --now bluetooth)"
ADVICE_OFF = "switch Bluetooth on (bluetoothctl power on; if blocked: rfkill unblock bluetooth)"
ADVICE_PERMISSION = (
    "allow this user to use Bluetooth (Linux: sudo usermod -aG bluetooth $USER, then log in again; "
    "macOS: allow the terminal under Privacy & Security > Bluetooth)"
)
ADVICE_PAIR = (
    "pair the strap once: Linux/Raspberry Pi: bluetoothctl, then scan on, pair ADDRESS, trust ADDRESS; "
    "macOS and Windows: pair it in the Bluetooth settings; or let coach pair it (leave out --no-pair); "
    "see docs/ble.md, Pairing"
)
ADVICE_NO_ADAPTER = "plug in a Bluetooth 4.0+ (LE) adapter or enable the built-in one (bluetoothctl list)"
ADVICE_BUSY = (
    "close other apps that use the strap, disconnect it from your phone or watch "
    "(a strap serves one connection at a time; a Polar H10 two, once dual mode is on in the Polar app), "
    "then try again"
)
ADVICE_NOT_FOUND = (
    "wet the strap's electrodes and put it on (it advertises only when worn), make sure no phone or watch is "
    "connected to it, then run `coach scan`"
)

_DBUS_MISSING_SERVICE = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
)
_DBUS_DENIED = (
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.bluez.Error.NotPermitted",
)
#: BlueZ errors that mean the strap wants a paired (bonded, encrypted) link.
_DBUS_NEEDS_PAIRING = (
    "org.bluez.Error.NotAuthorized",
    "org.bluez.Error.AuthenticationFailed",
)
#: ATT errors that mean the same: Insufficient Authentication, Authorization, Encryption Key Size, Encryption.
_ATT_NEEDS_PAIRING = frozenset({0x05, 0x08, 0x0C, 0x0F})
#: The same from WinRT ("Protocol Error 0x05: Insufficient Authentication") and CoreBluetooth ("Authentication is
#: insufficient", "Encryption is insufficient").
_NEEDS_PAIRING_TEXT = re.compile(
    r"protocol error 0x0(5|8|f)\b|insufficient (authentication|authorization|encryption)|"
    r"(authentication|encryption) is insufficient",
    re.IGNORECASE,
)


def text_needs_pairing(text: str) -> bool:
    """Whether an error's text (a refusal as recorded in a ``pmd_error`` event, a log line) says the strap wants a
    paired link: a BlueZ error name, an ATT error as WinRT or CoreBluetooth word it, or the pairing advice itself."""
    folded = text.casefold()
    return (
        bool(_NEEDS_PAIRING_TEXT.search(text))
        or any(name.casefold() in folded for name in _DBUS_NEEDS_PAIRING)
        or ADVICE_PAIR.casefold() in folded
    )


def needs_pairing(exc: BaseException) -> bool:
    """Whether ``exc`` means the strap refuses until it is paired (module docstring)."""
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _DBUS_NEEDS_PAIRING:
        return True
    if isinstance(
        exc, BleakGATTProtocolError
    ):  # bleak 3's ATT error (WinRT, CoreBluetooth, our bumble backend)
        return int(exc.code) in _ATT_NEEDS_PAIRING
    return isinstance(exc, BleakError | OSError) and bool(_NEEDS_PAIRING_TEXT.search(str(exc)))


def classify(exc: BaseException) -> SensorUnavailableError | None:
    """The user-facing error for ``exc``, or ``None`` if it looks transient (worth retrying)."""
    if isinstance(exc, SensorUnavailableError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return _not_available(exc)
    if needs_pairing(exc):
        return SensorUnavailableError("the strap wants to be paired first", ADVICE_PAIR)
    if isinstance(exc, BleakDBusError):
        return _dbus(exc)
    if isinstance(exc, BleakDeviceNotFoundError):
        return SensorNotFound(f"sensor {exc.identifier} was not found", ADVICE_NOT_FOUND)
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return BluetoothUnavailable(
            "cannot reach the Bluetooth service (no D-Bus system bus)", ADVICE_NO_DBUS
        )
    if isinstance(exc, PermissionError):
        return BluetoothUnavailable("permission denied using Bluetooth", ADVICE_PERMISSION)
    if isinstance(exc, BleakError):
        text = str(exc).lower()
        if "no bluetooth adapters" in text or ("adapter" in text and "not found" in text):
            return BluetoothUnavailable("no Bluetooth adapter found", ADVICE_NO_ADAPTER)
        if "not ready" in text or "powered off" in text or "turned off" in text:
            return BluetoothUnavailable("Bluetooth is switched off", ADVICE_OFF)
    return None


def busy(exc: BaseException) -> SensorBusy | None:
    """The error for a *scan* refused because the adapter is busy (InProgress), else None."""
    if isinstance(exc, BleakDBusError) and exc.dbus_error == "org.bluez.Error.InProgress":
        return SensorBusy("the Bluetooth adapter is busy with another scan or connection", ADVICE_BUSY)
    return None


def _not_available(exc: BleakBluetoothNotAvailableError) -> BluetoothUnavailable:
    reason = exc.reason
    if reason == BleakBluetoothNotAvailableReason.POWERED_OFF:
        return BluetoothUnavailable("Bluetooth is switched off", ADVICE_OFF)
    if reason in (
        BleakBluetoothNotAvailableReason.DENIED_BY_USER,
        BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
        BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN,
    ):
        return BluetoothUnavailable("permission denied using Bluetooth", ADVICE_PERMISSION)
    if reason == BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
        return BluetoothUnavailable("this Bluetooth adapter cannot connect to LE sensors", ADVICE_NO_ADAPTER)
    if reason == BleakBluetoothNotAvailableReason.NO_BLUETOOTH:
        return BluetoothUnavailable("no Bluetooth adapter found", ADVICE_NO_ADAPTER)
    return BluetoothUnavailable(f"Bluetooth is not available ({exc.args[0]})", ADVICE_NO_ADAPTER)


def _dbus(exc: BleakDBusError) -> SensorUnavailableError | None:
    name = exc.dbus_error
    if name in _DBUS_MISSING_SERVICE:
        return BluetoothUnavailable("BlueZ (the Linux Bluetooth service) is not running", ADVICE_NO_BLUEZ)
    if name == "org.bluez.Error.NotReady":
        return BluetoothUnavailable("Bluetooth is switched off", ADVICE_OFF)
    if name in _DBUS_DENIED:
        return BluetoothUnavailable("permission denied using Bluetooth", ADVICE_PERMISSION)
    if name == "org.freedesktop.DBus.Error.NoReply":
        return BluetoothUnavailable("BlueZ does not answer", "restart it: sudo systemctl restart bluetooth")
    return None
