"""``coach doctor`` against the BlueZ rig (tests/bluez_rig): bleak's real BlueZ backend over a private D-Bus, BlueZoo,
the virtual strap as a BlueZ GATT application; one rig per case, each fault injected as the rig allows.

The doctor runs as a user runs it, ``python -m coach doctor --quiet --sensor ble:name=<the rig's strap>``, in its own
process with ``DBUS_SYSTEM_BUS_ADDRESS`` on the rig's bus. The strap plays the chest recording at real time (the
doctor's 5-s heart-rate window is wall time in a subprocess), so a case with a connection takes about 8 s. Lines
that do not vary (no RSSI, no bpm, no versions or paths) are checked against docs/ble.md, where these outputs are
shown. Without dbus-daemon or the ``bluez`` extra the tests skip with one line; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coach.doctor import checks as C
from coach.errors import EXIT_SENSOR
from sensors.sources.ble.diagnose import ADVICE_NOT_FOUND, ADVICE_OFF, ADVICE_PAIR
from tests.bluez_rig import BluezRig, Faults, bluez_rig_available
from tests.test_ble_bluez import CHEST, ON_CI, PROCESS_TIMEOUT_S, MakeRig, make_rig, start_coach
from tests.test_doctor import documented

__all__ = ["make_rig"]  # the rig fixture, shared with tests/test_ble_bluez.py

REPO = Path(__file__).resolve().parents[1]
#: The doctor's scan (``--timeout``): BlueZoo reports the strap within its 1-s scan round.
SCAN_S = "2"
#: Real time: the heart-rate window counts wall seconds in the doctor's process.
SPEED = 1.0

_missing = bluez_rig_available()
pytestmark = pytest.mark.skipif(_missing is not None and not ON_CI, reason=f"BlueZ rig: {_missing}")


def rig_with(make_rig: MakeRig, faults: Faults | None = None) -> BluezRig:
    return make_rig(capture=CHEST, faults=faults, speed=SPEED)


def doctor(rig: BluezRig, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "coach",
            "doctor",
            "--quiet",
            "--sensor",
            f"ble:name={rig.strap_name}",
            "--timeout",
            SCAN_S,
            "--data-dir",
            str(tmp_path / "data"),
            *extra,
        ],
        env=rig.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=2 * PROCESS_TIMEOUT_S,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def text_checks(proc: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """The printed lines of each check (its line and its fix line), by check name."""
    out: dict[str, list[str]] = {}
    name = ""
    for line in proc.stdout.splitlines()[1:-1]:
        if line.startswith(" "):
            out[name].append(line)
        else:
            name = line.split()[1]
            out[name] = [line]
    assert list(out) == list(C.CHECK_NAMES), proc.stdout
    return out


def status(lines: list[str]) -> str:
    return lines[0].split()[0]


#: The checks of this machine, not of the rig: a machine without espeak-ng warns "speech", one with Bluetooth
#: switched off by rfkill warns "rfkill", whatever the emulated BlueZ does.
MACHINE_CHECKS = ("python", "packages", "rfkill", "speech", "audio", "data-dir", "free-space")
_STATUS = {"ok": C.Status.OK, "warn": C.Status.WARN, "FAIL": C.Status.FAIL, "skip": C.Status.SKIP}


def rig_summary(proc: subprocess.CompletedProcess[str], checks: dict[str, list[str]]) -> str:
    """The doctor's last line without this machine's own checks (:data:`MACHINE_CHECKS`), after checking that
    the printed last line is the one the printed statuses give."""
    parsed = [C.Check(name, _STATUS[status(lines)], "") for name, lines in checks.items()]
    assert proc.stdout.splitlines()[-1] == C.summary_line(parsed), proc.stdout
    return C.summary_line([c for c in parsed if c.name not in MACHINE_CHECKS])


def json_checks(proc: subprocess.CompletedProcess[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    data = json.loads(proc.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert list(checks) == list(C.CHECK_NAMES)
    assert proc.returncode == data["exit_code"]
    return data, checks


# --------------------------------------------------------------------------------------------------- cases


def test_a_healthy_rig_passes_every_bluetooth_check(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = rig_with(make_rig)
    proc = doctor(rig, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = text_checks(proc)
    # the rig's BlueZ is BlueZoo: no bluetoothd process, unless this machine runs one of its own
    (bluez,) = checks["bluez"]
    bluez = bluez.removesuffix(" (bluetoothd runs)")
    assert bluez == "ok    bluez       org.bluez answers on the system bus"
    assert checks["adapter"] == ["ok    adapter     present and powered (a scan ran)"]
    assert checks["permission"] == ["ok    permission  this user may scan and connect"]
    (strap,) = checks["strap"]
    assert strap.startswith(f"ok    strap       {rig.strap_name} [{rig.strap_address}] at -5")  # -50/-51 dBm
    assert strap.endswith(" dBm, offers heart rate, accelerometer (PMD, likely)")
    assert status(checks["heart-rate"]) == "ok" and "bpm, skin contact" in checks["heart-rate"][0]
    assert checks["pmd"] == ["ok    pmd         accelerometer started at 100 Hz, 8 G"]
    assert rig_summary(proc, checks) == "ready for a run."
    documented([bluez, *checks["adapter"], *checks["permission"], *checks["pmd"]])
    assert rig.device()["Connected"] is False  # the doctor let go of the strap


def test_a_strap_that_wants_pairing_warns_with_the_pairing_advice_and_is_not_paired(
    make_rig: MakeRig, tmp_path: Path
) -> None:
    rig = rig_with(make_rig, Faults(pair_required=True))
    data, checks = json_checks(doctor(rig, tmp_path, "--json"))
    assert data["ready"] is True and data["exit_code"] == 0  # a run goes on with heart rate
    assert checks["heart-rate"]["status"] == "ok"
    pmd = checks["pmd"]
    assert pmd["status"] == "warn" and pmd["fix"] == ADVICE_PAIR
    assert "until it is paired" in pmd["finding"] and "(ATT error 0x08)" in pmd["finding"]
    assert rig.device()["Paired"] is False  # the doctor checks; it does not pair
    documented(C.format_text([C.warn("pmd", pmd["finding"], pmd["fix"])])[:-1])


def test_a_strap_without_pmd_warns_no_accelerometer(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = rig_with(make_rig, Faults(no_pmd=True))
    proc = doctor(rig, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = text_checks(proc)
    assert status(checks["heart-rate"]) == "ok"
    assert status(checks["pmd"]) == "warn" and "no accelerometer stream" in checks["pmd"][0]
    assert checks["pmd"][1].endswith(f"fix: {C.ADVICE_NO_ACC}")
    summary = rig_summary(proc, checks)
    assert summary == "ready for a run; 1 warning(s): pmd."
    documented([*checks["pmd"], summary])


def test_a_strap_switched_off_fails_not_found_exit_5(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = rig_with(make_rig)
    rig.kill_strap()
    data, checks = json_checks(doctor(rig, tmp_path, "--json"))
    assert data["exit_code"] == EXIT_SENSOR and data["ready"] is False
    strap = checks["strap"]
    assert (
        strap["status"] == "fail" and strap["fix"] == ADVICE_NOT_FOUND and strap["exit_code"] == EXIT_SENSOR
    )
    assert (
        strap["finding"] == f"no sensor with name {rig.strap_name!r} advertised within {SCAN_S} s; seen: none"
    )
    assert checks["heart-rate"]["status"] == "skip" and checks["pmd"]["status"] == "skip"
    documented(C.format_text([C.fail("strap", strap["finding"], strap["fix"], EXIT_SENSOR)])[:-1])


def test_in_progress_and_a_connection_abort_are_retried_and_named(make_rig: MakeRig, tmp_path: Path) -> None:
    """BlueZ answers the first Connect calls InProgress, then "connection abort": the doctor retries within its
    connect budget, as the client of a run does, and says what it took."""
    rig = rig_with(make_rig, Faults(connect_in_progress=2, connect_abort=1))
    proc = doctor(rig, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = text_checks(proc)
    (hr,) = checks["heart-rate"]
    assert status(checks["heart-rate"]) == "ok" and "connected after 3 failed attempt(s)" in hr, hr
    assert hr.count("[org.bluez.Error.InProgress] Operation already in progress") == 2
    assert hr.count("Software caused connection abort") == 1
    assert checks["pmd"] == ["ok    pmd         accelerometer started at 100 Hz, 8 G"]


def test_a_strap_bluez_still_holds_after_a_killed_run_is_found_and_used(
    make_rig: MakeRig, tmp_path: Path
) -> None:
    rig = rig_with(make_rig)
    first = start_coach(
        rig, "record", "--sensor", f"ble:name={rig.strap_name}", "-q", "-o", str(tmp_path / "a.jsonl")
    )
    rig.wait_line("TIMELINE", PROCESS_TIMEOUT_S)
    first.kill()  # SIGKILL: no disconnect
    first.communicate(timeout=PROCESS_TIMEOUT_S)
    assert rig.device()["Connected"] is True  # BlueZ keeps the link; the strap does not advertise
    proc = doctor(rig, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = text_checks(proc)
    assert status(checks["strap"]) == "ok" and "still connected in the Bluetooth stack" in checks["strap"][0]
    assert status(checks["heart-rate"]) == "ok"
    assert checks["pmd"] == ["ok    pmd         accelerometer started at 100 Hz, 8 G"]
    documented(checks["strap"])
    assert rig.device()["Connected"] is False  # the doctor closed the connection it took over


def test_the_adapter_switched_off_fails_with_the_fix(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = rig_with(make_rig)
    rig.set_powered(False)
    proc = doctor(rig, tmp_path)
    assert proc.returncode == EXIT_SENSOR, proc.stdout + proc.stderr
    checks = text_checks(proc)
    assert status(checks["bluez"]) == "ok"
    assert checks["adapter"] == ["FAIL  adapter     Bluetooth is switched off", f"{'':18}fix: {ADVICE_OFF}"]
    assert {status(checks[n]) for n in ("permission", "strap", "heart-rate", "pmd")} == {"skip"}
    summary = rig_summary(proc, checks)
    assert summary == "1 problem(s) would stop a run: adapter."
    documented([*checks["adapter"], *checks["permission"], summary])
