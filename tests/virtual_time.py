"""Virtual time for end-to-end tests: an asyncio loop whose clock jumps to the next timer when nothing is ready.

A whole coached session (replay or virtual strap, engine, voice, session folder) runs on one event loop. On
:class:`VirtualTimeLoop`, ``loop.time()`` is virtual: whenever no callback is ready, the loop moves its clock to the
earliest scheduled timer at once instead of waiting for it. Every ``asyncio.sleep``, ``asyncio.timeout`` and
``wait_for`` in the session, and every :class:`LoopClock` sleep, therefore takes no wall time, and the order of events
is the order their timers give, whatever the machine's speed or load. A 20-minute session runs in a few wall
seconds and comes out the same on every run.

Unlike :class:`sensors.clock.FakeClock` (where every sleeper moves time forward by its own sleep, so two tasks that
sleep 1 s each move the clock 2 s), sleepers here wait together: two 1 s sleeps started at once end at once, 1 s later.

Limits: work done outside the loop (threads, executors, child processes) takes no virtual time, and a timeout that
guards it fires as soon as the loop is otherwise idle. Use it for sessions with ``--voice none`` or ``text``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on virtual time (CPython's ``_ready`` / ``_scheduled`` queues, Python 3.11+)."""

    def __init__(self, start_s: float = 0.0) -> None:
        super().__init__()
        self._virtual_now = start_s

    def time(self) -> float:
        return self._virtual_now

    def _run_once(self) -> None:
        # Nothing to run now: jump to the earliest timer (the heap's head; a cancelled one is never later than a
        # live one, so no live timer is skipped). The base class then polls I/O without blocking and runs it.
        ready: Any = self._ready  # type: ignore[attr-defined]
        scheduled: Any = self._scheduled  # type: ignore[attr-defined]
        if not ready and scheduled:
            self._virtual_now = max(self._virtual_now, scheduled[0].when())
        super()._run_once()  # type: ignore[misc]


class VirtualTimePolicy(asyncio.DefaultEventLoopPolicy):
    """New loops (``asyncio.run``, click commands) are :class:`VirtualTimeLoop` s."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return VirtualTimeLoop()


class LoopClock:
    """A :class:`sensors.clock.Clock` on the running loop's clock: virtual on :class:`VirtualTimeLoop`."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end on a new :class:`VirtualTimeLoop` (like ``asyncio.run``)."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


@contextlib.contextmanager
def virtual_time_policy() -> Iterator[None]:
    """Within the block every new event loop runs on virtual time (restores the previous policy after)."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(VirtualTimePolicy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)


@contextlib.contextmanager
def sessions_on_virtual_time(monkeypatch: Any) -> Iterator[list[float]]:
    """``coach run`` / ``coach demo`` (through click or :func:`coach.session.runner.run_session`) on virtual time.

    Within the block every new event loop is a :class:`VirtualTimeLoop` and every session without a clock of its
    own gets a :class:`LoopClock` as its wall clock. Yields a list that receives, for each session, the loop's
    clock when it ended: the wall seconds the session would have taken in real time (set-up included).
    """
    import dataclasses

    from coach.session import runner

    real = runner.run_session
    ended_at: list[float] = []

    async def on_loop_clock(opts: Any) -> Any:
        if opts.clock is None:
            opts = dataclasses.replace(opts, clock=LoopClock())
        try:
            return await real(opts)
        finally:
            ended_at.append(asyncio.get_running_loop().time())

    monkeypatch.setattr(runner, "run_session", on_loop_clock)
    with virtual_time_policy():
        yield ended_at
