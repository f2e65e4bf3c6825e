"""The checks of ``coach doctor``, pure: observations in, one :class:`Check` per concern out.

Each check function takes what a probe observed (the typed records below; the probes are
:mod:`coach.doctor.probes`) and returns a :class:`Check`: ``ok``, ``warn`` (a run works, with less: no walk/run
detection, cues as text, a weak signal), ``fail`` (a run would fail: the exit code the run would end with rides on
the check) or ``skip`` (not applicable, or not reachable because an earlier check failed). Advice texts come from
where the project already keeps them (:mod:`sensors.sources.ble.diagnose` through the probes, which hand them over
in the records); the few that are new live here as named constants.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from coach.errors import EXIT_SENSOR, EXIT_STORAGE

#: The exit code of a broken install (Python too old, a required package missing): a run would not start at all.
EXIT_INSTALL = 1

#: Heart rate is checked over this many seconds of the strap's stream (issue 12: "heart rate flowing for 5 s").
HR_WINDOW_S = 5.0
#: A heart-rate stream sends about one notification a second; fewer than this many in the window is a warning.
MIN_HR_NOTIFICATIONS = 3
#: An RSSI below this (dBm) is a weak link: at a waist or a bench a Polar H10 reads about -60..-80 dBm; below
#: about -85 dBm notifications start to go missing and drops become likely.
WEAK_RSSI_DBM = -85
#: Free space below this stops a run from being recorded safely: a 30-minute session writes about 2 MB (a
#: capture holds about 1 kB/s with ACC at 100 Hz), and SQLite and the voice cache need room too.
MIN_FREE_BYTES = 50 * 1024 * 1024
#: Free space below this is a warning: about two hundred sessions' worth of room.
LOW_FREE_BYTES = 500 * 1024 * 1024
#: The phrase the audio check says aloud.
TEST_PHRASE = "Coach doctor: this is a test. You should hear this."

ADVICE_PMD_FIRMWARE = (
    "update the strap's firmware (Polar Flow app or Polar FlowSync) to get the accelerometer"
)
ADVICE_NO_ACC = (
    "a Polar H10 (or a foot pod) gives walk/run detection; with this strap cues follow the clock and "
    "adherence is 'unknown'"
)
ADVICE_WEAK_SIGNAL = "keep the computer within a couple of metres of the strap, on the same side of the body"
ADVICE_HR_CONTACT = "wet the strap's electrodes and tighten the strap so that it touches the skin"
ADVICE_ESPEAK = "install espeak-ng (Debian/Raspberry Pi OS: sudo apt install espeak-ng); see docs/voice.md"
ADVICE_AUDIO = (
    "install a player and check the sound output (sudo apt install alsa-utils sox; speaker-test -t wav -c 2 -l 1); "
    "see docs/raspberry-pi.md, Audio"
)
ADVICE_DATA_DIR = "choose a writable place with --data-dir DIR or the environment variable COACH_DATA_DIR"
ADVICE_FREE_SPACE = "free some space on that disk, or choose another place with --data-dir"
ADVICE_INSTALL = "reinstall coach in its virtual environment (make install, or pip install -e .)"

#: Every check, in the order the doctor runs them.
CHECK_NAMES = (
    "python",
    "packages",
    "bluez",
    "rfkill",
    "adapter",
    "permission",
    "strap",
    "heart-rate",
    "pmd",
    "speech",
    "audio",
    "data-dir",
    "free-space",
)
NAME_WIDTH = max(len(n) for n in CHECK_NAMES)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's answer. ``exit_code`` is the code a run would end with (only for a fail)."""

    name: str
    status: Status
    finding: str
    fix: str = ""
    exit_code: int = 0

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "status": str(self.status),
            "finding": self.finding,
            "fix": self.fix,
        }
        if self.status == Status.FAIL:
            out["exit_code"] = self.exit_code
        return out


def ok(name: str, finding: str) -> Check:
    return Check(name, Status.OK, finding)


def warn(name: str, finding: str, fix: str) -> Check:
    return Check(name, Status.WARN, finding, fix)


def fail(name: str, finding: str, fix: str, exit_code: int) -> Check:
    return Check(name, Status.FAIL, finding, fix, exit_code)


