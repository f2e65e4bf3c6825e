"""Walk/run/still decision pieces: the gait gate, the walk-vs-run score, and the one mode hysteresis.

Each piece stores keyword-only parameters (units in their names); see docs/signal.md (steps 4, 7 and 8 and the
parameter table). :class:`coach.signal.StreamingGaitEstimator` composes them; :class:`ModeHysteresis` is also the
hysteresis of the device-cadence timeline (:func:`coach.signal.device_cadence_timeline`).
"""

from __future__ import annotations

import math
from collections import deque

from coach.signal.features import HopFeatures

GAIT_MODES = ("walk", "run")


class GaitGate:
    """Is a second a gap, in gait, still, or unknown?

    A second is a *gap* when less than ``min_valid_fraction`` of it has valid samples. It is *in gait* when the
    ACF window holds at least ``min_valid_window_s`` of valid signal, a step period was found with an ACF
    confidence of at least ``min_confidence``, and the vertical RMS of the second is at least ``still_rms_g`` and
    at least ``active_fraction`` of the window's RMS (so a stop is seen within a second). Not in gait: ``still``
    when the vertical RMS is below ``still_max_rms_g`` (standing, sitting, fidgeting), else ``unknown`` (large
    movement without a step rhythm).

    *Handling* (:meth:`handled`): a second whose run score says "run" while the gravity direction in the
    sensor's frame swung by more than ``max_run_swing_deg`` over the extractor's swing window
    (:attr:`HopFeatures.gravity_swing_deg`) is not gait but ``unknown``: putting a strap or shirt on or taking
    it off turns the sensor over and shakes it (erratic "steps" at 150-240/min with big impacts), while a
    runner's trunk stays upright (at most 16 degrees on the chest data). Walking keeps its call: a walker
    bending, sitting down or standing up tilts a lower-back sensor by up to about 50 degrees between steps, and
    a quick "walk" costs nothing where a false "run" does. Nor does it interrupt a run already reported
    (``running``): nobody takes a strap off in stride; a swing then is the strap slipping, and the run goes on.
    """

    def __init__(
        self,
        *,
        min_confidence: float = 0.15,
        still_rms_g: float = 0.03,
        active_fraction: float = 0.3,
        still_max_rms_g: float = 0.1,
        min_valid_fraction: float = 0.5,
        min_valid_window_s: float = 2.0,
        max_run_swing_deg: float = 25.0,
    ) -> None:
        self.max_run_swing_deg = max_run_swing_deg
        self.min_confidence = min_confidence
        self.still_rms_g = still_rms_g
        self.active_fraction = active_fraction
        self.still_max_rms_g = still_max_rms_g
        self.min_valid_fraction = min_valid_fraction
        self.min_valid_window_s = min_valid_window_s

    def is_gap(self, f: HopFeatures) -> bool:
        return bool(f.valid_fraction < self.min_valid_fraction)

    def in_gait(self, f: HopFeatures) -> bool:
        return bool(
            not self.is_gap(f)
            and f.valid_window_s >= self.min_valid_window_s
            and math.isfinite(f.period_s)
            and float(f.confidence) >= self.min_confidence
            and f.hop_rms_g >= self.still_rms_g
            and f.hop_rms_g >= self.active_fraction * f.band_std_g
        )

    def handled(self, f: HopFeatures, *, run_score: float, running: bool = False) -> bool:
        """Handling the strap, not gait: a run-like second (``run_score`` > 0) while the gravity direction
        swung by more than ``max_run_swing_deg``, unless a run is already reported (``running``; see the class
        docstring)."""
        return self.swing_handled(f.gravity_swing_deg, run_score=run_score, running=running)

    def swing_handled(self, gravity_swing_deg: float, *, run_score: float, running: bool = False) -> bool:
        """:meth:`handled` for a gravity swing given on its own (after the run reads it a few hops later)."""
        return bool(not running and run_score > 0 and gravity_swing_deg > self.max_run_swing_deg)

    def raw_mode(self, f: HopFeatures, *, run_score: float, running: bool = False) -> str:
        """The second's own mode, before hysteresis (``run_score`` > 0 = run; only used in gait; ``running``:
        the reported mode is already run, see :meth:`handled`)."""
        if self.is_gap(f):
            return "unknown"
        if self.in_gait(f):
            if self.handled(f, run_score=run_score, running=running):
                return "unknown"  # handling the strap: large movement, not a step rhythm
            return "run" if run_score > 0 else "walk"
        if f.hop_rms_g < self.still_max_rms_g:
            return "still"  # not stepping: standing, sitting, fidgeting
        return "unknown"  # large movement without a step rhythm


