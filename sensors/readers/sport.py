"""What an activity file is, decided in ONE place: walking or running that coach can analyse, or something it refuses.

Every reader of an activity format (FIT, TCX, GPX) names the file's sport in FIT's vocabulary (TCX ``Running`` ->
``running``, ``Biking`` -> ``cycling``, ``Other`` -> ``generic``) and hands it here with the cadence (steps/min) and
speed it read; :func:`decide` says accept or refuse, and why, in one line a runner can act on.

The rules (docs/import.md has the table):

- a declared walk or run is accepted: sports :data:`ON_FOOT_SPORTS` (running, walking, hiking, with any sub-sport:
  trail, track, treadmill, street, indoor...), and ``fitness_equipment`` only with a sub-sport of
  :data:`ON_FOOT_EQUIPMENT` (a treadmill; a rowing machine, an elliptical or a stair climber is not walking);
- a ``transition`` leg of a multisport file is skipped (it is not an activity);
- a generic or unknown sport (:data:`GENERIC_SPORTS`, or none at all: a file with no sport or session message) is
  accepted only when its data is plausible for walking or running (:func:`on_foot_evidence`), because FIT writes a
  bike's pedal rpm in the same ``cadence`` field as a runner's strides: doubled, 60-100 rpm becomes a believable
  120-200 steps/min. What tells them apart is physics, not the number: a rider *coasts* (moving fast with cadence
  0), a rider goes faster than anyone runs for long, and a rider's "step" (speed / cadence) is longer than any
  runner's. A bike computer (a Garmin Edge) is a ride whatever it says. Without cadence a generic file is refused:
  nothing says it was on foot;
- every other sport (cycling, swimming, rowing, paddling, stand-up paddleboarding, skiing, ...) is refused and
  named;
- whatever the sport, a median step cadence outside :data:`STEP_CADENCE_RANGE_SPM` (40-240 steps/min) is not
  walking or running: refused, never reported as is (single readings outside the range are left out by the
  reader, with a note).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Sports (FIT ``sport`` names) that are walking or running whatever their sub-sport (trail, track, treadmill...).
ON_FOOT_SPORTS = frozenset({"running", "walking", "hiking"})
#: ``fitness_equipment`` sub-sports that are walking or running (every other machine is refused).
ON_FOOT_EQUIPMENT = frozenset({"treadmill", "indoor_running", "indoor_walking"})
#: Sports that say nothing: accepted only when the data is plausible for walking or running.
GENERIC_SPORTS = frozenset({"generic", "other", "all", "multisport"})
#: Multisport legs that are not an activity (skipped, not refused).
SKIPPED_SPORTS = frozenset({"transition"})
#: Step cadence (steps/min) of walking and running: a slow shuffle ~40, an elite sprint ~240.
STEP_CADENCE_RANGE_SPM = (40.0, 240.0)
#: Above this median moving speed (m/s; 6.5 m/s is 2:34 min/km, faster than a marathon record) nobody is on foot.
MAX_ON_FOOT_SPEED_MPS = 6.5
#: A median step (speed x 60 / steps per min) longer than this (m) is not a step: elite runners reach ~2 m.
MAX_STEP_M = 2.0
#: Rows at or above this speed (m/s) with cadence 0 are coasting (a runner at 2.5 m/s is always stepping).
COAST_SPEED_MPS = 2.5
#: More than this share of the fast rows coasting is a ride.
MAX_COAST_SHARE = 0.1
#: Rows with cadence at or above this (steps/min) count as stepping when the evidence is weighed.
MIN_STEPPING_SPM = 20.0
#: Stepping rows needed before a generic file's data can count as walking or running.
MIN_EVIDENCE_ROWS = 10
#: Product names (lower case prefixes) of bike computers: their files are rides.
BIKE_COMPUTERS = ("edge",)

#: What coach needs, said at the end of every refusal.
NEEDS = (
    "coach analyses walking and running: it needs a walk/run activity with step cadence, or a chest accelerometer "
    "recording"
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``accept``: analyse it; ``skip``: a multisport leg that is not an activity; ``what``: the activity named
    (``"a running activity (trail)"``); ``reason``: why it is refused or skipped, or what made a generic file
    count as on foot."""

    accept: bool
    what: str
    reason: str | None = None
    skip: bool = False