def skip(name: str, why: str) -> Check:
    return Check(name, Status.SKIP, why)


# ------------------------------------------------------------------------------------------------- observations


@dataclass(frozen=True, slots=True)
class PythonInfo:
    version: tuple[int, int, int]
    #: coach's ``Requires-Python`` (e.g. ">=3.11"), and whether this Python satisfies it (None: unknown).
    requires: str = ""
    satisfied: bool | None = None


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """One package coach uses: its installed ``version`` (None: missing), what coach asks for, whether it fits."""

    name: str
    version: str | None
    required: str = ""
    satisfied: bool | None = None
    #: A run works without it (pyttsx3: espeak-ng and text are the fallbacks).
    optional: bool = False


class BluetoothKind(StrEnum):
    """What opening a scan said about the Bluetooth stack (the probe maps diagnose.py's errors onto these)."""

    OK = "ok"
    VIRTUAL = "virtual"  # a virtual strap: no radio is used
    NO_DBUS = "no_dbus"
    NO_BLUEZ = "no_bluez"
    NOT_ANSWERING = "not_answering"
    OFF = "off"
    PERMISSION = "permission"
    NO_ADAPTER = "no_adapter"
    BUSY = "busy"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class BluetoothStatus:
    kind: BluetoothKind
    message: str = ""
    advice: str = ""


@dataclass(frozen=True, slots=True)
class RfkillDevice:
    """A Bluetooth radio switch as /sys/class/rfkill shows it."""

    name: str
    soft_blocked: bool
    hard_blocked: bool


@dataclass(frozen=True, slots=True)
class SeenSensor:
    """One advertising device (from a scan): what it offers, from its advertisement."""

    name: str | None
    address: str
    rssi_dbm: int | None
    heart_rate: bool
    offers: str
    usable: bool
    #: Not advertising but held connected by the OS (a run that was killed): a run uses that connection.
    held: bool = False

    def label(self) -> str:
        return f"{self.name or '(no name)'} [{self.address}]"


@dataclass(frozen=True, slots=True)
class ScanView:
    """What a scan saw; ``bluetooth`` says whether the stack let us scan at all."""

    bluetooth: BluetoothStatus
    seen: tuple[SeenSensor, ...] = ()
    timeout_s: float = 0.0
    advice_not_found: str = ""


@dataclass(frozen=True, slots=True)
class SensorWanted:
    """The strap asked for with ``--sensor`` (address or name), or None for "the first heart-rate strap"."""

    address: str | None = None
    name: str | None = None

    def describe(self) -> str:
        return f"address {self.address}" if self.address else f"name {self.name!r}"

    def matches(self, sensor: SeenSensor) -> bool:
        """Same rule as the client's scan (sensors.sources.ble.scan.matches): address, or name or its beginning."""
        if self.address is not None:
            return sensor.address.upper() == self.address.upper()
        return bool(self.name and sensor.name and sensor.name.casefold().startswith(self.name.casefold()))


@dataclass(frozen=True, slots=True)
class StreamOutcome:
    """What the production client did in the heart-rate window: connected, samples, PMD events, or the error."""

    connected: bool
    offers: str = ""
    window_s: float = HR_WINDOW_S
    hr_bpm: tuple[int, ...] = ()
    #: Each heart-rate notification's skin contact: True, False, or None (the strap does not report contact).
    contact: tuple[bool | None, ...] = ()
    has_pmd: bool | None = None
    has_rsc: bool = False
    pmd_started: Mapping[str, Any] | None = None
    pmd_error: Mapping[str, Any] | None = None
    error: str | None = None
    advice: str = ""
    #: Why each failed connection attempt before the one that worked failed (the client retries within its budget).
    connect_failures: tuple[str, ...] = ()
    #: The strap refused until it is paired (the connection's error, or the PMD refusal, says so); the probe
    #: decides it with sensors.sources.ble.diagnose and hands over the advice to give then.
    needs_pairing: bool = False
    pair_advice: str = ""


