"""The reconnect policy: how long to wait before each reconnection attempt. Pure: no I/O, no clock.

A strap that drops out during a run is usually back within seconds (a body between strap and receiver, a Wi-Fi
burst on a shared chip), sometimes after minutes (the strap slipped, the runner went out of range). So the first
attempt starts at once, failures back off exponentially with jitter (so two receivers do not retry in lock step)
up to a cap, and the policy never gives up: the session decides when to stop, not the radio.

Why not bleak-retry-connector: see docs/ble.md ("Reconnect policy").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Delays before reconnection attempts, in session seconds.

    Attempt 1 waits ``first_delay_s``; attempt n >= 2 waits ``base_delay_s * factor ** (n - 2)``, capped at
    ``max_delay_s``, each spread by +/- ``jitter`` (a fraction). There is deliberately no attempt limit.
    """

    first_delay_s: float = 0.0
    base_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 15.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.first_delay_s < 0 or self.base_delay_s <= 0:
            raise ValueError("delays must be >= 0 (first) and > 0 (base)")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, not {self.factor}")
        if self.max_delay_s < self.base_delay_s:
            raise ValueError("max_delay_s must be >= base_delay_s")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {self.jitter}")

    def delay_s(self, attempt: int, unit_random: float = 0.5) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based); ``unit_random`` in [0, 1) picks the jitter."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1, not {attempt}")
        if attempt == 1:
            nominal = self.first_delay_s
        else:
            # min() before the power keeps huge attempt numbers from overflowing.
            exponent = min(attempt - 2, 64)
            nominal = min(self.max_delay_s, self.base_delay_s * self.factor**exponent)
        spread = 1.0 + self.jitter * (2.0 * unit_random - 1.0)
        return nominal * spread


@dataclass(slots=True)
class Backoff:
    """The state of one outage: counts attempts and hands out delays; :meth:`reset` after a good connection."""

    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay_s(self) -> float:
        """Count one more attempt and return how long to wait before it."""
        self.attempts += 1
        return self.policy.delay_s(self.attempts, self.rng.random())

    def reset(self) -> None:
        self.attempts = 0
