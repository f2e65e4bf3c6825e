"""``coach record`` and ``coach scan`` as a user runs them, against the virtual strap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.cli.record_cmd import Progress
from coach.cli.scan_cmd import format_results
from sensors.ble.capabilities import from_advertisement
from sensors.ble.scan import ScanResult
from sensors.capture import read_capture

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