@dataclass(frozen=True, slots=True)
class VoiceOutcome:
    """What the voice did with the test phrase (``coach.voice.speaker``, as a run with ``--voice tts`` would)."""

    engine: str  # "pyttsx3", "espeak-ng" or "chime"
    engine_problems: Mapping[str, str] = field(default_factory=dict)
    played: bool | None = None  # None: not tried (--quiet)
    player: str | None = None
    player_problems: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StorageOutcome:
    path: str
    exists: bool
    writable: bool
    error: str = ""
    free_bytes: int | None = None
    #: The folder that was tested when ``path`` does not exist yet (a run creates it).
    tested: str = ""


# ------------------------------------------------------------------------------------------------- checks


def check_python(info: PythonInfo) -> Check:
    version = ".".join(str(v) for v in info.version)
    if info.satisfied is False:
        return fail("python", f"Python {version}; coach needs {info.requires}", ADVICE_INSTALL, EXIT_INSTALL)
    needs = f" (coach needs {info.requires})" if info.requires else ""
    return ok("python", f"Python {version}{needs}")


def check_packages(packages: Sequence[PackageInfo]) -> Check:
    shown = ", ".join(f"{p.name} {p.version}" for p in packages if p.version is not None)
    missing = [p for p in packages if p.version is None and not p.optional]
    wrong = [p for p in packages if p.version is not None and p.satisfied is False]
    if missing or wrong:
        parts = [f"{p.name} missing" for p in missing]
        parts += [f"{p.name} {p.version} (coach needs {p.name}{p.required})" for p in wrong]
        return fail("packages", "; ".join(parts), ADVICE_INSTALL, EXIT_INSTALL)
    absent_optional = [p for p in packages if p.version is None]
    if absent_optional:
        names = ", ".join(p.name for p in absent_optional)
        return warn(
            "packages", f"{shown}; {names} missing: speech falls back to espeak-ng or text", ADVICE_INSTALL
        )
    return ok("packages", shown)


#: Which check a scan failure belongs to (the others are skipped: they could not be reached).
_OWNER = {
    BluetoothKind.NO_DBUS: "bluez",
    BluetoothKind.NO_BLUEZ: "bluez",
    BluetoothKind.NOT_ANSWERING: "bluez",
    BluetoothKind.OFF: "adapter",
    BluetoothKind.NO_ADAPTER: "adapter",
    BluetoothKind.BUSY: "adapter",
    BluetoothKind.OTHER: "adapter",
    BluetoothKind.PERMISSION: "permission",
}
_ORDER = ("bluez", "adapter", "permission")


def check_bluez(status: BluetoothStatus, *, linux: bool, bluetoothd_running: bool | None) -> Check:
    """BlueZ answers on the system bus (org.bluez), with whether a bluetoothd process runs."""
    if status.kind == BluetoothKind.VIRTUAL:
        return skip("bluez", "virtual strap: the radio is not used")
    if not linux:
        return skip("bluez", "not Linux: bleak uses the system's own Bluetooth stack")
    owner = _OWNER.get(status.kind)
    if owner == "bluez":
        process = ""
        if bluetoothd_running is not None:
            process = "; a bluetoothd process runs" if bluetoothd_running else "; no bluetoothd process runs"
        return fail("bluez", status.message + process, status.advice, EXIT_SENSOR)
    process = " (bluetoothd runs)" if bluetoothd_running else ""
    return ok("bluez", f"org.bluez answers on the system bus{process}")


def check_rfkill(devices: Sequence[RfkillDevice] | None, *, linux: bool, virtual: bool) -> Check:
    """No Bluetooth radio soft- or hard-blocked (/sys/class/rfkill)."""
    if virtual:
        return skip("rfkill", "virtual strap: the radio is not used")
    if not linux:
        return skip("rfkill", "not Linux")
    if devices is None:
        return skip("rfkill", "no /sys/class/rfkill here (a container?)")
    if not devices:
        return skip("rfkill", "no Bluetooth radio listed in /sys/class/rfkill")
    hard = [d.name for d in devices if d.hard_blocked]
    soft = [d.name for d in devices if d.soft_blocked]
    if hard and len(hard) == len(devices):
        return fail(
            "rfkill",
            f"Bluetooth is hard-blocked ({', '.join(hard)}): a switch or the firmware turned the radio off",
            "turn the radio on with the machine's wireless switch or key, or in the firmware setup",
            EXIT_SENSOR,
        )
    if soft and len(soft) == len(devices):
        return fail(
            "rfkill",
            f"Bluetooth is soft-blocked ({', '.join(soft)})",
            "rfkill unblock bluetooth",
            EXIT_SENSOR,
        )
    if hard or soft:
        blocked = ", ".join(sorted(set(hard + soft)))
        return warn(
            "rfkill", f"some Bluetooth radios are blocked ({blocked}); another one is free", "rfkill list"
        )
    return ok("rfkill", f"not blocked ({', '.join(d.name for d in devices)})")


