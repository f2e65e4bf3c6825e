"""Samples in, what the session engine needs out: the detected mode, cadence, heart rate and sensor state.

Pure and synchronous. :class:`SignalTracker` turns the samples of any source (live strap, virtual strap, replay; see
:mod:`sensors.samples`) into gait seconds (:class:`coach.signal.StreamingGaitEstimator`), heart rate and the sensor
state, and gives the engine a :class:`coach.session.engine.SignalState` for any session time. Everything it decides depends
on the samples' own times only, never on when they arrived, so a replay at any speed is judged like a live session.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from coach.session.engine import SignalState
from coach.signal import GaitSecond, StreamingGaitEstimator, device_cadence_unit
from coach.signal.heart import CausalHrCleaner
from coach.vocabulary import RecordKind
from sensors.events import SensorEventName
from sensors.samples import AccBlock, BatterySample, FootPodSample, HeartRateSample, Sample, SensorEvent

logger = logging.getLogger(__name__)

#: Session seconds without any sample after which the sensor counts as lost (a disconnect event: at once).
SENSOR_TIMEOUT_S = 5.0
#: Heart rate older than this (session seconds) is not shown or used.
HR_MAX_AGE_S = 5.0


@dataclass
class SignalTracker:
    """Samples in, the engine's :class:`SignalState` and events.jsonl records out.

    ``sensor_timeout_s`` (session seconds) without any sample -> sensor "lost"; a disconnect event -> lost at once.
    Heart rate goes through ``hr_cleaner`` (:class:`coach.signal.heart.CausalHrCleaner`, causal: one spike never
    reaches the display or the HR ceiling cue); a rejected sample keeps the last trusted value, and heart rate older
    than ``hr_max_age_s`` is forgotten. Gait records carry the trusted ``hr_bpm`` and how many heart-rate samples
    came (``hr_samples``) and were rejected (``hr_rejected``) since the previous one. With no accelerometer (an HR-only strap with a foot pod),
    the foot pod's cadence and running flag give the mode.
    """

    sensor_timeout_s: float = SENSOR_TIMEOUT_S
    hr_max_age_s: float = HR_MAX_AGE_S
    estimator: StreamingGaitEstimator = field(default_factory=StreamingGaitEstimator)
    mode: str = "unknown"
    cadence_spm: float | None = None
    confidence: float | None = None
    hr_bpm: float | None = None
    hr_t: float = -math.inf
    hr_samples: int = 0  # heart-rate samples since the last gait record ...
    hr_rejected: int = 0  # ... and how many of them the cleaner rejected
    hr_cleaner: CausalHrCleaner = field(default_factory=CausalHrCleaner)
    battery_percent: int | None = None
    last_sample_t: float | None = None
    last_gait_t: float = -math.inf
    disconnected: bool = False
    sensor: str = "connected"
    gait_seconds: int = 0
    foot_pod_factor: float = 1.0  # 2.0 once the foot pod's cadence is found to be strides/min
    _records: list[dict[str, Any]] = field(default_factory=list)
    _pod_rows: list[tuple[float, float, float]] = field(default_factory=list)

    def feed(self, sample: Sample) -> None:
        """One sample from the source (see :mod:`sensors.samples`)."""
        t = float(sample.t)
        if isinstance(sample, SensorEvent):
            self._event(sample)
            return
        if math.isfinite(t):
            self.last_sample_t = t if self.last_sample_t is None else max(self.last_sample_t, t)
        self.disconnected = False
        if isinstance(sample, AccBlock):
            if len(sample):
                seconds = self.estimator.feed_acc(sample.t_s, sample.xyz_mg / 1000.0)
                for second in seconds:
                    self._gait(second)
        elif isinstance(sample, HeartRateSample):
            seen = self.hr_cleaner.n_seen_
            clean = self.hr_cleaner.feed(t, float(sample.bpm), sample.rr_s, sample.contact)
            self.hr_samples += self.hr_cleaner.n_seen_ - seen
            if clean is None:
                self.hr_rejected += self.hr_cleaner.n_seen_ - seen
            else:
                self.hr_bpm = clean
                self.hr_t = t
                self.estimator.feed_heart_rate(t, clean)
        elif isinstance(sample, FootPodSample):
            cadence = self._foot_pod_cadence(t, sample)
            self.estimator.feed_foot_pod(t, cadence)
            if t - self.last_gait_t > 3.0:  # no accelerometer: the foot pod decides
                self.cadence_spm = cadence if sample.cadence_per_min else None
                self.mode = "run" if sample.running else ("walk" if sample.cadence_per_min else "still")
                self.confidence = None
        elif isinstance(sample, BatterySample) and sample.percent != self.battery_percent:
            self.battery_percent = sample.percent
            self._records.append(
                {
                    "t": round(t, 3),
                    "kind": RecordKind.SENSOR,
                    "state": "battery",
                    "battery_percent": sample.percent,
                }
            )

    def _foot_pod_cadence(self, t: float, sample: FootPodSample) -> float:
        """The foot pod's cadence in steps/min: some pods and straps send strides in RSC (BRIEF). Over the first
        two minutes of moving samples the step length (speed / cadence) decides, as `coach analyze` does
        (:func:`coach.signal.device_cadence_unit`); once strides are found, every value is doubled."""
        if self.foot_pod_factor == 1.0 and len(self._pod_rows) < 120:
            self._pod_rows.append((t, float(sample.cadence_per_min), float(sample.speed_mps)))
            factor, note = device_cadence_unit(self._pod_rows)
            if factor != 1.0:
                self.foot_pod_factor = factor
                logger.warning("foot pod: %s", note)
        return float(sample.cadence_per_min) * self.foot_pod_factor

    def _gait(self, second: GaitSecond) -> None:
        self.gait_seconds += 1
        self.mode = second.mode
        self.cadence_spm = second.cadence_spm
        self.confidence = second.confidence
        self.last_gait_t = second.t
        hr = self.hr_bpm if second.t - self.hr_t <= self.hr_max_age_s else None
        self._records.append(
            {
                "t": round(second.t, 3),
                "kind": RecordKind.GAIT,
                "cadence_spm": None if second.cadence_spm is None else round(second.cadence_spm, 1),
                "mode": second.mode,
                "confidence": round(second.confidence, 3),
                "steps": len(second.steps),
                "hr_bpm": None if hr is None else round(hr, 1),
                "hr_samples": self.hr_samples,
                "hr_rejected": self.hr_rejected,
            }
        )
        self.hr_samples = self.hr_rejected = 0

    def _event(self, event: SensorEvent) -> None:
        """The link state: a disconnect makes the sensor lost at once, a (re)connection ends that; both are
        written as ``sensor`` records (a reconnection is a ``connected`` event with ``reconnect`` > 0)."""
        name = event.event
        if name == SensorEventName.DISCONNECTED:
            self.disconnected = True
        elif name == SensorEventName.CONNECTED:
            self.disconnected = False
        else:
            return
        fields = {k: v for k, v in dict(event.fields).items() if k not in ("t", "kind", "state")}
        self._records.append(
            {"t": round(event.t, 3), "kind": RecordKind.SENSOR, "state": str(name), **fields}
        )

    def state(self, now_s: float) -> SignalState:
        last = self.last_sample_t if self.last_sample_t is not None else 0.0
        lost = self.disconnected or now_s - last > self.sensor_timeout_s
        new = "lost" if lost else "connected"
        if new != self.sensor:
            self._records.append({"t": round(now_s, 3), "kind": RecordKind.SENSOR, "state": new})
            self.sensor = new
        hr = self.hr_bpm if now_s - self.hr_t <= self.hr_max_age_s else None
        return SignalState(
            mode=self.mode,
            cadence_spm=self.cadence_spm,
            hr_bpm=hr,
            sensor=self.sensor,
            confidence=self.confidence,
        )

    def pop_records(self) -> list[dict[str, Any]]:
        out, self._records = self._records, []
        return out
