"""The session clock: session seconds from a wall clock, ``speed`` times faster (``--speed``).

Only the speaker, the display and a live strap's silence run on it: the engine is stepped on the samples' own times
(:class:`coach.session.runner.SessionRunner`, "one session clock"), so what the coach decides never depends on it.
"""

from __future__ import annotations

import math

from sensors.clock import Clock, MonotonicClock


class SessionClock:
    """Session seconds from a wall clock: ``now() = (wall.now() - start) * speed``."""

    def __init__(self, wall: Clock | None = None, speed: float = 1.0) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a positive number (got {speed})")
        self.wall: Clock = wall or MonotonicClock()
        self.speed = speed
        self._t0 = self.wall.now()

    def now(self) -> float:
        return (self.wall.now() - self._t0) * self.speed

    def restart(self) -> None:
        """Session time 0 is now (called when the session really starts, after the voice is ready)."""
        self._t0 = self.wall.now()

    def wall_elapsed(self) -> float:
        return self.wall.now() - self._t0

    async def sleep(self, seconds: float) -> None:
        await self.wall.sleep(max(0.0, seconds) / self.speed)