def check_adapter(status: BluetoothStatus) -> Check:
    """An adapter is there and powered: a scan could start."""
    if status.kind == BluetoothKind.VIRTUAL:
        return ok("adapter", "the virtual strap's adapter is up")
    owner = _OWNER.get(status.kind)
    if owner == "adapter":
        if status.kind == BluetoothKind.BUSY:
            return warn("adapter", status.message, status.advice)
        return fail("adapter", status.message, status.advice, EXIT_SENSOR)
    if owner is not None and _ORDER.index(owner) < _ORDER.index("adapter"):
        return skip("adapter", "not checked: Bluetooth is not reachable (above)")
    return ok("adapter", "present and powered (a scan ran)")


def check_permission(status: BluetoothStatus) -> Check:
    """This user may talk to the Bluetooth stack (org.bluez on Linux)."""
    if status.kind == BluetoothKind.VIRTUAL:
        return ok("permission", "the virtual strap needs none")
    owner = _OWNER.get(status.kind)
    if owner == "permission":
        return fail("permission", status.message, status.advice, EXIT_SENSOR)
    if owner is not None:
        return skip("permission", "not checked: Bluetooth is not reachable (above)")
    return ok("permission", "this user may scan and connect")


def strap_candidates(view: ScanView, wanted: SensorWanted | None) -> list[SeenSensor]:
    """The sensors the doctor would connect to: those matching ``wanted``, else the heart-rate straps seen
    (strongest signal first)."""
    if wanted is not None:
        return [s for s in view.seen if wanted.matches(s)]
    straps = [s for s in view.seen if s.heart_rate]
    return sorted(straps, key=lambda s: -(s.rssi_dbm if s.rssi_dbm is not None else -999))


def chosen_strap(view: ScanView, wanted: SensorWanted | None) -> SeenSensor | None:
    """The one sensor the doctor connects to (by its address: the scan already chose it), or None: none seen, or a
    name that matches several, none of them exactly (the client's rule, sensors.sources.ble.scan.find_device: the
    one sensor named exactly so, else refuse)."""
    found = strap_candidates(view, wanted)
    if not found:
        return None
    if wanted is not None and wanted.name is not None and len(found) > 1:
        exact = [s for s in found if (s.name or "").casefold() == wanted.name.casefold()]
        return exact[0] if len(exact) == 1 else None
    return found[0]


def check_strap(view: ScanView, wanted: SensorWanted | None) -> Check:
    """The strap advertises, with its signal strength."""
    if view.bluetooth.kind not in (BluetoothKind.OK, BluetoothKind.VIRTUAL):
        return skip("strap", "not checked: no scan (above)")
    found = strap_candidates(view, wanted)
    best = chosen_strap(view, wanted)
    if not found:
        what = f"no sensor with {wanted.describe()}" if wanted else "no heart-rate strap"
        seen = ", ".join(s.label() for s in view.seen[:8]) if view.seen else "none"
        return fail(
            "strap",
            f"{what} advertised within {view.timeout_s:g} s; seen: {seen}",
            view.advice_not_found,
            EXIT_SENSOR,
        )
    if best is None:
        labels = ", ".join(s.label() for s in found)
        return fail(
            "strap",
            f"{len(found)} sensors match {wanted.describe() if wanted else 'no name'}: {labels}",
            "choose one with --sensor ble:ADDRESS",
            EXIT_SENSOR,
        )
    if best.held:
        return ok(
            "strap",
            f"{best.label()} is still connected in the Bluetooth stack (a run that was killed?) and does not "
            "advertise: coach uses that connection",
        )
    rssi = f"{best.rssi_dbm} dBm" if best.rssi_dbm is not None else "signal unknown"
    finding = f"{best.label()} at {rssi}, offers {best.offers}"
    if best.rssi_dbm is not None and best.rssi_dbm < WEAK_RSSI_DBM:
        return warn("strap", finding + " (weak)", ADVICE_WEAK_SIGNAL)
    if wanted is None and len(found) > 1:
        finding += f" (and {len(found) - 1} more; pick one with --sensor)"
    return ok("strap", finding)


