"""``coach record`` and ``coach scan`` as a user runs them, against the virtual strap."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli, main
from coach.cli.record_cmd import Progress, record_capture
from coach.cli.scan_cmd import format_results
from coach.errors import EXIT_SENSOR
from sensors.capture import CaptureWriter, read_capture
from sensors.clock import FakeClock
from sensors.errors import SensorBusy, SensorNotFound
from sensors.sources.ble.capabilities import from_advertisement
from sensors.sources.ble.client import BleSource
from sensors.sources.ble.scan import ScanResult

REPO = Path(__file__).resolve().parents[1]
CHEST = "fixtures/chest-walk-jog-walk-hexoskin-005.jsonl"


def coach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args], capture_output=True, text=True, cwd=REPO, timeout=120
    )


@pytest.mark.slow
def test_record_virtual_strap_with_drops_then_capture_info_shows_them(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = coach(
        "record",
        "--sensor",
        f"virtual:{CHEST}?drop_every=30",
        "--duration",
        "90",
        "--speed",
        "20",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith("Recorded 9") and "(duration reached)" in proc.stdout
    progress = [line for line in proc.stderr.splitlines() if "samples/s" in line]
    assert progress, proc.stderr
    assert all(" s | HR " in line and "| drops " in line for line in progress)
    assert out.stat().st_mode & 0o777 == 0o600

    capture = read_capture(out)
    assert capture.header.source == f"virtual:{CHEST}?drop_every=30"
    assert 90.0 <= capture.end_s < 95.0
    drops = [e for e in capture.events if e.event == "disconnected" and "timeout" in str(e.fields["reason"])]
    assert len(drops) >= 2  # at 30 s and 60 s of capture time (90 s may fall after the end)
    assert f"{len(drops)} drop(s)" in proc.stdout

    info = coach("capture", "info", str(out))
    assert info.returncode == 0, info.stderr
    assert info.stdout.count("connection timeout") == len(drops)
    assert 'disconnected  reason="session ended"' in info.stdout  # the end of the recording is not a drop
    assert "gaps" in info.stdout


def test_record_refuses_to_overwrite_and_replay_sources(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("keep me")
    runner = CliRunner()
    exists = runner.invoke(cli, ["record", "--sensor", f"virtual:{CHEST}", "-o", str(out)])
    assert exists.exit_code != 0 and out.read_text() == "keep me"
    replay = coach("record", "--sensor", f"replay:{CHEST}", "-o", str(tmp_path / "x.jsonl"))
    assert replay.returncode == 2 and "replay: is already a capture" in replay.stderr
    bad = coach("record", "--sensor", "bluetooth:polar", "-o", str(tmp_path / "x.jsonl"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "ble:name=NAME" in bad.stderr


def test_record_short_hr_only(tmp_path: Path) -> None:
    out = tmp_path / "hr.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "record",
            "--sensor",
            f"virtual:{CHEST}?hr_only=1",
            "--duration",
            "6",
            "--speed",
            "20",
            "-q",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    chars = {r.char for r in read_capture(out).payloads}
    assert "00002a37-0000-1000-8000-00805f9b34fb" in chars
    assert not [c for c in chars if c.startswith("fb005c8")]


def test_scan_virtual_lists_the_strap(tmp_path: Path) -> None:
    proc = coach("scan", "--timeout", "0.5", "--virtual", CHEST)
    assert proc.returncode == 0, proc.stderr
    assert "Polar H10" in proc.stdout and "heart rate" in proc.stdout
    assert "coach record --sensor 'ble:name=Polar H10" in proc.stdout


def test_progress_line() -> None:
    p = Progress()
    p.tick(10.0)
    p.acc_samples = 1000
    p.hr_bpm = 131
    p.drops = 1
    p.tick(20.0)
    assert p.acc_rate_hz() == pytest.approx(100.0)
    assert p.line(90) == "  20.0/90 s | HR 131 bpm | ACC 100.0 samples/s | drops 1 | reconnecting"


def test_the_first_progress_line_shows_no_acc_rate_until_one_can_be_measured() -> None:
    p = Progress()
    p.acc_samples = 40  # samples arrived before the first tick: no interval to divide by yet
    p.tick(0.5)
    assert p.acc_rate_hz() is None
    assert p.line(90) == "   0.5/90 s | HR -- bpm | ACC    -- samples/s | drops 0 | reconnecting"
    p.tick(0.5)  # a second tick at the same session time: still a zero interval
    assert p.acc_rate_hz() is None
    p.acc_samples = 90
    p.tick(1.0)
    assert p.acc_rate_hz() == pytest.approx(100.0)  # (90 - 40) samples over 0.5 s
    assert "| ACC 100.0 samples/s |" in p.line(None)


class RefusingSource(BleSource):
    """The real client, whose strap refuses at start (what a strap held by a phone does) after something was
    recorded; it counts the aclose calls. Only ``start`` is replaced: every other method is BleSource's own."""

    def __init__(self, capture: CaptureWriter | None = None) -> None:
        super().__init__(name="Polar H10 TEST", capture=capture, clock=FakeClock())
        self.closes = 0

    async def start(self) -> None:
        self._event("connect_failed", reason="the strap refused the connection")
        raise SensorBusy("Polar H10 TEST is connected to another device", "disconnect it from the phone app")

    async def aclose(self) -> None:
        self.closes += 1
        await super().aclose()


