"""Privacy (issue 7): health data is readable by its user only, and ``ble:`` connects only to the chosen sensor.

The commands run (in-process) with ``umask 000``, so every 0600/0700 below is coach's own doing, not the shell's
default.
(HTML escaping of user text in the report is covered by tests/test_report.py.)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "fixtures" / "chest-walk-jog-walk-hexoskin-008.jsonl"

SHORT_TOML = """name = "short"
title = "Short"
[[stages]]
title = "s"
session = [ { walk = "30s" }, { run = "30s" }, { walk = "30s" } ]
"""


def _coach(*args: str) -> None:
    """One coach command, in-process through click (the caller sets the umask and the working directory)."""
    from click.testing import CliRunner

    from coach.cli import cli

    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (args, res.output, res.exception)


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and ``root`` itself) -> its permission bits, as octal text."""
    out = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return out


@pytest.fixture
def umask_000(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """``umask 000`` (and ``tmp_path`` as the working directory) while the test runs, in this process."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COACH_DATA_DIR", raising=False)
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.slow
def test_everything_under_the_data_dir_is_user_only(tmp_path: Path, umask_000: None) -> None:
    from tests.test_import import _write_polar

    data = tmp_path / "data"
    (tmp_path / "short.toml").write_text(SHORT_TOML)
    # a coached session (replay, spoken cues rendered into the voice cache when a speech engine exists)
    _coach(
        "run", "--sensor", f"replay:{FIXTURE}", "--programme", "short.toml", "--speed", "100",
        "--voice", "tts", "--data-dir", str(data),
    )  # fmt: skip
    _coach("pain", "2", "--when", "after", "--note", "a bit stiff", "--data-dir", str(data))
    # an import (Polar Sensor Logger ACC + HR export made from a real chest recording)
    polar = tmp_path / "polar"
    polar.mkdir()
    acc_path, _ = _write_polar(polar)
    _coach("import", str(acc_path), "--data-dir", str(data))
    # exported and rendered files
    out = tmp_path / "out"
    out.mkdir()
    _coach("report", "latest", "--html", str(out / "report.html"), "--data-dir", str(data))
    _coach(
        "export", "latest", "--fit", str(out / "s.fit"), "--tcx", str(out / "s.tcx"), "--data-dir", str(data),
    )  # fmt: skip

    modes = _modes(data)
    sessions = [p for p in (data / "sessions").iterdir() if p.is_dir()]
    assert len(sessions) == 2, modes
    assert (data / "coach.sqlite3").exists() and (data / "voice-cache").is_dir(), modes
    assert any(name.endswith("capture.jsonl") for name in modes) and any(
        n.endswith("events.jsonl") for n in modes
    )
    wrong = {
        name: mode for name, mode in modes.items() if mode != ("0o700" if (data / name).is_dir() else "0o600")
    }
    assert wrong == {}, wrong
    exported = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in out.iterdir()}
    assert exported == {"report.html": "0o600", "s.fit": "0o600", "s.tcx": "0o600"}


# ----------------------------------------------------------------------------------------------- ble: selection


class _Device:
    def __init__(self, address: str, name: str) -> None:
        self.address = address
        self.name = name


class _Adv:
    def __init__(self, name: str) -> None:
        self.local_name = name
        self.rssi = -40
        self.service_uuids: list[str] = []
        self.manufacturer_data: dict[int, bytes] = {}
        self.service_data: dict[str, bytes] = {}
        self.tx_power = None
        self.platform_data = ()


def _fake_scanner(adverts: list[tuple[str, str]]) -> Any:
    """A BleakScanner stand-in that reports ``adverts`` (address, name) in order, the wrong straps first."""

    class FakeScanner:
        def __init__(self, callback: Any, **kwargs: Any) -> None:
            self.callback = callback

        async def __aenter__(self) -> FakeScanner:
            for address, name in adverts:
                self.callback(_Device(address, name), _Adv(name))
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    return FakeScanner


OTHER = ("C0:00:00:00:00:AA", "Polar H10 AAAAAAAA")
CHOSEN = ("C0:00:00:00:00:BB", "Polar H10 BBBBBBBB")


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"address": CHOSEN[0]}, CHOSEN[0]),
        ({"address": CHOSEN[0].lower()}, CHOSEN[0]),
        ({"name": "Polar H10 BBBB"}, CHOSEN[0]),
        ({"address": OTHER[0]}, OTHER[0]),
    ],
)
async def test_ble_connects_only_to_the_chosen_sensor(
    monkeypatch: pytest.MonkeyPatch, wanted: dict[str, str], expected: str
) -> None:
    from sensors.sources.ble import scan

    # Another strap (and a stranger) answer first; the one asked for comes last.
    monkeypatch.setattr(scan, "BleakScanner", _fake_scanner([("11:22:33:44:55:66", "Phone"), OTHER, CHOSEN]))
    device = await scan.find_device(
        address=wanted.get("address"),
        name=wanted.get("name"),
        timeout_s=0.2,
        backends=scan.BleakBackends(),
        ambiguity_wait_s=0.01,
    )
    assert device.address == expected


async def test_ble_never_falls_back_to_a_sensor_that_was_not_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sensors.errors import SensorError
    from sensors.sources.ble import scan

    monkeypatch.setattr(scan, "BleakScanner", _fake_scanner([OTHER, CHOSEN]))
    with pytest.raises(SensorError, match="no sensor with address C0:00:00:00:00:CC") as err:
        await scan.find_device(address="C0:00:00:00:00:CC", timeout_s=0.2, backends=scan.BleakBackends())
    assert "Polar H10 AAAAAAAA" in str(err.value)  # it lists what it saw instead of taking one of them


async def test_ble_name_prefers_the_exact_name_over_a_longer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from sensors.sources.ble import scan

    exact = ("C0:00:00:00:00:EE", "Polar H10 BBBB")
    monkeypatch.setattr(scan, "BleakScanner", _fake_scanner([CHOSEN, exact]))
    device = await scan.find_device(name="polar h10 bbbb", timeout_s=0.2, backends=scan.BleakBackends(),
                                    ambiguity_wait_s=0.01)  # fmt: skip
    assert device.address == exact[0]


async def test_ble_name_matching_two_sensors_is_refused_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    from sensors.errors import SensorNotFound
    from sensors.sources.ble import scan

    monkeypatch.setattr(scan, "BleakScanner", _fake_scanner([OTHER, CHOSEN]))
    with pytest.raises(SensorNotFound, match="2 sensors match name 'Polar H10'") as err:
        await scan.find_device(
            name="Polar H10", timeout_s=0.2, backends=scan.BleakBackends(), ambiguity_wait_s=0.01
        )
    assert OTHER[0] in str(err.value) and CHOSEN[0] in str(err.value) and "ble:ADDRESS" in str(err.value)
