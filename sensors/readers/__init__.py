"""Readers of other programs' files: each format is read in ONE place, into a typed record.

- :mod:`sensors.readers.fit`: a FIT activity (Garmin and others), read once into :class:`~sensors.readers.fit.FitFile`;
- :mod:`sensors.readers.tcx`: TCX (Garmin Training Center v2) and GPX 1.1 activities;
- :mod:`sensors.readers.activity`: what every activity reader gives (legs of points, cadence in steps/min), and
  :mod:`sensors.readers.sport`: the one decision of what an activity is (walking or running, or refused and named);
- :mod:`sensors.readers.polar_logger`: the Polar Sensor Logger app's ACC, HR and RR exports (with the phone time),
  as files, a folder or the app's zip;
- :mod:`sensors.readers.phone`: a phone's accelerometer log (``accelerometer.csv``);
- coach's own capture files are read by :mod:`sensors.capture` (and decoded by :mod:`sensors.sources.replay`).

These are apart from the *sources* (:mod:`sensors.sources.ble`, :mod:`sensors.sources.virtual`, :mod:`sensors.sources.replay`), which stream
samples as a strap would. ``coach analyze`` (via :mod:`coach.signal.io`), ``coach import`` and ``coach convert`` all
read through these modules. Every problem with a file raises :class:`ReaderError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

from sensors.readers._common import ReaderError

__all__ = ["ReaderError"]