class WalkRunScore:
    """Logistic run-vs-walk score (> 0 = run) of one second in gait::

        z = w_range (range - run_range_g) + w_min (run_min_g - minimum)
            + w_cadence clip((cadence - cadence_pivot_spm) / cadence_scale_spm, -cadence_clip, cadence_clip)
            + flight_weight (flight_fraction - flight_pivot)
            [+ heart_rate_weight clip((hr - walking hr - hr_margin_bpm) / hr_scale_bpm, -hr_clip, hr_clip)]

    with (w_range, w_min, w_cadence) = ``run_weights``, range and minimum the robust extremes of the vertical
    acceleration (impact and flight phase), and ``flight_fraction`` the share of the feature window spent near
    free fall (:class:`coach.signal.features.HopFeatureExtractor`), the one feature that does not depend on where
    the sensor sits: a flight phase puts the whole body in free fall, walking always has a foot on the ground.
    Heart rate counts once a walking level is known: an exponential
    average (weight ``walking_hr_smoothing`` per second) of the heart rate over seconds reported as walking.
    The impact features are the wearer's own, read against their walking (:meth:`range_scale`): range and the
    minimum's depth below 1 g are multiplied by ``walk_range_g`` over the learned walking range where that is
    larger (an exponential average, weight ``walking_range_smoothing``, of the range of walking-like seconds
    reported as walking at up to ``learn_walk_below_spm``), at least ``min_range_scale``. The pivots were set
    where walking reads about ``walk_range_g``; a sensor that reads the same walking with bigger impacts (nearer
    the hip, a softer mounting, a higher gain) would otherwise call its brisk walking "run".
    A walking-like second (z <= 0) at more than ``max_walk_cadence_spm`` means the ACF locked onto a harmonic
    within the step (see :meth:`walking_harmonic`), unless the horizontal stride shows the lag is a step
    (:meth:`step_verified`). A verified step rate above ``max_walk_cadence_spm`` is a run whatever the
    impact and flight (a grounded jog: walking above about 150 steps/min is physiologically rare, fast walking
    reaches 130-145): z is then at least ``grounded_run_score``.
    """

    def __init__(
        self,
        *,
        run_range_g: float = 1.7,
        run_min_g: float = 0.25,
        run_weights: tuple[float, float, float] = (6.0, 3.0, 0.6),
        max_walk_cadence_spm: float = 150.0,
        heart_rate_weight: float = 0.4,
        flight_weight: float = 10.0,
        flight_pivot: float = 0.06,
        cadence_pivot_spm: float = 140.0,
        cadence_scale_spm: float = 20.0,
        cadence_clip: float = 1.5,
        hr_margin_bpm: float = 15.0,
        hr_scale_bpm: float = 15.0,
        hr_clip: float = 1.0,
        walking_hr_smoothing: float = 0.1,
        stride_evidence_r: float = 0.1,
        harmonic_evidence_r: float = 0.3,
        verify_min_confidence: float = 0.6,
        grounded_run_score: float = 1.0,
        evidence_window_s: float = 9.0,
        evidence_period_tolerance: float = 0.05,
        walk_range_g: float = 1.0,
        learn_walk_below_spm: float = 125.0,
        walking_range_smoothing: float = 0.05,
        min_range_scale: float = 0.5,
    ) -> None:
        self.run_range_g = run_range_g
        self.run_min_g = run_min_g
        self.run_weights = run_weights
        self.max_walk_cadence_spm = max_walk_cadence_spm
        self.heart_rate_weight = heart_rate_weight
        self.flight_weight = flight_weight
        self.flight_pivot = flight_pivot
        self.cadence_pivot_spm = cadence_pivot_spm
        self.cadence_scale_spm = cadence_scale_spm
        self.cadence_clip = cadence_clip
        self.hr_margin_bpm = hr_margin_bpm
        self.hr_scale_bpm = hr_scale_bpm
        self.hr_clip = hr_clip
        self.walking_hr_smoothing = walking_hr_smoothing
        self.stride_evidence_r = stride_evidence_r
        self.harmonic_evidence_r = harmonic_evidence_r
        self.verify_min_confidence = verify_min_confidence
        self.grounded_run_score = grounded_run_score
        self.evidence_window_s = evidence_window_s
        self.evidence_period_tolerance = evidence_period_tolerance
        self.walk_range_g = walk_range_g
        self.learn_walk_below_spm = learn_walk_below_spm
        self.walking_range_smoothing = walking_range_smoothing
        self.min_range_scale = min_range_scale
        self.walking_hr_bpm_: float | None = None
        self.walking_range_g_: float | None = None
        # (time, step period, stride at 2x, stride at 4x) of the recent seconds that measured the stride evidence
        self._evidence: deque[tuple[float, float, float, float]] = deque()
        self._verified_at: tuple[float, float] | None = None  # (time, step period) of the last verified step

    def score(
        self, f: HopFeatures, cadence_spm: float, hr_bpm: float | None, *, verified_step: bool = False
    ) -> float:
        """The run score of a second in gait at ``cadence_spm``; ``verified_step``: that cadence is the ACF step
        lag and :meth:`step_verified` holds (a grounded jog's rate counts as running)."""
        w_range, w_min, w_cadence = self.run_weights
        c = self.cadence_clip
        k = self.range_scale()
        low = 1.0 - k * (1.0 - f.vertical_low_g)
        z = (
            w_range * (k * (f.vertical_high_g - f.vertical_low_g) - self.run_range_g)
            + w_min * (self.run_min_g - low)
            + w_cadence * max(-c, min(c, (cadence_spm - self.cadence_pivot_spm) / self.cadence_scale_spm))
            + self.flight_weight * (f.flight_fraction - self.flight_pivot)
        )
        if hr_bpm is not None and self.walking_hr_bpm_ is not None:
            h = self.hr_clip
            above = (hr_bpm - self.walking_hr_bpm_ - self.hr_margin_bpm) / self.hr_scale_bpm
            z += self.heart_rate_weight * max(-h, min(h, above))
        if verified_step and cadence_spm > self.max_walk_cadence_spm:
            z = max(z, self.grounded_run_score)
        return float(z)

    def step_verified(self, f: HopFeatures, evidence: tuple[float, float] | None = None) -> bool:
        """The horizontal (left/right) stride shows at twice the ACF step lag (evidence of at least
        ``stride_evidence_r`` in the horizontal ACF, see :class:`coach.signal.cadence.AcfStepPeriod`) and not at
        four times it (evidence below ``harmonic_evidence_r``), in a steady rhythm (ACF confidence at least
        ``verify_min_confidence``; below it the ACF period is unreliable, as for
        :class:`coach.signal.cadence.StepRateCadence`): the lag is a step, not a harmonic within one.
        ``evidence``: ``(stride at 2x, stride at 4x)`` to use instead of the second's own (see
        :meth:`pooled_evidence`)."""
        at_2x, at_4x = (f.stride_at_2x, f.stride_at_4x) if evidence is None else evidence
        return bool(
            f.confidence >= self.verify_min_confidence
            and at_2x >= self.stride_evidence_r
            and math.isfinite(at_4x)
            and at_4x < self.harmonic_evidence_r
        )

    def verify_step(self, t_s: float, f: HopFeatures) -> bool:
        """Whether the step of second ``t_s`` (``f``; seconds in time order) is verified: by its own stride
        evidence, by the evidence pooled over the recent seconds at its step period (:meth:`pooled_evidence`),
        or held: a second at the step period (within ``evidence_period_tolerance``) of a second verified in the
        last ``evidence_window_s`` by the evidence of at least two seconds pooled keeps that verdict (a run of
        seconds with weak evidence, longer than the pool bridges, inside a rhythm that did not change; one second
        verified alone starts no hold)."""
        *pooled, n = self._pool(t_s, f)  # every second's evidence enters the pool
        by_pool = self.step_verified(f, (pooled[0], pooled[1]))
        if by_pool and n >= 2:
            self._verified_at = (t_s, f.period_s)  # a hold starts only from evidence of more than one second
        if by_pool or self.step_verified(f):
            return True
        if self._verified_at is None or not f.period_s > 0:
            return False
        t_v, p_v = self._verified_at
        return (
            t_s - t_v <= self.evidence_window_s
            and abs(f.period_s - p_v) <= self.evidence_period_tolerance * p_v
            and f.confidence >= self.verify_min_confidence
        )

    def pooled_evidence(self, t_s: float, f: HopFeatures) -> tuple[float, float]:
        """The stride evidence ``(stride at 2x, stride at 4x)`` of second ``t_s`` (``f``, in time order) averaged
        with that of the seconds of the last ``evidence_window_s`` at the same step period (ACF periods within
        ``evidence_period_tolerance`` of ``f``'s): one second's horizontal ACF is noisy (the chest of a jogger
        shows the stride at 2x at 0.0-0.4 from one second to the next), and a gait whose step period holds does
        not turn from a jog into a walk at half its rate and back. NaN where ``f`` has no evidence."""
        at_2x, at_4x, _ = self._pool(t_s, f)
        return at_2x, at_4x

    def _pool(self, t_s: float, f: HopFeatures) -> tuple[float, float, int]:
        """:meth:`pooled_evidence`, and how many seconds it averages (0 where ``f`` has no evidence)."""
        if not (math.isfinite(f.stride_at_2x) and math.isfinite(f.stride_at_4x) and f.period_s > 0):
            return math.nan, math.nan, 0
        ev = self._evidence
        ev.append((t_s, f.period_s, f.stride_at_2x, f.stride_at_4x))
        while ev[0][0] <= t_s - self.evidence_window_s:
            ev.popleft()
        tol = self.evidence_period_tolerance * f.period_s
        same = [(a2, a4) for _, p, a2, a4 in ev if abs(p - f.period_s) <= tol]
        return sum(a2 for a2, _ in same) / len(same), sum(a4 for _, a4 in same) / len(same), len(same)

    def may_need_stride_evidence(self, f: HopFeatures) -> bool:
        """Whether the second could be walking-like (z <= 0 whatever the heart rate: the heart-rate term is at
        most ``heart_rate_weight`` x ``hr_clip``) at an ACF cadence above ``max_walk_cadence_spm``: the seconds
        whose step :meth:`step_verified` must check (a run with a flight phase needs no check)."""
        if not math.isfinite(f.period_s) or f.period_s <= 0:
            return False
        cadence_spm = 60.0 / f.period_s
        if cadence_spm <= self.max_walk_cadence_spm:
            return False
        return self.score(f, cadence_spm, None) <= self.heart_rate_weight * self.hr_clip

    def walking_harmonic(self, run_score: float, cadence_spm: float, f: HopFeatures | None = None) -> bool:
        """A walking-like signal (no impact, no flight) at a running cadence whose step the horizontal stride
        does not verify (``f``, see :meth:`step_verified`): the ACF locked onto a harmonic within the step, and
        the step is the next peak."""
        if run_score > 0 or cadence_spm <= self.max_walk_cadence_spm:
            return False
        return f is None or not self.step_verified(f)

    def range_scale(self) -> float:
        """The factor on the impact features (range, and the minimum's depth below 1 g): ``walk_range_g`` over
        the wearer's learned walking range where that is larger (a sensor that reads the same walking with
        bigger impacts: nearer the hip, a softer mounting, a higher gain), at least ``min_range_scale``; else 1."""
        level = self.walking_range_g_
        if level is None or level <= self.walk_range_g:
            return 1.0
        return max(self.min_range_scale, self.walk_range_g / level)

    def learn_walking_range(self, f: HopFeatures, cadence_spm: float, run_score: float) -> None:
        """Update the walking range level with a second reported as walking that is walking-like itself
        (``run_score`` < 0) at a plain walking cadence (at most ``learn_walk_below_spm``; a fast walk's impacts
        are bigger, and those are what the level must not absorb)."""
        if run_score >= 0 or cadence_spm > self.learn_walk_below_spm:
            return
        rng = f.vertical_high_g - f.vertical_low_g
        self.walking_range_g_ = _smoothed(self.walking_range_g_, rng, self.walking_range_smoothing)

    def learn_walking_hr(self, hr_bpm: float) -> None:
        """Update the walking heart-rate level with a second reported as walking."""
        self.walking_hr_bpm_ = _smoothed(self.walking_hr_bpm_, hr_bpm, self.walking_hr_smoothing)


