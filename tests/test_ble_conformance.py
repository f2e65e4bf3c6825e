"""The real bleak API still has every method and argument that sensors.sources.ble and sensors.sources.virtual rely on.

Modelled on bleak-retry-connector's conformance test: if a bleak upgrade renames or drops one of these, this
fails before a strap in the field does.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import bleak
import pytest
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakGATTProtocolError,
)

from sensors.sources.virtual.backend import BumbleClient, BumbleScanner


def params(func: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(func).parameters)


@pytest.mark.parametrize(
    ("func", "needed"),
    [
        # What sensors.sources.ble.client uses.
        (
            bleak.BleakClient.__init__,
            ["address_or_ble_device", "disconnected_callback", "timeout", "backend"],
        ),
        (bleak.BleakClient.connect, []),
        (bleak.BleakClient.disconnect, []),
        (bleak.BleakClient.start_notify, ["char_specifier", "callback"]),
        (bleak.BleakClient.read_gatt_char, ["char_specifier"]),
        (bleak.BleakClient.write_gatt_char, ["char_specifier", "data", "response"]),
        # What sensors.sources.ble.scan uses.
        (bleak.BleakScanner.__init__, ["detection_callback", "service_uuids", "scanning_mode", "backend"]),
        # The backend contract sensors.sources.virtual.backend implements.
        (BaseBleakScanner.__init__, ["detection_callback", "service_uuids"]),
        (BaseBleakScanner.create_or_update_device, ["key", "address", "name", "details", "adv"]),
        (BaseBleakScanner.call_detection_callbacks, ["device", "advertisement_data"]),
        (BaseBleakScanner.is_allowed_uuid, ["service_uuids"]),
        (BaseBleakClient.__init__, ["address_or_ble_device", "disconnected_callback", "timeout"]),
        (BaseBleakClient.connect, ["pair"]),
        (BaseBleakClient.read_gatt_char, ["characteristic", "use_cached"]),
        (BaseBleakClient.read_gatt_descriptor, ["descriptor", "use_cached"]),
        (BaseBleakClient.write_gatt_char, ["characteristic", "data", "response"]),
        (BaseBleakClient.write_gatt_descriptor, ["descriptor", "data"]),
        (BaseBleakClient.start_notify, ["characteristic", "callback"]),
        (BaseBleakClient.stop_notify, ["characteristic"]),
        (
            BleakGATTCharacteristic.__init__,
            ["obj", "handle", "uuid", "properties", "max_write_without_response_size", "service"],
        ),
        (BleakGATTService.__init__, ["obj", "handle", "uuid"]),
        (BleakGATTDescriptor.__init__, ["obj", "handle", "uuid", "characteristic"]),
        (BleakGATTServiceCollection.add_service, ["service"]),
        (BleakGATTServiceCollection.add_characteristic, ["characteristic"]),
        (BleakGATTServiceCollection.add_descriptor, ["descriptor"]),
        (BleakGATTServiceCollection.get_characteristic, ["specifier"]),
        (BLEDevice.__init__, ["address", "name", "details"]),
        # issue 12: pairing when the strap wants it, and a strap still connected in BlueZ after a killed run
        (bleak.BleakClient.pair, []),
        (bleak.BleakAdapter.get, ["bluez", "backend"]),
        (bleak.BleakAdapter.get_connected_devices, ["service_uuids"]),
        (BleakDBusError.__init__, ["dbus_error", "error_body"]),
        (BleakDeviceNotFoundError.__init__, ["identifier"]),
        (BleakGATTProtocolError.__init__, ["error_code"]),
        (BleakBluetoothNotAvailableError.__init__, ["msg", "reason"]),
    ],
    ids=lambda v: getattr(v, "__qualname__", "") if callable(v) else "",
)
def test_bleak_still_has_what_we_call(func: Callable[..., Any], needed: list[str]) -> None:
    have = params(func)
    missing = [name for name in needed if name not in have]
    assert not missing, (
        f"{func.__qualname__} lost {missing}: update sensors.sources.ble / sensors.sources.virtual"
    )


def test_advertisement_data_fields() -> None:
    assert set(AdvertisementData._fields) >= {
        "local_name",
        "manufacturer_data",
        "service_data",
        "service_uuids",
        "tx_power",
        "rssi",
        "platform_data",
    }


def test_bleak_client_exposes_what_the_client_reads() -> None:
    for name in ("services", "mtu_size", "is_connected", "address", "name"):
        assert isinstance(inspect.getattr_static(bleak.BleakClient, name), property), name
    assert {"POWERED_OFF", "NO_BLUETOOTH", "DENIED_BY_USER"} <= set(
        BleakBluetoothNotAvailableReason.__members__
    )


@pytest.mark.parametrize("base", [BaseBleakScanner, BaseBleakClient])
def test_our_backend_implements_every_abstract_method_with_the_base_signature(base: type) -> None:
    ours = {BaseBleakScanner: BumbleScanner, BaseBleakClient: BumbleClient}[base]
    assert not getattr(ours, "__abstractmethods__", frozenset()), f"{ours.__name__} misses abstract methods"
    for name in base.__abstractmethods__:
        base_member = inspect.getattr_static(base, name)
        our_member = inspect.getattr_static(ours, name)
        if isinstance(base_member, property):
            assert isinstance(our_member, property), name
            continue
        base_params = [p for p in params(base_member) if p not in ("self", "args", "kwargs")]
        our_params = params(our_member)
        assert all(p in our_params for p in base_params), (
            f"{ours.__name__}.{name}: {base_params} vs {list(our_params)}"
        )


@pytest.mark.skipif(sys.platform != "linux", reason="BlueZ is Linux's stack")
def test_bluez_mtu_hook_still_exists() -> None:
    """sensors.sources.ble.client.negotiate_mtu calls BlueZ's ``_acquire_mtu`` (bleak's documented MTU work-around)."""
    from bleak.backends.bluezdbus.client import BleakClientBlueZDBus

    assert inspect.iscoroutinefunction(BleakClientBlueZDBus._acquire_mtu)
    assert isinstance(inspect.getattr_static(BaseBleakClient, "mtu_size"), property)
