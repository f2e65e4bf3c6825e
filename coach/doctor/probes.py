"""The probes of ``coach doctor``: they observe the machine and hand typed records to :mod:`coach.doctor.checks`.

Each probe sits behind a small interface so that tests replace it with a fake (table tests) or point it at the
virtual strap (end to end):

- :class:`SystemProbe`: the platform, Python and package versions (``importlib.metadata``), the Bluetooth radio
  switches (``/sys/class/rfkill``) and whether ``bluetoothd`` runs (``/proc``); the roots are injectable;
- :class:`BleakProbe`: Bluetooth through the production client only (:func:`sensors.sources.ble.scan.scan` and
  :class:`sensors.sources.ble.client.BleSource`, so bleak's public API only): a scan (whose failure
  :mod:`sensors.sources.ble.diagnose` has already classified, with its advice; with the heart-rate devices the OS
  holds connected, :func:`sensors.sources.ble.scan.held_devices`: a killed run's strap does not advertise) and a
  connection that streams heart rate for a few seconds and starts the accelerometer as a run does. ``backends=``
  points it at the virtual strap (:func:`virtual_probe`) or, later, at any bleak backend;
- :class:`SpeakerProbe`: the voice a run would get (:func:`coach.voice.speaker.make_voice`), saying a test phrase;
- :func:`storage_outcome`: the data directory writable (a real file is written and removed) and its free space.

:func:`run_checks` runs them in order and returns the checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coach.doctor import checks as C
from coach.doctor.checks import (
    BluetoothKind,
    BluetoothStatus,
    Check,
    PackageInfo,
    PythonInfo,
    RfkillDevice,
    ScanView,
    SeenSensor,
    SensorWanted,
    StorageOutcome,
    StreamOutcome,
    VoiceOutcome,
)
from sensors.clock import Clock, MonotonicClock
from sensors.errors import SensorUnavailableError
from sensors.events import SensorEventName
from sensors.samples import HeartRateSample, SensorEvent

if TYPE_CHECKING:
    from sensors.sources.ble.client import ClientConfig
    from sensors.sources.ble.scan import BleakBackends, ScanResult
    from sensors.sources.moniker import SensorMoniker

logger = logging.getLogger(__name__)

#: The packages a run needs (pyttsx3 is optional: espeak-ng and text are its fallbacks).
PACKAGES = ("bleak", "numpy", "scipy", "pyttsx3")
OPTIONAL_PACKAGES = frozenset({"pyttsx3"})
#: How long the doctor lets the client keep trying a first connection (a run allows ClientConfig.start_timeout_s).
CONNECT_BUDGET_S = 20.0
#: How long to wait for the client to finish after the heart-rate window (it stops PMD and disconnects).
CLOSE_TIMEOUT_S = 10.0


class LoopClock:
    """The running event loop's clock (``loop.time()``: ``time.monotonic`` in production, virtual time in the tests,
    where the strap, the client and the heart-rate window then all run on one clock)."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# ------------------------------------------------------------------------------------------------- system


