# ruff: noqa: F821, F722
# (dbus-fast reads D-Bus signatures from string annotations: "s", "a{sv}", ...)
"""The virtual strap as a BlueZ GATT application (dbus-fast), advertised with ``LEAdvertisingManager1``.

Run by :class:`tests.bluez_rig.BluezRig` as its own process on the rig's bus (``DBUS_SYSTEM_BUS_ADDRESS``), on the
peripheral adapter. It serves what the bumble virtual strap serves, from the same pure parts
(:class:`~sensors.sources.virtual.script.StrapScript`: the capture's notifications at their recorded times;
:class:`~sensors.sources.virtual.pmd_server.PmdServer`: the PMD control point), with the same GATT layout (Heart Rate,
Battery, Device Information, RSC when the capture has RSC, Polar PMD unless ``--no-pmd``) and the same timeline
rule: the capture starts when the central is ready (subscribed to heart rate, and RSC when served, and ACC started
or refused) or ``--ready-timeout`` wall seconds after the first connection, then plays on, connected or not, at
``--speed`` times real time; at its end the strap switches off (its application goes, the link drops). Like an H10
it stops advertising while connected.

Faults: ``--drop-every S`` (capture seconds) drops the link from the strap's side; ``--pair-required`` refuses
writes to the PMD control point with ``org.bluez.Error.NotAuthorized`` until the central has paired;
``--no-pmd`` is an old firmware without the PMD service.

Lines on stdout: ``READY`` (registered), ``CONNECTED PATH`` / ``DISCONNECTED PATH``, ``TIMELINE`` (the capture
starts), ``DROP T``, ``PLAYED SENT LOST`` (the last notification went out half a second ago), ``FINISHED SENT LOST``
(switched off, ``--linger`` wall seconds later). Commands on stdin: ``drop``, ``status``, ``quit``.
"""

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

from sensors.codecs.pmd import PmdSettings
from sensors.sources.virtual.pmd_server import FEATURES_ACC_ONLY, PmdServer
from sensors.sources.virtual.script import StrapScript
from sensors.sources.virtual.strap import MAX_MTU, RSC_FEATURES
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

APP_PATH = "/org/coach/strap"
ADV_PATH = "/org/coach/strap/adv"
BLUEZ = "org.bluez"
NOT_AUTHORIZED = "org.bluez.Error.NotAuthorized"


def say(*parts: object) -> None:
    print(*parts, flush=True)


class Advertisement(ServiceInterface):
    def __init__(self, name: str, service_uuids: list[str]) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self._name = name
        self._uuids = service_uuids

    @method()
    def Release(self):
        pass

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> "s":
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> "s":
        return self._name

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> "as":
        return self._uuids

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> "b":
        return True  # BlueZoo skips advertisements that are not discoverable

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> "as":
        return []


class Service(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> "ao":
        return []


class Characteristic(ServiceInterface):
    """One characteristic. No NotifyAcquired/WriteAcquired/Handle properties: BlueZoo would switch to its fd path
    or try to set the handle. ``read`` gives the read value; ``write`` handles a write (may raise DBusError)."""

    def __init__(
        self,
        uuid: str,
        service_path: str,
        flags: list[str],
        *,
        read: Callable[[], bytes] | None = None,
        write: Callable[[bytes, dict[str, Any]], Any] | None = None,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._uuid = uuid
        self._service = service_path
        self._flags = flags
        self._read = read
        self._write = write
        self._value = b""
        self.notifying = False
        self.on_notifying: Callable[[], None] = lambda: None
        self._acquired: list[socket.socket] = []

    def push(self, value: bytes) -> None:
        """Notify (or indicate) ``value``: BlueZ's GATT server API sends a Value change."""
        self._value = bytes(value)
        self.emit_properties_changed({"Value": self._value})

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        return self._read() if self._read is not None else self._value

    @method()
    async def WriteValue(self, value: "ay", options: "a{sv}"):
        if self._write is not None:
            await self._write(bytes(value), {k: v.value for k, v in options.items()})

    @method()
    def StartNotify(self):
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})
        self.on_notifying()

    @method()
    def StopNotify(self):
        self.notifying = False
        self.emit_properties_changed({"Notifying": False})

    @method()
    def AcquireNotify(self, options: "a{sv}") -> "hq":
        # bleak's MTU hook (negotiate_mtu) asks through AcquireNotify; BlueZoo forwards it to the app. Answer with
        # an H10's largest MTU; the socket is not used for data (notifications go through Value changes).
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._acquired = [*self._acquired[-3:], ours]
        return [theirs.detach(), MAX_MTU]

    @method()
    def Confirm(self):
        pass  # BlueZoo confirms every forwarded Value change

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":
        return self._service

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":
        return self._flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":
        return self._value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":
        return self.notifying


