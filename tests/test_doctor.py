"""``coach doctor``: each check's pass and fail from plain records (table tests), the probes with fakes, and the
Bluetooth checks end to end through the production client against the virtual strap (bumble backend, virtual time).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bleak.exc import BleakDBusError, BleakError, BleakGATTProtocolError
from click.testing import CliRunner

from coach.cli import cli
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
    Status,
    StorageOutcome,
    StreamOutcome,
    VoiceOutcome,
)
from coach.doctor.probes import (
    BleakProbe,
    DoctorOptions,
    Probes,
    SpeakerProbe,
    SystemProbe,
    bluetooth_status,
    held_sensor,
    pair_advice,
    pairing_needed,
    run_checks,
    storage_outcome,
)
from coach.errors import EXIT_SENSOR, EXIT_STORAGE
from coach.voice.audio import NullPlayer, write_wav
from coach.voice.speaker import FunctionRenderer, RenderUnavailable
from sensors.errors import SensorUnavailableError
from sensors.sources.ble.diagnose import ADVICE_NOT_FOUND, ADVICE_OFF, classify
from sensors.sources.virtual.clock import ScaledClock
from sensors.sources.virtual.script import StrapScript
from sensors.sources.virtual.source import VirtualRig
from sensors.sources.virtual.strap import advertised_name
from tests import virtual_time
from tests.virtual_time import LoopClock

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"

H10 = SeenSensor(
    "Polar H10 1A2B3C4D", "A0:9E:1A:00:00:01", -62, True, "heart rate, accelerometer (PMD, likely)", True
)
H10_FAR = SeenSensor("Polar H10 1A2B3C4D", "A0:9E:1A:00:00:01", -93, True, "heart rate", True)
OTHER_H10 = SeenSensor("Polar H10 99999999", "A0:9E:1A:00:00:02", -70, True, "heart rate", True)
PLAIN_H10 = SeenSensor("Polar H10", "A0:9E:1A:00:00:03", -80, True, "heart rate", True)
PHONE = SeenSensor("Pixel 7", "11:22:33:44:55:66", -50, False, "not usable by coach", False)
HELD_H10 = held_sensor("Polar H10 1A2B3C4D", "A0:9E:1A:00:00:01")
UP = BluetoothStatus(BluetoothKind.OK)


def names(checks: list[Check]) -> list[str]:
    return [c.name for c in checks]


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


# ------------------------------------------------------------------------------------------------ pure checks


@pytest.mark.parametrize(
    ("check", "status", "needle"),
    [
        (
            C.check_python(PythonInfo((3, 11, 7), ">=3.11", True)),
            Status.OK,
            "Python 3.11.7 (coach needs >=3.11)",
        ),
        (C.check_python(PythonInfo((3, 10, 2), ">=3.11", False)), Status.FAIL, "coach needs >=3.11"),
        (
            C.check_packages(
                [PackageInfo("bleak", "3.1.0", ">=3.1,<4", True), PackageInfo("numpy", "2.4.6")]
            ),
            Status.OK,
            "bleak 3.1.0, numpy 2.4.6",
        ),
        (C.check_packages([PackageInfo("bleak", None, ">=3.1")]), Status.FAIL, "bleak missing"),
        (
            C.check_packages([PackageInfo("bleak", "0.22.3", "<4,>=3.1", False)]),
            Status.FAIL,
            "bleak 0.22.3 (coach needs bleak<4,>=3.1)",
        ),
        (
            C.check_packages(
                [PackageInfo("numpy", "2.4.6"), PackageInfo("pyttsx3", None, "==2.99", optional=True)]
            ),
            Status.WARN,
            "pyttsx3 missing: speech falls back",
        ),
        # rfkill
        (
            C.check_rfkill([RfkillDevice("hci0", False, False)], linux=True, virtual=False),
            Status.OK,
            "not blocked",
        ),
        (
            C.check_rfkill([RfkillDevice("hci0", True, False)], linux=True, virtual=False),
            Status.FAIL,
            "soft-blocked",
        ),
        (
            C.check_rfkill([RfkillDevice("hci0", False, True)], linux=True, virtual=False),
            Status.FAIL,
            "hard-blocked",
        ),
        (
            C.check_rfkill(
                [RfkillDevice("hci0", True, False), RfkillDevice("hci1", False, False)],
                linux=True,
                virtual=False,
            ),
            Status.WARN,
            "another one is free",
        ),
        (C.check_rfkill(None, linux=True, virtual=False), Status.SKIP, "no /sys/class/rfkill"),
        (C.check_rfkill([], linux=False, virtual=False), Status.SKIP, "not Linux"),
        # strap
        (
            C.check_strap(ScanView(UP, (PHONE, H10), 5.0), None),
            Status.OK,
            "Polar H10 1A2B3C4D [A0:9E:1A:00:00:01] at -62 dBm",
        ),
        (
            C.check_strap(ScanView(UP, (H10_FAR,), 5.0), None),
            Status.WARN,
            "-93 dBm, offers heart rate (weak)",
        ),
        (
            C.check_strap(ScanView(UP, (PHONE,), 5.0, ADVICE_NOT_FOUND), None),
            Status.FAIL,
            "no heart-rate strap advertised within 5 s; seen: Pixel 7 [11:22:33:44:55:66]",
        ),
        (
            C.check_strap(
                ScanView(UP, (H10,), 5.0, ADVICE_NOT_FOUND), SensorWanted(address="A0:9E:1A:00:00:09")
            ),
            Status.FAIL,
            "no sensor with address A0:9E:1A:00:00:09",
        ),
        (
            C.check_strap(ScanView(UP, (H10, OTHER_H10), 5.0), SensorWanted(name="Polar H10")),
            Status.FAIL,
            "2 sensors match name 'Polar H10'",
        ),
        (
            C.check_strap(ScanView(UP, (H10, OTHER_H10), 5.0), SensorWanted(name="polar h10 1a2b3c4d")),
            Status.OK,
            "Polar H10 1A2B3C4D",
        ),
        (
            C.check_strap(ScanView(UP, (H10, OTHER_H10, PLAIN_H10), 5.0), SensorWanted(name="Polar H10")),
            Status.OK,
            "Polar H10 [A0:9E:1A:00:00:03] at -80 dBm",  # the one named exactly so, as the client takes
        ),
        (C.check_strap(ScanView(BluetoothStatus(BluetoothKind.OFF)), None), Status.SKIP, "no scan"),
        (
            C.check_strap(ScanView(UP, (HELD_H10,), 5.0), SensorWanted(name="Polar H10")),
            Status.OK,
            "[A0:9E:1A:00:00:01] is still connected in the Bluetooth stack (a run that was killed?)",
        ),
        # heart rate
        (
            C.check_heart_rate(StreamOutcome(True, hr_bpm=(61, 62, 64, 63, 62), contact=(True,) * 5)),
            Status.OK,
            "5 readings in 5 s, 61-64 bpm, skin contact",
        ),
        (C.check_heart_rate(StreamOutcome(True)), Status.FAIL, "connected, but no heart rate in 5 s"),
        (
            C.check_heart_rate(
                StreamOutcome(
                    True, hr_bpm=(61, 64, 62), contact=(True,) * 3, connect_failures=("in progress", "abort")
                )
            ),
            Status.OK,
            "3 readings in 5 s, 61-64 bpm, skin contact (connected after 2 failed attempt(s): in progress; abort)",
        ),
        (
            C.check_heart_rate(StreamOutcome(True, hr_bpm=(0, 0, 0, 0), contact=(False,) * 4)),
            Status.WARN,
            "no skin contact",
        ),
        (
            C.check_heart_rate(StreamOutcome(True, hr_bpm=(70,), contact=(None,))),
            Status.WARN,
            "fewer than expected",
        ),
        (
            C.check_heart_rate(
                StreamOutcome(False, error="could not connect to ble:name=X: timed out", advice="move closer")
            ),
            Status.FAIL,
            "could not connect",
        ),
        (C.check_heart_rate(None), Status.SKIP, "no strap"),
        # pmd
        (
            C.check_pmd(
                StreamOutcome(True, pmd_started={"sample_rate_hz": 100, "range_g": 8, "resolution_bits": 16})
            ),
            Status.OK,
            "accelerometer started at 100 Hz, 8 G",
        ),
        (
            C.check_pmd(
                StreamOutcome(True, pmd_error={"text": "The strap refused the start.", "status_name": "X"})
            ),
            Status.WARN,
            "The strap refused the start; a run goes on with heart rate, without walk/run detection",
        ),
        (C.check_pmd(StreamOutcome(True, has_pmd=True)), Status.WARN, "old firmware"),
        (C.check_pmd(StreamOutcome(True, has_pmd=False, has_rsc=True)), Status.OK, "foot pod"),
        (C.check_pmd(StreamOutcome(True, has_pmd=False)), Status.WARN, "no walk/run detection"),
        # voice
        (C.check_speech(VoiceOutcome("pyttsx3")), Status.OK, "speaking with pyttsx3"),
        (
            C.check_speech(VoiceOutcome("espeak-ng", {"pyttsx3": "no voices installed"})),
            Status.WARN,
            "speaking with espeak-ng (pyttsx3: no voices installed)",
        ),
        (
            C.check_speech(VoiceOutcome("chime", {"pyttsx3": "x", "espeak-ng": "not installed"})),
            Status.WARN,
            "no speech engine",
        ),
        (C.check_audio(VoiceOutcome("pyttsx3", played=True, player="aplay")), Status.OK, "through aplay"),
        (
            C.check_audio(VoiceOutcome("pyttsx3", played=False, player_problems=("aplay: not installed",))),
            Status.WARN,
            "no working audio player (aplay: not installed)",
        ),
        (C.check_audio(VoiceOutcome("pyttsx3")), Status.SKIP, "--quiet"),
        # storage
        (C.check_data_dir(StorageOutcome("/d", True, True, free_bytes=10**10)), Status.OK, "/d is writable"),
        (C.check_data_dir(StorageOutcome("/d", False, True, tested="/")), Status.OK, "will be created"),
        (
            C.check_data_dir(StorageOutcome("/ro/d", False, False, "Read-only file system", tested="/ro")),
            Status.FAIL,
            "cannot write /ro/d (cannot be created in /ro): Read-only file system",
        ),
        (
            C.check_free_space(StorageOutcome("/d", True, True, free_bytes=C.MIN_FREE_BYTES - 1)),
            Status.FAIL,
            "a run needs at least 50.0 MB",
        ),
        (
            C.check_free_space(StorageOutcome("/d", True, True, free_bytes=C.LOW_FREE_BYTES - 1)),
            Status.WARN,
            "low",
        ),
        (
            C.check_free_space(StorageOutcome("/d", True, True, free_bytes=C.LOW_FREE_BYTES)),
            Status.OK,
            "500.0 MB free",
        ),
        (C.check_free_space(StorageOutcome("/d", True, False)), Status.SKIP, "not reachable"),
    ],
)
def test_each_check_passes_and_fails_on_plain_records(check: Check, status: Status, needle: str) -> None:
    assert check.status == status, check
    assert needle in check.finding, check
    if status in (Status.WARN, Status.FAIL):
        assert check.fix, f"{check.name}: a problem comes with its fix"
    assert (check.exit_code != 0) == (status == Status.FAIL)


def test_the_strap_chosen_is_the_one_the_strap_check_passes() -> None:
    """The doctor connects by the address its scan chose: the one sensor named exactly so among several matches,
    none when the name is ambiguous (the strap check fails then), a held strap as well as an advertising one."""
    assert (
        C.chosen_strap(ScanView(UP, (H10, OTHER_H10, PLAIN_H10), 5.0), SensorWanted(name="Polar H10"))
        == PLAIN_H10
    )
    assert C.chosen_strap(ScanView(UP, (H10, OTHER_H10), 5.0), SensorWanted(name="Polar H10")) is None
    assert C.chosen_strap(ScanView(UP, (PHONE, H10_FAR, OTHER_H10), 5.0), None) == OTHER_H10  # strongest
    assert (
        C.chosen_strap(ScanView(UP, (PHONE, HELD_H10), 5.0), SensorWanted(address="a0:9e:1a:00:00:01"))
        == HELD_H10
    )
    assert C.chosen_strap(ScanView(UP, (PHONE,), 5.0), None) is None


@pytest.mark.parametrize(
    ("kind", "owner"),
    [
        (BluetoothKind.NO_DBUS, "bluez"),
        (BluetoothKind.NO_BLUEZ, "bluez"),
        (BluetoothKind.NOT_ANSWERING, "bluez"),
        (BluetoothKind.OFF, "adapter"),
        (BluetoothKind.NO_ADAPTER, "adapter"),
        (BluetoothKind.PERMISSION, "permission"),
    ],
)
def test_a_scan_failure_fails_its_own_check_and_skips_the_ones_it_hides(
    kind: BluetoothKind, owner: str
) -> None:
    status = BluetoothStatus(kind, "what is wrong", "what to do")
    got = {
        "bluez": C.check_bluez(status, linux=True, bluetoothd_running=False),
        "adapter": C.check_adapter(status),
        "permission": C.check_permission(status),
    }
    assert got[owner].status == Status.FAIL and got[owner].exit_code == EXIT_SENSOR
    assert got[owner].finding.startswith("what is wrong") and got[owner].fix == "what to do"
    order = ["bluez", "adapter", "permission"]
    for name in order[order.index(owner) + 1 :]:
        assert got[name].status == Status.SKIP, got[name]
    for name in order[: order.index(owner)]:
        assert got[name].status == Status.OK, got[name]


def test_bluez_names_the_bluetoothd_process_and_is_skipped_off_linux() -> None:
    dead = C.check_bluez(
        BluetoothStatus(BluetoothKind.NO_BLUEZ, "BlueZ is not running", "start it"),
        linux=True,
        bluetoothd_running=False,
    )
    assert dead.finding == "BlueZ is not running; no bluetoothd process runs"
    assert (
        C.check_bluez(UP, linux=True, bluetoothd_running=True).finding
        == "org.bluez answers on the system bus (bluetoothd runs)"
    )
    assert C.check_bluez(UP, linux=False, bluetoothd_running=None).status == Status.SKIP


ADVICE = "pair it"


def test_a_strap_that_wants_pairing_gets_the_pairing_advice() -> None:
    refused = StreamOutcome(
        False, error="could not connect", advice="move closer", needs_pairing=True, pair_advice=ADVICE
    )
    assert C.check_heart_rate(refused).fix == ADVICE
    pmd = C.check_pmd(refused)
    assert pmd.status == Status.FAIL and "paired" in pmd.finding and pmd.fix == ADVICE
    # a refusal the client reports as an event (the session went on with heart rate): a warning with the same fix
    as_event = C.check_pmd(
        StreamOutcome(
            True, hr_bpm=(60,), pmd_error={"text": "refused"}, needs_pairing=True, pair_advice=ADVICE
        )
    )
    assert as_event.status == Status.WARN and as_event.fix == ADVICE


@pytest.mark.parametrize(
    "exc",
    [
        BleakDBusError("org.bluez.Error.NotAuthorized", ["Operation Not Authorized"]),
        BleakError(
            "Could not write value to characteristic 0042: Protocol Error 0x05: Insufficient Authentication"
        ),
        BleakGATTProtocolError(0x05),
        BleakGATTProtocolError(0x0F),
    ],
)
def test_authentication_errors_and_their_wrappers_mean_pairing(exc: BaseException) -> None:
    assert pairing_needed(exc)
    try:
        raise SensorUnavailableError("could not connect to ble:X: timed out", "move closer") from exc
    except SensorUnavailableError as wrapped:
        assert pairing_needed(wrapped)
    assert pairing_needed(text=f"The strap refused: {exc}")
    assert not pairing_needed(TimeoutError("timed out")) and not pairing_needed(BleakGATTProtocolError(0x03))
    assert "pair" in pair_advice()


def test_other_connection_failures_keep_the_clients_advice() -> None:
    timeout = StreamOutcome(False, error="could not connect", advice="move closer", pair_advice=ADVICE)
    assert C.check_heart_rate(timeout).fix == "move closer"
    assert C.check_pmd(timeout).status == Status.SKIP


def test_exit_code_is_the_first_failures_and_the_text_and_json_agree() -> None:
    checks = [
        C.ok("python", "Python 3.11.7"),
        C.warn("audio", "no player", "install one"),
        C.fail("strap", "no strap", "wear it", EXIT_SENSOR),
        C.fail("data-dir", "read-only", "elsewhere", EXIT_STORAGE),
        C.skip("pmd", "not checked"),
    ]
    assert C.exit_code(checks) == EXIT_SENSOR
    assert C.exit_code(checks[:2]) == 0
    lines = C.format_text(checks)
    assert lines[0] == "ok    python      Python 3.11.7"
    assert lines[3] == "FAIL  strap       no strap"
    assert lines[4] == "                  fix: wear it"
    assert lines[-1] == "2 problem(s) would stop a run: strap, data-dir; 1 warning(s): audio."
    data = json.loads(C.format_json(checks))
    assert data["ready"] is False and data["exit_code"] == EXIT_SENSOR
    assert [c["name"] for c in data["checks"]] == names(checks)
    assert data["checks"][2] == {
        "name": "strap",
        "status": "fail",
        "finding": "no strap",
        "fix": "wear it",
        "exit_code": 5,
    }


# ------------------------------------------------------------------------------------------------ probes


def test_system_probe_reads_rfkill_and_bluetoothd_from_their_files(tmp_path: Path) -> None:
    def node(root: Path, entry: str, **files: str) -> None:
        (root / entry).mkdir(parents=True)
        for key, value in files.items():
            (root / entry / key).write_text(value + "\n")

    rfkill = tmp_path / "sys" / "class" / "rfkill"
    node(rfkill, "rfkill0", type="wlan", name="phy0", soft="1", hard="0")
    node(rfkill, "rfkill1", type="bluetooth", name="hci0", soft="1", hard="0")
    node(tmp_path / "proc", "1", comm="systemd")
    node(tmp_path / "proc", "417", comm="bluetoothd")
    (tmp_path / "proc" / "self").mkdir()
    probe = SystemProbe(platform="linux", sys_root=tmp_path / "sys", proc_root=tmp_path / "proc")
    assert probe.rfkill() == [RfkillDevice("hci0", soft_blocked=True, hard_blocked=False)]
    assert probe.bluetoothd_running() is True
    (tmp_path / "proc" / "417" / "comm").write_text("bash\n")
    assert probe.bluetoothd_running() is False
    assert SystemProbe(sys_root=tmp_path / "nothing").rfkill() is None


def test_system_probe_judges_versions_against_coachs_requirements() -> None:
    installed = {"bleak": "0.22.3", "numpy": "2.4.6", "scipy": None, "pyttsx3": None}
    probe = SystemProbe(
        python_version=(3, 10, 4),
        version_of=installed.get,
        requirements=[
            "numpy>=1.26",
            "scipy>=1.11",
            "bleak<4,>=3.1",
            "pyttsx3==2.99",
            "bumble==0.0.236; extra == 'virtual'",
        ],
        requires_python=">=3.11",
    )
    assert probe.python() == PythonInfo((3, 10, 4), ">=3.11", False)
    packages = {p.name: p for p in probe.packages()}
    assert packages["bleak"] == PackageInfo("bleak", "0.22.3", "<4,>=3.1", False)
    assert packages["numpy"].satisfied is True
    assert packages["pyttsx3"].optional and packages["pyttsx3"].version is None
    check = C.check_packages(list(packages.values()))
    assert (
        check.status == Status.FAIL
        and check.finding == "scipy missing; bleak 0.22.3 (coach needs bleak<4,>=3.1)"
    )


def test_the_installed_coach_passes_its_own_package_check() -> None:
    probe = SystemProbe()
    assert C.check_python(probe.python()).status == Status.OK
    assert C.check_packages(probe.packages()).status in (Status.OK, Status.WARN)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (FileNotFoundError(2, "No such file or directory"), BluetoothKind.NO_DBUS),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), BluetoothKind.NO_BLUEZ),
        (BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]), BluetoothKind.OFF),
        (BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []), BluetoothKind.PERMISSION),
        (BleakError("No Bluetooth adapters found."), BluetoothKind.NO_ADAPTER),
        (BleakDBusError("org.freedesktop.DBus.Error.NoReply", []), BluetoothKind.NOT_ANSWERING),
    ],
)
def test_scan_failures_map_onto_the_checks_through_diagnose(exc: BaseException, kind: BluetoothKind) -> None:
    classified = classify(exc)
    assert classified is not None
    status = bluetooth_status(classified)
    assert status.kind == kind
    assert status.advice == classified.advice  # diagnose.py's advice, not a new text


def test_storage_probe_writes_for_real(tmp_path: Path) -> None:
    here = storage_outcome(tmp_path)
    assert here.exists and here.writable and here.free_bytes is not None and here.free_bytes > 0
    assert list(tmp_path.iterdir()) == []  # the test file is gone
    later = storage_outcome(tmp_path / "not" / "yet")
    assert not later.exists and later.writable and later.tested == str(tmp_path)
    (tmp_path / "file").write_text("x")
    under_a_file = storage_outcome(tmp_path / "file" / "coach")
    assert not under_a_file.writable and C.check_data_dir(under_a_file).exit_code == EXIT_STORAGE
    assert C.check_data_dir(storage_outcome(tmp_path / "file")).finding.endswith("not a folder")


def tone(text: str, path: Path) -> None:
    t = np.arange(22050 // 4) / 22050
    write_wav(path, 0.3 * np.sin(2 * np.pi * 440 * t), 22050)


def missing(text: str, path: Path) -> None:
    raise RenderUnavailable("no voices installed")


def test_speaker_probe_says_the_phrase_through_the_player_and_names_the_fallbacks() -> None:
    player = NullPlayer(pace=False)
    probe = SpeakerProbe(
        renderers=[FunctionRenderer("pyttsx3", missing), FunctionRenderer("espeak-ng", tone)], player=player
    )
    # the real loop, not virtual time: the renderers run in threads, and on virtual time an idle loop jumps to the
    # render watchdog's timeout while a thread is still working (the engine would look hung on a busy machine)
    outcome = asyncio.run(probe.check(C.TEST_PHRASE, quiet=False))
    assert outcome == VoiceOutcome(
        "espeak-ng", {"pyttsx3": "no voices installed"}, played=True, player="null", player_problems=()
    )
    assert len(player.started) == 1
    assert C.check_speech(outcome).status == Status.WARN and C.check_audio(outcome).status == Status.OK
    quiet = asyncio.run(
        SpeakerProbe(renderers=[FunctionRenderer("pyttsx3", tone)], player=player).check("x", quiet=True)
    )
    assert quiet.played is None and quiet.engine == "pyttsx3" and len(player.started) == 1  # nothing played


# ------------------------------------------------------------------------------------------------ run_checks


class FakeBle:
    def __init__(self, view: ScanView, stream: StreamOutcome | None = None, *, virtual: bool = False) -> None:
        self.view, self.outcome, self.virtual = view, stream, virtual
        self.streamed: list[SensorWanted] = []

    async def scan(self, timeout_s: float) -> ScanView:
        return self.view

    async def stream(self, target: SensorWanted, window_s: float) -> StreamOutcome:
        self.streamed.append(target)
        assert self.outcome is not None
        return self.outcome


class FakeVoice:
    def __init__(self) -> None:
        self.quiet: list[bool] = []

    async def check(self, phrase: str, *, quiet: bool) -> VoiceOutcome:
        self.quiet.append(quiet)
        return VoiceOutcome("pyttsx3", played=None if quiet else True, player=None if quiet else "aplay")


def fake_system(tmp_path: Path) -> SystemProbe:
    return SystemProbe(platform="linux", sys_root=tmp_path / "no-sys", proc_root=tmp_path / "no-proc")


def test_run_checks_connects_to_the_first_heart_rate_strap_and_orders_every_check(tmp_path: Path) -> None:
    ble = FakeBle(
        ScanView(UP, (PHONE, H10), 5.0),
        StreamOutcome(
            True, hr_bpm=(60,) * 5, has_pmd=True, pmd_started={"sample_rate_hz": 100, "range_g": 8}
        ),
    )
    voice = FakeVoice()
    seen: list[str] = []
    checks = virtual_time.run(
        run_checks(
            DoctorOptions(data_dir=tmp_path, quiet=True),
            Probes(ble=ble, voice=voice, system=fake_system(tmp_path)),
            report=lambda c: seen.append(c.name),
        )
    )
    assert names(checks) == list(C.CHECK_NAMES) == seen
    assert ble.streamed == [SensorWanted(address=H10.address)] and voice.quiet == [True]
    assert C.exit_code(checks) == 0, checks


def test_run_checks_does_not_connect_when_the_scan_failed(tmp_path: Path) -> None:
    ble = FakeBle(ScanView(BluetoothStatus(BluetoothKind.OFF, "Bluetooth is switched off", ADVICE_OFF)))
    checks = by_name(
        virtual_time.run(
            run_checks(
                DoctorOptions(data_dir=tmp_path),
                Probes(ble=ble, voice=FakeVoice(), system=fake_system(tmp_path)),
            )
        )
    )
    assert ble.streamed == []
    assert checks["adapter"].status == Status.FAIL and checks["adapter"].fix == ADVICE_OFF
    assert {checks[n].status for n in ("strap", "heart-rate", "pmd")} == {Status.SKIP}
    assert checks["audio"].status == Status.OK


# ------------------------------------------------------------------------------------------------ end to end: virtual strap


def documented(lines: list[str]) -> None:
    """These output lines are shown in docs/ble.md ("coach doctor") as they are printed."""
    docs = (REPO / "docs" / "ble.md").read_text(encoding="utf-8").splitlines()
    missing = [line for line in lines if line not in docs]
    assert not missing, f"docs/ble.md shows an old output of coach doctor; now: {missing}"


def on_rig(test: Callable[[VirtualRig, Any], Awaitable[None]], **rig_options: Any) -> None:
    """Run ``test`` with the chest recording's virtual strap, on virtual time (no test waits for real)."""

    async def body() -> None:
        clock = ScaledClock(1.0, base=LoopClock())
        rig = await VirtualRig.create(StrapScript.from_capture(CHEST), clock=clock, **rig_options)
        try:
            await test(rig, clock)
        finally:
            await rig.close()

    virtual_time.run(body())


