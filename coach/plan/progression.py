"""Pain-guided progression through a walk/run programme: pure rules, documented thresholds.

The rules follow the pain-monitoring model (Silbernagel et al., Am J Sports Med 2007) and physio return-to-run
practice (each stage at least twice; do not progress with increased pain, swelling or stiffness during or after):

* pain during or after a session: 0-2/10 is safe, up to 5/10 acceptable, above 5 is a flare-up;
* pain must settle by the next morning (next-morning score not above the before-session score);
* pain must not increase week to week;
* a stage is done at least ``min_sessions_per_stage`` times (or the stage's own ``sessions = N`` from the
  programme, passed as ``min_sessions_by_stage``), with good adherence, before moving on;
* after a flare-up, step back one stage; after two in a row, stop and see the physio;
* good sessions count only since the last flare-up (step-back): a stage is earned again after one;
* rehearsals (:func:`rehearsal_reason`: a demo, a replayed recording, the virtual strap, a ``--speed`` other
  than 1) never count: nobody ran them.

This is coaching, not diagnosis: the thresholds live in :class:`ProgressionConfig` so a physio can change them,
without touching code, in a ``progression.toml`` file (:func:`config_from_toml`, docs/progression.md).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from statistics import mean
from typing import Any, Literal

from coach.errors import InputError

Action = Literal["start", "progress", "repeat", "step_back", "stop"]

#: Sensor monikers (``--sensor``) of sessions nobody ran live: a recording replayed, or streamed by the virtual
#: strap. ``ble:`` is a live strap; ``import:`` a real recording made with a watch or a phone app.
REHEARSAL_SENSORS: dict[str, str] = {
    "replay:": "a replay of a recording",
    "virtual:": "a recording streamed by the virtual strap",
}


def rehearsal_reason(start: Mapping[str, Any]) -> str | None:
    """Why a session is a rehearsal, in words, or None when it is a real session that counts.

    ``start``: the session's ``session_start`` fields (docs/formats/events.md) that decide it: ``source`` (the
    ``--sensor`` moniker, or ``import:KIND:FILE`` for an import), ``demo`` and ``speed``. A rehearsal is a
    ``coach demo`` session, any session whose sensor is a ``replay:`` or ``virtual:`` recording (at any speed: a
    replay at ``--speed 1`` is still not a run), or one whose session clock ran at a speed other than 1. Imports of
    FIT or Polar Sensor Logger recordings are real sessions (``speed`` is absent for them). The one place this is
    decided: progression, ``coach plan``, ``coach history`` and the report all ask here.
    """
    if start.get("demo"):
        return "a demo"
    speed = start.get("speed")
    fast = isinstance(speed, int | float) and not isinstance(speed, bool) and speed != 1
    at_speed = f" at --speed {speed:g}" if fast else ""
    source = str(start.get("source") or "")
    for prefix, why in REHEARSAL_SENSORS.items():
        if source.startswith(prefix):
            return why + at_speed
    return f"a rehearsal{at_speed}" if fast else None


def is_rehearsal(start: Mapping[str, Any]) -> bool:
    """True for a session that never counts towards progression (:func:`rehearsal_reason`)."""
    return rehearsal_reason(start) is not None


@dataclass(frozen=True)
class ProgressionConfig:
    pain_safe_max: float = 2.0  # 0-2/10: safe
    pain_acceptable_max: float = 5.0  # up to 5/10 acceptable; above is a flare-up
    min_sessions_per_stage: int = 2  # each stage at least twice
    min_adherence: float = 0.8  # share of planned time done as planned
    next_morning_tolerance: float = 0.0  # next morning may be this much above the before-session score
    flareups_before_stop: int = 2  # consecutive flare-ups before "see your physio"
    walking_base_sessions: int = (
        2  # good walks at a walking-base step (W1..) before the next; at the last, stage 1
    )

    def __post_init__(self) -> None:
        if not 0 <= self.pain_safe_max <= self.pain_acceptable_max <= 10:
            raise ValueError("pain thresholds must satisfy 0 <= safe <= acceptable <= 10")
        if self.min_sessions_per_stage < 1:
            raise ValueError("min_sessions_per_stage must be at least 1")
        if not 0 <= self.min_adherence <= 1:
            raise ValueError("min_adherence is a share between 0 and 1")
        if not 0 <= self.next_morning_tolerance <= 10:
            raise ValueError("next_morning_tolerance must be between 0 and 10")
        if self.flareups_before_stop < 1:
            raise ValueError("flareups_before_stop must be at least 1")
        if self.walking_base_sessions < 1:
            raise ValueError("walking_base_sessions must be at least 1")


#: progression.toml fields: (kind, lowest, highest). Whole numbers for counts, numbers (0-10 scale) for pain.
CONFIG_FIELDS: dict[str, tuple[type, float, float]] = {
    "pain_safe_max": (float, 0, 10),
    "pain_acceptable_max": (float, 0, 10),
    "min_sessions_per_stage": (int, 1, 100),
    "min_adherence": (float, 0, 1),
    "next_morning_tolerance": (float, 0, 10),
    "flareups_before_stop": (int, 1, 100),
    "walking_base_sessions": (int, 1, 100),
}


#: Tables of progression.toml that other modules read: ``[exercise]`` (coach.plan.dose, the exercise dose).
OTHER_TABLES = frozenset({"exercise"})


def config_from_toml(text: str, source: str = "progression.toml") -> ProgressionConfig:
    """A :class:`ProgressionConfig` from TOML text (top-level keys = the field names; missing = default).

    Pure. Raises :class:`~coach.errors.InputError` naming ``source`` and the field, e.g.
    ``progression.toml: pain_acceptable_max: must be between 0 and 10 (got 12)``.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in OTHER_TABLES:  # read by their own modules
            continue
        if key not in CONFIG_FIELDS:
            raise InputError(
                f"{source}: {key}: unknown field (expected one of: {', '.join(sorted(CONFIG_FIELDS))})"
            )
        kind, lo, hi = CONFIG_FIELDS[key]
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            what = "a whole number" if kind is int else "a number"
            raise InputError(f"{source}: {key}: expected {what} (got {value!r})")
        if not (math.isfinite(value) and lo <= value <= hi):
            raise InputError(f"{source}: {key}: must be between {lo:g} and {hi:g} (got {value!r})")
        kwargs[key] = kind(value)
    try:
        return ProgressionConfig(**kwargs)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None


