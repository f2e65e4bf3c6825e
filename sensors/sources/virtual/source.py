"""``virtual:PATH``: the production BLE client (:class:`~sensors.sources.ble.client.BleSource`) against the virtual strap.

:class:`VirtualRig` builds the air, the strap and the central adapter inside the running loop;
:class:`VirtualSource` is a ``BleSource`` that starts the rig first, talks to it through bleak with the bumble
backend, and ends its iteration when the strap's capture runs out. Everything runs on one
:class:`~sensors.sources.virtual.clock.ScaledClock`, so ``speed`` accelerates the strap, the session times and the
reconnect backoff alike, and the capture written keeps the recording's seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from dataclasses import dataclass

from sensors.capture import CaptureSink
from sensors.clock import Clock
from sensors.codecs.pmd import PmdSettings
from sensors.events import SensorEventName
from sensors.sources.ble.client import AccConfig, BleSource, ClientConfig
from sensors.sources.ble.scan import BleakBackends
from sensors.sources.virtual.backend import BumbleAdapter, BumbleClient, BumbleScanner
from sensors.sources.virtual.clock import ScaledClock
from sensors.sources.virtual.link import VirtualAir
from sensors.sources.virtual.script import StrapScript
from sensors.sources.virtual.strap import VirtualStrap, advertised_name

logger = logging.getLogger(__name__)


@dataclass
class VirtualRig:
    """One virtual air with a strap advertising on it and a central adapter for bleak."""

    air: VirtualAir
    strap: VirtualStrap
    adapter: BumbleAdapter
    closed: bool = False

    @property
    def backends(self) -> BleakBackends:
        return BleakBackends(
            scanner=BumbleScanner, client=BumbleClient, kwargs={"bumble_adapter": self.adapter}
        )

    @classmethod
    async def create(
        cls,
        script: StrapScript,
        *,
        clock: Clock,
        drop_every_s: float | None = None,
        comeback_s: float = 0.0,
        ready_timeout_s: float = 5.0,
        loop: bool = False,
    ) -> VirtualRig:
        air = VirtualAir()
        strap = VirtualStrap(
            air.new_device(script.name),
            script,
            clock=clock,
            drop_every_s=drop_every_s,
            comeback_s=comeback_s,
            ready_timeout_s=ready_timeout_s,
            guard=air.guard,
            loop=loop,
        )
        adapter = BumbleAdapter(air)
        try:
            await strap.start()
        except BaseException:
            await strap.stop()
            await air.close()
            raise
        return cls(air=air, strap=strap, adapter=adapter)

    async def close(self) -> None:
        """Stop the strap's tasks and tear the air down (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.strap.stop()
        finally:
            await self.air.close()


class VirtualSource(BleSource):
    """``BleSource`` on a virtual strap streaming ``path`` (read at construction: a bad file fails early).

    Without a ``config`` the client asks for the accelerometer at the rate, range and resolution the strap can
    serve (the recording's, :attr:`StrapScript.acc_settings`); with one, it asks for the config's settings fitted
    to what the strap offers (:meth:`AccConfig.fitted_to`), as with a real strap.
    If :meth:`start` fails, the rig is closed before the error propagates. With ``loop`` the strap streams its
    recording again and again on the same connection (no disconnection between passes) and the source never ends.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        drop_every_s: float | None = None,
        hr_only: bool = False,
        speed: float = 1.0,
        capture: CaptureSink | None = None,
        clock: Clock | None = None,
        config: ClientConfig | None = None,
        rng: random.Random | None = None,
        label: str | None = None,
        loop: bool = False,
    ) -> None:
        self.script = StrapScript.from_capture(path, hr_only=hr_only)
        self.drop_every_s = drop_every_s
        self.loop = loop
        if config is None:
            config = ClientConfig(acc=servable_acc_config(self.script))
        super().__init__(
            name=advertised_name(self.script.name, rsc=self.script.has_rsc),
            capture=capture,
            clock=clock if clock is not None else ScaledClock(speed),
            config=config,
            rng=rng,
            label=label or f"virtual:{os.fspath(path)}",
        )
        self.rig: VirtualRig | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.rig is None:
            self.rig = await VirtualRig.create(
                self.script, clock=self.clock, drop_every_s=self.drop_every_s, loop=self.loop
            )
            self.backends = self.rig.backends
        try:
            await super().start()
        except BaseException:
            await self.aclose()  # no strap or link task may outlive a failed start
            raise
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._end_when_finished(), name="virtual-strap-watch")

    async def _end_when_finished(self) -> None:
        assert self.rig is not None
        await self.rig.strap.finished.wait()
        self._ended = True  # the strap switches off now: its last disconnection is not a drop
        # Let the strap's last notifications and its disconnection reach the client before ending.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while self.connected:
                    await asyncio.sleep(0.01)
        self._event(
            SensorEventName.ENDED,
            reason="end of the capture",
            sent=self.rig.strap.sent,
            lost=self.rig.strap.lost,
        )
        self.end()

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        try:
            await super().aclose()
        finally:
            if self.rig is not None:
                await self.rig.close()


def servable_acc_config(script: StrapScript) -> AccConfig:
    """The accelerometer stream to ask ``script``'s strap for: ``AccConfig``'s defaults fitted to what the strap
    offers (a recording with PMD data offers one rate, range and resolution, see :mod:`sensors.sources.virtual.script`)."""
    return AccConfig().fitted_to(PmdSettings.from_bytes(script.acc_settings))
