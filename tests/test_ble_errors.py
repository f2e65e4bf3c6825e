"""Bluetooth failures become one sentence with advice: classification, scanning, the CLI's exit code."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bleak.backends.scanner import AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)

from sensors.clock import FakeClock
from sensors.codecs.pmd import PmdResponse, PmdSettings
from sensors.errors import BluetoothUnavailable, SensorBusy, SensorNotFound, SensorUnavailableError
from sensors.sources.ble.client import BleSource, pmd_sentence
from sensors.sources.ble.diagnose import busy, classify, needs_pairing
from sensors.sources.ble.scan import BleakBackends, scan

REPO = Path(__file__).resolve().parents[1]
Reason = BleakBluetoothNotAvailableReason


@pytest.mark.parametrize(
    ("exc", "kind", "needle"),
    [
        (FileNotFoundError(2, "No such file or directory"), BluetoothUnavailable, "no D-Bus"),
        (ConnectionRefusedError(111, "refused"), BluetoothUnavailable, "no D-Bus"),
        (PermissionError(13, "denied"), BluetoothUnavailable, "permission denied"),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), BluetoothUnavailable, "BlueZ"),
        (
            BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
            BluetoothUnavailable,
            "switched off",
        ),
        (BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []), BluetoothUnavailable, "permission"),
        (BleakDBusError("org.bluez.Error.NotAuthorized", []), SensorUnavailableError, "paired"),
        (
            BleakError("Protocol Error 0x05: Insufficient Authentication"),
            SensorUnavailableError,
            "bluetoothctl",
        ),
        (BleakBluetoothNotAvailableError("off", Reason.POWERED_OFF), BluetoothUnavailable, "switched off"),
        (
            BleakBluetoothNotAvailableError("no", Reason.NO_BLUETOOTH),
            BluetoothUnavailable,
            "no Bluetooth adapter",
        ),
        (BleakBluetoothNotAvailableError("no", Reason.DENIED_BY_USER), BluetoothUnavailable, "permission"),
        (BleakError("No Bluetooth adapters found."), BluetoothUnavailable, "no Bluetooth adapter"),
        (BleakDeviceNotFoundError("AA:BB:CC:DD:EE:FF"), SensorNotFound, "AA:BB:CC:DD:EE:FF"),
    ],
)
def test_stack_failures_are_classified_with_advice(exc: BaseException, kind: type, needle: str) -> None:
    error = classify(exc)
    assert isinstance(error, kind) and isinstance(error, SensorUnavailableError)
    assert needle in str(error)
    assert error.advice and error.advice in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        BleakError("Not connected"),
        TimeoutError(),
        BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort"]),
    ],
)
def test_link_failures_are_transient(exc: BaseException) -> None:
    assert classify(exc) is None


class _NoDbusScanner(BaseBleakScanner):
    """What bleak's BlueZ backend does on a machine without a D-Bus system bus."""

    def __init__(
        self, callback: AdvertisementDataCallback | None, uuids: list[str] | None, *a: Any, **k: Any
    ) -> None:
        super().__init__(callback, uuids)

    async def start(self) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    async def stop(self) -> None:
        pass


async def test_scan_without_dbus_raises_bluetooth_unavailable() -> None:
    with pytest.raises(BluetoothUnavailable) as caught:
        await scan(0.1, backends=BleakBackends(scanner=_NoDbusScanner))
    assert "bluez" in str(caught.value).lower()


def test_pmd_sentence_names_request_status_and_offer() -> None:
    offered = PmdSettings.from_bytes(
        bytes.fromhex("00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00")
    )
    from sensors.sources.ble.client import AccConfig

    text = pmd_sentence(PmdResponse(0x02, 0x02, 9, 0), AccConfig(range_g=16), offered)
    assert text == (
        "The strap refused the start of the accelerometer at 100 Hz, 16 G, 16 bit: The sensor does not offer "
        "this range. (code 9 ERROR_INVALID_RANGE); it offers 25/50/100/200 Hz, 2/4/8 G, 16 bit."
    )