def check_heart_rate(outcome: StreamOutcome | None) -> Check:
    """Heart rate flows through the production client for the window."""
    if outcome is None:
        return skip("heart-rate", "not checked: no strap to connect to (above)")
    if not outcome.connected:
        finding = outcome.error or "could not connect (no reason given)"
        if not finding.startswith("could not connect"):
            finding = f"could not connect: {finding}"
        fix = outcome.pair_advice if outcome.needs_pairing else outcome.advice
        return fail("heart-rate", finding, fix, EXIT_SENSOR)
    n = len(outcome.hr_bpm)
    if n == 0:
        return fail(
            "heart-rate",
            f"connected, but no heart rate in {outcome.window_s:g} s",
            ADVICE_HR_CONTACT,
            EXIT_SENSOR,
        )
    low, high = min(outcome.hr_bpm), max(outcome.hr_bpm)
    span = f"{low}" if low == high else f"{low}-{high}"
    finding = f"{n} readings in {outcome.window_s:g} s, {span} bpm"
    retried = ""
    if outcome.connect_failures:
        retried = f" (connected after {len(outcome.connect_failures)} failed attempt(s): "
        retried += "; ".join(outcome.connect_failures) + ")"
    if outcome.contact and all(c is False for c in outcome.contact):
        return warn("heart-rate", finding + ", but no skin contact" + retried, ADVICE_HR_CONTACT)
    if n < MIN_HR_NOTIFICATIONS:
        return warn("heart-rate", finding + " (fewer than expected)" + retried, ADVICE_WEAK_SIGNAL)
    if any(c is True for c in outcome.contact):
        finding += ", skin contact"
    return ok("heart-rate", finding + retried)


def check_pmd(outcome: StreamOutcome | None) -> Check:
    """The Polar accelerometer (PMD) starts: walk/run detection works; or why not, and whether pairing helps."""
    if outcome is None:
        return skip("pmd", "not checked: no strap to connect to (above)")
    if not outcome.connected:
        if outcome.needs_pairing:
            return fail(
                "pmd",
                "the strap wants to be paired before the accelerometer starts (authentication refused)",
                outcome.pair_advice,
                EXIT_SENSOR,
            )
        return skip("pmd", "not checked: not connected (above)")
    if outcome.pmd_started is not None:
        f = outcome.pmd_started
        finding = f"accelerometer started at {f.get('sample_rate_hz')} Hz, {f.get('range_g')} G"
        if f.get("adjusted_from"):
            finding += f" (asked for {f['adjusted_from']})"
        return ok("pmd", finding)
    if outcome.pmd_error is not None:
        text = str(outcome.pmd_error.get("text") or outcome.pmd_error.get("status_name") or "refused")
        lost = "; a run goes on with heart rate, without walk/run detection"
        if outcome.needs_pairing:
            return warn("pmd", text.rstrip(".") + lost, outcome.pair_advice)
        return warn("pmd", text.rstrip(".") + lost, ADVICE_NO_ACC)
    if outcome.has_pmd:
        return warn(
            "pmd",
            "the strap has the PMD service but the accelerometer did not start (old firmware without the "
            "PMD characteristics?)",
            ADVICE_PMD_FIRMWARE,
        )
    if outcome.has_rsc:
        return ok("pmd", "no accelerometer (PMD); walk/run comes from the foot pod's cadence (RSC)")
    return warn("pmd", "no accelerometer (PMD) and no foot pod: no walk/run detection", ADVICE_NO_ACC)