def config_as_dict(config: ProgressionConfig) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


@dataclass(frozen=True)
class SessionOutcome:
    """What the progression rules need to know about one finished (or interrupted) session."""

    when: datetime
    stage: int  # 1-based stage of the programme
    completed: bool = True
    adherence: float | None = None  # 0..1, None when unknown (e.g. no sensor)
    pain_before: float | None = None
    pain_during: float | None = None
    pain_after: float | None = None
    pain_next_morning: float | None = None

    @property
    def worst_pain(self) -> float | None:
        values = [p for p in (self.pain_during, self.pain_after, self.pain_next_morning) if p is not None]
        return max(values) if values else None


@dataclass(frozen=True)
class Decision:
    action: Action
    next_stage: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def explain(self) -> str:
        return " ".join(self.reasons)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _is_flareup(s: SessionOutcome, cfg: ProgressionConfig) -> bool:
    worst = s.worst_pain
    return worst is not None and worst > cfg.pain_acceptable_max


def _settled(s: SessionOutcome, cfg: ProgressionConfig) -> bool | None:
    """True/False once the next-morning score is known; None before."""
    if s.pain_next_morning is None:
        return None
    baseline = s.pain_before if s.pain_before is not None else cfg.pain_safe_max
    return s.pain_next_morning <= baseline + cfg.next_morning_tolerance