def _coach(*args: str) -> subprocess.CompletedProcess[str]:
    # No system bus at all, whatever the machine has: bleak's BlueZ backend then fails like on a bare container.
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/coach-test-bus"}
    return subprocess.run(
        [sys.executable, "-m", "coach", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the D-Bus failure mode is Linux's")
@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--timeout", "1"),
        ("record", "--sensor", "ble:AA:BB:CC:DD:EE:FF", "--duration", "5", "-o", "X"),
    ],
    ids=["scan", "record"],
)
def test_no_bluez_is_one_clear_line_and_the_sensor_exit_code(args: tuple[str, ...], tmp_path: Path) -> None:
    args = tuple(str(tmp_path / "out.jsonl") if a == "X" else a for a in args)
    proc = _coach(*args)
    assert proc.returncode == 5, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coach: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "bluez" in lines[0].lower()
    assert not (tmp_path / "out.jsonl").exists()  # nothing recorded, no empty capture left behind


def test_in_progress_is_transient_when_connecting_and_busy_when_scanning() -> None:
    exc = BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"])
    assert classify(exc) is None  # a connection attempt retries within its budget
    error = busy(exc)
    assert isinstance(error, SensorBusy) and "busy" in str(error) and "dual mode" in str(error)


@pytest.mark.parametrize(
    ("exc", "wanted"),
    [
        (BleakDBusError("org.bluez.Error.NotAuthorized", []), True),
        (BleakDBusError("org.bluez.Error.AuthenticationFailed", []), True),
        (BleakError("Could not write value: Protocol Error 0x05: Insufficient Authentication"), True),
        (BleakError("Protocol Error 0x0F: Insufficient Encryption"), True),
        (BleakError("Authentication is insufficient."), True),
        (BleakGATTProtocolError(0x05), True),
        (BleakGATTProtocolError(0x0F), True),
        (BleakGATTProtocolError(0x03), False),
        (BleakDBusError("org.bluez.Error.NotPermitted", []), False),
        (BleakError("Protocol Error 0x03: Write Not Permitted"), False),
        (TimeoutError(), False),
    ],
)
def test_needs_pairing(exc: BaseException, wanted: bool) -> None:
    assert needs_pairing(exc) is wanted


def test_not_authorized_advice_is_pairing_not_usermod() -> None:
    error = classify(BleakDBusError("org.bluez.Error.NotAuthorized", []))
    assert error is not None and "usermod" not in str(error) and "pair" in str(error)


class ForgetfulBlueZ(BleSource):
    """The real client's start and supervisor, with the radio replaced: ``_find`` counts scans and ``_connect_once``
    fails with what BlueZ says of a device object it dropped (``BleakDeviceNotFoundError``) the first ``forget``
    times, then "connects"."""

    def __init__(self, forget: int) -> None:
        super().__init__(name="Polar H10", clock=FakeClock())
        self.forget = forget
        self.scans = 0
        self.attempts: list[object] = []

    async def _find(self) -> Any:
        self.scans += 1
        return object()

    async def _connect_once(self, device: Any) -> None:
        self.attempts.append(device)
        if len(self.attempts) <= self.forget:
            raise BleakDeviceNotFoundError(
                "AA:BB:CC:DD:EE:FF", "Device with address AA:BB:... was not found."
            )
        self.connected = True
        self._link_lost.clear()


async def test_device_not_found_at_start_scans_again_at_once() -> None:
    source = ForgetfulBlueZ(forget=1)
    await source.start()
    assert source.scans == 2 and source.connected  # not "not found": BlueZ forgot it, a new scan finds it
    assert source.attempts[0] is not source.attempts[1]
    await source.aclose()


async def test_device_not_found_after_a_drop_scans_again_at_once() -> None:
    source = ForgetfulBlueZ(forget=0)
    await source.start()
    assert source.scans == 1
    source.forget = 2  # the next attempt (after the drop) fails with "not found"
    source.connected = False
    source._link_lost.set()
    for _ in range(200):
        await asyncio.sleep(0)
        if source.connected:
            break
    assert source.connected and source.scans == 2  # the very next attempt scanned (not after three failures)
    await source.aclose()