class BluezStrap:
    """The strap's state and timeline (see the module docstring)."""

    def __init__(self, bus: MessageBus, script: StrapScript, args: argparse.Namespace) -> None:
        self.bus = bus
        self.script = script
        self.args = args
        self.adapter_path = f"/org/bluez/{args.adapter}"
        self.serves_pmd = script.has_pmd
        self.serves_rsc = script.has_rsc
        self.pmd = PmdServer(
            PmdSettings.from_bytes(script.acc_settings), max_notification_bytes=script.max_notification_bytes
        )
        self.central: str | None = None  # the connected central's device path on our adapter
        self.connections = 0
        self.advertising = False
        self.auth_refused = False
        self.sent = 0
        self.lost = 0
        self.finished = False
        self.ready = asyncio.Event()
        self.origin: float | None = None
        self.chars: dict[str, Characteristic] = {}
        self._build()

    # -------------------------------------------------------------------------------------------- layout

    def _build(self) -> None:
        services: list[tuple[str, list[tuple[str, list[str], dict[str, Any]]]]] = [
            (
                HEART_RATE_SERVICE,
                [
                    (HEART_RATE_MEASUREMENT, ["notify"], {}),
                    (BODY_SENSOR_LOCATION, ["read"], {"read": lambda: self.script.body_sensor_location}),
                ],
            ),
            (
                BATTERY_SERVICE,
                [
                    (
                        BATTERY_LEVEL,
                        ["read", "notify"],
                        {"read": lambda: self.script.battery_at(self.timeline_s)},
                    )
                ],
            ),
            (
                DEVICE_INFORMATION_SERVICE,
                [
                    (MANUFACTURER_NAME, ["read"], {"read": lambda: b"coach virtual strap"}),
                    (MODEL_NUMBER, ["read"], {"read": lambda: (self.script.name or "virtual").encode()}),
                    (FIRMWARE_REVISION, ["read"], {"read": lambda: b"capture replay 1"}),
                ],
            ),
        ]
        if self.serves_rsc:
            services.append(
                (
                    RSC_SERVICE,
                    [
                        (RSC_MEASUREMENT, ["notify"], {}),
                        (RSC_FEATURE, ["read"], {"read": lambda: RSC_FEATURES}),
                    ],
                )
            )
        if self.serves_pmd:
            services.append(
                (
                    PMD_SERVICE,
                    [
                        (
                            PMD_CONTROL_POINT,
                            ["read", "write", "indicate"],
                            {"read": lambda: FEATURES_ACC_ONLY, "write": self._on_cp_write},
                        ),
                        (PMD_DATA, ["notify"], {}),
                    ],
                )
            )
        for i, (svc_uuid, chars) in enumerate(services):
            svc_path = f"{APP_PATH}/service{i}"
            self.bus.export(svc_path, Service(svc_uuid))
            for j, (uuid, flags, kw) in enumerate(chars):
                char = Characteristic(uuid, svc_path, flags, **kw)
                char.on_notifying = self._check_ready
                self.chars[uuid] = char
                self.bus.export(f"{svc_path}/char{j}", char)
        uuids = [HEART_RATE_SERVICE] + ([RSC_SERVICE] if self.serves_rsc else [])
        self.bus.export(ADV_PATH, Advertisement(self.args.name, uuids))

    # -------------------------------------------------------------------------------------------- D-Bus

    async def call(self, path: str, iface: str, member: str, signature: str = "", body: Any = None) -> Any:
        reply = await self.bus.call(
            Message(
                destination=BLUEZ,
                path=path,
                interface=iface,
                member=member,
                signature=signature,
                body=body or [],
            )
        )
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{iface}.{member} on {path}: {reply.error_name} {reply.body}")
        return reply.body

    async def register(self) -> None:
        await self.call(
            self.adapter_path, "org.bluez.GattManager1", "RegisterApplication", "oa{sv}", [APP_PATH, {}]
        )
        await self.set_advertising(True)
        rule = (
            "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
            f"path_namespace='{self.adapter_path}'"
        )
        await self.bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )
        self.bus.add_message_handler(self._on_message)

    async def set_advertising(self, on: bool) -> None:
        if on == self.advertising or (on and self.finished):
            return
        self.advertising = on
        member = "RegisterAdvertisement" if on else "UnregisterAdvertisement"
        args: list[Any] = [ADV_PATH, {}] if on else [ADV_PATH]
        with contextlib.suppress(RuntimeError):
            await self.call(
                self.adapter_path, "org.bluez.LEAdvertisingManager1", member, "oa{sv}" if on else "o", args
            )

    def _on_message(self, msg: Message) -> bool:
        if msg.member != "PropertiesChanged" or not msg.body or msg.body[0] != "org.bluez.Device1":
            return False
        changed = msg.body[1]
        if "Connected" in changed and msg.path:
            connected = bool(changed["Connected"].value)
            asyncio.get_running_loop().create_task(self._on_link(msg.path, connected))
        return False

    async def _on_link(self, path: str, connected: bool) -> None:
        self.pmd.reset()
        if connected:
            self.central = path
            self.connections += 1
            say("CONNECTED", path)
            await self.set_advertising(False)  # an H10 stops advertising while connected
            if self.connections == 1:
                asyncio.get_running_loop().call_later(self.args.ready_timeout, self.ready.set)
        else:
            if self.central == path:
                self.central = None
            for char in self.chars.values():
                char.notifying = False
            say("DISCONNECTED", path)
            await self.set_advertising(True)

    async def drop(self) -> bool:
        central = self.central
        if central is None:
            return False
        with contextlib.suppress(RuntimeError):
            await self.call(central, "org.bluez.Device1", "Disconnect")
        return True

    async def paired(self, device_path: str) -> bool:
        try:
            (value,) = await self.call(
                device_path, "org.freedesktop.DBus.Properties", "Get", "ss", ["org.bluez.Device1", "Paired"]
            )
        except RuntimeError:
            return False
        return bool(value.value)

    # -------------------------------------------------------------------------------------------- PMD

    async def _on_cp_write(self, value: bytes, options: dict[str, Any]) -> None:
        device = str(options.get("device", self.central or ""))
        if self.args.pair_required and not await self.paired(device):
            self.auth_refused = True
            self._check_ready()
            raise DBusError(NOT_AUTHORIZED, "Insufficient Authentication")
        mtu = min(int(options.get("mtu", MAX_MTU)), MAX_MTU)
        response = self.pmd.handle(value, mtu=mtu)
        cp = self.chars[PMD_CONTROL_POINT]

        def indicate() -> None:  # after the write's reply, as a real strap does
            if cp.notifying:
                cp.push(response)
            self._check_ready()

        asyncio.get_running_loop().call_later(0.005, indicate)

    # -------------------------------------------------------------------------------------------- timeline

    @property
    def timeline_s(self) -> float:
        if self.origin is None:
            return self.script.start_s
        return self.script.start_s + (time.monotonic() - self.origin) * self.args.speed

    def _check_ready(self) -> None:
        if self.ready.is_set():
            return
        if self.script.has_hr and not self.chars[HEART_RATE_MEASUREMENT].notifying:
            return
        if self.serves_rsc and not self.chars[RSC_MEASUREMENT].notifying:
            return
        if (
            self.serves_pmd
            and not self.auth_refused
            and self.pmd.refused is None
            and (self.pmd.started is None or not self.chars[PMD_DATA].notifying)
        ):
            return
        self.ready.set()

    async def play(self) -> None:
        await self.ready.wait()
        self.origin = time.monotonic()
        say("TIMELINE")
        drops: asyncio.Task[None] | None = None
        if self.args.drop_every:
            drops = asyncio.get_running_loop().create_task(self._drop_loop(self.args.drop_every))
        start = self.script.start_s
        for record in self.script.stream:
            delay = (record.t - start) / self.args.speed - (time.monotonic() - self.origin)
            if delay > 0:
                await asyncio.sleep(delay)
            char = self.chars.get(record.char)
            deliver = self.central is not None and char is not None and char.notifying
            if record.char == PMD_DATA and self.pmd.started is None:
                deliver = False
            if deliver and char is not None:
                char.push(record.data)
                self.sent += 1
            else:
                self.lost += 1
        self.finished = True
        if drops is not None:
            drops.cancel()
        await self.set_advertising(False)
        await asyncio.sleep(0.5)  # let the last notifications through before switching off
        say("PLAYED", self.sent, self.lost)
        await asyncio.sleep(self.args.linger)  # a test stops coach now: the strap stays up while coach closes
        # switched off: the application goes (BlueZ drops the link), nothing answers a Connect any more
        with contextlib.suppress(RuntimeError):
            await self.call(
                self.adapter_path, "org.bluez.GattManager1", "UnregisterApplication", "o", [APP_PATH]
            )
        say("FINISHED", self.sent, self.lost)

    async def _drop_loop(self, every_s: float) -> None:
        assert self.origin is not None
        k = 1
        while True:
            await asyncio.sleep(self.origin + k * every_s / self.args.speed - time.monotonic())
            k += 1
            t = self.timeline_s
            if await self.drop():
                say("DROP", f"{t:.3f}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--capture", required=True)
    ap.add_argument("--adapter", default="hci1")
    ap.add_argument("--name", default=None)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--ready-timeout", type=float, default=5.0)
    ap.add_argument("--drop-every", type=float, default=None)
    ap.add_argument("--linger", type=float, default=5.0, help="wall seconds between PLAYED and switching off")
    ap.add_argument("--pair-required", action="store_true")
    ap.add_argument("--no-pmd", action="store_true")
    args = ap.parse_args()
    script = StrapScript.from_capture(args.capture, hr_only=args.no_pmd)
    args.name = args.name or script.name
    bus = await MessageBus(bus_type=BusType.SYSTEM, negotiate_unix_fd=True).connect()
    strap = BluezStrap(bus, script, args)
    await strap.register()
    say("READY")
    player = asyncio.get_running_loop().create_task(strap.play())

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = line.decode().strip()
        if cmd == "drop":
            say("OK drop", await strap.drop())
        elif cmd == "status":
            say("OK status", strap.sent, strap.lost, strap.connections, int(strap.finished))
        elif cmd == "quit":
            break
    player.cancel()
    bus.disconnect()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
