"""The live strap client: connect, discover, subscribe, start the Polar accelerometer, record, reconnect.

:class:`BleSource` is what a session consumes, the same way as :class:`sensors.sources.replay.ReplaySource`:
``async for sample in source`` yields :mod:`sensors.samples` values (heart rate, ACC blocks, foot pod, battery,
and ``SensorEvent`` for ``connected`` / ``disconnected`` / ``reconnect_attempt`` / ``pmd_started`` ..., named by
:class:`sensors.events.SensorEventName`).

Per connection (:meth:`BleSource._connect_once`), using only bleak's public API plus BlueZ's MTU hook:

1. ``BleakClient.connect`` (timeout ``connect_timeout_s``), then the largest MTU the platform allows;
2. reads: Device Information, Body Sensor Location, Battery Level;
3. notifications: Heart Rate Measurement, RSC Measurement, Battery Level (where offered);
4. Polar PMD: subscribe to the control point (indications) and data, read the features, ask for the ACC
   settings, start ACC at ``AccConfig`` (default 100 Hz, 8 G, 16 bit). A PMD failure never costs the heart rate
   subscribed in step 3: a refusal (named, with what the strap offers), a GATT error on a live link or a strap
   without PMD becomes a ``pmd_error`` event whose sentence says what is lost and what to do, and the connection
   goes on without ACC; a strap that refuses until it is paired is paired (bleak ``pair()``, ``paired`` event) and
   asked once more, unless ``ClientConfig.pair`` is False (``--no-pair``).

The strap is looked for first among the devices the OS holds connected (after a killed run BlueZ keeps the link and
the strap does not advertise: ``reused_connection``), then by scanning.

Every notification and read is written raw to the capture *before* it is decoded (a decoder bug never loses
data), through one :class:`~sensors.samples.SampleDecoder`, so a replay of the capture yields the same samples.

The supervisor (:meth:`BleSource._supervise`) waits for the link to drop, records ``disconnected``, and retries
with :class:`~sensors.sources.ble.policy.Backoff` (never giving up) until :meth:`BleSource.aclose`: each attempt is a
``reconnect_attempt`` event, each failure a ``connect_failed`` event, and success a ``connected`` event with
``reconnect`` (how many so far) and ``outage_s``. Errors that mean the Bluetooth stack itself is unusable
(:mod:`sensors.sources.ble.diagnose`) are raised at :meth:`BleSource.start`; mid-session they are retried like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError

from sensors import uuids
from sensors.capture import CaptureSink
from sensors.clock import Clock, MonotonicClock
from sensors.codecs.pmd import (
    MeasurementType,
    PmdRequest,
    PmdResponse,
    PmdSettings,
    PmdSettingType,
    PmdStatus,
)
from sensors.errors import DecodeError, SensorUnavailableError
from sensors.events import SensorEventName
from sensors.samples import Sample, SampleDecoder, SensorEvent
from sensors.sources.ble.capabilities import Capabilities, from_services
from sensors.sources.ble.diagnose import ADVICE_PAIR, classify, needs_pairing
from sensors.sources.ble.policy import Backoff, ReconnectPolicy
from sensors.sources.ble.scan import BleakBackends, find_device, held_devices

logger = logging.getLogger(__name__)

#: HCI reasons a backend may report for a disconnection (Core 5.4 Vol 1 Part F).
DISCONNECT_REASONS = {
    0x08: "connection timeout",
    0x13: "remote user terminated the connection",
    0x15: "remote device powered off",
    0x16: "connection terminated by the local host",
    0x3E: "connection failed to be established",
}
_READS = (uuids.MANUFACTURER_NAME, uuids.MODEL_NUMBER, uuids.FIRMWARE_REVISION, uuids.BODY_SENSOR_LOCATION)
_NOTIFY = (uuids.HEART_RATE_MEASUREMENT, uuids.RSC_MEASUREMENT, uuids.BATTERY_LEVEL)
#: Transient failures of one connection attempt: retried by the supervisor.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (BleakError, TimeoutError, OSError, EOFError, DecodeError)
#: Failures of a reconnection attempt mid-session: all retried (Bluetooth switched off comes back too).
RETRIED_ERRORS: tuple[type[BaseException], ...] = (SensorUnavailableError, *TRANSIENT_ERRORS)


@dataclass(frozen=True, slots=True)
class AccConfig:
    """The accelerometer stream to ask for. 8 G so running does not clip (2 G does, BRIEF)."""

    sample_rate_hz: int = 100
    range_g: int = 8
    resolution_bits: int = 16

    def settings(self) -> PmdSettings:
        return PmdSettings.build(
            sample_rate_hz=self.sample_rate_hz, resolution_bits=self.resolution_bits, range=self.range_g
        )

    def describe(self) -> str:
        return f"{self.sample_rate_hz} Hz, {self.range_g} G, {self.resolution_bits} bit"

    def fitted_to(self, offered: PmdSettings | None) -> AccConfig:
        """The settings to ask a strap for, given what its get-settings answer ``offered``: each value the strap
        does not offer is replaced by the nearest one it does (a Verity Sense has 52 Hz, not 100): the sample
        rate nearest on a log scale (a tie goes to the higher), the smallest range at least as wide as wanted
        (else the widest: running must not clip), the highest resolution. Values the strap does not list, and
        everything when ``offered`` is None, stay as they are."""
        if offered is None:
            return self

        def listed(kind: PmdSettingType) -> list[int]:
            return sorted(int(v) for v in offered.values(kind) if isinstance(v, int) and v > 0)

        rate, rng, res = self.sample_rate_hz, self.range_g, self.resolution_bits
        if (rates := listed(PmdSettingType.SAMPLE_RATE)) and rate not in rates:
            rate = min(rates, key=lambda r: (abs(math.log(r / self.sample_rate_hz)), -r))
        if (ranges := listed(PmdSettingType.RANGE)) and rng not in ranges:
            rng = min((r for r in ranges if r >= self.range_g), default=ranges[-1])
        if (bits := listed(PmdSettingType.RESOLUTION)) and res not in bits:
            res = bits[-1]
        return AccConfig(sample_rate_hz=rate, range_g=rng, resolution_bits=res)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Client behaviour. Timeouts are radio time (wall seconds); backoff delays are session-clock seconds."""

    acc: AccConfig | None = field(default_factory=AccConfig)
    connect_timeout_s: float = 20.0
    scan_timeout_s: float = 10.0
    request_timeout_s: float = 5.0
    #: A disconnect that has not completed by then is given up (BlueZ may never confirm one interrupted mid-connect).
    disconnect_timeout_s: float = 2.0
    #: How long :meth:`BleSource.start` keeps retrying a first connection that fails transiently.
    start_timeout_s: float = 60.0
    #: Rescan for the device after this many failed reconnection attempts in a row (BlueZ forgets devices); a
    #: "device not found" rescans at once.
    rescan_every: int = 3
    #: Pair (bond) with the strap when it refuses the accelerometer until paired, then retry once (``--no-pair``).
    pair: bool = True
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)


