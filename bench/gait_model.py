"""Synthetic trunk acceleration from a physical gait model (for the signal tests and bench.hard_zone).

Vertical: the summed leg forces over body weight (Alexander & Jayes 1980): each leg pushes during its stance,
``tau = duty_factor x stride``, with ``F(t) = a [cos(pi t / tau) - q cos(3 pi t / tau)]`` for ``|t| < tau / 2``
(``q > 0``: walking's double hump, heel strike and push-off; ``q ~ 0``: running's single hump), ``a`` set so the
mean force over a stride is body weight (specific force 1 g). With a duty factor above 0.5 one foot is always on the
ground: a grounded jog has no flight phase. Alternate steps can differ in amplitude (``asymmetry``).
Horizontal: the sway over the stance foot repeats once per stride (``sway_g``, mediolateral), the braking and
propulsion once per step (``surge_g``, anteroposterior). ``placement`` scales the dynamic part (a sensor nearer
or farther from the centre of mass), ``mounting_deg`` rotates the sensor (Euler x, y, z).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bench.variants import rotation

FloatArray = NDArray[np.float64]
__all__ = ["gait", "leg_force", "rotation"]


def leg_force(phase_s: FloatArray, stance_s: float, q: float) -> FloatArray:
    """One leg's force shape (unscaled) at times ``phase_s`` from mid-stance; 0 in swing."""
    u = np.pi * phase_s / stance_s
    inside = np.abs(phase_s) < stance_s / 2
    return np.where(inside, np.cos(u) - q * np.cos(3.0 * u), 0.0)


def gait(
    *,
    cadence_spm: float,
    duty_factor: float,
    q: float,
    duration_s: float = 40.0,
    fs_hz: float = 100.0,
    placement: float = 1.0,
    mounting_deg: tuple[float, float, float] = (0.0, 0.0, 0.0),
    asymmetry: float = 0.0,
    sway_g: float = 0.08,
    surge_g: float = 0.12,
    noise_g: float = 0.01,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """(times in s, ``(n, 3)`` acceleration in g, sensor axes) of steady gait under the model above."""
    t = np.arange(round(duration_s * fs_hz)) / fs_hz
    step_s = 60.0 / cadence_spm
    stride_s = 2.0 * step_s
    stance_s = duty_factor * stride_s
    force = np.zeros_like(t)
    for leg, gain in ((0, 1.0 + asymmetry / 2), (1, 1.0 - asymmetry / 2)):
        mid = (t - leg * step_s) % stride_s
        mid = np.where(mid > stride_s / 2, mid - stride_s, mid)
        force += gain * leg_force(mid, stance_s, q)
    # a: mean force over a stride = body weight
    grid = np.linspace(-stance_s / 2, stance_s / 2, 2001)
    impulse = float(np.trapezoid(leg_force(grid, stance_s, q), grid))
    vertical = force * stride_s / (2.0 * impulse)
    vertical = 1.0 + placement * (vertical - 1.0)
    sway = placement * sway_g * np.sin(2.0 * np.pi * t / stride_s)
    surge = placement * surge_g * np.sin(2.0 * np.pi * t / step_s + 0.8)
    body = np.column_stack((surge, sway, vertical))  # x forward, y left, z up
    rng = np.random.default_rng(seed)
    body = body + rng.normal(0.0, noise_g, body.shape)
    return t, body @ rotation(mounting_deg).T
