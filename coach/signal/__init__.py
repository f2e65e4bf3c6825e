"""Cadence, step events and walk/run/still from a body-worn accelerometer (pure numpy/scipy).

- :class:`StreamingGaitEstimator`: live, fed with accelerometer blocks, emits one :class:`GaitSecond` a second.
- :class:`GaitAnalysis`: the same estimator run over a whole recording, plus segments and a summary.
- :mod:`coach.signal.io`: loaders for csv, Polar Sensor Logger csv, capture and FIT files.

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
from coach.signal.gait import MODES, GaitSecond, StreamingGaitEstimator

__all__ = [
    "MODES",
    "GaitAnalysis",
    "GaitSecond",
    "StreamingGaitEstimator",
    "device_cadence_timeline",
    "device_cadence_unit",
    "segments_from_timeline",
    "summarize",
]
