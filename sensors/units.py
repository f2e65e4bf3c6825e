"""Steps or strides: the ONE rule that decides what a device's "cadence per minute" counts.

A cadence stream from another device says "per minute" but not per what. FIT running cadence is strides/min by its
profile (``record.cadence`` + ``fractional_cadence``); Bluetooth RSC says "per minute" and some foot pods and straps
mean strides (two published peers halve running cadence the other way round). Everything downstream of a reader or a
source works in steps/min, so the unit is decided once, at ingest, by :func:`cadence_unit`:

- a format that declares its unit (FIT: strides) is taken at its word;
- otherwise the step length tells. Over the rows where the wearer moves (speed >= ``min_speed_mps``, cadence >=
  ``min_cadence_per_min``), a median "step" ``speed x 60 / cadence`` longer than ``max_step_length_m`` (walking is
  about 0.7 m, a rehab jog about 1 m) means strides, unless the doubled median cadence would pass
  ``max_cadence_spm`` (a fast runner's 1.5-2 m steps at 170-190 steps/min would double to an impossible rate);
- without speed (or with fewer than ``min_rows`` moving rows) the unit stays ``"unknown"`` and the values are taken
  as steps (factor 1): nothing is assumed.

:func:`cadence_unit` is pure: rows in, a :class:`CadenceUnitDecision` out. It is used by ``coach analyze`` and
``coach import`` (:mod:`coach.signal.io`), ``coach convert`` (:mod:`sensors.readers.convert`) and the live foot pod.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

CadenceUnit = Literal["steps", "strides", "unknown"]
CADENCE_UNITS: tuple[CadenceUnit, ...] = ("steps", "strides", "unknown")

#: A median step longer than this is a stride (walking ~0.7 m, a rehab jog ~1 m).
MAX_STEP_LENGTH_M = 1.3
#: Doubling must not give more steps/min than this (a fast runner's long steps are not strides).
MAX_CADENCE_SPM = 230.0
#: Rows below this cadence (standing, a zero from a pod at rest) say nothing about the unit.
MIN_CADENCE_PER_MIN = 30.0
#: Rows below this speed (standing, shuffling) say nothing about the unit.
MIN_SPEED_MPS = 0.8
#: Moving rows needed before the step length decides.
MIN_ROWS = 10


@dataclass(frozen=True, slots=True)
class CadenceUnitDecision:
    """What a cadence stream counts. ``factor`` turns its values into steps/min; ``note`` says why (or ``None``)."""

    unit: CadenceUnit
    note: str | None = None

    @property
    def factor(self) -> float:
        """Multiply the stream's values by this to get steps/min (``"unknown"`` is taken as steps)."""
        return 2.0 if self.unit == "strides" else 1.0


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def cadence_unit(
    rows: Iterable[Sequence[float | None]],
    *,
    declared: CadenceUnit = "unknown",
    max_step_length_m: float = MAX_STEP_LENGTH_M,
    max_cadence_spm: float = MAX_CADENCE_SPM,
    min_cadence_per_min: float = MIN_CADENCE_PER_MIN,
    min_speed_mps: float = MIN_SPEED_MPS,
    min_rows: int = MIN_ROWS,
) -> CadenceUnitDecision:
    """Decide whether ``rows`` of ``(t_s, cadence_per_min[, speed_mps])`` count steps or strides.

    ``declared`` is what the file format says (``"strides"`` for FIT); ``"unknown"`` lets the step length decide.
    """
    if declared not in CADENCE_UNITS:
        raise ValueError(f"declared cadence unit {declared!r} is not one of {', '.join(CADENCE_UNITS)}")
    if declared != "unknown":
        return CadenceUnitDecision(declared)
    moving: list[tuple[float, float]] = []
    for row in rows:
        if len(row) < 3:
            continue
        cad, spd = _finite(row[1]), _finite(row[2])
        if cad is None or spd is None or cad < min_cadence_per_min or spd < min_speed_mps:
            continue
        moving.append((cad, spd))
    if len(moving) < min_rows:
        return CadenceUnitDecision("unknown")
    import statistics  # here: `coach analyze` of an accelerometer file never needs it (start-up time)

    step_m = statistics.median(spd * 60.0 / cad for cad, spd in moving)
    med = statistics.median(cad for cad, _ in moving)
    if step_m > max_step_length_m and 2.0 * med <= max_cadence_spm:
        return CadenceUnitDecision(
            "strides",
            f"the device's cadence looks like strides/min (median {med:.0f} at a step length of {step_m:.2f} m); "
            "doubled to steps/min",
        )
    return CadenceUnitDecision("steps")