async def test_record_capture_closes_the_source_when_start_fails() -> None:
    source = RefusingSource()
    lines: list[Progress] = []
    with pytest.raises(SensorBusy):
        await record_capture(source, 10.0, on_progress=lines.append, stop=asyncio.Event())
    assert source.closes == 1 and lines == []
    assert asyncio.all_tasks() == {asyncio.current_task()}  # no timer, stopper or consumer task left


async def test_record_capture_closes_a_virtual_rig_whose_start_fails(tmp_path: Path) -> None:
    from sensors.sources.ble.client import ClientConfig
    from sensors.sources.virtual.source import VirtualRig, VirtualSource

    config = ClientConfig(scan_timeout_s=0.3, connect_timeout_s=0.5, start_timeout_s=2.0)
    source = VirtualSource(REPO / CHEST, speed=20.0, config=config)
    rig = source.rig = await VirtualRig.create(source.script, clock=source.clock)
    source.backends = rig.backends
    await rig.strap.stop_advertising()  # out of range: start() fails with SensorNotFound
    with pytest.raises(SensorNotFound):
        await record_capture(source, 5.0)
    assert rig.strap._main is not None and rig.strap._main.done() and rig.air.devices == []
    assert rig.closed


def test_record_start_refused_one_line_exit_5_and_the_capture_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sensors.sources.opener

    made: list[RefusingSource] = []

    def open_refusing(*_args: object, **_kwargs: object) -> RefusingSource:
        made.append(RefusingSource())
        return made[-1]

    monkeypatch.setattr(sensors.sources.opener, "open_source", open_refusing)
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as exited:
        main(["record", "--sensor", f"virtual:{REPO / CHEST}", "--duration", "5", "-o", str(out)])
    assert exited.value.code == EXIT_SENSOR == 5
    err = capsys.readouterr().err
    assert err == (
        "coach: error: Polar H10 TEST is connected to another device: disconnect it from the phone app\n"
    )
    assert made[0].closes == 1
    capture = read_capture(out)  # what was recorded before the refusal is kept, readable, user-only
    assert [e.event for e in capture.events] == ["connect_failed"]
    assert out.stat().st_mode & 0o777 == 0o600


