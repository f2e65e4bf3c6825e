"""The after-the-run estimator: the live estimator's per-second features and steps, re-read with both sides known.

The live estimator (:class:`coach.signal.StreamingGaitEstimator`) must answer for second ``t`` from data up to
``t + 1``: its cadence describes the trailing ``window_s`` (about ``[t - 4, t + 1]``, so it lags about 2 s), a
mode change waits ``switch_s`` seconds of agreement, and the first seconds of a bout are ``unknown`` while the
autocorrelation window still holds the standing seconds. After the run none of that is needed.
:class:`AfterRunEstimator` takes the live :class:`~coach.signal.GaitSecond` objects of a whole recording (every
one carries its hop's features, run score and steps) and re-decides each second from windows *centred* on it:

0. **A step or a harmonic within one.** A second the live estimator halved (walking-like above the walking limit,
   its step not verified by the horizontal stride evidence: read as a slow walk's within-step harmonic) takes its
   ACF step back as a verified grounded-run step where the stride evidence pooled on both sides verifies it, or
   where it lies in a short stretch of halved seconds between two seconds that kept a step above the limit at the
   same step period (:meth:`AfterRunEstimator._reverify`).
1. **Gait or not.** A second is in gait when it is active (its own vertical RMS at least ``still_rms_g``), an
   autocorrelation window that covers it (the hops ending up to ``window_s - 1`` seconds later) found a step
   rhythm, and a step event lies within ``step_reach_s`` of it; a single quiet or arrhythmic second between two
   gait seconds (a turn, a missed hop) is filled, and so is a hole of up to ``max_hole_s`` seconds between two
   bouts where every second has a step within ``step_reach_s`` (a slow quiet step: walking on, not a stop). So a
   bout starts at its first steps, not when the trailing window has filled, and ends within a second of the last
   step. A second that is handling the strap (:meth:`GaitGate.handled`, the gravity swing read up to
   ``handling_reach_s`` hops later) is never in gait.
2. **Walk or run.** The per-second run score of the live rule (impact size and the flight phase, features over
   ``[t - 1, t + 1]``) is averaged over ``context_s`` seconds centred on the second, inside the bout, and the
   sign decides; a stretch of walk or run shorter than ``min_mode_s`` between two stretches of the other mode is
   merged into them. So one impact-like second inside a walk, or one soft second inside a run, does not flip the
   mode, and a real change is placed where the features change, not ``switch_s`` later.
3. **Cadence.** Where the rhythm is clear (confidence at least ``relaxed_confidence``), the autocorrelation
   cadence of the hop whose window is centred on the second (``window_s / 2`` later, clamped to the bout), when
   at least ``min_strides`` whole strides in ``step_window_s`` centred on the second confirm it (within
   ``consistent_stride_periods`` of the ACF stride) and their own rate (120 / their median: one mistimed step
   does not move it) agrees with it within ``acf_stride_agreement``: both measure the rhythm of the same
   seconds, so a larger difference than the steps' timing jitter means the ACF took a peak blended over a
   change of pace, or a wrong one. A very clear rhythm (confidence at least ``clear_confidence``) is kept,
   though, where the strides cannot measure it: where they scatter (robust relative spread above
   ``max_stride_spread``; steady walking's strides vary by 2-3 %, a detector that takes some steps at the
   heel-strike hump and others at the push-off hump of a double-humped step scatters them far more) or where
   their rate is below ``min_stride_rate_share`` x the ACF's (steps the detector missed), unless their rate is
   nearer twice the ACF's than its rate (the ACF then holds the stride lag). These clear-rhythm seconds take
   the highest peak of the spectrum of ``spectral_window_s`` of the zero-phase vertical signal centred on them,
   within ``spectral_band`` of the ACF cadence (:meth:`AfterRunEstimator._spectral`). Elsewhere (a weak rhythm,
   an unconfirmed ACF, the bout's edges) the stretch's own valid strides give it, as INDIP does: the mean of
   120 / stride over the strides in the step window whose two steps are both within ``relaxed_interval_periods``
   of the stretch's median step
   (a stride that holds a pause, a missed or a split step is left out, not read as a slow or a fast stride), or
   over all the stretch's valid strides when the window holds fewer than ``min_strides``; a stretch without
   enough valid strides falls back on its step intervals.
4. **Still and unknown**: a second outside the bouts is ``still`` where it was quiet itself (the live
   per-second decision) or where the live estimator kept reporting still (its switch rule lets a burst of one
   or two seconds without a step rhythm, a shift of weight while standing, pass), else ``unknown``; one-second
   blips between two equal modes are removed; a gap keeps the bout's mode for up to ``gap_hold_s`` seconds, as
   live.

Steps are the live step events plus those the live detector missed at a stretch's edges or inside its rhythm,
recovered before the cadence is read when :meth:`AfterRunEstimator.refine` is given the signal
(:class:`coach.signal.offline_steps.StepRecovery`; each step reported in the second it falls in). The result is one
:class:`~coach.signal.GaitSecond` per second, ``raw_mode`` the offline decision before the blip filter;
``features`` keep the live diagnostics of the second's own hop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from coach.signal.cadence import FootPodBlend, centred_spectral_cadence
from coach.signal.decision import GAIT_MODES, GaitGate, WalkRunScore
from coach.signal.dsp import median, nanmedian
from coach.signal.features import HopFeatures
from coach.signal.gait import GaitSecond
from coach.signal.offline_steps import Rebuilt, StepRecovery

__all__ = ["AfterRunEstimator"]


class AfterRunEstimator:
    """Re-decides a recording's live seconds with context on both sides (module docstring).

    Parameters are keyword-only; ``gate`` is the live :class:`~coach.signal.decision.GaitGate` (its
    ``still_rms_g``, ``min_confidence`` and gap rule are reused, one truth for "active" and "rhythm").
    """

    def __init__(
        self,
        *,
        window_s: float = 5.0,
        context_s: int = 5,
        min_mode_s: int = 3,
        min_core_s: int = 2,
        step_reach_s: float = 1.0,
        step_window_s: float = 6.0,
        relaxed_confidence: float = 0.6,
        clear_confidence: float = 0.9,
        max_stride_spread: float = 0.05,
        min_stride_rate_share: float = 0.9,
        spectral_window_s: float = 6.0,
        spectral_band: float = 0.1,
        consistent_stride_periods: tuple[float, float] = (0.8, 1.25),
        acf_stride_agreement: float = 0.03,
        relaxed_interval_periods: tuple[float, float] = (0.5, 2.5),
        min_strides: int = 2,
        gap_hold_s: int = 3,
        max_hole_s: int = 2,
        handling_reach_s: int = 2,
    ) -> None:
        self.window_s = window_s
        self.context_s = context_s
        self.min_mode_s = min_mode_s
        self.min_core_s = min_core_s
        self.step_reach_s = step_reach_s
        self.step_window_s = step_window_s
        self.relaxed_confidence = relaxed_confidence
        self.clear_confidence = clear_confidence
        self.max_stride_spread = max_stride_spread
        self.min_stride_rate_share = min_stride_rate_share
        self.spectral_window_s = spectral_window_s
        self.spectral_band = spectral_band
        self.consistent_stride_periods = consistent_stride_periods
        self.acf_stride_agreement = acf_stride_agreement
        self.min_strides = min_strides
        self.relaxed_interval_periods = relaxed_interval_periods

        self.gap_hold_s = gap_hold_s
        self.max_hole_s = max_hole_s
        self.handling_reach_s = handling_reach_s

    # ------------------------------------------------------------------ entry point
    def refine(
        self,
        seconds: Sequence[GaitSecond],
        gate: GaitGate,
        foot_pod_blend: FootPodBlend | None = None,
        *,
        signal: tuple[np.ndarray, np.ndarray] | None = None,
        recovery: StepRecovery | None = None,
        run_score: WalkRunScore | None = None,
    ) -> list[GaitSecond]:
        """The after-the-run seconds of a recording, from its live ``seconds`` (all of them, in order).

        ``foot_pod_blend`` is the live estimator's foot-pod piece: where a hop had a foot-pod reading, the
        centred ACF cadence is blended with it the same way and the step rate is not used (as live).
        ``signal`` (``(t_s, xyz_g)``, the recording the seconds came from, same clock) and ``recovery`` add the
        steps the live detector missed (:class:`~coach.signal.offline_steps.StepRecovery`) before the cadence
        is read; without them the steps are the live ones. ``run_score`` (the live estimator's
        :class:`~coach.signal.decision.WalkRunScore`) re-verifies, with the stride evidence on both sides, the
        steps the live estimator halved (:meth:`_reverify`)."""
        n = len(seconds)
        if n == 0 or any(s.features is None for s in seconds):
            return list(seconds)
        hops = [s.features.hop for s in seconds if s.features is not None]
        t0 = seconds[0].t
        gap = np.array([gate.is_gap(f) for f in hops])
        rhythm = np.array([gate.in_gait(f) for f in hops])
        conf = np.array([f.confidence for f in hops])
        z = np.array(
            [
                np.nan if s.features is None or s.features.run_score is None else s.features.run_score
                for s in seconds
            ]
        )
        handled = self._handled(seconds, hops, z, gate)
        rhythm &= ~handled
        acf = np.array(
            [
                np.nan
                if s.features is None or s.features.cadence_acf_spm is None
                else s.features.cadence_acf_spm
                for s in seconds
            ]
        )
        steps = np.array(sorted(st - t0 for s in seconds for st in s.steps), dtype=np.float64)
        if run_score is not None:
            self._reverify(hops, acf, z, run_score)
        pod = np.zeros(n, dtype=bool)
        if foot_pod_blend is not None:
            for k, s in enumerate(seconds):
                fp = None if s.features is None else s.features.foot_pod_spm
                if fp is not None and math.isfinite(acf[k]):
                    acf[k], _, pod[k] = foot_pod_blend.blend(float(acf[k]), fp)

        hop_rms = np.array([f.hop_rms_g for f in hops])
        gait, hole = self._gait(rhythm, gap, hop_rms, steps, gate)
        gait &= ~handled
        hole &= ~handled
        z[handled] = np.nan
        bouts = _runs(gait)
        mode = np.array([_non_gait_mode(s.raw_mode, s.mode) for s in seconds], dtype=object)
        cadence = np.full(n, np.nan)
        stretches: list[tuple[int, int]] = []
        for a, b in bouts:
            mode[a:b] = self._walk_run(z, a, b, n)
            # each walk or run stretch reads its cadence from its own windows (not a half-rate value of the
            # change, not the other gait's rate)
            for a2, b2 in _runs(mode[a:b] == "run") + _runs(mode[a:b] == "walk"):
                stretches.append((a + a2, a + b2))
        rebuilt: list[Rebuilt] = []
        if signal is not None and recovery is not None and stretches:
            # the steps' rhythm is read between the filled holes (a turn or a pause breaks it)
            spans = [(a + a2, a + b2) for a, b in stretches for a2, b2 in _runs(~hole[a:b])]
            steps, rebuilt = self._recover_steps(steps, spans, acf, rhythm, signal, recovery, t0)
        from_acf = np.zeros(n, dtype=bool)
        for a, b in stretches:
            cadence[a:b], from_acf[a:b] = self._cadence(acf, conf, rhythm, steps, a, b, pod)
        if self.spectral_window_s > 0:
            self._spectral(cadence, from_acf, rebuilt)
        raw = mode.copy()
        mode = self._hold_gaps(mode, gap, cadence)
        mode = _remove_blips(mode)
        for k in range(
            1, n
        ):  # a second that became walk or run by the blip filter keeps the cadence before it
            if mode[k] in GAIT_MODES and not math.isfinite(cadence[k]):
                cadence[k] = cadence[k - 1]
        out: list[GaitSecond] = []
        idx = np.searchsorted(steps, np.arange(n + 1), side="left").tolist()
        # Python floats once per array, not a numpy scalar per element (the same values)
        step_list, cadence_list, conf_list, gait_list = (
            steps.tolist(),
            cadence.tolist(),
            conf.tolist(),
            gait.tolist(),
        )
        for k, s in enumerate(seconds):
            m = str(mode[k])
            c = cadence_list[k] if m in GAIT_MODES else math.nan
            out.append(
                GaitSecond(  # the live second's time and features, the after-run values (direct: no replace)
                    t=s.t,
                    cadence_spm=round(c, 3) if math.isfinite(c) else None,
                    confidence=round(conf_list[k] if gait_list[k] else 0.0, 4),
                    mode=m,
                    steps=tuple(t0 + x for x in step_list[idx[k] : idx[k + 1]]),
                    raw_mode=str(raw[k]),
                    features=s.features,
                )
            )
        return out

    # ------------------------------------------------------------------ handling the strap
    def _handled(
        self, seconds: Sequence[GaitSecond], hops: Sequence[HopFeatures], z: np.ndarray, gate: GaitGate
    ) -> np.ndarray:
        """The seconds that are handling the strap, not gait (:meth:`GaitGate.handled`), with the gravity
        swing read up to ``handling_reach_s`` hops later: the causal gravity estimate and its swing window lag
        the turn of the sensor, and after the run the later hops are known. A run the live estimator already
        reported goes on (the strap slipped)."""
        running = [False] + [s.mode == "run" for s in seconds[:-1]]
        swing = np.array([f.gravity_swing_deg for f in hops])
        reach = np.array(swing)
        for k in range(1, self.handling_reach_s + 1):
            reach[:-k] = np.maximum(reach[:-k], swing[k:])
        return np.array(
            [
                gate.swing_handled(float(sw), run_score=float(zk), running=r)
                for sw, zk, r in zip(reach, z, running, strict=True)
            ],
            dtype=bool,
        )

    # ------------------------------------------------------------------ 0. a step or a harmonic within one
    @staticmethod
    def _reverify(
        hops: Sequence[HopFeatures], acf: np.ndarray, z: np.ndarray, run_score: WalkRunScore
    ) -> None:
        """The seconds the live estimator read as a slow walk's within-step harmonic (a walking-like second above
        ``max_walk_cadence_spm`` whose step its stride evidence did not verify: the step halved, a walk) whose
        step the stride evidence of the seconds *around* them verifies (:meth:`WalkRunScore.pooled_evidence`
        centred: the seconds within ``evidence_window_s / 2`` on either side at the same step period) take
        their ACF step back, a verified step above the walking limit (``z`` at least ``grounded_run_score``, as
        live). Live pools only the seconds before; a run of weak seconds at the start of the window halves
        there what the seconds after it verify. ``acf`` and ``z`` are changed in place."""
        period = np.array([h.period_s for h in hops])
        at_2x = np.array([h.stride_at_2x for h in hops])
        at_4x = np.array([h.stride_at_4x for h in hops])
        with np.errstate(invalid="ignore", divide="ignore"):
            step = 60.0 / period  # the ACF step rate (NaN without a period)
        tol = run_score.evidence_period_tolerance
        measured = np.flatnonzero(np.isfinite(at_2x) & np.isfinite(at_4x) & (period > 0))
        reach = run_score.evidence_window_s / 2.0
        for k in measured.tolist():
            if not acf[k] < 0.75 * step[k]:  # live kept the step (or had no cadence)
                continue
            near = measured[np.abs(measured - k) <= reach]
            near = near[np.abs(period[near] - period[k]) <= tol * period[k]]
            if run_score.step_verified(hops[k], (float(at_2x[near].mean()), float(at_4x[near].mean()))):
                acf[k] = step[k]
                z[k] = max(z[k], run_score.grounded_run_score) if math.isfinite(z[k]) else z[k]
        # a stretch of halved seconds between two seconds that kept a step above the walking limit, at the same
        # step period throughout and no longer than the pool: the vertical rhythm did not change, so neither did
        # the gait (a jog does not become a walk at exactly half its rate and back within seconds)
        halved = np.isfinite(acf) & (acf < 0.75 * step)
        kept = np.isfinite(acf) & (np.abs(acf - step) <= tol * step) & (step > run_score.max_walk_cadence_spm)
        for a, b in _runs(halved):
            if (
                a == 0
                or b >= acf.size
                or not (kept[a - 1] and kept[b])
                or b - a > run_score.evidence_window_s
            ):
                continue
            p = period[a - 1 : b + 1]
            if np.all(np.abs(p - median(p)) <= tol * median(p)):
                acf[a:b] = step[a:b]
                z[a:b] = np.where(
                    np.isfinite(z[a:b]), np.maximum(z[a:b], run_score.grounded_run_score), z[a:b]
                )

    # ------------------------------------------------------------------ steps
    def _recover_steps(
        self,
        steps: np.ndarray,
        stretches: list[tuple[int, int]],
        acf: np.ndarray,
        rhythm: np.ndarray,
        signal: tuple[np.ndarray, np.ndarray],
        recovery: StepRecovery,
        t0: float,
    ) -> tuple[np.ndarray, list[Rebuilt]]:
        """The live ``steps`` (s from ``t0``) plus those ``recovery`` finds in each walk or run stretch, whose
        step period is the median ACF period of its seconds with a rhythm; and the vertical signal rebuilt
        around them (:meth:`StepRecovery.rebuild`, on the same clock)."""
        spans: list[tuple[float, float, float]] = []
        for a, b in stretches:
            sel = rhythm[a:b] & np.isfinite(acf[a:b])
            if sel.any():
                spans.append((float(a), float(b), 60.0 / median(acf[a:b][sel])))
        if not spans:
            return steps, []
        t_s = np.asarray(signal[0], dtype=np.float64) - t0
        x = np.asarray(signal[1], dtype=np.float64)
        rebuilt = recovery.rebuild(t_s, x, [(a, b) for a, b, _ in spans])
        return recovery.steps(t_s, x, steps, spans, rebuilt), rebuilt

    # ------------------------------------------------------------------ 1. gait or not
    def _gait(
        self,
        rhythm: np.ndarray,
        gap: np.ndarray,
        hop_rms: np.ndarray,
        steps: np.ndarray,
        gate: GaitGate,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(gait, hole)``: the seconds in gait, and those of them that are a filled hole between two bouts."""
        n = rhythm.size
        # the bouts' cores: the seconds the live gate found in gait, a one-second hole filled, at least
        # min_core_s long (the live hysteresis also wants that many agreeing seconds)
        core = rhythm.copy()
        core[1:-1] |= rhythm[:-2] & rhythm[2:] & ~gap[1:-1]
        gait = np.zeros(n, dtype=bool)
        k = np.arange(n, dtype=np.float64)
        lo = np.searchsorted(steps, k - self.step_reach_s, side="left")
        hi = np.searchsorted(steps, k + 1.0 + self.step_reach_s, side="left")
        near_step = hi > lo
        lead = max(0, math.ceil(self.window_s) - 1)  # the seconds before a core that its first ACF window saw
        for a, b in _runs(core):
            if b - a < self.min_core_s:
                continue
            gait[a:b] = True
            # the bout began before the trailing window was convinced: back to the first second that is as
            # active as the bout's first seconds (gate.active_fraction of their RMS) and has a step near it
            level = gate.active_fraction * median(hop_rms[a : min(b, a + lead)])
            j = a - 1
            while (
                j >= max(0, a - lead)
                and not gait[j]
                and not gap[j]
                and near_step[j]
                and hop_rms[j] >= max(gate.still_rms_g, level)
            ):
                gait[j] = True
                j -= 1
        # a short hole between two bouts where the steps go on (every second of it has a step within
        # step_reach_s; a turn, a slow step, a quiet second) is walking on, not a stop
        hole = np.zeros(n, dtype=bool)
        for a, b in _runs(~gait):
            if a > 0 and b < n and b - a <= self.max_hole_s and near_step[a:b].all() and not gap[a:b].any():
                hole[a:b] = True
        return gait | hole, hole

    # ------------------------------------------------------------------ 2. walk or run
    def _walk_run(self, z: np.ndarray, a: int, b: int, n: int) -> np.ndarray:
        # hop k's features cover [k - 1, k + 1]: second k ([k, k + 1)) is centred between hops k and k + 1
        z0 = z[a:b]
        z1 = z[a + 1 : min(n, b + 1)]
        if z1.size < z0.size:
            z1 = np.concatenate((z1, [np.nan]))
        both = np.isfinite(z0) & np.isfinite(z1)
        zc = np.where(both, (z0 + z1) / 2.0, np.where(np.isfinite(z0), z0, z1))
        if not np.isfinite(zc).any():
            return np.full(b - a, "walk", dtype=object)
        # seconds without a score take the nearest scored one
        ok = np.flatnonzero(np.isfinite(zc))
        pos = np.arange(b - a)
        nearest = ok[np.clip(np.searchsorted(ok, pos), 0, ok.size - 1)]
        before = ok[np.clip(np.searchsorted(ok, pos) - 1, 0, ok.size - 1)]
        pick = np.where(np.abs(before - pos) <= np.abs(nearest - pos), before, nearest)
        zc = zc[pick]
        half = self.context_s // 2
        csum = np.concatenate(([0.0], np.cumsum(zc)))
        lo = np.clip(pos - half, 0, b - a)
        hi = np.clip(pos + half + 1, 0, b - a)
        smooth = (csum[hi] - csum[lo]) / (hi - lo)
        run = smooth > 0
        # a stretch shorter than min_mode_s between two stretches of the other mode is merged into them
        for s0, s1 in _runs(run) + _runs(~run):
            if s1 - s0 < self.min_mode_s and s0 > 0 and s1 < run.size:
                run[s0:s1] = not run[s0]
        return np.where(run, "run", "walk").astype(object)

    # ------------------------------------------------------------------ 3. cadence
    def _cadence(
        self,
        acf: np.ndarray,
        conf: np.ndarray,
        rhythm: np.ndarray,
        steps: np.ndarray,
        a: int,
        b: int,
        pod: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cadence of the stretch ``[a, b)``, and which of its seconds took the ACF path (a clear rhythm)."""
        lead = round(self.window_s / 2.0 - 0.5)  # the hop whose ACF window is centred on the second
        # the hops whose trailing window ends inside the stretch (the centred one, or the nearest such)
        ok = np.flatnonzero(rhythm[a:b] & np.isfinite(acf[a:b])) + a
        bout_steps = steps[(steps >= a - self.step_reach_s) & (steps < b + self.step_reach_s)]
        stride = bout_steps[2:] - bout_steps[:-2]  # step i to step i + 2: whole strides (no left/right bias)
        stride_mid = (bout_steps[2:] + bout_steps[:-2]) / 2.0
        interval = np.diff(bout_steps)
        interval_mid = (bout_steps[1:] + bout_steps[:-1]) / 2.0
        # the bout's typical step: the reference for which step intervals are pauses or split steps
        typical = median(interval) if interval.size else math.nan
        r_lo, r_hi = self.relaxed_interval_periods
        # the stretch's valid strides (INDIP-like): both of their steps within relaxed_interval_periods of the
        # typical step, so a stride that holds a pause, a missed or a split step is out
        step_ok = (interval >= r_lo * typical) & (interval <= r_hi * typical)
        valid = step_ok[:-1] & step_ok[1:]
        lo_p, hi_p = self.consistent_stride_periods
        out = np.full(b - a, np.nan)
        acf_path = np.zeros(b - a, dtype=bool)
        half = self.step_window_s / 2.0
        centres = np.arange(a, b) + 0.5
        # the step windows of every second, as slices (the mids are sorted)
        s_lo = np.searchsorted(stride_mid, centres - half, side="left")
        s_hi = np.searchsorted(stride_mid, centres + half, side="right")
        i_lo = np.searchsorted(interval_mid, centres - half, side="left")
        i_hi = np.searchsorted(interval_mid, centres + half, side="right")
        if ok.size:  # the nearest hop with a rhythm to the centred one, for every second
            target = np.arange(a, b) + lead
            after = np.clip(np.searchsorted(ok, target), 0, ok.size - 1)
            before = np.clip(after - 1, 0, ok.size - 1)
            hop = np.where(np.abs(ok[before] - target) <= np.abs(ok[after] - target), ok[before], ok[after])
        for i in range(b - a):
            c_acf = math.nan
            c_conf = 0.0
            if ok.size:
                j = int(hop[i])
                c_acf, c_conf = float(acf[j]), float(conf[j])
            if ok.size and pod[j]:
                out[i] = c_acf  # an agreeing foot pod was blended in: the ACF path, as live (not respectral)
                continue
            if c_conf >= self.relaxed_confidence:
                # a clear rhythm: the centred ACF, where the whole strides around the second confirm it (their
                # timing is not blended in: the step events carry the detector's jitter, the ACF does not)
                period = 60.0 / c_acf
                st = stride[s_lo[i] : s_hi[i]]
                st = st[(st >= 2.0 * lo_p * period) & (st <= 2.0 * hi_p * period)]
                # ... and where their own rate (the median whole stride: one mistimed step makes one stride
                # long and the next short, and at the window's or the recording's edge only one of the two is
                # there) agrees with it: both measure the rhythm of the same seconds, so beyond the steps'
                # timing jitter the ACF took a blended peak (a change of pace inside its window) or a wrong one
                rate = 120.0 / median(st) if st.size else math.nan
                if st.size >= self.min_strides and abs(c_acf - rate) <= self.acf_stride_agreement * rate:
                    out[i] = c_acf
                    acf_path[i] = True
                    continue
                # ... and a very clear rhythm is not overruled by strides that cannot measure it: strides that
                # scatter beyond what steady walking shows (some steps taken at one hump of a double-humped step,
                # others at the other), or whose rate falls short of the rhythm's (steps the detector missed) are
                # the detector's timing, not a change of pace (which moves both together)
                every = stride[s_lo[i] : s_hi[i]]
                every_rate = 120.0 / median(every) if every.size else math.nan
                if (
                    c_conf >= self.clear_confidence
                    and every.size >= self.min_strides
                    and (
                        _spread(every) > self.max_stride_spread
                        or every_rate < self.min_stride_rate_share * c_acf
                    )
                    # strides nearer twice the ACF's rate than its rate: the ACF holds the stride lag
                    and every_rate < math.sqrt(2.0) * c_acf
                ):
                    out[i] = c_acf
                    acf_path[i] = True
                    continue
            # a weak rhythm (turns, hesitations, the bout's edges), or an ACF the strides do not confirm (at a
            # change of gait it can hold the stride lag): INDIP-like, the mean rate of the valid strides around
            # the second, or of all the stretch's valid ones if the window has too few
            st = stride[s_lo[i] : s_hi[i]][valid[s_lo[i] : s_hi[i]]]
            if st.size < self.min_strides:
                st = stride[valid]
            if st.size >= self.min_strides:
                out[i] = float(np.mean(120.0 / st))
                continue
            # too few valid strides in the whole stretch: the step intervals, pauses and split steps out
            iv = interval[i_lo[i] : i_hi[i]]
            iv = iv[(iv >= r_lo * typical) & (iv <= r_hi * typical)]
            if iv.size >= self.min_strides:
                out[i] = 60.0 * iv.size / float(iv.sum())
            elif c_conf >= self.relaxed_confidence:
                out[i] = c_acf
        if not np.isfinite(out).any():
            return np.full(b - a, nanmedian(acf[a:b]) if np.isfinite(acf[a:b]).any() else math.nan), acf_path
        return _fill_nearest(out), acf_path

    def _spectral(self, cadence: np.ndarray, from_acf: np.ndarray, rebuilt: list[Rebuilt]) -> None:
        """The ACF-path seconds' cadence read again from the spectrum of ``spectral_window_s`` of the zero-phase
        vertical signal centred on each (:func:`coach.signal.cadence.centred_spectral_cadence`, within
        ``spectral_band`` of the ACF cadence), where a rebuilt group covers it; in place."""
        for g0, g1, tg, y, valid in rebuilt:
            sec = np.flatnonzero(from_acf[int(g0) : math.ceil(g1)]) + int(g0)
            if sec.size == 0:
                continue
            c = centred_spectral_cadence(
                tg,
                y,
                valid,
                (sec + 0.5).astype(np.float64),
                cadence[sec],
                window_s=self.spectral_window_s,
                band_fraction=self.spectral_band,
            )
            good = np.isfinite(c)
            cadence[sec[good]] = c[good]

    # ------------------------------------------------------------------ 4. gaps
    def _hold_gaps(self, mode: np.ndarray, gap: np.ndarray, cadence: np.ndarray) -> np.ndarray:
        out = mode.copy()
        for a, b in _runs(gap):
            if a > 0 and out[a - 1] in GAIT_MODES:
                hold = min(b, a + self.gap_hold_s)
                out[a:hold] = out[a - 1]
                cadence[a:hold] = cadence[a - 1]
        return out


def _non_gait_mode(raw: str, live: str) -> str:
    """A second outside the after-run bouts: ``still`` where the second itself was quiet (``raw``) or the live
    estimator kept reporting still (``live``: its switch rule ignores a burst of one or two seconds, a shift of
    weight while standing), else ``unknown``."""
    return "still" if "still" in (raw, live) else "unknown"


def _spread(x: np.ndarray) -> float:
    """The robust relative spread of ``x``: 1.4826 x its median absolute deviation over its median (a normal
    sample's coefficient of variation); 0 for fewer than two values."""
    if x.size < 2:
        return 0.0
    mid = median(x)
    return 1.4826 * median(np.abs(x - mid)) / mid if mid > 0 else 0.0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of True in a boolean array."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _fill_nearest(x: np.ndarray) -> np.ndarray:
    """NaNs replaced by the nearest finite value (the earlier one on a tie); ``x`` has at least one."""
    ok = np.flatnonzero(np.isfinite(x))
    pos = np.arange(x.size)
    after = ok[np.clip(np.searchsorted(ok, pos), 0, ok.size - 1)]
    before = ok[np.clip(np.searchsorted(ok, pos, side="right") - 1, 0, ok.size - 1)]
    return np.asarray(
        x[np.where(np.abs(pos - before) <= np.abs(after - pos), before, after)], dtype=np.float64
    )


def _remove_blips(mode: np.ndarray) -> np.ndarray:
    """A one-second mode between two seconds of one same other mode takes that mode."""
    out = mode.copy()
    for k in range(1, out.size - 1):
        if out[k - 1] == out[k + 1] != out[k]:
            out[k] = out[k - 1]
    return out