class PmdRefused(Exception):
    """The strap answered a PMD request with an error status (internal: becomes a ``pmd_error`` event)."""

    def __init__(self, response: PmdResponse, sentence: str) -> None:
        self.response = response
        self.sentence = sentence
        super().__init__(sentence)


def pmd_sentence(response: PmdResponse, asked: AccConfig | None, offered: PmdSettings | None) -> str:
    """One sentence for a PMD refusal: what was asked, what the strap said, and what it offers."""
    what = f"{response.op_name.replace('_', ' ')} of the accelerometer"
    if asked is not None and response.op_code == 0x02:
        what = (
            f"start of the accelerometer at {asked.sample_rate_hz} Hz, {asked.range_g} G, "
            f"{asked.resolution_bits} bit"
        )
    sentence = f"The strap refused the {what}: {response.status_text} (code {response.status} {response.status_name})"
    if offered is not None:
        parts = []
        for kind, unit in (
            (PmdSettingType.SAMPLE_RATE, "Hz"),
            (PmdSettingType.RANGE, "G"),
            (PmdSettingType.RESOLUTION, "bit"),
        ):
            values = offered.values(kind)
            if values:
                parts.append("/".join(f"{v:g}" for v in values) + f" {unit}")
        if parts:
            sentence += f"; it offers {', '.join(parts)}"
    return sentence + "."


