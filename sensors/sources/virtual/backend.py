"""A bleak backend on bumble: ``BleakScanner(backend=BumbleScanner)`` and ``BleakClient(backend=BumbleClient)``
drive a bumble central on a :class:`~sensors.sources.virtual.link.VirtualAir`, so the production client in
:mod:`sensors.sources.ble` runs unmodified against the virtual strap.

Behaviour copied from BlueZ where backends differ (so tests exercise what a Raspberry Pi does):

- UUIDs are lowercase 128-bit strings (bumble prints 16-bit UUIDs short and upper case);
- characteristic handles are the *declaration* handle (bumble's proxy holds the value handle = declaration + 1);
- the client asks for a large MTU itself while connecting (BlueZ does so automatically; without it bumble cuts
  a 202-byte PMD frame to 20 bytes without a word);
- ``disconnected_callback`` fires on every disconnection;
- a link lost while a GATT request is pending surfaces in bumble as a bare ``CancelledError``: it is turned into
  ``BleakError`` unless the caller's own task is being cancelled;
- a connect timeout cancels the pending LE connection (with :class:`~sensors.sources.virtual.link.SpecController`),
  also when an outer ``asyncio.timeout`` cancels the connect.

bleak's contract for a backend is the abstract methods of ``BaseBleakScanner`` / ``BaseBleakClient`` (bleak 3.1);
``tests/test_ble_conformance.py`` checks that the signatures this module relies on still exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

from bleak.args import SizedBuffer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, hci
from bumble import core as bumble_core
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy

from sensors.sources.virtual.link import CommandGuard, VirtualAir
from sensors.uuids import normalize_uuid

logger = logging.getLogger(__name__)

DEFAULT_MTU = 23
REQUESTED_MTU = 517  # what BlueZ asks for

_SERVICE_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (
    AdvertisingData.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.SERVICE_DATA_128_BIT_UUID,
)


def uuid_str(uuid: bumble_core.UUID) -> str:
    """bumble UUID -> bleak's form: lowercase, 128-bit."""
    return normalize_uuid(uuid.to_hex_str("-") if len(uuid.uuid_bytes) == 16 else uuid.to_hex_str())


AdvListener = Callable[[Advertisement], None]