class SystemProbe:
    """Python, packages, rfkill and bluetoothd. ``sys_root`` / ``proc_root`` and ``version_of`` are for tests."""

    def __init__(
        self,
        *,
        platform: str = sys.platform,
        python_version: tuple[int, int, int] | None = None,
        sys_root: Path = Path("/sys"),
        proc_root: Path = Path("/proc"),
        version_of: Callable[[str], str | None] | None = None,
        requirements: Sequence[str] | None = None,
        requires_python: str | None = None,
    ) -> None:
        self.platform = platform
        self.python_version = python_version or (
            sys.version_info.major,
            sys.version_info.minor,
            sys.version_info.micro,
        )
        self.sys_root = sys_root
        self.proc_root = proc_root
        self.version_of = version_of or _installed_version
        self._requirements = requirements
        self._requires_python = requires_python

    @property
    def linux(self) -> bool:
        return self.platform.startswith("linux")

    def _metadata(self) -> tuple[list[str], str]:
        requirements, requires_python = self._requirements, self._requires_python
        if requirements is None or requires_python is None:
            try:
                meta = importlib.metadata.metadata("coach")
                requirements = (
                    requirements if requirements is not None else list(meta.get_all("Requires-Dist") or [])
                )
                requires_python = (
                    requires_python if requires_python is not None else (meta["Requires-Python"] or "")
                )
            except importlib.metadata.PackageNotFoundError:
                requirements, requires_python = requirements or [], requires_python or ""
        return list(requirements), requires_python or ""

    def python(self) -> PythonInfo:
        _, requires = self._metadata()
        version = ".".join(str(v) for v in self.python_version)
        return PythonInfo(self.python_version, requires, _satisfies(version, requires))

    def packages(self, names: Sequence[str] = PACKAGES) -> list[PackageInfo]:
        requirements, _ = self._metadata()
        wanted = {}
        for line in requirements:
            if ";" in line:  # an extra's requirement ("bumble==...; extra == 'virtual'")
                continue
            name, spec = _split_requirement(line)
            wanted[name.lower()] = spec
        out = []
        for name in names:
            version = self.version_of(name)
            spec = wanted.get(name.lower(), "")
            satisfied = _satisfies(version, spec) if version is not None else None
            out.append(PackageInfo(name, version, spec, satisfied, optional=name in OPTIONAL_PACKAGES))
        return out

    def rfkill(self) -> list[RfkillDevice] | None:
        """The Bluetooth radio switches (``/sys/class/rfkill/*`` of type ``bluetooth``); None without rfkill."""
        root = self.sys_root / "class" / "rfkill"
        if not root.is_dir():
            return None
        devices = []
        for entry in sorted(root.iterdir()):
            try:
                if _read(entry / "type") != "bluetooth":
                    continue
                devices.append(
                    RfkillDevice(
                        name=_read(entry / "name") or entry.name,
                        soft_blocked=_read(entry / "soft") == "1",
                        hard_blocked=_read(entry / "hard") == "1",
                    )
                )
            except OSError as exc:
                logger.info("cannot read %s: %s", entry, exc)
        return devices

    def bluetoothd_running(self) -> bool | None:
        """Whether a ``bluetoothd`` process runs (``/proc/*/comm``); None when ``/proc`` cannot tell."""
        if not self.proc_root.is_dir():
            return None
        for entry in self.proc_root.iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if _read(entry / "comm") == "bluetoothd":
                    return True
        return False


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip()


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _split_requirement(line: str) -> tuple[str, str]:
    """``"bleak<4,>=3.1"`` -> ``("bleak", "<4,>=3.1")`` (names per PEP 508: letters, digits, ``-_.``)."""
    line = line.strip()
    end = 0
    while end < len(line) and (line[end].isalnum() or line[end] in "-_."):
        end += 1
    name, rest = line[:end], line[end:].strip()
    if rest.startswith("["):  # extras
        rest = rest[rest.find("]") + 1 :].strip()
    return name, rest.strip("()").replace(" ", "")


def _satisfies(version: str, spec: str) -> bool | None:
    """Whether ``version`` fits ``spec`` (``packaging``, when installed; else None: not judged)."""
    if not spec:
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return None
    try:
        return Version(version) in SpecifierSet(spec)
    except (InvalidSpecifier, InvalidVersion):
        return None


# ------------------------------------------------------------------------------------------------- Bluetooth


def bluetooth_status(error: SensorUnavailableError | None) -> BluetoothStatus:
    """Which part of the stack a scan failure points at, by the advice :mod:`sensors.sources.ble.diagnose` gave it."""
    if error is None:
        return BluetoothStatus(BluetoothKind.OK)
    from sensors.sources.ble import diagnose as D

    kinds = {
        D.ADVICE_NO_DBUS: BluetoothKind.NO_DBUS,
        D.ADVICE_NO_BLUEZ: BluetoothKind.NO_BLUEZ,
        D.ADVICE_OFF: BluetoothKind.OFF,
        D.ADVICE_PERMISSION: BluetoothKind.PERMISSION,
        D.ADVICE_NO_ADAPTER: BluetoothKind.NO_ADAPTER,
        D.ADVICE_BUSY: BluetoothKind.BUSY,
    }
    kind = kinds.get(error.advice)
    if kind is None:
        kind = BluetoothKind.NOT_ANSWERING if "does not answer" in error.message else BluetoothKind.OTHER
    return BluetoothStatus(kind, error.message, error.advice)


def seen_sensor(result: ScanResult) -> SeenSensor:
    caps = result.capabilities
    return SeenSensor(
        name=result.name,
        address=result.address,
        rssi_dbm=result.rssi,
        heart_rate=caps.heart_rate,
        offers=caps.describe(),
        usable=caps.usable,
    )


