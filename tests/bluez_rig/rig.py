"""Start and stop the BlueZ rig (see :mod:`tests.bluez_rig`): dbus-daemon, patched BlueZoo, the strap process."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
REPO = (
    TESTS.parent
)  # the repository (coach's modules, tests/ as a package for ``python -m tests.bluez_rig...``)
CENTRAL_ADDRESS = "00:11:22:33:44:55"  # hci0: coach's adapter
STRAP_ADDRESS = "00:AA:BB:CC:DD:EE"  # hci1: the strap's adapter
#: The strap's advertised name (the fixtures' device names are long descriptions).
STRAP_NAME = "Polar H10 0A1B2C3D"
#: How long the pieces may take to come up on a loaded machine (they take about 0.5 s).
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Faults:
    """What the rig does wrong. Strap side: ``drop_every_s`` (capture seconds), ``pair_required``, ``no_pmd``;
    BlueZ side: the first ``connect_in_progress`` Connect calls answer InProgress, the next ``connect_abort``
    answer "Software caused connection abort"."""

    drop_every_s: float | None = None
    pair_required: bool = False
    no_pmd: bool = False
    connect_in_progress: int = 0
    connect_abort: int = 0

    def strap_args(self) -> list[str]:
        args: list[str] = []
        if self.drop_every_s:
            args += ["--drop-every", str(self.drop_every_s)]
        if self.pair_required:
            args.append("--pair-required")
        if self.no_pmd:
            args.append("--no-pmd")
        return args

    def bluezoo_env(self) -> str:
        return json.dumps(
            {"connect_in_progress": self.connect_in_progress, "connect_abort": self.connect_abort}
        )


def bluez_rig_available() -> str | None:
    """Why the rig cannot run on this machine (one line), or None when it can."""
    if shutil.which("dbus-daemon") is None:
        return "dbus-daemon is missing (apt install dbus)"
    for module, extra in (("bluezoo", "bluez"), ("dbus_fast", "bluez")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is missing (pip install 'coach[{extra}]')"
    return None


class BluezRig:
    """One rig in ``workdir`` (logs: bluezoo.log, strap.log). ``capture`` is what the strap streams, at ``speed``
    times real time; ``ready_timeout_s`` as the bumble strap's (wall seconds here)."""

    def __init__(
        self,
        workdir: Path,
        *,
        capture: Path,
        faults: Faults | None = None,
        speed: float = 1.0,
        strap_name: str = STRAP_NAME,
        ready_timeout_s: float = 5.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.capture = Path(capture)
        self.faults = faults or Faults()
        self.speed = speed
        self.strap_name = strap_name
        self.strap_address = STRAP_ADDRESS
        self.central_address = CENTRAL_ADDRESS
        self.ready_timeout_s = ready_timeout_s
        self.bus_address = ""
        self.env: dict[str, str] = {}
        self._dbus: subprocess.Popen[str] | None = None
        self._bluezoo: subprocess.Popen[bytes] | None = None
        self._strap: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._strap_eof = False
        self._lines_cond = threading.Condition()
        self._logs: list[Any] = []

    # -------------------------------------------------------------------------------------------- lifecycle

    def start(self) -> BluezRig:
        reason = bluez_rig_available()
        if reason is not None:
            raise RuntimeError(f"the BlueZ rig cannot run: {reason}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        sock = self.workdir / "bus.sock"
        self._dbus = subprocess.Popen(
            [
                "dbus-daemon",
                "--session",
                f"--address=unix:path={sock}",
                "--nofork",
                "--nopidfile",
                "--print-address",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._dbus.stdout is not None
        self.bus_address = self._dbus.stdout.readline().strip()
        if not self.bus_address:
            self.stop()
            raise RuntimeError("dbus-daemon did not start")
        env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
        self.env = env
        try:
            log = open(self.workdir / "bluezoo.log", "wb")  # noqa: SIM115 (closed in stop)
            self._logs.append(log)
            self._bluezoo = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.bluez_rig.bluezoo_patched",
                    "--auto-enable",
                    "--scan-interval=1",
                    "--adapter",
                    CENTRAL_ADDRESS,
                    "--adapter",
                    STRAP_ADDRESS,
                ],
                env={
                    **env,
                    "COACH_RIG_FAULTS": self.faults.bluezoo_env(),
                    "COACH_RIG_PERIPHERAL_ONLY": STRAP_ADDRESS,
                },
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self._wait(lambda: self._adapters_powered() >= 2, "BlueZoo's two adapters")
            self.start_strap()
        except BaseException:
            self.stop()
            raise
        return self

    def start_strap(self) -> None:
        """Start the strap process (again, after :meth:`kill_strap`) and wait until it advertises."""
        log = open(self.workdir / "strap.log", "a")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        with self._lines_cond:
            self._lines.clear()
            self._strap_eof = False
        self._strap = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bluez_rig.strap",
                "--capture",
                str(self.capture),
                "--name",
                self.strap_name,
                "--speed",
                str(self.speed),
                "--ready-timeout",
                str(self.ready_timeout_s),
                *self.faults.strap_args(),
            ],
            env=self.env,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read_strap, args=(self._strap, log), daemon=True).start()
        self.wait_line("READY", START_TIMEOUT_S)

    def _read_strap(self, proc: subprocess.Popen[str], log: Any) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with contextlib.suppress(ValueError):
                log.write(line)
                log.flush()
            with self._lines_cond:
                if proc is self._strap:  # not a killed strap's last lines
                    self._lines.append(line.strip())
                self._lines_cond.notify_all()
        with self._lines_cond:
            if proc is self._strap:
                self._strap_eof = True
            self._lines_cond.notify_all()

    def kill_strap(self) -> None:
        """SIGKILL the strap process (a strap switched off): BlueZ drops its link, its advertisement goes."""
        if self._strap is not None and self._strap.poll() is None:
            self._strap.kill()
            self._strap.wait()

    def stop(self) -> None:
        for proc in (self._strap, self._bluezoo, self._dbus):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self._strap, self._bluezoo, self._dbus):
            if proc is None:
                continue
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (
            *(p.stdin for p in (self._strap,) if p is not None),
            *(p.stdout for p in (self._strap, self._dbus) if p is not None),
        ):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        for log in self._logs:
            log.close()
        self._logs.clear()

    @contextlib.contextmanager
    def running(self) -> Iterator[BluezRig]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -------------------------------------------------------------------------------------------- the strap

    @property
    def lines(self) -> list[str]:
        """What the strap printed so far (since its last start)."""
        with self._lines_cond:
            return list(self._lines)

    def wait_line(self, prefix: str, timeout_s: float = START_TIMEOUT_S) -> str:
        """The first line the strap printed that starts with ``prefix`` (waiting up to ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        with self._lines_cond:
            while True:
                for line in self._lines:
                    if line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the strap printed no {prefix!r} line: {self._lines[-5:]}")
                if self._strap is not None and self._strap.poll() is not None and self._strap_eof:
                    raise RuntimeError(
                        f"the strap exited without a {prefix!r} line: see {self.workdir}/strap.log"
                    )
                self._lines_cond.wait(min(left, 0.5))

    def strap_command(self, command: str) -> str:
        """Send ``command`` (drop, status) to the strap; its ``OK ...`` answer."""
        assert self._strap is not None and self._strap.stdin is not None
        with self._lines_cond:
            before = len(self._lines)
        self._strap.stdin.write(command + "\n")
        self._strap.stdin.flush()
        deadline = time.monotonic() + START_TIMEOUT_S
        with self._lines_cond:
            while time.monotonic() < deadline:
                for line in self._lines[before:]:
                    if line.startswith(f"OK {command}"):
                        return line
                self._lines_cond.wait(0.5)
        raise TimeoutError(f"the strap did not answer {command!r}")

    # -------------------------------------------------------------------------------------------- BlueZ state

    def bluez_objects(self) -> dict[str, dict[str, dict[str, Any]]]:
        """BlueZoo's managed objects (path -> interface -> property -> value), read on the rig's bus."""

        async def read() -> dict[str, dict[str, dict[str, Any]]]:
            from dbus_fast import Message, MessageType
            from dbus_fast.aio import MessageBus

            bus = await MessageBus(bus_address=self.bus_address).connect()
            try:
                reply = await bus.call(
                    Message(
                        destination="org.bluez",
                        path="/",
                        interface="org.freedesktop.DBus.ObjectManager",
                        member="GetManagedObjects",
                    )
                )
                if reply.message_type == MessageType.ERROR:
                    return {}
                return {
                    path: {iface: {k: v.value for k, v in props.items()} for iface, props in ifaces.items()}
                    for path, ifaces in reply.body[0].items()
                }
            finally:
                bus.disconnect()

        try:
            return asyncio.run(read())
        except Exception:
            return {}

    def set_powered(self, powered: bool, adapter: str = "hci0") -> None:
        """Switch ``adapter`` (coach's, by default) off or on: BlueZ's ``Adapter1.Powered`` property, as
        ``bluetoothctl power off`` sets it."""

        async def write() -> None:
            from dbus_fast import Message, MessageType, Variant
            from dbus_fast.aio import MessageBus

            bus = await MessageBus(bus_address=self.bus_address).connect()
            try:
                reply = await bus.call(
                    Message(
                        destination="org.bluez",
                        path=f"/org/bluez/{adapter}",
                        interface="org.freedesktop.DBus.Properties",
                        member="Set",
                        signature="ssv",
                        body=["org.bluez.Adapter1", "Powered", Variant("b", powered)],
                    )
                )
                if reply.message_type == MessageType.ERROR:
                    raise RuntimeError(f"BlueZ refused Powered={powered} on {adapter}: {reply.body}")
            finally:
                bus.disconnect()

        asyncio.run(write())

    def device(self, adapter: str = "hci0", address: str = STRAP_ADDRESS) -> dict[str, Any]:
        """The Device1 properties of ``address`` on ``adapter`` ({} when BlueZ has no such device)."""
        path = f"/org/bluez/{adapter}/dev_{address.replace(':', '_')}"
        return self.bluez_objects().get(path, {}).get("org.bluez.Device1", {})

    def _adapters_powered(self) -> int:
        return sum(
            1
            for ifaces in self.bluez_objects().values()
            if ifaces.get("org.bluez.Adapter1", {}).get("Powered")
        )

    def _wait(self, predicate: Any, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if predicate():
                return
            if self._bluezoo is not None and self._bluezoo.poll() is not None:
                raise RuntimeError(
                    f"BlueZoo exited ({self._bluezoo.returncode}): see {self.workdir}/bluezoo.log"
                )
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {what}")