class BumbleAdapter:
    """The host's Bluetooth adapter: one central bumble device on the air, shared by scanners and clients."""

    def __init__(self, air: VirtualAir, name: str = "coach-central") -> None:
        self.air = air
        self.device: Device = air.new_device(name)
        self._powered = False
        self._scan_users = 0
        self._lock = asyncio.Lock()
        self.addresses: dict[str, hci.Address] = {}  # "AA:BB:.." -> bumble Address (with its type)
        self._listeners: set[AdvListener] = set()
        self.device.on("advertisement", self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        self.addresses[advertisement.address.to_string(False)] = advertisement.address
        for listener in list(self._listeners):
            listener(advertisement)

    async def ensure_powered(self) -> Device:
        async with self._lock:
            if not self._powered:
                await self.air.guard.run(self.device.power_on())
                self._powered = True
        return self.device

    async def start_scan(self, listener: AdvListener, *, active: bool = True) -> None:
        await self.ensure_powered()
        self._listeners.add(listener)
        async with self._lock:
            self._scan_users += 1
            if self._scan_users == 1:
                await self.air.guard.run(self.device.start_scanning(active=active, filter_duplicates=False))

    async def stop_scan(self, listener: AdvListener) -> None:
        self._listeners.discard(listener)
        async with self._lock:
            self._scan_users = max(0, self._scan_users - 1)
            if self._scan_users == 0 and self.device.is_scanning:
                await self.air.guard.run(self.device.stop_scanning())

    async def resolve(self, address: str, timeout_s: float) -> hci.Address:
        """The bumble address for ``address`` (like bleak's implicit scan when given an address string)."""
        key = address.upper()
        if key in self.addresses:
            return self.addresses[key]
        found: asyncio.Future[hci.Address] = asyncio.get_running_loop().create_future()

        def listener(advertisement: Advertisement) -> None:
            if advertisement.address.to_string(False) == key and not found.done():
                found.set_result(advertisement.address)

        await self.start_scan(listener)
        try:
            return await asyncio.wait_for(found, timeout_s)
        except TimeoutError:
            raise BleakDeviceNotFoundError(address, f"Device with address {address} was not found.") from None
        finally:
            await self.stop_scan(listener)


_default_adapter: BumbleAdapter | None = None


def set_default_adapter(adapter: BumbleAdapter | None) -> None:
    """The adapter used when neither the ``BLEDevice`` nor ``bumble_adapter=`` names one."""
    global _default_adapter
    _default_adapter = adapter


def _adapter_for(kwargs: dict[str, Any], device: object = None) -> BumbleAdapter:
    if isinstance(device, BLEDevice) and isinstance(device.details, tuple) and device.details:
        candidate = device.details[0]
        if isinstance(candidate, BumbleAdapter):
            return candidate
    adapter = kwargs.get("bumble_adapter") or _default_adapter
    if not isinstance(adapter, BumbleAdapter):
        raise BleakError("no virtual Bluetooth adapter: pass bumble_adapter= or call set_default_adapter()")
    return adapter


class BumbleScanner(BaseBleakScanner):
    """``BaseBleakScanner`` on a :class:`BumbleAdapter` (``bumble_adapter=`` keyword, or the default one)."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._adapter = _adapter_for(kwargs)
        self._active = scanning_mode != "passive"

    async def start(self) -> None:
        self.seen_devices = {}
        await self._adapter.start_scan(self._on_advertisement, active=self._active)

    async def stop(self) -> None:
        await self._adapter.stop_scan(self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data: AdvertisingData = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
        name = name if isinstance(name, str) else None
        uuids: list[str] = []
        for kind in _SERVICE_UUID_LISTS:
            for uuid_list in data.get_all(kind):
                for uuid in cast(list[bumble_core.UUID], uuid_list):
                    # bumble merges ADV_IND and SCAN_RSP (identical on the virtual controller): deduplicate,
                    # BlueZ reports a set.
                    if (text := uuid_str(uuid)) not in uuids:
                        uuids.append(text)
        if not self.is_allowed_uuid(uuids):
            return
        manufacturer = {
            int(cid): bytes(value) for cid, value in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
        }
        service_data = {
            uuid_str(u): bytes(v)
            for kind in _SERVICE_DATA
            for u, v in cast(list[tuple[bumble_core.UUID, bytes]], data.get_all(kind))
        }
        tx_power = data.get(AdvertisingData.TX_POWER_LEVEL)
        adv = AdvertisementData(
            local_name=name,
            manufacturer_data=manufacturer,
            service_data=service_data,
            service_uuids=uuids,
            tx_power=tx_power if isinstance(tx_power, int) else None,
            rssi=int(advertisement.rssi),
            platform_data=(advertisement,),
        )
        address = advertisement.address.to_string(False)
        device = self.create_or_update_device(
            address, address, name, (self._adapter, advertisement.address), adv
        )
        self.call_detection_callbacks(device, adv)


class _GattErrors:
    """Translate bumble errors raised inside the block into what bleak's backends raise."""

    async def __aenter__(self) -> _GattErrors:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None or exc is None:
            return
        if isinstance(exc, att.ATT_Error):
            raise BleakGATTProtocolError(int(exc.error_code)) from exc
        if isinstance(exc, asyncio.CancelledError):
            task = asyncio.current_task()
            # bumble cancels the pending-response future when the link drops: not a cancellation of *our* task.
            if task is not None and task.cancelling() == 0:
                raise BleakError("Not connected (the link was lost during a GATT operation)") from exc
        if isinstance(exc, bumble_core.TimeoutError):
            raise TimeoutError(str(exc)) from exc
        if isinstance(exc, bumble_core.ConnectionError | hci.HCI_Error):
            raise BleakError(f"Not connected ({exc})") from exc


async def _abandon_connect(
    central: Device, attempt: asyncio.Future[Connection], guard: CommandGuard, wait_s: float = 2.0
) -> None:
    """Cancel a pending LE connection over HCI, wait for bumble's connect to end, drop a late connection."""
    for _ in range(int(wait_s / 0.05)):
        if attempt.done():
            break
        if central.is_le_connecting:
            with contextlib.suppress(Exception):
                await guard.run(central.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command()))
            await asyncio.wait({attempt}, timeout=wait_s)
            break
        await asyncio.wait({attempt}, timeout=0.05)  # the Create Connection command is still in flight
    if not attempt.done():
        attempt.cancel()
        return
    if not attempt.cancelled() and attempt.exception() is None:
        with contextlib.suppress(Exception):
            await guard.run(attempt.result().disconnect())
    elif not attempt.cancelled():
        attempt.exception()  # retrieved: no "exception was never retrieved" warning