def held_sensor(name: str | None, address: str) -> SeenSensor:
    """A heart-rate device the OS holds connected (listed by its heart-rate service: no advertisement to read)."""
    return SeenSensor(
        name=name,
        address=address,
        rssi_dbm=None,
        heart_rate=True,
        offers="heart rate",
        usable=True,
        held=True,
    )


class BleProbe(Protocol):
    """What the doctor asks of Bluetooth."""

    virtual: bool

    async def scan(self, timeout_s: float) -> ScanView: ...

    async def stream(self, target: SensorWanted, window_s: float) -> StreamOutcome: ...


class BleakProbe:
    """Scan and stream through the production client (bleak's public API only; ``backends`` as in
    :class:`sensors.sources.ble.scan.BleakBackends`). ``clock`` times the heart-rate window (session seconds)."""

    def __init__(
        self,
        *,
        backends: BleakBackends | None = None,
        clock: Clock | None = None,
        config: ClientConfig | None = None,
        virtual: bool = False,
    ) -> None:
        self.backends = backends
        self.clock: Clock = clock if clock is not None else LoopClock()
        self.config = config
        self.virtual = virtual
        #: The client finds the strap again when it connects: as long as the doctor's own scan.
        self.scan_timeout_s = 10.0

    async def scan(self, timeout_s: float) -> ScanView:
        from sensors.sources.ble.diagnose import ADVICE_NOT_FOUND
        from sensors.sources.ble.scan import held_devices, scan

        self.scan_timeout_s = max(timeout_s, self.scan_timeout_s)
        try:
            results = await scan(timeout_s, backends=self.backends)
        except SensorUnavailableError as exc:
            return ScanView(bluetooth_status(exc), timeout_s=timeout_s, advice_not_found=ADVICE_NOT_FOUND)
        status = BluetoothStatus(BluetoothKind.VIRTUAL) if self.virtual else BluetoothStatus(BluetoothKind.OK)
        seen = [seen_sensor(r) for r in results]
        # a strap the OS still holds connected does not advertise; the client finds it the same way
        listed = {s.address.upper() for s in seen}
        for device in await held_devices(backends=self.backends, timeout_s=timeout_s):
            if device.address.upper() not in listed:
                seen.append(held_sensor(device.name, device.address))
        return ScanView(status, tuple(seen), timeout_s=timeout_s, advice_not_found=ADVICE_NOT_FOUND)

    def _config(self) -> ClientConfig:
        from sensors.sources.ble.client import ClientConfig

        if self.config is not None:
            return self.config
        # pair=False: the doctor reports that a strap wants pairing; it does not change the system by pairing it
        # (coach record and coach run do, unless --no-pair)
        return ClientConfig(start_timeout_s=CONNECT_BUDGET_S, scan_timeout_s=self.scan_timeout_s, pair=False)

    async def stream(self, target: SensorWanted, window_s: float) -> StreamOutcome:
        """Connect as a run does, collect ``window_s`` session seconds of samples, disconnect."""
        from sensors.sources.ble.client import PMD_LOST, BleSource

        source = BleSource(
            address=target.address,
            name=target.name if target.address is None else None,
            clock=self.clock,
            config=self._config(),
            backends=self.backends,
        )
        try:
            await source.start()
        except Exception as exc:  # every failure becomes a finding: the doctor never shows a traceback
            advice = exc.advice if isinstance(exc, SensorUnavailableError) else ""
            message = (
                exc.message if isinstance(exc, SensorUnavailableError) else f"{type(exc).__name__}: {exc}"
            )
            with contextlib.suppress(Exception):
                await source.aclose()
            return StreamOutcome(
                False,
                window_s=window_s,
                error=message,
                advice=advice,
                needs_pairing=pairing_needed(exc),
                pair_advice=pair_advice(),
            )
        t0 = source.now()
        samples: list[Any] = []

        async def pump() -> None:
            async for sample in source:
                samples.append(sample)

        task = asyncio.create_task(pump(), name="doctor-stream")
        try:
            await self.clock.sleep(window_s)
        finally:
            await source.aclose()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, CLOSE_TIMEOUT_S)
            if not task.done():
                task.cancel()
        hr = [s for s in samples if isinstance(s, HeartRateSample) and t0 <= s.t <= t0 + window_s]
        events = [s for s in samples if isinstance(s, SensorEvent)]
        caps = source.capabilities_
        pmd_error = _last_fields(events, SensorEventName.PMD_ERROR)
        refusal = " ".join(str(v) for v in pmd_error.values()) if pmd_error else ""
        if pmd_error and isinstance(pmd_error.get("text"), str):
            # the client's sentence says why, what a session loses and what to do (pmd_failure_sentence); the
            # doctor's check says the last two itself: keep the why
            pmd_error = {**pmd_error, "text": pmd_error["text"].split(f"; {PMD_LOST}")[0]}
        return StreamOutcome(
            connected=True,
            offers=caps.describe() if caps is not None else "",
            window_s=window_s,
            hr_bpm=tuple(s.bpm for s in hr),
            contact=tuple(s.contact for s in hr),
            has_pmd=caps.pmd if caps is not None else None,
            has_rsc=caps.rsc if caps is not None else False,
            pmd_started=_last_fields(events, SensorEventName.PMD_STARTED),
            pmd_error=pmd_error,
            connect_failures=tuple(
                str(e.fields.get("reason", "")) for e in events if e.event == SensorEventName.CONNECT_FAILED
            ),
            needs_pairing=bool(refusal) and pairing_needed(text=refusal),
            pair_advice=pair_advice(),
        )