#: What a session loses without the accelerometer (every PMD failure sentence ends with it).
PMD_LOST = (
    "the session goes on with heart rate only: no walk/run detection, so cues come by time and adherence is "
    "'unknown'"
)
ADVICE_PMD_RETRY = "if it persists, switch the strap off and on (unclip it for 30 s) and run again"
ADVICE_PMD_REFUSED = "ask for settings the strap offers (coach record --acc-rate, --acc-range)"
ADVICE_NO_PMD = (
    "a Polar H10 needs firmware 3.0 or later for it (update it in the Polar Flow or Polar Beat app); other "
    "straps give heart rate only"
)


def pmd_failure_sentence(cause: str, advice: str) -> str:
    """One line for a lost accelerometer: why (``cause``), what the session loses, what to do (``advice``)."""
    return f"No accelerometer: {cause}; {PMD_LOST}. To fix: {advice}."


class BleSource:
    """Samples from a strap over bleak, reconnecting for as long as the source runs (see module docstring).

    Give ``address`` or ``name`` (or a ``device`` already found). ``capture`` receives every payload raw and
    every event; ``clock`` gives session time (``t = 0`` at construction). ``backends`` injects bleak backends
    (the virtual strap's); production passes nothing.

    Results while running: ``connected``, ``connections_``, ``drops_``, ``reconnect_attempts_``,
    ``notifications_``, ``samples_``, ``last_hr_bpm_``, ``capabilities_``, ``mtu_``, ``pmd_error_`` (the last
    refusal sentence), ``outages_s_`` (each outage's length in session seconds).
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        name: str | None = None,
        device: BLEDevice | None = None,
        capture: CaptureSink | None = None,
        clock: Clock | None = None,
        config: ClientConfig | None = None,
        backends: BleakBackends | None = None,
        rng: random.Random | None = None,
        label: str | None = None,
    ) -> None:
        if address is None and name is None and device is None:
            raise ValueError("give address, name or device")
        self.address = address
        self.name = name
        self.label = label or (f"ble:{address}" if address else f"ble:name={name}")
        self.capture = capture
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.config = config or ClientConfig()
        self.backends = backends or BleakBackends()
        self.decoder = SampleDecoder(
            default_acc_rate_hz=float(self.config.acc.sample_rate_hz) if self.config.acc else 100.0
        )
        self._device = device
        self._rng = rng or random.Random()
        self._t0 = self.clock.now()
        # Samples for the consumer; None ends the iteration, an exception is raised in the consumer.
        self._queue: asyncio.Queue[Sample | BaseException | None] = asyncio.Queue()
        self._client: BleakClient | None = None
        self._link_lost = asyncio.Event()
        self._cp_responses: asyncio.Queue[PmdResponse] = asyncio.Queue()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._ended = False  # the data ran out (a virtual strap's capture): no more reconnecting
        self._started = False
        self._down_since: float | None = None
        # results
        self.connected = False
        self.connections_ = 0
        self.drops_ = 0
        self.reconnect_attempts_ = 0
        self.notifications_ = 0
        self.samples_ = 0
        self.last_hr_bpm_: int | None = None
        self.capabilities_: Capabilities | None = None
        self.mtu_: int | None = None
        self.pmd_error_: str | None = None
        self.outages_s_: list[float] = []
        self.decoder_failures_ = 0
        self.capture_error_: BaseException | None = None
        self.device_name_: str | None = device.name if device else name
        self.device_address_: str | None = device.address if device else address

    # ------------------------------------------------------------------------------------------ public

    def now(self) -> float:
        """Session seconds."""
        return max(0.0, self.clock.now() - self._t0)

    async def start(self) -> None:
        """Find the strap and connect; raise :class:`~sensors.errors.SensorUnavailableError` if it cannot be used.

        A first connection that fails transiently (timeout, dropped during set-up) is retried with backoff for
        ``start_timeout_s``; then the supervisor takes over.
        """
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.start_timeout_s
        backoff = Backoff(self.config.policy, self._rng)
        while True:
            try:
                if self._device is None:
                    self._device = await self._find()
                await self._connect_once(self._device)
                break
            except SensorUnavailableError:
                raise
            except TRANSIENT_ERRORS as exc:
                if isinstance(exc, BleakDeviceNotFoundError) and (self.address or self.name):
                    self._device = None  # BlueZ forgot the device since the scan: scan again
                fatal = None if isinstance(exc, BleakDeviceNotFoundError) else classify(exc)
                if fatal is not None:
                    raise fatal from exc
                self._event(SensorEventName.CONNECT_FAILED, reason=_reason(exc))
                if loop.time() >= deadline:
                    raise SensorUnavailableError(
                        f"could not connect to {self.label}: {_reason(exc)}",
                        "move closer, make sure no phone or watch holds the strap, and try again",
                    ) from exc
                await self._wait_before_attempt(backoff)
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ble-supervisor {self.label}")

    async def aclose(self) -> None:
        """Stop the supervisor, stop the PMD stream politely, disconnect, end the iteration."""
        if self._closing:
            return
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        client = self._client
        if client is not None and client.is_connected:
            if self.config.acc is not None and self.capabilities_ is not None and self.capabilities_.pmd:
                with contextlib.suppress(*TRANSIENT_ERRORS, PmdRefused):
                    await self._pmd_request(client, PmdRequest.stop(MeasurementType.ACC), timeout_s=1.0)
                    self._event(SensorEventName.PMD_STOPPED, measurement="acc")
            await self._disconnect_quietly(client)
        if self.connected:
            self._mark_down("session ended")
        self._queue.put_nowait(None)

    def end(self) -> None:
        """End the iteration: the source's data ran out (a virtual strap's capture); no more reconnecting."""
        self._ended = True
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Sample]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Sample]:
        await self.start()
        try:
            while True:
                sample = await self._queue.get()
                if sample is None:
                    return
                if isinstance(sample, BaseException):
                    raise sample
                yield sample
        finally:
            await self.aclose()

    # ------------------------------------------------------------------------------------------ supervisor

    async def _supervise(self) -> None:
        backoff = Backoff(self.config.policy, self._rng)
        failures = 0
        while not self._closing:
            await self._link_lost.wait()
            if self._closing or self._ended:
                return
            await self._wait_before_attempt(backoff)
            try:
                if self._device is None or (failures and failures % self.config.rescan_every == 0):
                    self._device = await self._find()
                await self._connect_once(self._device)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Anything else (a backend bug, an error bleak does not wrap) is retried too: a supervisor that
                # died here would leave the session running without its strap, silently, until the end.
                failures += 1
                if isinstance(exc, BleakDeviceNotFoundError) and (self.address or self.name):
                    self._device = (
                        None  # BlueZ dropped the device object (~30 s after a drop): rescan at once
                    )
                self._event(SensorEventName.CONNECT_FAILED, reason=_reason(exc), attempt=backoff.attempts)
                if isinstance(exc, RETRIED_ERRORS):
                    logger.info("reconnection attempt %d failed: %s", backoff.attempts, _reason(exc))
                else:
                    logger.warning(
                        "reconnection attempt %d failed unexpectedly", backoff.attempts, exc_info=exc
                    )
                continue
            failures = 0
            backoff.reset()

    async def _wait_before_attempt(self, backoff: Backoff) -> None:
        delay_s = backoff.next_delay_s()
        self.reconnect_attempts_ += 1
        self._event(SensorEventName.RECONNECT_ATTEMPT, attempt=backoff.attempts, delay_s=round(delay_s, 3))
        if delay_s > 0:
            await self.clock.sleep(delay_s)

    async def _find(self) -> BLEDevice:
        """The strap: one the OS holds connected already (a previous run that was killed: a connected strap does
        not advertise, so no scan finds it), else the one a scan finds."""
        held = await self._connected_device()
        if held is not None:
            logger.warning(
                "%s is still connected in the Bluetooth stack (a previous run that was killed?): using that "
                "connection",
                held.name or held.address,
            )
            self._event(SensorEventName.REUSED_CONNECTION, name=held.name, address=held.address)
            return held
        return await find_device(
            address=self.address,
            name=self.name if self.address is None else None,
            timeout_s=self.config.scan_timeout_s,
            backends=self.backends,
            sleep=self.clock.sleep,
        )

    async def _connected_device(self) -> BLEDevice | None:
        """A heart-rate device the OS reports connected that matches the moniker (bleak's ``BleakAdapter``, BlueZ
        only today); None elsewhere, and with injected backends (the virtual strap)."""
        devices = await held_devices(backends=self.backends, timeout_s=self.config.request_timeout_s)
        for device in devices:
            if self.address is not None and device.address.upper() == self.address.upper():
                return device
            if (
                self.address is None
                and self.name
                and (device.name or "").casefold().startswith(self.name.casefold())
            ):
                return device
        return None

    # ------------------------------------------------------------------------------------------ one connection

    async def _connect_once(self, device: BLEDevice) -> None:
        """Connect and set up every stream; on any failure the link is closed and the error propagates."""
        self._link_lost.clear()
        self._drain_cp_responses()
        client = BleakClient(
            device,
            disconnected_callback=self._on_disconnected,
            timeout=self.config.connect_timeout_s,
            **self.backends.client_kwargs(),
        )
        self._client = client
        try:
            await client.connect()
            await self._setup(client)
        except BaseException:
            self._client = None
            await self._disconnect_quietly(client)
            if self.connected:
                self._mark_down("link lost during set-up")
            self._link_lost.set()  # the link is down: the supervisor must try again
            raise

    async def _disconnect_quietly(self, client: BleakClient) -> None:
        """Disconnect, ignoring failures, bounded by ``disconnect_timeout_s``."""
        try:
            async with asyncio.timeout(self.config.disconnect_timeout_s):
                await client.disconnect()
        except (Exception, TimeoutError) as exc:
            logger.debug("disconnecting %s: %r", self.label, exc)

    async def _setup(self, client: BleakClient) -> None:
        self.mtu_ = await negotiate_mtu(client)
        services = client.services
        caps = from_services(s.uuid for s in services)
        self.capabilities_ = caps
        self.device_name_ = client.name or self.device_name_
        self.device_address_ = client.address
        t_up = self.now()
        outage_s = None if self._down_since is None else round(t_up - self._down_since, 6)
        self._event(
            SensorEventName.CONNECTED,
            t=t_up,
            name=self.device_name_,
            address=client.address,
            mtu=self.mtu_,
            offers=caps.describe(),
            reconnect=self.connections_,
            **({"outage_s": outage_s} if outage_s is not None else {}),
        )
        if outage_s is not None:
            self.outages_s_.append(outage_s)
        self.connections_ += 1
        self.connected = True
        self._down_since = None

        for char_uuid in (*_READS, uuids.BATTERY_LEVEL):
            char = services.get_characteristic(char_uuid)
            if char is not None and "read" in char.properties:
                self._payload(char_uuid, bytes(await client.read_gatt_char(char)))
        for char_uuid in _NOTIFY:
            char = services.get_characteristic(char_uuid)
            if char is not None and ("notify" in char.properties or "indicate" in char.properties):
                await client.start_notify(char, self._notifier(char_uuid))
                self._event(SensorEventName.SUBSCRIBED, char=char_uuid)
        if self.config.acc is not None:
            if caps.pmd:
                await self._start_acc(client, self.config.acc)
            else:
                name = self.device_name_ or client.address
                self._pmd_failed(
                    pmd_failure_sentence(
                        f"{name} has no accelerometer stream (no Polar PMD service)", ADVICE_NO_PMD
                    ),
                    reason="no_pmd_service",
                )

    async def _start_acc(self, client: BleakClient, acc: AccConfig) -> None:
        """Subscribe to PMD and start ACC. A failure never costs the heart rate already flowing: a refusal or an
        error on a link still up becomes a ``pmd_error`` event and a warning, and the connection goes on without
        ACC; a strap that wants pairing is paired (unless ``config.pair`` is False) and asked once more. Only a lost
        link propagates (the supervisor reconnects)."""
        services = client.services
        cp = services.get_characteristic(uuids.PMD_CONTROL_POINT)
        data = services.get_characteristic(uuids.PMD_DATA)
        if cp is None or data is None:
            self._pmd_failed(
                pmd_failure_sentence(
                    "the strap's PMD service lacks its control point or data", ADVICE_NO_PMD
                ),
                reason="no_pmd_service",
            )
            return
        subscribed = False
        paired = False
        while True:
            try:
                if not subscribed:
                    await client.start_notify(cp, self._on_cp)
                    await client.start_notify(data, self._notifier(uuids.PMD_DATA))
                    self._event(SensorEventName.SUBSCRIBED, char=uuids.PMD_DATA)
                    if "read" in cp.properties:
                        self._payload(uuids.PMD_CONTROL_POINT, bytes(await client.read_gatt_char(cp)))
                    subscribed = True
                await self._acc_requests(client, acc)
                return
            except PmdRefused as refused:
                cause = refused.sentence.rstrip(".")
                self._pmd_failed(
                    pmd_failure_sentence(cause[:1].lower() + cause[1:], ADVICE_PMD_REFUSED),
                    status=refused.response.status,
                    status_name=refused.response.status_name,
                )
                return
            except TRANSIENT_ERRORS as exc:
                if not client.is_connected:
                    raise  # the link is gone: reconnect, as for any drop
                if needs_pairing(exc) and not paired and self.config.pair:
                    paired = True
                    if await self._pair(client, exc):
                        continue
                    return
                self._pmd_failed(self._pmd_error_sentence(exc), reason=_reason(exc))
                return

    def _pmd_error_sentence(self, exc: BaseException) -> str:
        if needs_pairing(exc):
            why = "the strap refuses the accelerometer until it is paired"
            if not self.config.pair:
                why += " (coach did not pair it: --no-pair, or coach doctor, which only checks)"
            return pmd_failure_sentence(f"{why} ({_reason(exc)})", ADVICE_PAIR)
        return pmd_failure_sentence(f"starting it failed ({_reason(exc)})", ADVICE_PMD_RETRY)

    async def _pair(self, client: BleakClient, cause: BaseException) -> bool:
        """Pair with the strap (it refused PMD with ``cause``); False (and a ``pmd_error``) when pairing fails."""
        logger.warning(
            "%s wants to be paired for the accelerometer: pairing now", self.device_name_ or self.label
        )
        try:
            await client.pair()
        except Exception as exc:
            if not client.is_connected:
                raise BleakError(f"Not connected (the link was lost while pairing: {_reason(exc)})") from exc
            self._pmd_failed(
                pmd_failure_sentence(f"pairing failed ({_reason(exc)}) after {_reason(cause)}", ADVICE_PAIR),
                reason=_reason(exc),
            )
            return False
        self._event(SensorEventName.PAIRED, address=client.address)
        return True

    async def _acc_requests(self, client: BleakClient, acc: AccConfig) -> None:
        """Ask for the ACC settings, then start ACC fitted to them (a refusal raises :class:`PmdRefused` with its
        sentence)."""
        offered: PmdSettings | None = None
        wanted = acc
        try:
            settings_response = await self._pmd_request(client, PmdRequest.get_settings(MeasurementType.ACC))
            offered = settings_response.settings
            acc = wanted.fitted_to(offered)
            if acc != wanted:
                logger.warning(
                    "the strap does not offer %s for the accelerometer; asking for %s",
                    wanted.describe(),
                    acc.describe(),
                )
            response = await self._pmd_request(client, PmdRequest.start(MeasurementType.ACC, acc.settings()))
        except PmdRefused as refused:
            raise PmdRefused(refused.response, pmd_sentence(refused.response, acc, offered)) from None
        already = response.status == PmdStatus.ERROR_ALREADY_IN_STATE
        self.pmd_error_ = None
        extra: dict[str, Any] = {}
        if already:
            extra["already_running"] = True
        if acc != wanted:
            extra["adjusted_from"] = wanted.describe()
        self._event(
            SensorEventName.PMD_STARTED,
            measurement="acc",
            sample_rate_hz=acc.sample_rate_hz,
            range_g=acc.range_g,
            resolution_bits=acc.resolution_bits,
            **extra,
        )

    def _pmd_failed(self, sentence: str, **fields: Any) -> None:
        """No ACC on this connection: remember the sentence (``pmd_error_``), record ``pmd_error``. The commands
        print the sentence once as a warning (``coach record``, ``coach run``): logged here at INFO only."""
        if sentence != self.pmd_error_:
            logger.info("%s", sentence)
        self.pmd_error_ = sentence
        self._event(SensorEventName.PMD_ERROR, measurement="acc", text=sentence, **fields)

    async def _pmd_request(
        self, client: BleakClient, request: PmdRequest, timeout_s: float | None = None
    ) -> PmdResponse:
        """Write ``request`` and wait for its response indication, both within ``timeout_s``; a refusal raises
        :class:`PmdRefused`."""
        timeout_s = self.config.request_timeout_s if timeout_s is None else timeout_s
        # the write is bounded too: a stack that never answers it (a strap switched off mid-write) must not hang
        async with asyncio.timeout(timeout_s):
            await client.write_gatt_char(uuids.PMD_CONTROL_POINT, bytes(request), response=True)
            while True:
                get = asyncio.ensure_future(self._cp_responses.get())
                lost = asyncio.ensure_future(self._link_lost.wait())
                try:
                    await asyncio.wait({get, lost}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    lost.cancel()
                    if not get.done():
                        get.cancel()
                if not get.done() or get.cancelled():
                    raise BleakError("Not connected (the link was lost waiting for a PMD response)")
                response = get.result()
                if (
                    response.op_code == request.op_code
                    and response.measurement_type == request.measurement_type
                ):
                    break
                logger.debug("ignoring an unexpected PMD response %s", bytes(response).hex())
        ok = response.ok or (request.op_code == 0x02 and response.status == PmdStatus.ERROR_ALREADY_IN_STATE)
        if not ok:
            raise PmdRefused(response, response.status_text)
        return response

    def _drain_cp_responses(self) -> None:
        while not self._cp_responses.empty():
            self._cp_responses.get_nowait()

    # ------------------------------------------------------------------------------------------ callbacks

    def _notifier(self, char_uuid: str) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            self._payload(char_uuid, bytes(data))

        return on_notify

    def _on_cp(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        payload = bytes(data)
        self._payload(uuids.PMD_CONTROL_POINT, payload)
        try:
            self._cp_responses.put_nowait(PmdResponse.from_bytes(payload))
        except DecodeError as exc:
            logger.warning("unreadable PMD control point indication: %s", exc)

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is not self._client:
            return  # a stale client from a failed attempt
        self._client = None
        reason = "session ended" if self._closing else _disconnect_reason(client)
        if self.connected:
            self._mark_down(reason)
        self._link_lost.set()

    def _mark_down(self, reason: str) -> None:
        self.connected = False
        t = self.now()
        if not self._closing and not self._ended:
            self.drops_ += 1
            self._down_since = t
        self._event(SensorEventName.DISCONNECTED, t=t, reason=reason)

    def _payload(self, char_uuid: str, data: bytes) -> None:
        """Raw to the capture first, then decode (runs in bleak's notification callback: never raises)."""
        t = self.now()
        if not self._record(lambda capture: capture.payload(t, char_uuid, data)):
            return
        self.notifications_ += 1
        try:
            samples = self.decoder.feed(t, char_uuid, data)  # bad bytes become decode_error events
        except Exception:  # a decoder bug: the raw bytes are safe in the capture, the session goes on
            self.decoder_failures_ += 1
            logger.exception("decoding %s failed at t=%.3f", uuids.short_name(char_uuid), t)
            return
        self._put(samples)

    def _event(self, event_name: SensorEventName, /, t: float | None = None, **fields: Any) -> None:
        """Record and yield an event at session time ``t`` (now by default)."""
        t = self.now() if t is None else t
        if not self._record(lambda capture: capture.event(t, event_name, **fields)):
            return
        logger.debug("%s %s", event_name, fields)
        self._put(self.decoder.feed_event(t, event_name, fields))

    def _record(self, write: Callable[[CaptureSink], None]) -> bool:
        """Write to the capture; a failure (disk full, file closed) ends the session with that error."""
        if self.capture is None:
            return True
        if self.capture_error_ is not None:
            return False
        try:
            write(self.capture)
        except (OSError, ValueError) as exc:
            self.capture_error_ = exc
            logger.error("cannot write the capture file: %s", exc)
            self._queue.put_nowait(exc)
            return False
        return True

    def _put(self, samples: list[Sample]) -> None:
        for sample in samples:
            self.samples_ += 1
            bpm = getattr(sample, "bpm", None)
            if isinstance(bpm, int):
                self.last_hr_bpm_ = bpm
            self._queue.put_nowait(sample)


async def negotiate_mtu(client: BleakClient) -> int:
    """The largest MTU the platform gives; on BlueZ, ``mtu_size`` is 23 until ``_acquire_mtu`` asks for it.

    BlueZ exchanges the MTU itself (517 asked) but bleak only learns the result through AcquireWrite /
    AcquireNotify (bleak's documented work-around, examples/mtu_size.py); WinRT and CoreBluetooth report it.
    """
    backend = getattr(client, "_backend", None)
    acquire = getattr(backend, "_acquire_mtu", None)
    if acquire is not None and callable(acquire):
        try:
            await acquire()
        except Exception as exc:  # not fatal: PMD falls back to small frames or refuses with INVALID_MTU
            logger.info("could not read the negotiated MTU: %r", exc)
    return int(client.mtu_size)


def _disconnect_reason(client: BleakClient) -> str:
    backend = getattr(client, "_backend", None)
    code = getattr(backend, "last_disconnect_reason", None)
    if isinstance(code, int):
        return f"{DISCONNECT_REASONS.get(code, 'link lost')} (0x{code:02x})"
    return "link lost"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BleakGATTProtocolError) and len(exc.args) > 1:
        # bleak builds it from (code, message): its str() is the tuple's repr with the enum's
        return f"{exc.args[1]} (ATT error 0x{int(exc.args[0]):02X})"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return f"timed out ({text})" if str(exc) else "timed out"
    return text


def events_of(samples: list[Sample], name: SensorEventName | str) -> list[SensorEvent]:
    """The ``SensorEvent``s named ``name`` among ``samples`` (for callers and tests)."""
    return [s for s in samples if isinstance(s, SensorEvent) and s.event == name]