def _smoothed(level: float | None, value: float, weight: float) -> float:
    """One step of an exponential average: ``value`` itself for the first, else ``weight`` of it on the level."""
    return value if level is None else (1.0 - weight) * level + weight * value


class ModeHysteresis:
    """The reported mode: it changes after ``switch_s`` consecutive seconds agree on a new mode
    (``switch_still_s`` for a change to ``still``; ``switch_start_s``, default ``switch_s``, for a bout that
    starts walking from ``still`` or ``unknown``), whatever the current mode, ``unknown`` included. A start
    straight into running still needs ``switch_s``: a quick "walk" costs nothing, a false "run" does.

    A second may come with *evidence* (``update(raw_mode, evident=True)``): what the pipeline sees makes the
    start plain on its own (the estimator's: the last steps regular and at the ACF rhythm). Then a bout that
    starts walking from ``still`` or ``unknown`` needs only ``switch_evident_s`` (``None``: no such path)
    agreeing seconds. A start into running never takes this path: a quick "walk" costs nothing, a false "run"
    does. Likewise a bout that ends in a plain stop (the estimator's: a quiet second, motion falling, no loading
    peak for a full step interval) turns ``still`` after ``switch_stop_evident_s`` (``None``: no such path)
    agreeing seconds.

    A gap second (:meth:`gap`) keeps a walk or run mode for up to ``gap_hold_s`` seconds (a lost notification or
    a quick reconnect: the runner does not change what they do because the link did), then the mode is
    ``unknown``. Counts are in seconds: call :meth:`update` or :meth:`gap` once per second.
    """

    def __init__(
        self,
        *,
        switch_s: int = 2,
        switch_still_s: int = 2,
        gap_hold_s: int = 3,
        switch_start_s: int | None = None,
        switch_evident_s: int | None = None,
        switch_stop_evident_s: int | None = None,
    ) -> None:
        self.switch_s = switch_s
        self.switch_stop_evident_s = switch_stop_evident_s
        self.switch_still_s = switch_still_s
        self.gap_hold_s = gap_hold_s
        self.switch_start_s = switch_start_s
        self.switch_evident_s = switch_evident_s
        self.mode_ = "unknown"
        self._pending = "unknown"
        self._pending_s = 0
        self._gap_s = 0

    def update(self, raw_mode: str, *, evident: bool = False) -> str:
        """One second whose own mode is ``raw_mode`` (``evident``: the change is plain, see the class docstring);
        returns the reported mode."""
        if raw_mode != self.mode_:
            if raw_mode == self._pending:
                self._pending_s += 1
            else:
                self._pending = raw_mode
                self._pending_s = 1
            if raw_mode == "still":
                need = self.switch_still_s
            elif raw_mode == "walk" and self.mode_ not in GAIT_MODES:
                # a bout starts walking
                need = self.switch_s if self.switch_start_s is None else self.switch_start_s
            else:
                need = self.switch_s
            if (
                evident
                and self.switch_evident_s is not None
                and raw_mode == "walk"
                and self.mode_ not in GAIT_MODES
            ):
                need = min(need, self.switch_evident_s)
            if (
                evident
                and self.switch_stop_evident_s is not None
                and raw_mode == "still"
                and self.mode_ in GAIT_MODES
            ):
                need = min(need, self.switch_stop_evident_s)
            if self._pending_s >= need:
                self.mode_ = raw_mode
                self._pending_s = 0
        else:
            self._pending = raw_mode
            self._pending_s = 0
        self._gap_s = 0
        return self.mode_

    def gap(self) -> str:
        """One second that was mostly gap; returns the reported mode."""
        self._gap_s += 1
        if self.mode_ not in GAIT_MODES or self._gap_s > self.gap_hold_s:
            self.mode_ = "unknown"
        self._pending = "unknown"
        self._pending_s = 0
        return self.mode_