def pair_advice() -> str:
    """The advice for a strap that wants pairing (:data:`sensors.sources.ble.diagnose.ADVICE_PAIR`: one truth)."""
    from sensors.sources.ble.diagnose import ADVICE_PAIR

    return ADVICE_PAIR


def pairing_needed(exc: BaseException | None = None, *, text: str = "") -> bool:
    """Whether ``exc`` (or one of its causes: :func:`sensors.sources.ble.diagnose.needs_pairing`) or a ``pmd_error``
    event's ``text`` (:func:`sensors.sources.ble.diagnose.text_needs_pairing`) says the strap wants pairing first."""
    from sensors.sources.ble.diagnose import needs_pairing, text_needs_pairing

    if any(needs_pairing(error) for error in _causes(exc)):
        return True
    return bool(text) and text_needs_pairing(text)


def _causes(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and its causes (``raise ... from``) and contexts, each once."""
    out: list[BaseException] = []
    while exc is not None and all(exc is not e for e in out):
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def _last_fields(events: Sequence[SensorEvent], name: SensorEventName) -> dict[str, Any] | None:
    found = [e for e in events if e.event == name]
    return dict(found[-1].fields) if found else None


@contextlib.asynccontextmanager
async def virtual_probe(
    moniker: SensorMoniker, *, clock: Clock | None = None
) -> AsyncIterator[tuple[BleakProbe, str]]:
    """A :class:`BleakProbe` on the virtual strap ``moniker`` names (its options included), and the strap's name."""
    try:
        from sensors.sources.virtual.clock import ScaledClock
        from sensors.sources.virtual.script import StrapScript
        from sensors.sources.virtual.source import VirtualRig
        from sensors.sources.virtual.strap import advertised_name
    except ImportError as exc:
        raise SensorUnavailableError(
            f"the virtual strap needs bumble ({exc.name or exc})", "pip install 'coach[virtual]'"
        ) from exc
    assert moniker.path is not None
    script = StrapScript.from_capture(moniker.path, hr_only=moniker.hr_only)
    clock = clock if clock is not None else ScaledClock(1.0, base=LoopClock())
    rig = await VirtualRig.create(script, clock=clock, drop_every_s=moniker.drop_every_s)
    try:
        yield (
            BleakProbe(backends=rig.backends, clock=clock, virtual=True),
            advertised_name(script.name, rsc=script.has_rsc),
        )
    finally:
        await rig.close()


# ------------------------------------------------------------------------------------------------- voice


class VoiceProbe(Protocol):
    async def check(self, phrase: str, *, quiet: bool) -> VoiceOutcome: ...


class SpeakerProbe:
    """The voice a run with ``--voice tts`` gets: renders ``phrase`` (and plays it unless ``quiet``).

    ``renderers`` and ``player`` are passed to :func:`coach.voice.speaker.make_voice` (tests); the WAV cache is a
    temporary folder, so the check never depends on (or fills) the data directory."""

    def __init__(self, *, renderers: Sequence[Any] | None = None, player: Any = "auto") -> None:
        self.renderers = renderers
        self.player = player

    async def check(self, phrase: str, *, quiet: bool) -> VoiceOutcome:
        from coach.voice.speaker import make_voice

        with tempfile.TemporaryDirectory(prefix="coach-doctor-") as tmp:
            voice = make_voice(
                "tts",
                cache_dir=Path(tmp),
                audio_out=None,
                clock=MonotonicClock(),
                echo=lambda _line: None,
                renderers=self.renderers,
                player=None if quiet else self.player,
            )
            try:
                if quiet:
                    await voice.prerender([phrase])
                else:
                    await voice.say(phrase, kind="doctor")
                    await voice.wait_idle()
            except Exception as exc:  # the voice never raises for speech trouble; anything else is a finding
                return VoiceOutcome(engine=voice.engine_name, error=f"{type(exc).__name__}: {exc}")
            finally:
                await voice.close()
            return VoiceOutcome(
                engine=voice.engine_name,
                engine_problems=voice.engine_problems,
                played=None if quiet else voice.player_name is not None,
                player=voice.player_name,
                player_problems=voice.player_problems,
            )


# ------------------------------------------------------------------------------------------------- storage


def storage_outcome(data_dir: Path) -> StorageOutcome:
    """Whether a run can write its session under ``data_dir`` (a real file is written there and removed), and the
    free space. A missing folder is judged by the nearest existing parent (a run creates the rest)."""
    path = data_dir.expanduser()
    exists = path.is_dir()
    if path.exists() and not exists:
        return StorageOutcome(str(path), exists=False, writable=False, error="not a folder", tested=str(path))
    tested = path
    while not tested.exists() and tested != tested.parent:
        tested = tested.parent
    try:
        with tempfile.NamedTemporaryFile(dir=tested, prefix=".coach-doctor-", delete=True) as fh:
            fh.write(b"coach doctor")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return StorageOutcome(
            str(path), exists=exists, writable=False, error=exc.strerror or str(exc), tested=str(tested)
        )
    try:
        free = shutil.disk_usage(tested).free
    except OSError:
        free = None
    return StorageOutcome(str(path), exists=exists, writable=True, free_bytes=free, tested=str(tested))


# ------------------------------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class DoctorOptions:
    """``wanted``: the strap (None: the first heart-rate strap seen); ``quiet``: no test phrase aloud."""

    data_dir: Path
    wanted: SensorWanted | None = None
    scan_timeout_s: float = 5.0
    hr_window_s: float = C.HR_WINDOW_S
    quiet: bool = False


@dataclass
class Probes:
    ble: BleProbe
    voice: VoiceProbe
    system: SystemProbe = field(default_factory=SystemProbe)
    storage: Callable[[Path], StorageOutcome] = storage_outcome


async def run_checks(
    options: DoctorOptions, probes: Probes, *, report: Callable[[Check], None] | None = None
) -> list[Check]:
    """Every check, in order (``report`` gets each as soon as it is known: the command prints as it goes)."""
    out: list[Check] = []

    def add(check: Check) -> None:
        out.append(check)
        if report is not None:
            report(check)

    system = probes.system
    add(C.check_python(system.python()))
    add(C.check_packages(system.packages()))

    virtual = probes.ble.virtual
    view = await probes.ble.scan(options.scan_timeout_s)
    add(
        C.check_bluez(
            view.bluetooth,
            linux=system.linux,
            bluetoothd_running=system.bluetoothd_running() if system.linux else None,
        )
    )
    add(
        C.check_rfkill(
            system.rfkill() if system.linux and not virtual else None, linux=system.linux, virtual=virtual
        )
    )
    add(C.check_adapter(view.bluetooth))
    add(C.check_permission(view.bluetooth))
    strap = C.check_strap(view, options.wanted)
    add(strap)

    outcome: StreamOutcome | None = None
    if strap.status in (C.Status.OK, C.Status.WARN):
        chosen = C.chosen_strap(view, options.wanted)
        assert chosen is not None  # the strap check passed
        # by address: the scan already chose the strap (the client would wait again for a twin of a name)
        target = SensorWanted(address=chosen.address)
        outcome = await probes.ble.stream(target, options.hr_window_s)
    add(C.check_heart_rate(outcome))
    add(C.check_pmd(outcome))

    voice = await probes.voice.check(C.TEST_PHRASE, quiet=options.quiet)
    add(C.check_speech(voice))
    add(C.check_audio(voice))

    storage = probes.storage(options.data_dir)
    add(C.check_data_dir(storage))
    add(C.check_free_space(storage))
    return out