def check_speech(outcome: VoiceOutcome) -> Check:
    """A speech engine renders the cues (pyttsx3 -> espeak-ng -> chime, as coach.voice picks)."""
    problems = "; ".join(f"{name}: {why}" for name, why in outcome.engine_problems.items())
    if outcome.error:
        return warn("speech", f"the voice failed: {outcome.error}; cues are shown as text", ADVICE_ESPEAK)
    if outcome.engine == "chime":
        return warn(
            "speech",
            f"no speech engine ({problems or 'none works'}): cues are a chime and text",
            ADVICE_ESPEAK,
        )
    if problems:
        return warn("speech", f"speaking with {outcome.engine} ({problems})", ADVICE_ESPEAK)
    return ok("speech", f"speaking with {outcome.engine}")


def check_audio(outcome: VoiceOutcome) -> Check:
    """An audio player works: the test phrase was played (skipped with ``--quiet``)."""
    if outcome.played is None:
        return skip("audio", "not tried (--quiet)")
    if outcome.played and outcome.player:
        return ok("audio", f"said {TEST_PHRASE!r} through {outcome.player}")
    why = "; ".join(outcome.player_problems) or "no player found"
    return warn("audio", f"no working audio player ({why}): cues are shown as text", ADVICE_AUDIO)


def check_data_dir(outcome: StorageOutcome) -> Check:
    """The data directory can take a session (it is created by the first run when missing)."""
    if not outcome.writable:
        why = f": {outcome.error}" if outcome.error else ""
        where = outcome.path if outcome.exists else f"{outcome.path} (cannot be created in {outcome.tested})"
        return fail("data-dir", f"cannot write {where}{why}", ADVICE_DATA_DIR, EXIT_STORAGE)
    if not outcome.exists:
        return ok("data-dir", f"{outcome.path} (will be created by the first run)")
    return ok("data-dir", f"{outcome.path} is writable")


def check_free_space(outcome: StorageOutcome) -> Check:
    if outcome.free_bytes is None:
        return skip("free-space", "not checked: the data directory is not reachable (above)")
    free = human_bytes(outcome.free_bytes)
    if outcome.free_bytes < MIN_FREE_BYTES:
        return fail(
            "free-space",
            f"{free} free (a run needs at least {human_bytes(MIN_FREE_BYTES)})",
            ADVICE_FREE_SPACE,
            EXIT_STORAGE,
        )
    if outcome.free_bytes < LOW_FREE_BYTES:
        return warn("free-space", f"{free} free: low", ADVICE_FREE_SPACE)
    return ok("free-space", f"{free} free")


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "kB") else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------------- the answer


def exit_code(checks: Iterable[Check]) -> int:
    """0 when a run would start; else the exit code the run would end with, from the first failing check."""
    for check in checks:
        if check.status == Status.FAIL:
            return check.exit_code or EXIT_INSTALL
    return 0


def format_text(checks: Sequence[Check]) -> list[str]:
    """The lines ``coach doctor`` prints: status, name, finding; a fix under each warning or failure."""
    width = max([NAME_WIDTH, *(len(c.name) for c in checks)])
    lines = []
    for c in checks:
        label = {Status.OK: "ok", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIP: "skip"}[c.status]
        lines.append(f"{label:<4}  {c.name:<{width}}  {c.finding}")
        if c.fix and c.status in (Status.WARN, Status.FAIL):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {c.fix}")
    lines.append(summary_line(checks))
    return lines


def summary_line(checks: Sequence[Check]) -> str:
    failed = [c.name for c in checks if c.status == Status.FAIL]
    warned = [c.name for c in checks if c.status == Status.WARN]
    head = f"{len(failed)} problem(s) would stop a run: {', '.join(failed)}" if failed else "ready for a run"
    if warned:
        head += f"; {len(warned)} warning(s): {', '.join(warned)}"
    return head + "."


def format_json(checks: Sequence[Check]) -> str:
    code = exit_code(checks)
    return json.dumps(
        {"ready": code == 0, "exit_code": code, "checks": [c.as_json() for c in checks]},
        indent=2,
        ensure_ascii=False,
    )
