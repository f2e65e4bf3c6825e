"""Readers of other programs' files: each format is read in ONE place, into a typed record.

- :mod:`sensors.readers.fit`: a FIT activity (Garmin and others), read once into :class:`~sensors.readers.fit.FitFile`;
- :mod:`sensors.readers.polar_logger`: the Polar Sensor Logger app's ACC and HR exports (with the phone time);
- coach's own capture files are read by :mod:`sensors.capture` (and decoded by :mod:`sensors.sources.replay`).

These are apart from the *sources* (:mod:`sensors.sources.ble`, :mod:`sensors.sources.virtual`, :mod:`sensors.sources.replay`), which stream
samples as a strap would. ``coach analyze`` (via :mod:`coach.signal.io`), ``coach import`` and ``coach convert`` all
read through these modules. Every problem with a file raises :class:`ReaderError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

from sensors.readers._common import ReaderError

__all__ = ["ReaderError"]