def doctor_on(
    rig: VirtualRig, clock: Any, tmp_path: Path, wanted: SensorWanted | None
) -> Awaitable[list[Check]]:
    probe = BleakProbe(backends=rig.backends, clock=clock, virtual=True)
    options = DoctorOptions(data_dir=tmp_path, wanted=wanted, scan_timeout_s=2.0, quiet=True)
    return run_checks(options, Probes(ble=probe, voice=FakeVoice(), system=fake_system(tmp_path)))


def test_a_healthy_virtual_strap_passes_every_bluetooth_check(tmp_path: Path) -> None:
    async def test(rig: VirtualRig, clock: Any) -> None:
        checks = by_name(await doctor_on(rig, clock, tmp_path, None))  # the first heart-rate strap found
        assert (
            checks["strap"].status == Status.OK
            and advertised_name(rig.strap.script.name) in checks["strap"].finding
        )
        assert checks["heart-rate"].status == Status.OK, checks["heart-rate"]
        assert checks["heart-rate"].finding.startswith("5 readings in 5 s")
        assert checks["pmd"] == C.ok("pmd", "accelerometer started at 100 Hz, 8 G")
        assert C.exit_code(list(checks.values())) == 0

    on_rig(test)


def test_a_strap_that_refuses_the_accelerometer_is_a_warning_and_heart_rate_still_flows(
    tmp_path: Path,
) -> None:
    async def test(rig: VirtualRig, clock: Any) -> None:
        rig.strap.pmd.max_notification_bytes = 10_000  # frames no MTU can carry: every start is refused
        checks = by_name(await doctor_on(rig, clock, tmp_path, SensorWanted(name=rig.strap.script.name[:9])))
        assert checks["heart-rate"].status == Status.OK, checks["heart-rate"]
        pmd = checks["pmd"]
        assert pmd.status == Status.WARN
        assert "refused the start of the accelerometer at 100 Hz, 8 G, 16 bit" in pmd.finding
        assert "code 10 ERROR_INVALID_MTU" in pmd.finding and "without walk/run detection" in pmd.finding
        assert pmd.fix == C.ADVICE_NO_ACC
        assert C.exit_code(list(checks.values())) == 0  # a run goes on: not a failure
        documented(C.format_text([checks["pmd"]])[:-1])

    on_rig(test, ready_timeout_s=60.0)


