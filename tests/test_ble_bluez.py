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
PROCESS_TIMEOUT_S = 120

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
    proc = coach(rig, "scan", "--timeout", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    (found,) = [json.loads(line) for line in proc.stdout.splitlines() if rig.strap_name in line]
    assert found["address"] == rig.strap_address and found["heart_rate"] is True
    table = coach(rig, "scan", "--timeout", "2")
    assert f"coach record --sensor 'ble:name={rig.strap_name}" in table.stdout


def test_record_through_bluez_equals_the_fixture_byte_for_byte(make_rig: MakeRig, tmp_path: Path) -> None:
    cut = trimmed(CHEST, tmp_path / "cut.jsonl", 30.0)
    rig = make_rig(capture=cut)
    out = tmp_path / "out.jsonl"
    # no --duration: the recording is stopped with Ctrl-C once the strap has played the whole cut (at 10x)
    proc = start_coach(rig, "record", "--sensor", f"ble:name={rig.strap_name}", "-q", "-o", str(out))
    rig.wait_line("FINISHED", PROCESS_TIMEOUT_S)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    finished = rig.wait_line("FINISHED")
    assert finished.endswith(" 0"), finished  # nothing lost by the strap
    expected = streamed(cut)
    assert len(expected) > 60
    assert streamed(out) == expected  # byte for byte, in order, none lost
    (first, *_) = events(out, "connected")
    assert first.fields["mtu"] == 232 and "accelerometer (PMD)" in first.fields["offers"]
    assert events(out, "pmd_started")


def test_run_a_short_session_through_bluez(make_rig: MakeRig, tmp_path: Path) -> None:
    rig = make_rig()
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
        "--data-dir",
        str(tmp_path / "data"),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    assert summary["complete"]
    capture = tmp_path / "data" / "sessions" / summary["session_id"] / "capture.jsonl"
    chars = {c for c, _ in streamed(capture)}
    assert {uuids.HEART_RATE_MEASUREMENT, uuids.PMD_DATA} <= chars