def test_scan_table_hides_unusable_devices() -> None:
    def result(name: str | None, address: str, rssi: int, uuids: list[str]) -> ScanResult:
        return ScanResult(address, name, rssi, tuple(uuids), from_advertisement(name, uuids))

    results = [
        result("Polar H10 A1B2C3D4", "AA:BB:CC:DD:EE:01", -60, ["180d"]),
        result(None, "AA:BB:CC:DD:EE:02", -40, []),
        result("[TV] Samsung", "AA:BB:CC:DD:EE:03", -70, []),
    ]
    lines = format_results(results, show_all=False)
    assert lines[1].split() == [
        "Polar",
        "H10",
        "A1B2C3D4",
        "AA:BB:CC:DD:EE:01",
        "-60",
        "dBm",
        "heart",
        "rate,",
        "accelerometer",
        "(PMD,",
        "likely)",
    ]
    assert lines[2].split()[-4:] == ["not", "usable", "by", "coach"]  # named but useless: listed as such
    assert "coach record --sensor 'ble:name=Polar H10 A1B2C3D4'" in lines[-2]
    assert lines[-1].startswith("(1 device(s) without a name")
    assert len(format_results(results, show_all=True)) == len(lines)  # all shown, no "hidden" line
    assert "No Bluetooth LE devices" in format_results([], show_all=False)[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_stops_the_recording_cleanly_and_keeps_the_capture(tmp_path: Path) -> None:
    import signal

    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coach",
            "record",
            "--sensor",
            f"virtual:{CHEST}",
            "--speed",
            "5",
            "-o",
            str(out),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        while "samples/s" not in (line := proc.stderr.readline()):  # the first progress line: recording
            assert line, "coach record ended before its first progress line"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "(stopped with Ctrl-C)" in stdout and "Traceback" not in stderr
    capture = read_capture(out)
    assert capture.payloads and capture.events[-1].event == "disconnected"
    assert capture.events[-1].fields["reason"] == "session ended"


class HangingSource(BleSource):
    """The real client whose start never finishes (a strap that is never found, BlueZ stuck); counts aclose."""

    def __init__(self) -> None:
        super().__init__(name="Polar H10 TEST", clock=FakeClock())
        self.closes = 0
        self.starting = asyncio.Event()

    async def start(self) -> None:
        self.starting.set()
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closes += 1
        await super().aclose()


async def test_ctrl_c_while_connecting_stops_at_once_and_closes_the_source() -> None:
    source = HangingSource()
    stop = asyncio.Event()

    async def press_ctrl_c() -> None:
        await source.starting.wait()
        stop.set()

    presser = asyncio.create_task(press_ctrl_c())
    result = await asyncio.wait_for(record_capture(source, 60.0, stop=stop), timeout=10.0)
    await presser
    assert result.ended_by == "interrupted" and source.closes == 1
    assert asyncio.all_tasks() == {asyncio.current_task()}  # the start attempt is cancelled, nothing left


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_while_connecting_ends_the_command_cleanly(tmp_path: Path) -> None:
    """`coach record` answers Ctrl-C while it is still connecting (a strap that is never found used to hold
    the command for up to a minute): exit 0, one line, no empty capture left behind."""
    import signal

    marker = tmp_path / "connecting"
    out = tmp_path / "out.jsonl"
    script = f"""
import asyncio, pathlib
import sensors.sources.opener
from sensors.sources.ble.client import BleSource

class Hanging(BleSource):
    async def start(self):
        pathlib.Path({str(marker)!r}).write_text("connecting")
        await asyncio.Event().wait()

sensors.sources.opener.open_source = lambda *a, **k: Hanging(name="Polar H10 TEST")
from coach.cli import main
main(["record", "--sensor", "virtual:{REPO / CHEST}", "--duration", "60", "-o", {str(out)!r}])
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        deadline = time.monotonic() + 30.0
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=15.0)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert (
        stdout.strip()
        == "Stopped with Ctrl-C before ble:name=Polar H10 TEST was connected: nothing recorded."
    )
    assert not out.exists()
