"""A clock that runs ``speed`` times faster than another: the capture timeline of an accelerated virtual strap.

The virtual strap, the client's timestamps and the reconnect backoff all share one :class:`ScaledClock`, so a
capture recorded at ``--speed 20`` still has the recording's seconds, and "reconnects within 2 s" means 2 s of
capture time whatever the speed.
"""

from __future__ import annotations

import math

from sensors.clock import Clock, MonotonicClock


class ScaledClock:
    """``now()`` is 0 at creation and advances ``speed`` seconds per second of ``base``."""

    def __init__(self, speed: float = 1.0, base: Clock | None = None) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(
                f"speed must be a positive number, not {speed!r} (a radio link cannot run unpaced)"
            )
        self.speed = speed
        self.base: Clock = base if base is not None else MonotonicClock()
        self._origin = self.base.now()

    def now(self) -> float:
        return (self.base.now() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(max(0.0, seconds) / self.speed)

    def to_wall_s(self, seconds: float) -> float:
        """How long ``seconds`` of this clock take on the base clock."""
        return seconds / self.speed
