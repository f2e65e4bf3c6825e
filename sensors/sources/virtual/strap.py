"""A chest strap emulated as a real bumble GATT peripheral, streaming the notifications of a capture file.

Services (the layout of a Polar H10, plus RSC when the capture has RSC records):

- Heart Rate 0x180D: Heart Rate Measurement 0x2A37 (notify), Body Sensor Location 0x2A38 (read);
- Battery 0x180F: Battery Level 0x2A19 (read, notify);
- Device Information 0x180A: manufacturer, model, firmware (read);
- Running Speed and Cadence 0x1814: RSC Measurement 0x2A53 (notify), RSC Feature 0x2A54 (read), if the capture
  has RSC records;
- Polar PMD: control point (read = features, write + indicate = requests/responses, :class:`PmdServer`) and
  data (notify), unless the strap is ``hr_only`` or the capture has no PMD data. Largest MTU 232, as an H10.

Timeline: the strap's clock (a :class:`~sensors.sources.virtual.clock.ScaledClock` for ``--speed``) starts the capture
when the central is ready (subscribed to every stream the strap serves and ACC started, or its ACC start
refused), or ``ready_timeout_s`` after the first connection. From then on the capture plays on, connected or not: what falls in a gap is lost,
as with a real strap. ``drop_every_s`` drops the link with reason 0x08 (connection timeout) every so many
seconds of capture time; the strap advertises again ``comeback_s`` later. At the end of the capture it
disconnects (0x13, as if switched off), stops advertising and sets :attr:`finished`; with ``loop`` it never ends:
it streams the capture again on the same connection (:meth:`StrapScript.looped_stream`), until :meth:`stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bumble import hci
from bumble.att import ATT_WRITE_NOT_PERMITTED_ERROR, ATT_Error
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from sensors.clock import Clock
from sensors.codecs.pmd import PmdSettings, PmdStatus
from sensors.sources.virtual.link import CommandGuard
from sensors.sources.virtual.pmd_server import FEATURES_ACC_ONLY, PmdServer
from sensors.sources.virtual.script import StrapScript
from sensors.uuids import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    BODY_SENSOR_LOCATION,
    DEVICE_INFORMATION_SERVICE,
    FIRMWARE_REVISION,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    PMD_CONTROL_POINT,
    PMD_DATA,
    PMD_SERVICE,
    RSC_FEATURE,
    RSC_MEASUREMENT,
    RSC_SERVICE,
)

logger = logging.getLogger(__name__)

MAX_MTU = 232  # a Polar H10's largest ATT MTU
REASON_CONNECTION_TIMEOUT = hci.HCI_CONNECTION_TIMEOUT_ERROR  # 0x08
REASON_POWER_OFF = hci.HCI_REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR  # 0x15
RSC_FEATURES = bytes([0x07, 0x00])  # stride length, total distance, walking/running status supported
ADVERTISING_INTERVAL_MS = 20
ADVERTISING_DATA_MAX = 31  # bytes of legacy advertising data


def _uuid(u: str) -> UUID:
    return UUID(u)


class VirtualStrap:
    """The emulated strap on ``device``; call :meth:`start` inside the running loop, :meth:`stop` at the end.

    Observable for tests: :attr:`connections`, :attr:`drops` (capture times of forced drops),
    :attr:`sent` / :attr:`lost` (notifications delivered / dropped because no one listened), :attr:`pmd`
    (the control point state and every request), :attr:`finished`.
    """

    def __init__(
        self,
        device: Device,
        script: StrapScript,
        *,
        clock: Clock,
        drop_every_s: float | None = None,
        comeback_s: float = 0.0,
        ready_timeout_s: float = 5.0,
        max_mtu: int = MAX_MTU,
        guard: CommandGuard | None = None,
        loop: bool = False,
    ) -> None:
        if drop_every_s is not None and drop_every_s <= 0:
            raise ValueError("drop_every_s must be positive")
        self.device = device
        self.guard = guard if guard is not None else CommandGuard()
        self.script = script
        self.clock = clock
        self.drop_every_s = drop_every_s
        self.comeback_s = comeback_s
        self.ready_timeout_s = ready_timeout_s
        self.loop = loop
        self.serves_pmd = script.has_pmd
        self.serves_rsc = script.has_rsc
        self.pmd = PmdServer(
            PmdSettings.from_bytes(script.acc_settings), max_notification_bytes=script.max_notification_bytes
        )
        self.connection: Connection | None = None
        self.connections = 0
        self.drops: list[float] = []
        self.sent = 0
        self.lost = 0
        self.cp_write_delay_s = 0.0  # > 0 delays the ATT Write Response (tests: link lost during a write)
        #: An ATT error code to answer every control point write with (tests: 0x05 Insufficient Authentication, a
        #: strap that wants pairing for its accelerometer); None answers normally.
        self.cp_write_error: int | None = None
        self.cp_writes: list[bytes] = []
        self.cp_written = asyncio.Event()
        self.advertise_enabled = True
        self.finished = asyncio.Event()
        self.connected = asyncio.Event()
        self._ready = asyncio.Event()
        self._timeline_origin: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._advertising_lock = asyncio.Lock()
        device.gatt_server.max_mtu = max_mtu
        self._build_services()
        device.on("connection", self._on_connection)

    # ------------------------------------------------------------------------------------------ GATT layout

    def _build_services(self) -> None:
        props = Characteristic.Properties
        readable = Characteristic.READABLE
        self.hrm: Characteristic[bytes] = Characteristic(
            _uuid(HEART_RATE_MEASUREMENT), props.NOTIFY, readable, b""
        )
        self.bsl: Characteristic[bytes] = Characteristic(
            _uuid(BODY_SENSOR_LOCATION),
            props.READ,
            readable,
            # bumble's GATT server does not enforce permissions: refuse writes here, as hardware does.
            CharacteristicValue(read=lambda _c: self.script.body_sensor_location, write=_reject_write),
        )
        self.battery: Characteristic[bytes] = Characteristic(
            _uuid(BATTERY_LEVEL),
            props.READ | props.NOTIFY,
            readable,
            CharacteristicValue(read=lambda _c: self.script.battery_at(self.timeline_s), write=_reject_write),
        )
        info = [
            (MANUFACTURER_NAME, b"coach virtual strap"),
            (MODEL_NUMBER, (self.script.name or "virtual").encode()),
            (FIRMWARE_REVISION, b"capture replay 1"),
        ]
        services = [
            Service(_uuid(HEART_RATE_SERVICE), [self.hrm, self.bsl]),
            Service(_uuid(BATTERY_SERVICE), [self.battery]),
            Service(
                _uuid(DEVICE_INFORMATION_SERVICE),
                [
                    Characteristic(
                        _uuid(u),
                        props.READ,
                        readable,
                        CharacteristicValue(read=_const(v), write=_reject_write),
                    )
                    for u, v in info
                ],
            ),
        ]
        self.rsc: Characteristic[bytes] | None = None
        if self.serves_rsc:
            self.rsc = Characteristic(_uuid(RSC_MEASUREMENT), props.NOTIFY, readable, b"")
            feature: Characteristic[bytes] = Characteristic(
                _uuid(RSC_FEATURE),
                props.READ,
                readable,
                CharacteristicValue(read=_const(RSC_FEATURES), write=_reject_write),
            )
            services.append(Service(_uuid(RSC_SERVICE), [self.rsc, feature]))
        self.pmd_cp: Characteristic[bytes] | None = None
        self.pmd_data: Characteristic[bytes] | None = None
        if self.serves_pmd:
            self.pmd_cp = Characteristic(
                _uuid(PMD_CONTROL_POINT),
                props.READ | props.WRITE | props.INDICATE,
                Characteristic.READABLE | Characteristic.WRITEABLE,
                CharacteristicValue(read=_const(FEATURES_ACC_ONLY), write=self._on_cp_write),
            )
            self.pmd_data = Characteristic(_uuid(PMD_DATA), props.NOTIFY, readable, b"")
            services.append(Service(_uuid(PMD_SERVICE), [self.pmd_cp, self.pmd_data]))
        self.device.add_services(services)
        for characteristic in (self.hrm, self.rsc, self.pmd_data):
            if characteristic is not None:
                characteristic.on("subscription", self._on_subscription)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Power on, advertise, and wait in the background for a central to start the timeline."""
        await self.guard.run(self.device.power_on())
        await self.advertise()
        self._main = asyncio.create_task(self._run(), name="virtual-strap")

    async def stop(self) -> None:
        self._stopping = True
        for task in [self._main, *self._tasks]:
            if task is not None:
                task.cancel()
        for task in [self._main, *self._tasks]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.guard.settle()
        with contextlib.suppress(Exception):
            await self.guard.run(self.device.stop_advertising())
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.guard.run(self.connection.disconnect(REASON_POWER_OFF))

    async def advertise(self) -> None:
        """Advertise name and Heart Rate service (a real H10 does not advertise PMD)."""
        async with self._advertising_lock:  # a come-back and a resume may race
            if not self.advertise_enabled or self._stopping or self.finished.is_set():
                return
            if self.device.is_advertising:
                return
            await self.guard.run(
                self.device.start_advertising(
                    advertising_data=advertising_data(self.script.name, rsc=self.serves_rsc),
                    advertising_interval_min=ADVERTISING_INTERVAL_MS,
                    advertising_interval_max=ADVERTISING_INTERVAL_MS,
                )
            )

    async def stop_advertising(self) -> None:
        """Go silent (tests: a strap out of range, for connect timeouts)."""
        self.advertise_enabled = False
        await self.guard.run(self.device.stop_advertising())

    async def resume_advertising(self) -> None:
        self.advertise_enabled = True
        await self.advertise()

    async def drop_link(self, reason: int = REASON_CONNECTION_TIMEOUT) -> bool:
        """Drop the current connection; returns whether there was one."""
        connection = self.connection
        if connection is None:
            return False
        logger.info("virtual strap: dropping the link at %.2f s (reason 0x%02X)", self.timeline_s, reason)
        with contextlib.suppress(Exception):
            await self.guard.run(connection.disconnect(reason))
        return True

    @property
    def timeline_s(self) -> float:
        """Capture time the strap is at (the first streamed record's time until the timeline starts)."""
        if self._timeline_origin is None:
            return self.script.start_s
        return self.script.start_s + (self.clock.now() - self._timeline_origin)

    # ------------------------------------------------------------------------------------------ events

    def _on_connection(self, connection: Connection) -> None:
        logger.info("virtual strap: connected to %s", connection.peer_address)
        self.connection = connection
        self.connections += 1
        self.pmd.reset()
        self.connected.set()
        connection.on("disconnection", lambda reason: self._on_disconnection(connection, reason))
        if self.connections == 1:
            self._spawn(self._ready_after_timeout())

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        logger.info("virtual strap: disconnected (reason 0x%02X)", reason)
        if self.connection is connection:
            self.connection = None
            self.connected.clear()
        self.pmd.reset()
        if not self._stopping and not self.finished.is_set():
            self._spawn(self._come_back())

    async def _come_back(self) -> None:
        if self.comeback_s > 0:
            await self.clock.sleep(self.comeback_s)
        try:
            await self.advertise()
        except Exception as exc:  # the air is being torn down
            logger.debug("virtual strap: cannot advertise again: %r", exc)

    def _on_subscription(self, *_args: Any) -> None:
        self._check_ready()

    def _subscribed(self, characteristic: Characteristic[bytes] | None) -> bool:
        connection = self.connection
        if characteristic is None or connection is None:
            return False
        cccd = self.device.gatt_server.subscribers.get(connection, {}).get(characteristic.handle)
        return cccd is not None and len(cccd) > 0 and bool(cccd[0] & 0x01)

    def _check_ready(self) -> None:
        if self._ready.is_set():
            return
        if self.script.has_hr and not self._subscribed(self.hrm):
            return
        if self.serves_rsc and not self._subscribed(self.rsc):
            return
        # A refused ACC start settles PMD too: the client goes on without ACC, so heart rate starts now.
        if (
            self.serves_pmd
            and self.pmd.refused is None
            and (self.pmd.started is None or not self._subscribed(self.pmd_data))
        ):
            return
        self._ready.set()

    async def _ready_after_timeout(self) -> None:
        await self.clock.sleep(self.ready_timeout_s)
        self._ready.set()

    # ------------------------------------------------------------------------------------------ PMD

    def _on_cp_write(self, connection: Connection, value: Any) -> Any:
        request = bytes(value)
        self.cp_writes.append(request)
        self.cp_written.set()
        if self.cp_write_error is not None:
            self.pmd.refused = PmdStatus.ERROR_NOT_SUPPORTED  # PMD is settled: the timeline may start
            self._check_ready()
            raise ATT_Error(self.cp_write_error)
        if self.cp_write_delay_s > 0:
            # An awaitable delays the ATT Write Response: the link can be lost while the write is pending.
            return asyncio.sleep(self.cp_write_delay_s)
        mtu = connection.att_mtu
        response = self.pmd.handle(request, mtu=mtu)
        # Indicate after the ATT Write Response has gone out, as a real strap does.
        asyncio.get_running_loop().call_soon(lambda: self._spawn(self._indicate(connection, response)))
        return None

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        assert self.pmd_cp is not None
        try:
            await self.device.indicate_subscriber(connection, self.pmd_cp, response)
        except Exception as exc:  # the link dropped meanwhile
            logger.debug("virtual strap: indication lost: %r", exc)
        self._check_ready()

    # ------------------------------------------------------------------------------------------ streaming

    async def _run(self) -> None:
        await self._ready.wait()
        self._timeline_origin = self.clock.now()
        logger.info("virtual strap: capture timeline starts (%d notifications)", len(self.script.stream))
        if self.drop_every_s is not None:
            self._spawn(self._drop_loop(self.drop_every_s))
        start = self.script.start_s
        for record in self.script.looped_stream() if self.loop else self.script.stream:
            delay = (record.t - start) - (self.clock.now() - self._timeline_origin)
            if delay > 0:
                await self.clock.sleep(delay)
            await self._send(record.char, record.data)
        self.finished.set()
        logger.info("virtual strap: end of the capture (%d sent, %d lost)", self.sent, self.lost)
        with contextlib.suppress(Exception):
            await self.guard.run(self.device.stop_advertising())
        await self.drop_link(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)

    async def _send(self, char: str, data: bytes) -> None:
        connection = self.connection
        characteristic = {
            HEART_RATE_MEASUREMENT: self.hrm,
            RSC_MEASUREMENT: self.rsc,
            PMD_DATA: self.pmd_data,
        }[char]
        deliver = connection is not None and self._subscribed(characteristic)
        if char == PMD_DATA and self.pmd.started is None:
            deliver = False
        if not deliver or characteristic is None or connection is None:
            self.lost += 1
            return
        try:
            await self.device.notify_subscriber(connection, characteristic, data)
            self.sent += 1
        except Exception as exc:  # link dropped between the check and the send
            logger.debug("virtual strap: notification lost: %r", exc)
            self.lost += 1

    async def _drop_loop(self, every_s: float) -> None:
        assert self._timeline_origin is not None
        k = 1
        while not self.finished.is_set():
            due = self._timeline_origin + k * every_s
            await self.clock.sleep(due - self.clock.now())
            k += 1
            if self.finished.is_set():
                return
            if await self.drop_link(REASON_CONNECTION_TIMEOUT):
                self.drops.append(self.timeline_s)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _advertising_parts(name: str, *, rsc: bool) -> tuple[list[tuple[int, bytes]], str]:
    # 16-bit forms, little endian (bumble would write a UUID built from the 128-bit string as 16 bytes).
    uuids = (0x180D).to_bytes(2, "little") + ((0x1814).to_bytes(2, "little") if rsc else b"")
    fields: list[tuple[int, bytes]] = [
        (AdvertisingData.FLAGS, bytes([0x06])),
        (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuids),
    ]
    budget = ADVERTISING_DATA_MAX - sum(2 + len(v) for _, v in fields) - 2
    encoded = name.encode()
    if len(encoded) <= budget:
        fields.append((AdvertisingData.COMPLETE_LOCAL_NAME, encoded))
        return fields, name
    short = encoded[:budget].decode(errors="ignore")
    fields.append((AdvertisingData.SHORTENED_LOCAL_NAME, short.encode()))
    return fields, short


def advertising_data(name: str, *, rsc: bool = False) -> bytes:
    """Legacy advertising data (at most 31 bytes): flags, 16-bit services, the name (shortened if too long).

    bumble's virtual controller sends the advertising data as the scan response too, so the name must be in the
    advertising data itself.
    """
    fields, _ = _advertising_parts(name, rsc=rsc)
    return bytes(AdvertisingData(fields))


def advertised_name(name: str, *, rsc: bool = False) -> str:
    """The name a scanner sees for a strap called ``name`` (shortened to fit the advertising data)."""
    return _advertising_parts(name, rsc=rsc)[1]


def _reject_write(_connection: Connection, _value: Any) -> None:
    raise ATT_Error(ATT_WRITE_NOT_PERMITTED_ERROR)


def _const(value: bytes) -> Any:
    return lambda _connection: value