class BumbleClient(BaseBleakClient):
    """``BaseBleakClient`` on a :class:`BumbleAdapter`. Extra keywords: ``bumble_adapter``, ``bumble_mtu``."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._adapter = _adapter_for(kwargs, address_or_ble_device)
        self._bumble_address: hci.Address | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._name = address_or_ble_device.name or address_or_ble_device.address
            details = address_or_ble_device.details
            if isinstance(details, tuple) and len(details) == 2 and isinstance(details[1], hci.Address):
                self._bumble_address = details[1]
        else:
            self._name = address_or_ble_device
        self._requested_mtu = int(kwargs.get("bumble_mtu", REQUESTED_MTU))
        services = kwargs.get("services")
        self._service_filter: set[str] | None = set(services) if services else None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        timeout_s = float(kwargs.get("timeout", self._timeout))
        central = await self._adapter.ensure_powered()
        if self._bumble_address is None:
            self._bumble_address = await self._adapter.resolve(self.address, timeout_s)
        try:
            connection = await self._create_connection(central, self._bumble_address, timeout_s)
            self._connection = connection
            connection.on("disconnection", lambda reason: self._on_disconnection(connection, reason))
            async with _GattErrors(), asyncio.timeout(timeout_s):
                self._peer = Peer(connection)
                if self._requested_mtu > DEFAULT_MTU:
                    await self._peer.request_mtu(self._requested_mtu)
                if pair:
                    logger.info("pair=True ignored: the virtual strap needs no pairing")
                self.services = await self._discover()
        except BaseException:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    await self._adapter.air.guard.run(self._connection.disconnect())
            raise

    async def _create_connection(self, central: Device, address: hci.Address, timeout_s: float) -> Connection:
        # bumble owns the timeout: on expiry it sends LE Create Connection Cancel (completed by SpecController).
        # The connect runs in its own task: cancelling bumble's coroutine mid HCI command corrupts its host state
        # (a late Command Status meets a cancelled future), so an outer cancellation (asyncio.timeout, wait_for,
        # task.cancel) cancels the LE connection over HCI instead and waits for bumble to finish.
        attempt = asyncio.ensure_future(central.connect(address, timeout=timeout_s))
        try:
            connection: Connection = await self._adapter.air.guard.run(attempt)
            return connection
        except asyncio.CancelledError:
            await _abandon_connect(central, attempt, self._adapter.air.guard)
            raise
        except bumble_core.TimeoutError as exc:
            raise TimeoutError(f"connecting to {self.address} timed out after {timeout_s:g} s") from exc
        except (hci.HCI_Error, bumble_core.ConnectionError) as exc:
            raise BleakError(f"connecting to {self.address} failed: {exc}") from exc

    async def _discover(self) -> BleakGATTServiceCollection:
        assert self._peer is not None
        collection = BleakGATTServiceCollection()
        await self._peer.discover_services()

        def max_write_without_response_size() -> int:
            return self.mtu_size - 3

        for service in self._peer.services:
            service_uuid = uuid_str(service.uuid)
            if self._service_filter and service_uuid not in self._service_filter:
                continue
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            await service.discover_characteristics()
            for characteristic in service.characteristics:
                await characteristic.discover_descriptors()
                bleak_char = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle - 1,  # BlueZ reports the declaration handle
                    uuid_str(characteristic.uuid),
                    sorted(gatt_char_props_to_strs(int(characteristic.properties))),
                    max_write_without_response_size,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in characteristic.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, uuid_str(descriptor.type), bleak_char
                        )
                    )
        return collection

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if self._connection is not connection:
            return
        logger.info("virtual central: disconnected from %s (reason 0x%02X)", self.address, reason)
        self._connection = None
        self._peer = None
        self._subscribers.clear()
        self.services = None
        self.last_disconnect_reason = reason
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            await self._adapter.air.guard.run(
                connection.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
            )
        except Exception as exc:  # already gone
            logger.debug("disconnect: %r", exc)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual strap needs no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual strap needs no pairing")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        async with _GattErrors():
            return bytearray(await peer.read_value(proxy))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        async with _GattErrors():
            return bytearray(await peer.read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        peer = self._require_peer()
        async with _GattErrors():
            await peer.write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        peer = self._require_peer()
        async with _GattErrors():
            await peer.write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        if proxy.handle in self._subscribers:
            raise BleakError(f"already notifying on {characteristic.uuid}")

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[proxy.handle] = on_value
        try:
            async with _GattErrors():
                await proxy.subscribe(on_value, prefer_notify=True)
        except BaseException:
            self._subscribers.pop(proxy.handle, None)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        subscriber = self._subscribers.pop(proxy.handle, None)
        if subscriber is not None and self._peer is not None:
            async with _GattErrors():
                await proxy.unsubscribe(subscriber)
