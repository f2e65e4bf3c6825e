"""The runner's controls from outside: Ctrl-C / SIGTERM, and the pause keys on a terminal.

SIGINT and SIGTERM (``systemctl --user stop``) end the session cleanly, from the moment ``coach run`` starts; a
second Ctrl-C interrupts at once. On a terminal, ``p``/``r``/``q`` + Enter pause, resume and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

#: What an event loop raises where it cannot install a signal handler: NotImplementedError on Windows' loops,
#: RuntimeError/ValueError outside the main thread (tests, an embedding program). The session then has no clean stop
#: by signal (Ctrl-C still interrupts it), not an error.
NO_SIGNAL_HANDLERS = (NotImplementedError, RuntimeError, ValueError)
#: What it raises where it cannot watch stdin: NotImplementedError (Windows' proactor loop), OSError/ValueError (a
#: closed or unselectable stdin). The session then has no pause keys.
NO_STDIN_READER = (NotImplementedError, OSError, ValueError)


class Controllable(Protocol):
    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self, reason: str = "stopped", *, signal_name: str | None = None) -> None: ...


class StopSwitch:
    """Where a stop signal goes: to the runner once there is one, else kept until it is attached (a signal during
    the voice's set-up or while connecting stops the session as soon as it starts)."""

    def __init__(self) -> None:
        self.runner: Controllable | None = None
        self.requested: str | None = None

    def stop(self, signal_name: str) -> None:
        if self.runner is not None:
            self.runner.stop("stopped", signal_name=signal_name)
        elif self.requested is None:
            self.requested = signal_name

    def attach(self, runner: Controllable) -> None:
        self.runner = runner
        if self.requested is not None:
            runner.stop("stopped", signal_name=self.requested)


def install_stop_handler(switch: StopSwitch) -> None:
    """Ctrl-C and SIGTERM end the session cleanly (folder written, marked stopped); a second Ctrl-C interrupts at
    once."""
    import signal

    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        switch.stop("SIGINT")
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(*NO_SIGNAL_HANDLERS):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        loop.add_signal_handler(signal.SIGTERM, lambda: switch.stop("SIGTERM"))


def install_key_reader(runner: Controllable, echo: Callable[[str], None]) -> bool:
    """On a terminal: ``p`` + Enter pauses, ``r`` + Enter resumes, ``q`` + Enter stops the session."""
    import sys

    if not sys.stdin.isatty():
        return False
    loop = asyncio.get_running_loop()

    def on_line() -> None:
        line = sys.stdin.readline().strip().lower()
        if line.startswith("p"):
            runner.pause()
        elif line.startswith("r"):
            runner.resume()
        elif line.startswith("q"):
            runner.stop("stopped")

    try:
        loop.add_reader(sys.stdin.fileno(), on_line)
    except NO_STDIN_READER:
        return False
    echo("keys: p + Enter pause, r + Enter resume, q + Enter stop (Ctrl-C stops too)")
    return True


def remove_key_reader() -> None:
    import sys

    with contextlib.suppress(*NO_STDIN_READER):
        asyncio.get_running_loop().remove_reader(sys.stdin.fileno())


def remove_stop_handler() -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(*NO_SIGNAL_HANDLERS):
            loop.remove_signal_handler(sig)