def test_no_strap_found_fails_with_what_was_seen_and_exit_5(tmp_path: Path) -> None:
    async def test(rig: VirtualRig, clock: Any) -> None:
        checks = by_name(await doctor_on(rig, clock, tmp_path, SensorWanted(name="Polar H10 NOTHERE")))
        strap = checks["strap"]
        assert strap.status == Status.FAIL and strap.fix == ADVICE_NOT_FOUND
        assert strap.finding.startswith(
            "no sensor with name 'Polar H10 NOTHERE' advertised within 2 s; seen: "
        )
        assert advertised_name(rig.strap.script.name) in strap.finding
        assert checks["heart-rate"].status == Status.SKIP and checks["pmd"].status == Status.SKIP
        assert C.exit_code(list(checks.values())) == EXIT_SENSOR
        documented(C.format_text([checks["strap"]])[1:-1])  # the fix (the strap's address varies)

    on_rig(test)


def test_a_strap_that_wants_pairing_before_the_accelerometer_says_pair(tmp_path: Path) -> None:
    """The strap answers a write to the PMD control point with ATT error 0x05 Insufficient Authentication (what an
    unbonded strap does on some platforms, bleak issue 1943): heart rate still flows (a PMD failure never costs it),
    and the doctor says to pair; it does not pair the strap itself (coach record and coach run do)."""

    async def test(rig: VirtualRig, clock: Any) -> None:
        rig.strap.cp_write_error = 0x05
        checks = by_name(await doctor_on(rig, clock, tmp_path, None))
        pmd, hr = checks["pmd"], checks["heart-rate"]
        assert pmd.status == Status.WARN and pmd.fix == pair_advice(), pmd
        assert hr.status == Status.OK, hr
        documented(C.format_text([pmd])[:-1])
        assert C.exit_code(list(checks.values())) == 0  # a run goes on with heart rate

    on_rig(test)


