"""Cadence, step events and walk/run/still from a body-worn accelerometer (pure numpy/scipy).

- :class:`StreamingGaitEstimator`: live, fed with accelerometer blocks, emits one :class:`GaitSecond` a second.
- :class:`GaitAnalysis`: the same estimator run over a whole recording, plus segments and a summary.
- :mod:`coach.signal.io`: loaders for csv, Polar Sensor Logger csv, capture and FIT files.

The estimator is a pipeline of small algorithm objects (keyword-only parameters, gaitmap's convention):
:mod:`~coach.signal.features` (per-second features, the typed :class:`HopFeatures`), :mod:`~coach.signal.cadence`
(step period from the ACF, foot-pod blend, step-rate cadence), :mod:`~coach.signal.steps` (step events),
:mod:`~coach.signal.decision` (gait gate, walk/run score, :class:`ModeHysteresis`, the one walk/run hysteresis).

The method, its references and parameters are in docs/signal.md.
"""

from __future__ import annotations

from coach.signal.analysis import (
    GaitAnalysis,
    device_cadence_timeline,
    device_cadence_unit,
    segments_from_timeline,
    summarize,
)
from coach.signal.decision import ModeHysteresis
from coach.signal.features import GaitFeatures, HopFeatures
from coach.signal.gait import MODES, GaitSecond, StreamingGaitEstimator

__all__ = [
    "MODES",
    "GaitAnalysis",
    "GaitFeatures",
    "GaitSecond",
    "HopFeatures",
    "ModeHysteresis",
    "StreamingGaitEstimator",
    "device_cadence_timeline",
    "device_cadence_unit",
    "segments_from_timeline",
    "summarize",
]