def _weekly_trend_up(history: Sequence[SessionOutcome]) -> bool:
    """True when the mean worst pain of the last 7 days is above that of the 7 days before."""
    if not history:
        return False
    end = history[-1].when
    this_week = [
        s.worst_pain for s in history if end - s.when < timedelta(days=7) and s.worst_pain is not None
    ]
    last_week = [
        s.worst_pain
        for s in history
        if timedelta(days=7) <= end - s.when < timedelta(days=14) and s.worst_pain is not None
    ]
    return bool(this_week and last_week and mean(this_week) > mean(last_week))


def decide(
    history: Sequence[SessionOutcome],
    n_stages: int,
    config: ProgressionConfig | None = None,
    *,
    min_sessions_by_stage: Mapping[int, int] | None = None,
) -> Decision:
    """The next session's stage and why, from the sessions done so far (oldest first).

    ``min_sessions_by_stage``: ``{stage: N}`` from the programme (each stage's ``sessions = N``); a stage not in
    it uses ``config.min_sessions_per_stage``.
    """
    cfg = config or ProgressionConfig()
    if n_stages < 1:
        raise ValueError("a programme has at least one stage")
    by_stage = dict(min_sessions_by_stage or {})
    if any(n < 1 for n in by_stage.values()):
        raise ValueError("a stage is done at least once (min_sessions_by_stage values must be >= 1)")
    if not history:
        return Decision("start", 1, ("First session: start at stage 1.",))
    history = sorted(history, key=lambda s: s.when)
    last = history[-1]
    stage = min(max(last.stage, 1), n_stages)

    streak = 0
    for s in reversed(history):
        if not _is_flareup(s, cfg):
            break
        streak += 1
    if streak >= cfg.flareups_before_stop:
        return Decision(
            "stop",
            max(1, stage - 1),
            (
                f"Pain went above {cfg.pain_acceptable_max:g}/10 in {streak} sessions in a row.",
                "Pause the programme and see your physio before the next run.",
            ),
        )
    if _is_flareup(last, cfg):
        return Decision(
            "step_back",
            max(1, stage - 1),
            (
                f"Pain reached {last.worst_pain:g}/10, above the acceptable {cfg.pain_acceptable_max:g}/10.",
                "Step back one stage until it settles.",
            ),
        )
    settled = _settled(last, cfg)
    if settled is False:
        return Decision(
            "repeat",
            stage,
            (
                f"Pain the next morning ({last.pain_next_morning:g}/10) was higher than before the session.",
                "Repeat this stage; move on only when pain settles by the next morning.",
            ),
        )
    if _weekly_trend_up(history):
        return Decision(
            "repeat", stage, ("Pain has gone up compared with the week before: repeat this stage.",)
        )
    if not last.completed:
        return Decision("repeat", stage, ("The last session was not finished: repeat this stage.",))
    if last.adherence is not None and last.adherence < cfg.min_adherence:
        return Decision(
            "repeat",
            stage,
            (
                f"You followed {last.adherence:.0%} of the plan (aim for {cfg.min_adherence:.0%}).",
                "Repeat this stage.",
            ),
        )
    # A step-back restarts the count: only good sessions after the last flare-up earn a stage (again).
    flares = [i for i, s in enumerate(history) if _is_flareup(s, cfg)]
    flare = history[flares[-1]] if flares else None
    since = history[flares[-1] + 1 :] if flares else history
    counting = "" if flare is None else f" since the flare-up on {flare.when.date().isoformat()}"
    good_at_stage = [
        s
        for s in since
        if s.stage == stage
        and s.completed
        and not _is_flareup(s, cfg)
        and (s.adherence is None or s.adherence >= cfg.min_adherence)
    ]
    need = by_stage.get(stage, cfg.min_sessions_per_stage)
    if len(good_at_stage) < need:
        left = need - len(good_at_stage)
        what = "Each stage is" if stage not in by_stage else f"Stage {stage} is"
        return Decision(
            "repeat",
            stage,
            (f"{what} done at least {_times(need)}: {left} more at stage {stage}{counting}.",),
        )
    if settled is None:
        return Decision(
            "repeat",
            stage,
            (
                "Log how your back feels the next morning (`coach pain N --when next-morning`) before moving on.",
            ),
        )
    if stage >= n_stages:
        return Decision("repeat", stage, ("Last stage reached: keep this session and enjoy it.",))
    return Decision(
        "progress",
        stage + 1,
        (
            f"Stage {stage} done {_times(len(good_at_stage))}{counting} with pain within {cfg.pain_acceptable_max:g}/10,"
            " settled by the next morning and good adherence.",
            f"Move on to stage {stage + 1}.",
        ),
    )


