"""``coach scan``, ``coach record`` and ``coach run`` through bleak's real BlueZ backend, unmodified, against the BlueZ
rig (tests/bluez_rig: a private dbus-daemon, BlueZoo with two adapters, the virtual strap as a BlueZ GATT app).

coach runs as a user runs it, in its own process, with ``DBUS_SYSTEM_BUS_ADDRESS`` pointing at the rig's bus. The
strap streams the fixture at 10x real time, so "capture seconds" of the strap are tenths of wall seconds; coach's
session clock is the wall clock (a live strap runs at 1). Timeouts are generous: nothing here asserts a wall-clock
duration, only what the capture recorded.

Without dbus-daemon or the ``bluez`` extra the tests skip with one line; on CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sensors import uuids
from sensors.capture import read_capture
from tests.bluez_rig import BluezRig, Faults, bluez_rig_available
from tests.test_virtual_e2e import trimmed

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-005.jsonl"
STREAMED = {uuids.HEART_RATE_MEASUREMENT, uuids.PMD_DATA, uuids.RSC_MEASUREMENT}
ON_CI = os.environ.get("CI", "").lower() == "true"
#: The strap's speed: 10 capture seconds per wall second.
SPEED = 10.0
#: A subprocess that has not finished by then is stuck (the tests take seconds).
PROCESS_TIMEOUT_S = 40

_missing = bluez_rig_available()
pytestmark = pytest.mark.skipif(_missing is not None and not ON_CI, reason=f"BlueZ rig: {_missing}")

MakeRig = Callable[..., BluezRig]


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[MakeRig]:
    """``make_rig(capture=..., faults=Faults(...), speed=...)``: a started rig, stopped after the test."""
    rigs: list[BluezRig] = []

    def make(
        capture: Path = CHEST, faults: Faults | None = None, speed: float = SPEED, **kw: Any
    ) -> BluezRig:
        rig = BluezRig(tmp_path / f"rig{len(rigs)}", capture=capture, faults=faults, speed=speed, **kw)
        rigs.append(rig)
        return rig.start()

    yield make
    for rig in rigs:
        rig.stop()


def coach(rig: BluezRig, *args: str, timeout: float = PROCESS_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        env=rig.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_coach(rig: BluezRig, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coach", *args],
        env=rig.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def streamed(path: Path) -> list[tuple[str, bytes]]:
    return [(r.char, r.data) for r in read_capture(path).payloads if r.char in STREAMED]


def events(path: Path, name: str) -> list[Any]:
    return [e for e in read_capture(path).events if e.event == name]


# --------------------------------------------------------------------------------------------- the happy path


def test_scan_lists_the_strap_through_bluez(make_rig: MakeRig) -> None:
    rig = make_rig()
    proc = coach(rig, "scan", "--timeout", "1.5", "--json")
    assert proc.returncode == 0, proc.stderr
    (found,) = [json.loads(line) for line in proc.stdout.splitlines() if rig.strap_name in line]
    assert found["address"] == rig.strap_address and found["heart_rate"] is True


def test_record_through_bluez_equals_the_fixture_byte_for_byte(make_rig: MakeRig, tmp_path: Path) -> None:
    cut = trimmed(CHEST, tmp_path / "cut.jsonl", 30.0)
    rig = make_rig(capture=cut)
    out = tmp_path / "out.jsonl"
    # no --duration: the recording is stopped with Ctrl-C once the strap has played the whole cut (at 10x)
    proc = start_coach(rig, "record", "--sensor", f"ble:name={rig.strap_name}", "-q", "-o", str(out))
    rig.wait_line("PLAYED", PROCESS_TIMEOUT_S)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    played = rig.wait_line("PLAYED")
    assert played.endswith(" 0"), played  # nothing lost by the strap
    expected = streamed(cut)
    assert len(expected) > 60
    assert streamed(out) == expected  # byte for byte, in order, none lost
    (first, *_) = events(out, "connected")
    assert first.fields["mtu"] == 232 and "accelerometer (PMD)" in first.fields["offers"]
    assert events(out, "pmd_started")


def test_run_a_short_session_through_bluez_with_no_pair(make_rig: MakeRig, tmp_path: Path) -> None:
    """``coach run`` on a strap that wants pairing, with ``--no-pair``: the session runs on heart rate, and says
    once what is lost and what to do."""
    rig = make_rig(faults=Faults(pair_required=True))
    plan = tmp_path / "short.toml"
    plan.write_text('name = "short"\ntitle = "Short"\n[[stages]]\ntitle = "s"\nsession = [{ walk = "3s" }]\n')
    proc = coach(
        rig,
        "run",
        "--sensor",
        f"ble:name={rig.strap_name}",
        "--programme",
        str(plan),
        "--voice",
        "none",
        "--no-pair",
        "--data-dir",
        str(tmp_path / "data"),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    assert said.count("No accelerometer") == 1 and "coach: warning: No accelerometer" in said, said
    summary = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    assert summary["complete"]
    capture = tmp_path / "data" / "sessions" / summary["session_id"] / "capture.jsonl"
    chars = {c for c, _ in streamed(capture)}
    assert uuids.HEART_RATE_MEASUREMENT in chars and uuids.PMD_DATA not in chars
    assert events(capture, "pmd_error")


# --------------------------------------------------------------------------------------------- faults


def record_until(
    rig: BluezRig, out: Path, *extra: str, line: str = "PLAYED"
) -> subprocess.CompletedProcess[str]:
    """``coach record`` from the rig's strap until the strap prints ``line`` (by default: it has played its
    capture), then Ctrl-C."""
    # by address: a name waits 1.5 s for a second strap of the same name (the name path is tested above)
    proc = start_coach(rig, "record", "--sensor", f"ble:{rig.strap_address}", "-q", "-o", str(out), *extra)
    try:
        rig.wait_line(line, PROCESS_TIMEOUT_S)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_strap_side_drops_every_20_s_reconnect_within_2_s(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig(
        capture=trimmed(CHEST, tmp_path / "cut.jsonl", 65.0),
        faults=Faults(drop_every_s=20.0),
        speed=2 * SPEED,
    )
    out = tmp_path / "out.jsonl"
    proc = record_until(rig, out)
    assert proc.returncode == 0, proc.stderr
    strap_drops = [line for line in rig.lines if line.startswith("DROP")]
    assert len(strap_drops) >= 3  # at 20, 40, 60 s of capture time
    evs = read_capture(out).events
    downs = [e for e in evs if e.event == "disconnected" and e.fields["reason"] != "session ended"]
    ups = [e for e in evs if e.event == "connected" and e.fields["reconnect"] > 0]
    assert len(ups) >= len(strap_drops)
    for up in ups[: len(strap_drops)]:
        assert up.fields["outage_s"] < 2.0, up.fields  # capture time, as the bumble test
    assert len([e for e in evs if e.event == "pmd_started"]) >= len(strap_drops) + 1
    assert len(downs) >= len(strap_drops)


def test_pairing_strap_hr_from_the_first_second_and_acc_after_pairing(
    make_rig: MakeRig, tmp_path: Path
) -> None:
    rig = make_rig(capture=trimmed(CHEST, tmp_path / "cut.jsonl", 30.0), faults=Faults(pair_required=True))
    out = tmp_path / "out.jsonl"
    proc = record_until(rig, out)
    assert proc.returncode == 0, proc.stderr
    capture = read_capture(out)
    (connected, *_) = [e for e in capture.events if e.event == "connected"]
    (paired,) = [e for e in capture.events if e.event == "paired"]
    hr_t = [r.t for r in capture.payloads if r.char == uuids.HEART_RATE_MEASUREMENT]
    acc_t = [r.t for r in capture.payloads if r.char == uuids.PMD_DATA]
    assert hr_t and hr_t[0] - connected.t < 1.0  # heart rate from the first second
    assert acc_t and acc_t[0] > paired.t  # the accelerometer once paired
    assert not [e for e in capture.events if e.event == "pmd_error"]
    assert rig.device()["Paired"] is True


def test_no_pair_runs_on_heart_rate_with_one_clear_line(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig(capture=trimmed(CHEST, tmp_path / "cut.jsonl", 20.0), faults=Faults(pair_required=True))
    out = tmp_path / "out.jsonl"
    proc = record_until(rig, out, "--no-pair")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("No accelerometer") == 1, proc.stderr  # one line, said once
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("coach: warning: No accelerometer")]
    assert "paired" in line and "--no-pair" in line and "walk/run" in line and "bluetoothctl" in line
    capture = read_capture(out)
    assert [r for r in capture.payloads if r.char == uuids.HEART_RATE_MEASUREMENT]
    assert not [r for r in capture.payloads if r.char == uuids.PMD_DATA]
    assert not [e for e in capture.events if e.event in ("paired", "pmd_started")]
    assert "usermod" not in proc.stderr
    assert rig.device()["Paired"] is False


def test_old_firmware_without_pmd_warns_and_records_the_event(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig(capture=trimmed(CHEST, tmp_path / "cut.jsonl", 20.0), faults=Faults(no_pmd=True))
    out = tmp_path / "out.jsonl"
    proc = record_until(rig, out)
    assert proc.returncode == 0, proc.stderr
    assert "coach: warning: No accelerometer" in proc.stderr and "firmware" in proc.stderr
    (error, *_) = [e for e in read_capture(out).events if e.event == "pmd_error"]
    assert error.fields["reason"] == "no_pmd_service"


def test_in_progress_and_connection_abort_at_start_are_retried(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig(
        capture=trimmed(CHEST, tmp_path / "cut.jsonl", 20.0),
        faults=Faults(connect_in_progress=2, connect_abort=1),
    )
    out = tmp_path / "out.jsonl"
    proc = record_until(rig, out)
    assert proc.returncode == 0, proc.stderr
    failed = [str(e.fields["reason"]) for e in read_capture(out).events if e.event == "connect_failed"]
    assert sum("in progress" in r for r in failed) == 2 and sum("abort" in r for r in failed) == 1, failed
    assert [r for r in read_capture(out).payloads if r.char == uuids.PMD_DATA]


def test_after_coach_is_sigkilled_the_next_record_gets_the_strap_back(
    make_rig: MakeRig, tmp_path: Path
) -> None:
    rig = make_rig(speed=1.0)
    first = start_coach(
        rig, "record", "--sensor", f"ble:name={rig.strap_name}", "-q", "-o", str(tmp_path / "a")
    )
    rig.wait_line("TIMELINE", PROCESS_TIMEOUT_S)
    first.kill()  # SIGKILL: no disconnect
    first.communicate(timeout=PROCESS_TIMEOUT_S)
    assert rig.device()["Connected"] is True  # BlueZ keeps the link; the strap does not advertise
    out = tmp_path / "b.jsonl"
    proc = coach(rig, "record", "--sensor", f"ble:name={rig.strap_name}", "--duration", "3", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "still connected" in proc.stderr
    capture = read_capture(out)
    assert [e for e in capture.events if e.event == "reused_connection"]
    assert [r for r in capture.payloads if r.char == uuids.HEART_RATE_MEASUREMENT]
    assert [r for r in capture.payloads if r.char == uuids.PMD_DATA]


def test_strap_killed_then_restarted_is_reconnected(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig(speed=1.0)
    out = tmp_path / "out.jsonl"
    proc = start_coach(rig, "record", "--sensor", f"ble:{rig.strap_address}", "-q", "-o", str(out))
    rig.wait_line("TIMELINE", PROCESS_TIMEOUT_S)
    rig.kill_strap()
    rig.start_strap()
    rig.wait_line("TIMELINE", PROCESS_TIMEOUT_S)  # a new central subscribed: coach reconnected
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert proc.returncode == 0, stderr
    evs = read_capture(out).events
    assert [e for e in evs if e.event == "connected" and e.fields["reconnect"] == 1]