def invoke_doctor(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """``coach doctor ARGS`` through click, on virtual time; the voice is a fake (a speech worker is a real process:
    its start-up would race the virtual clock)."""
    import coach.doctor.probes

    monkeypatch.setattr(coach.doctor.probes, "SpeakerProbe", FakeVoice)
    with virtual_time.virtual_time_policy():
        return CliRunner().invoke(cli, ["doctor", *args])


def test_cli_healthy_virtual_strap_exit_0(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = invoke_doctor(
        monkeypatch, "--sensor", f"virtual:{CHEST}", "--quiet", "--data-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "coach doctor (scan 5 s, heart rate 5 s)"
    assert [line.split()[1] for line in lines[1:-1]] == list(C.CHECK_NAMES)
    assert "ok    pmd         accelerometer started at 100 Hz, 8 G" in lines
    assert lines[-1] == "ready for a run."


def test_cli_strap_without_accelerometer_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = invoke_doctor(
        monkeypatch, "--sensor", f"virtual:{CHEST}?hr_only=1", "--json", "--data-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    checks = {c["name"]: c for c in data["checks"]}
    assert data["ready"] is True and checks["heart-rate"]["status"] == "ok"
    assert checks["pmd"]["status"] == "warn" and "without walk/run detection" in checks["pmd"]["finding"]


@pytest.mark.parametrize(
    ("sensor", "needle"),
    [
        ("replay:" + str(CHEST), "replay: has no radio"),
        ("bluetooth:x", "ble:name=NAME"),
        ("virtual:/nope.jsonl", "no such capture file"),
    ],
)
def test_cli_bad_sensor_is_one_line(sensor: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    from coach.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "--sensor", sensor])
    assert exit_info.value.code in (2, 3)
    err = capsys.readouterr().err
    assert err.startswith("coach: error: ") and err.count("\n") == 1 and needle in err


def test_doctor_is_registered_with_help() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--help"])
    assert result.exit_code == 0 and "--quiet" in result.output and "--json" in result.output


def test_the_entry_point_answers_in_json_whatever_this_machine_has(tmp_path: Path) -> None:
    """A smoke test of ``python -m coach doctor`` as a user runs it: every check answers, no traceback, and the exit
    code is the JSON's (this machine may have Bluetooth or not, a strap or not)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "coach",
            "doctor",
            "--json",
            "--quiet",
            "--timeout",
            "0.5",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["name"] for c in data["checks"]] == list(C.CHECK_NAMES)
    assert proc.returncode == data["exit_code"] == C.exit_code([_as_check(c) for c in data["checks"]])
    assert {c["name"]: c["status"] for c in data["checks"]}["data-dir"] == "ok"


def _as_check(data: dict[str, Any]) -> Check:
    return Check(data["name"], Status(data["status"]), data["finding"], data["fix"], data.get("exit_code", 0))