def describe(sport: str | None, sub_sport: str | None) -> str:
    """``"a cycling activity (road)"``, ``"an activity without a sport"``."""
    if not sport:
        return "an activity without a sport"
    name = sport.replace("_", " ")
    sub = f" ({sub_sport.replace('_', ' ')})" if sub_sport and sub_sport not in ("generic", sport) else ""
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name} activity{sub}"


def on_foot_evidence(rows: Sequence[Sequence[float | None]]) -> str | None:
    """``None`` when ``rows`` of ``(t_s, steps_per_min[, speed_mps])`` are plausible walking or running, else why
    not (see the module docstring: coasting, speed, step length, cadence range)."""
    stepping = [r for r in rows if r[1] is not None and r[1] >= MIN_STEPPING_SPM]
    if not stepping:
        return "no step cadence"
    if len(stepping) < MIN_EVIDENCE_ROWS:
        return f"only {len(stepping)} records with a step cadence"
    lo, hi = STEP_CADENCE_RANGE_SPM
    med = statistics.median(float(r[1]) for r in stepping)  # type: ignore[arg-type]
    if not lo <= med <= hi:
        return f"its median cadence would be {med:.0f} steps/min, outside walking and running ({lo:.0f}-{hi:.0f})"
    fast = [r for r in rows if len(r) > 2 and r[2] is not None and r[2] >= COAST_SPEED_MPS]
    coasting = [r for r in fast if r[1] is not None and r[1] == 0]
    if fast and len(coasting) > MAX_COAST_SHARE * len(fast) and len(coasting) >= MIN_EVIDENCE_ROWS:
        return (
            f"{100 * len(coasting) / len(fast):.0f} % of the time above {COAST_SPEED_MPS:g} m/s has cadence 0 "
            "(coasting: moving without a step, not on foot)"
        )
    moving = [r for r in stepping if len(r) > 2 and r[2] is not None and r[2] > 0]
    if len(moving) >= MIN_EVIDENCE_ROWS:
        speed = statistics.median(float(r[2]) for r in moving)  # type: ignore[arg-type]
        if speed > MAX_ON_FOOT_SPEED_MPS:
            return f"its median speed is {speed:.1f} m/s, faster than anyone runs for long ({MAX_ON_FOOT_SPEED_MPS:g})"
        step = statistics.median(float(r[2]) * 60.0 / float(r[1]) for r in moving)  # type: ignore[arg-type]
        if step > MAX_STEP_M:
            return (
                f"its 'steps' would be {step:.1f} m long (speed / cadence), longer than any runner's "
                f"({MAX_STEP_M:g} m)"
            )
    return None


def decide(
    sport: str | None,
    sub_sport: str | None,
    rows: Sequence[Sequence[float | None]] = (),
    *,
    product: str | None = None,
) -> Verdict:
    """Accept, skip or refuse an activity (or one leg of a multisport file). ``rows`` are ``(t_s, steps_per_min
    [, speed_mps])`` as read (``None`` cadence allowed); ``product`` is the recording device's product name."""
    s = (sport or "").lower() or None
    sub = (sub_sport or "").lower() or None
    what = describe(s, sub)
    if s in SKIPPED_SPORTS:
        return Verdict(False, what, "a multisport transition, not an activity", skip=True)
    if (s == "fitness_equipment" and sub in ON_FOOT_EQUIPMENT) or s in ON_FOOT_SPORTS:
        declared = True
    elif s is None or s in GENERIC_SPORTS:
        declared = False
    else:
        return Verdict(False, what, f"not walking or running; {NEEDS}")
    if product and product.lower().startswith(BIKE_COMPUTERS):
        return Verdict(False, what, f"recorded by a bike computer ({product}): a ride; {NEEDS}")
    cadences = [float(r[1]) for r in rows if r[1] is not None and r[1] >= MIN_STEPPING_SPM]
    if declared:
        if len(cadences) >= MIN_EVIDENCE_ROWS:
            lo, hi = STEP_CADENCE_RANGE_SPM
            med = statistics.median(cadences)
            if not lo <= med <= hi:
                return Verdict(
                    False,
                    what,
                    f"its median cadence is {med:.0f} steps/min, outside walking and running ({lo:.0f}-{hi:.0f}): "
                    f"not a step count; {NEEDS}",
                )
        return Verdict(True, what)
    why_not = on_foot_evidence(rows)
    if why_not is not None:
        return Verdict(False, what, f"nothing says it was on foot: {why_not}; {NEEDS}")
    return Verdict(True, what, "generic sport, but the cadence and speed are those of walking or running")
