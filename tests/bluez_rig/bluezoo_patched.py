"""Run BlueZoo (PyPI ``bluezoo`` 1.0.2, GPL-2.0-only) with a small runtime patch; same command line as ``bluezoo``.

Test support only, run as a separate process by :class:`tests.bluez_rig.BluezRig` (BlueZoo is never imported by
coach or by the test process). What the patch adds to BlueZoo, and why (the team's BlueZ emulation notes):

- **teardown**: a disconnect marks *both* ends disconnected (this device and its counterpart on the other adapter),
  stops the GATT server's notifications the link had started (what bluetoothd does when the last subscriber goes)
  and unexports the link's service objects at once, so a second Connect does not fail with EEXIST, and a disconnect
  started on the peripheral side reaches the central;
- **advertisements**: every scan round re-announces known devices (an RSSI change, as real BlueZ does for every
  advertising report), so a scanner that attaches a moment after StartDiscovery still sees the strap; a device's
  first report has an RSSI (-50 dBm, not BlueZoo's 0);
- **pairing**: ``Pair`` marks both ends Paired and Bonded (BlueZoo needs an agent and leaves ``Paired`` False);
- **a strap that goes away**: when a GATT application is unregistered or its process vanishes, its links drop (link
  supervision timeout), and a Connect to an adapter that serves no application fails ("Page Timeout");
- **roles**: the adapters in ``$COACH_RIG_PERIPHERAL_ONLY`` (comma-separated addresses) have no central role;
- **faults** from the JSON object in ``$COACH_RIG_FAULTS``: ``connect_in_progress`` N (the first N ``Connect`` calls
  answer ``org.bluez.Error.InProgress``), ``connect_abort`` N (the next N answer ``org.bluez.Error.Failed``
  "Software caused connection abort").
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

import bluezoo.adapter as _adapter
import bluezoo.device as _device
import bluezoo.events as _events
import bluezoo.gatt.manager as _gatt_manager
from bluezoo import bluezoo as _main
from bluezoo.exceptions import DBusBluezFailedError, DBusBluezInProgressError
from bluezoo.log import logger

FAULTS: dict[str, Any] = json.loads(os.environ.get("COACH_RIG_FAULTS") or "{}")
_connect_calls = [0]


def _counterpart(dev: Any) -> Any:
    """The device object on the other adapter that stands for ``dev.adapter``."""
    if dev.adapter is None:
        return None
    path = f"{dev.peer_adapter.get_object_path()}/dev_{dev.adapter.address.replace(':', '_')}"
    return dev.peer_adapter.devices.get(path)


def _unlink(dev: Any) -> list[Any]:
    """Unexport the link objects now (no await: a client may Connect again at once); return servers to stop."""
    to_stop = []
    for link in list(dev.services.values()):
        sub = getattr(link, "client_props_changed_subscription", None)
        if sub is not None and not isinstance(sub, _events.Subscription):  # a live pyventus subscriber
            sub.unsubscribe()
            link.client_props_changed_subscription = _events.Subscription()
            to_stop.append(link.client)
        with contextlib.suppress(KeyError):
            dev.peer_adapter.mock.remove_object(link)
    dev.services.clear()
    return to_stop


async def _disconnect(self: Any, uuid: str | None = None) -> None:
    self.connecting_task.cancel()
    logger.info(f"Disconnecting {self} (patched)")
    ends = [self]
    other = _counterpart(self)
    if other is not None and other is not self:
        other.connecting_task.cancel()
        ends.append(other)
    to_stop = []
    for dev in ends:
        to_stop += _unlink(dev)
    for dev in ends:
        if dev.services_resolved:
            await dev.ServicesResolved.set_async(False)
        if dev.connected:
            await dev.Connected.set_async(False)
    for client in to_stop:
        try:
            await client.StopNotify()
        except Exception as e:  # the server may be gone already
            logger.debug(f"StopNotify failed: {e}")


_orig_connect = _device.Device.connect


async def _connect(self: Any, uuid: str | None = None) -> None:
    _connect_calls[0] += 1
    n = _connect_calls[0]
    in_progress = int(FAULTS.get("connect_in_progress", 0))
    aborts = int(FAULTS.get("connect_abort", 0))
    if n <= in_progress:
        logger.info(f"fault: Connect #{n} -> InProgress")
        raise DBusBluezInProgressError("Operation already in progress")
    if n <= in_progress + aborts:
        logger.info(f"fault: Connect #{n} -> connection abort")
        raise DBusBluezFailedError("Software caused connection abort")
    if not self.connected and not self.peer_adapter.gatt_apps:
        # the peripheral serves nothing: a strap switched off (killed, or at the end of its capture) cannot be
        # connected; BlueZ gives up after its page timeout
        logger.info(f"Connect to {self}: nothing there")
        raise DBusBluezFailedError("Page Timeout")
    await _orig_connect(self, uuid)


async def _pair(self: Any) -> None:
    logger.info(f"Pairing {self} (patched: no agent needed)")
    for dev in (self, _counterpart(self)):
        if dev is None:
            continue
        dev.paired = True
        dev.bonded = True
        await dev.Paired.set_async(True)
        await dev.Bonded.set_async(True)


_device.Device.disconnect = _disconnect
_device.Device.connect = _connect
_device.Device.pair = _pair

_orig_add_device = _adapter.Adapter.add_device


async def _add_device(self: Any, device: Any) -> None:
    existing = self.devices.get(f"{self.get_object_path()}/dev_{device.address.replace(':', '_')}")
    if existing is None:
        device.rssi = -50  # BlueZoo's first report says 0 dBm; BlueZ reports the advertisement's RSSI at once
    await _orig_add_device(self, device)
    if existing is not None and not existing.connected:
        existing.rssi = -50 if existing.rssi != -50 else -51
        existing.properties_changed.emit(("org.bluez.Device1", {"RSSI": ("n", existing.rssi)}, []))


_adapter.Adapter.add_device = _add_device

_DEL_APP = "_GattManager__del_gatt_application"
_orig_del_app = getattr(_gatt_manager.GattManager, _DEL_APP)


async def _del_app(self: Any, app: Any) -> None:
    await _orig_del_app(self, app)
    for dev in list(getattr(self, "devices", {}).values()):
        if dev.connected:
            logger.info(f"GATT application gone: dropping the link to {dev}")
            await dev.disconnect()


setattr(_gatt_manager.GattManager, _DEL_APP, _del_app)

# The strap's adapter is peripheral-only: bleak takes "the first powered central adapter" from a set, so with two
# central adapters coach would scan from the strap's one half of the time.
PERIPHERAL_ONLY = {a.upper() for a in os.environ.get("COACH_RIG_PERIPHERAL_ONLY", "").split(",") if a}
_roles = _adapter.Adapter.__dict__["Roles"]
_orig_roles = _roles.property_getter


def _roles_getter(self: Any) -> list[str]:
    if self.address.upper() in PERIPHERAL_ONLY:
        return ["peripheral"]
    return list(_orig_roles(self))


_roles.property_getter = _roles_getter

if __name__ == "__main__":
    sys.exit(_main.main())