# ------------------------------------------------------------------------------------------------ walking base


@dataclass(frozen=True)
class WalkOutcome:
    """What the walking-base gate needs to know about one real walk (``coach walk``, an imported walk)."""

    when: datetime
    brisk_s: float | None  # seconds at brisk cadence (coach.session.adherence.brisk_walk_s); None: no cadence
    duration_s: float | None = None
    completed: bool = True
    pain_before: float | None = None
    pain_during: float | None = None
    pain_after: float | None = None
    pain_next_morning: float | None = None

    @property
    def brisk_min(self) -> float:
        return (self.brisk_s or 0.0) / 60.0


@dataclass(frozen=True)
class WalkingBaseDecision:
    """Where the runner stands on the walking base (W1..Wn before stage 1), and why.

    ``ready``: stage 1 may start. ``step``: the walking-base step to walk next (1-based; ``n`` when ready: keep
    walking it on the days between runs). ``target_min``: that step's brisk minutes. ``good``: good walks counted at
    that step so far."""

    ready: bool
    step: int
    target_min: float
    good: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def step_name(self) -> str:
        return f"W{self.step}"

    def explain(self) -> str:
        return " ".join(self.reasons)


def _walk_pain_ok(w: WalkOutcome, cfg: ProgressionConfig) -> bool | None:
    """Pain during and after within the safe 0-2/10 (True/False), None when neither was logged."""
    scores = [p for p in (w.pain_during, w.pain_after) if p is not None]
    if not scores:
        return None
    return max(scores) <= cfg.pain_safe_max


def _walk_settled(w: WalkOutcome, cfg: ProgressionConfig) -> bool | None:
    s = SessionOutcome(when=w.when, stage=0, pain_before=w.pain_before, pain_next_morning=w.pain_next_morning)
    return _settled(s, cfg)


def walk_is_good(w: WalkOutcome, minutes: float, cfg: ProgressionConfig) -> bool:
    """A walk that counts at a walking-base step of ``minutes``: finished, at least ``minutes`` at brisk cadence,
    pain 0-``pain_safe_max``/10 during and after, and settled by the next morning."""
    return (
        w.completed
        and w.brisk_min >= minutes
        and _walk_pain_ok(w, cfg) is True
        and _walk_settled(w, cfg) is True
    )


