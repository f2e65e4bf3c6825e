"""Scanning: list nearby sensors with what they offer, and find the one a moniker names.

Only bleak's public API is used (``BleakScanner`` with a detection callback); the backend is chosen by bleak for
the platform, or injected with :class:`BleakBackends` (the virtual strap's bumble backend in tests and demos).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from sensors.errors import BluetoothUnavailable, SensorNotFound, SensorUnavailableError
from sensors.sources.ble.capabilities import Capabilities, from_advertisement
from sensors.sources.ble.diagnose import ADVICE_NO_ADAPTER, ADVICE_NOT_FOUND, busy, classify
from sensors.uuids import HEART_RATE_SERVICE

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BleakBackends:
    """What to pass to bleak: backend classes (``None`` = the platform's) and extra keyword arguments."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def scanner_kwargs(self) -> dict[str, Any]:
        return {**self.kwargs, **({"backend": self.scanner} if self.scanner is not None else {})}

    def client_kwargs(self) -> dict[str, Any]:
        return {**self.kwargs, **({"backend": self.client} if self.client is not None else {})}


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One advertising device: ``rssi`` in dBm, ``capabilities`` from its advertisement."""

    address: str
    name: str | None
    rssi: int | None
    service_uuids: tuple[str, ...]
    capabilities: Capabilities

    def label(self) -> str:
        return f"{self.name or '(no name)'} [{self.address}]"


def fuller_name(*names: str | None) -> str | None:
    """The complete name among names seen for one device: a sensor may advertise a *shortened* local name (a
    prefix, cut to fit the 31-byte advertising data) and send the complete one in its scan response, in any order;
    the OS may cache either. The longest name that the others are prefixes of wins; else the first one given."""
    seen = [n for n in names if n]
    if not seen:
        return None
    best = seen[0]
    for n in seen[1:]:
        if len(n) > len(best) and n.startswith(best):
            best = n
    return best


def _result(device: BLEDevice, adv: AdvertisementData, previous: ScanResult | None = None) -> ScanResult:
    """A scan result from one advertisement, keeping the complete name an earlier one of the device carried."""
    name = fuller_name(adv.local_name, device.name, previous.name if previous is not None else None)
    caps = from_advertisement(name, adv.service_uuids, adv.manufacturer_data.keys())
    return ScanResult(device.address, name, adv.rssi, tuple(adv.service_uuids), caps)


async def scan(timeout_s: float = 5.0, *, backends: BleakBackends | None = None) -> list[ScanResult]:
    """Scan for ``timeout_s`` seconds; usable sensors first, strongest signal first.

    Raises :class:`~sensors.errors.BluetoothUnavailable` (with advice) when there is no usable Bluetooth stack.
    """
    backends = backends or BleakBackends()
    seen: dict[str, ScanResult] = {}

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        seen[device.address] = _result(device, adv, seen.get(device.address))

    try:
        async with BleakScanner(on_adv, **backends.scanner_kwargs()):
            await asyncio.sleep(timeout_s)
    except Exception as exc:
        raise _fatal(exc) from exc
    return sorted(seen.values(), key=lambda r: (not r.capabilities.usable, -(r.rssi or -999), r.address))


def matches(result: ScanResult, *, address: str | None, name: str | None) -> bool:
    """Whether ``result`` is the sensor asked for: same address, or a name equal to or starting with ``name``."""
    if address is not None:
        return result.address.upper() == address.upper()
    if name is not None and result.name:
        return result.name.casefold().startswith(name.casefold())
    return False


async def held_devices(*, backends: BleakBackends | None, timeout_s: float) -> list[BLEDevice]:
    """The heart-rate devices the OS holds connected (bleak's ``BleakAdapter``; BlueZ only today). A connected strap
    does not advertise, so no scan finds it: a previous run that was killed leaves it so. Empty elsewhere, with
    injected backends (the virtual strap), or when the stack cannot tell within ``timeout_s``."""
    backends = backends or BleakBackends()
    if backends.scanner is not None or backends.client is not None:
        return []
    try:
        from bleak import BleakAdapter

        async with asyncio.timeout(timeout_s):
            adapter = await BleakAdapter.get()
            return list(await adapter.get_connected_devices([HEART_RATE_SERVICE]))
    except (Exception, TimeoutError) as exc:  # NotImplementedError, no stack: the scan reports it
        logger.debug("no list of connected devices: %r", exc)
        return []


#: With ``ble:name=NAME``, how long to keep listening after the first match for another sensor that matches too.
NAME_AMBIGUITY_WAIT_S = 1.5


async def find_device(
    *,
    address: str | None = None,
    name: str | None = None,
    timeout_s: float = 10.0,
    backends: BleakBackends | None,
    ambiguity_wait_s: float = NAME_AMBIGUITY_WAIT_S,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> BLEDevice:
    """Scan until the sensor with ``address`` or ``name`` advertises; raise :class:`SensorNotFound` listing what
    was seen after ``timeout_s``.

    An address is taken at once. A name is never "the first sensor that answers": after the first match the scan
    goes on for ``ambiguity_wait_s``; the one sensor whose name equals ``name`` (or the one that starts with it) is
    taken, and two or more candidates are an error that lists them (use ``ble:ADDRESS`` then). ``sleep`` waits
    that long (the caller's clock: a virtual strap's runs faster than the wall clock; default asyncio.sleep)."""
    if (address is None) == (name is None):
        raise ValueError("give exactly one of address and name")
    backends = backends or BleakBackends()
    loop = asyncio.get_running_loop()
    found: asyncio.Future[BLEDevice | None] = loop.create_future()
    seen: dict[str, ScanResult] = {}
    candidates: dict[str, tuple[BLEDevice, ScanResult]] = {}

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        result = _result(device, adv)
        seen[device.address] = result
        if not matches(result, address=address, name=name):
            return
        candidates[device.address] = (device, result)
        if not found.done():
            found.set_result(device if address is not None else None)

    try:
        async with BleakScanner(on_adv, **backends.scanner_kwargs()):
            await asyncio.wait_for(asyncio.shield(found), timeout_s)
            if name is not None:
                await (sleep or asyncio.sleep)(ambiguity_wait_s)  # does another sensor match the name too?
    except TimeoutError:
        pass
    except Exception as exc:
        raise _fatal(exc) from exc
    if found.done() and address is not None:
        device = found.result()
        assert device is not None
        return device
    if candidates:
        assert name is not None
        exact = [dev for dev, res in candidates.values() if (res.name or "").casefold() == name.casefold()]
        if len(exact) == 1:
            return exact[0]
        if len(candidates) == 1:
            return next(iter(candidates.values()))[0]
        labels = ", ".join(res.label() for _, res in candidates.values())
        raise SensorNotFound(
            f"{len(candidates)} sensors match name {name!r}: {labels}; choose one with ble:ADDRESS",
            ADVICE_NOT_FOUND,
            seen=tuple(res.label() for _, res in candidates.values()),
        )
    found.cancel()
    wanted = f"address {address}" if address else f"name {name!r}"
    listed = tuple(r.label() for r in sorted(seen.values(), key=lambda r: -(r.rssi or -999)))
    seen_text = (
        "; seen: " + ", ".join(listed[:8]) + (" ..." if len(listed) > 8 else "") if listed else "; saw none"
    )
    raise SensorNotFound(
        f"no sensor with {wanted} advertised within {timeout_s:g} s{seen_text}", ADVICE_NOT_FOUND, seen=listed
    )


def _fatal(exc: BaseException) -> SensorUnavailableError:
    """Scanning errors are never transient for the caller: classify, else report the stack as unusable."""
    classified = classify(exc) or busy(exc)
    if classified is not None:
        return classified
    return BluetoothUnavailable(f"scanning failed ({type(exc).__name__}: {exc})", ADVICE_NO_ADAPTER)
