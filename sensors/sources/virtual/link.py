"""An in-process Bluetooth LE "air": bumble controllers on one LocalLink, each with a real host stack.

Every device gets its own :class:`bumble.controller.Controller` attached to one :class:`bumble.link.LocalLink`;
each :class:`bumble.device.Device` talks real HCI to its controller and runs bumble's host (L2CAP, ATT, GATT,
SMP). Nothing touches the operating system.

bumble's ``Controller.__init__`` calls ``asyncio.get_running_loop()``: create a :class:`VirtualAir` and its
devices inside a running event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

logger = logging.getLogger(__name__)

_address_counter = itertools.count(1)
T = TypeVar("T")


class CommandGuard:
    """Runs bumble operations that send HCI commands so that cancelling the caller never cancels them midway.

    bumble's host keeps one future for the pending command; if the coroutine awaiting it is cancelled, the
    controller's late Command Complete meets a cancelled future (``InvalidStateError`` in the loop, and a host
    that may wait forever). Each operation runs in its own task, shielded; :meth:`settle` waits for the ones
    still running (before tearing the air down).
    """

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[Any]] = set()

    async def run(self, operation: Awaitable[T]) -> T:
        future: asyncio.Future[T] = asyncio.ensure_future(operation)
        self._pending.add(future)
        future.add_done_callback(self._done)
        return await asyncio.shield(future)

    def _done(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.debug("background HCI operation failed: %r", future.exception())

    async def settle(self, timeout_s: float = 2.0) -> None:
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout_s)


class SpecController(Controller):
    """A virtual controller that completes "LE Create Connection Cancel" as the spec says.

    bumble 0.0.236 acknowledges the command with SUCCESS but neither clears its pending connection nor sends the
    LE Connection Complete event with status UNKNOWN_CONNECTION_IDENTIFIER that Core 5.4 Vol 4 Part E 7.8.13
    requires. Without this, ``Device.connect(timeout=...)`` hangs after its timeout, the next connect fails with
    COMMAND_DISALLOWED and a late advertisement completes the stale connection (an assertion in bumble's host).
    """

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        peer = pending.peer_address
        event = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=peer.address_type,
            peer_address=peer,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # After the Command Complete of this command, as a real controller orders them.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, event)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


class VirtualAir:
    """One shared radio medium. Create it inside a running loop; :meth:`close` disconnects everything."""

    def __init__(self) -> None:
        asyncio.get_running_loop()  # fail early, with Python's clear error, outside a loop
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.devices: list[Device] = []
        self.guard = CommandGuard()

    def new_device(self, name: str, address: str | None = None) -> Device:
        """A powered-off device on this air; ``address`` defaults to a fresh static random address."""
        n = next(_address_counter)
        # Static random address: the two top bits of the most significant byte set.
        address = address or f"C0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"
        controller = SpecController(f"ctrl-{name}", link=self.link)
        device = Device(
            name=name, address=hci.Address(address), host=Host(controller, AsyncPipeSink(controller))
        )
        self.devices.append(device)
        return device

    async def close(self) -> None:
        """Stop advertising and scanning and drop every connection; errors of an already-dead link are ignored."""
        await self.guard.settle()
        for device in self.devices:
            with contextlib.suppress(Exception):
                await self.guard.run(device.stop_advertising())
            with contextlib.suppress(Exception):
                if device.is_scanning:
                    await self.guard.run(device.stop_scanning())
            for connection in list(device.connections.values()):
                with contextlib.suppress(Exception):
                    await self.guard.run(connection.disconnect())
        await self.guard.settle()
        self.devices.clear()