def walking_base_decision(
    walks: Sequence[WalkOutcome], brisk_minutes: Sequence[float], config: ProgressionConfig | None = None
) -> WalkingBaseDecision:
    """The walking-base gate (pure): ready for stage 1 after ``config.walking_base_sessions`` good walks (twice by
    default) with at least ``brisk_minutes[-1]`` minutes (30) at brisk cadence, pain 0-2/10 during and after and
    settled by the next morning (:func:`walk_is_good`); before that, the step to walk next and why not yet.

    Steps: the runner is at the lowest step ``k`` without enough good walks of at least ``brisk_minutes[k - 1]``
    minutes (a longer good walk counts at every lower step). A walk with pain above the acceptable level
    (``pain_acceptable_max``, a flare-up) restarts the count, as for running stages. ``walks``: any order.
    """
    cfg = config or ProgressionConfig()
    ladder = [float(m) for m in brisk_minutes]
    if not ladder:
        raise ValueError("a walking base has at least one step")
    need = cfg.walking_base_sessions
    walks = sorted(walks, key=lambda w: w.when)
    flares = [i for i, w in enumerate(walks) if (_walk_worst(w) or 0.0) > cfg.pain_acceptable_max]
    flare_at = flares[-1] if flares else None
    since = walks[flare_at + 1 :] if flare_at is not None else walks
    counting = (
        "" if flare_at is None else f" since the painful walk on {walks[flare_at].when.date().isoformat()}"
    )
    step = len(ladder)
    for k, minutes in enumerate(ladder, start=1):
        if sum(1 for w in since if walk_is_good(w, minutes, cfg)) < need:
            step = k
            break
    target = ladder[step - 1]
    good = sum(1 for w in since if walk_is_good(w, target, cfg))
    name = f"W{step}"
    if good >= need and step == len(ladder):
        return WalkingBaseDecision(
            True,
            step,
            target,
            good,
            (
                f"Ready for stage 1: {_times(good)} {target:g} minutes or more at brisk cadence{counting}, with "
                f"pain {cfg.pain_safe_max:g}/10 or less during and after, settled by the next morning.",
            ),
        )
    reasons: list[str] = []
    if not walks:
        reasons.append(
            f"Start with the walking base: {name}, a walk with {target:g} minutes at brisk cadence "
            "(100 steps/min or more)."
        )
        return WalkingBaseDecision(False, step, target, 0, tuple(reasons))
    last = walks[-1]
    worst = _walk_worst(last)
    ok = _walk_pain_ok(last, cfg)
    settled = _walk_settled(last, cfg)
    day = last.when.date().isoformat()
    if worst is not None and worst > cfg.pain_acceptable_max:
        reasons.append(
            f"Pain reached {worst:g}/10 in your walk on {day}, above the acceptable {cfg.pain_acceptable_max:g}/10: "
            "walk shorter and easier until it settles, and tell your physio if it does not."
        )
    elif ok is False:
        reasons.append(
            f"Not yet: pain reached {worst:g}/10 during or after your walk on {day}; the walking base asks for "
            f"{cfg.pain_safe_max:g}/10 or less."
        )
    elif settled is False:
        reasons.append(
            f"Not yet: the morning after your walk on {day} pain ({last.pain_next_morning:g}/10) was higher than "
            "before it; it must settle by the next morning."
        )
    elif last.brisk_s is None:
        reasons.append(
            f"Your walk on {day} has no cadence (no strap data), so its brisk minutes are unknown: walk with the "
            "strap (coach walk)."
        )
    elif last.brisk_min < target:
        reasons.append(
            f"Not yet: your walk on {day} had {_minutes(last.brisk_min)} at brisk cadence (100 steps/min or "
            f"more); {name} asks for {target:g}."
        )
    elif not last.completed:
        reasons.append(f"Your walk on {day} was not finished: walk {name} again.")
    elif ok is None:
        reasons.append(
            f"Log your pain after the walk on {day} (`coach pain N --when after`): a walk counts only with pain "
            f"{cfg.pain_safe_max:g}/10 or less."
        )
    elif settled is None:
        reasons.append(
            f"Log how your back feels the morning after the walk on {day} (`coach pain N --when next-morning`)."
        )
    left = need - good
    goal = "stage 1" if step == len(ladder) else f"W{step + 1}"
    reasons.append(
        f"{name}: {target:g} brisk minutes, {_times(need)} with pain 0-{cfg.pain_safe_max:g}/10 settled by the "
        f"next morning; {left} more{counting} before {goal}."
    )
    return WalkingBaseDecision(False, step, target, good, tuple(reasons))


def _minutes(value: float) -> str:
    """``1 minute``, ``22 minutes`` (whole minutes, rounded)."""
    n = round(value)
    return f"{n} minute" if n == 1 else f"{n} minutes"


def _walk_worst(w: WalkOutcome) -> float | None:
    values = [p for p in (w.pain_during, w.pain_after, w.pain_next_morning) if p is not None]
    return max(values) if values else None
