"""``coach doctor``: check the whole chain before a run (Python, Bluetooth, strap, heart rate, PMD, voice, storage).

- :mod:`coach.doctor.checks` (pure): what was observed, as typed records, turned into one :class:`Check` per
  concern (name, ok/warn/fail/skip, a one-line finding and a one-line fix) and into the exit code;
- :mod:`coach.doctor.probes` (I/O): the probes that observe: the system (``os``, ``/sys``, ``/proc``, package
  metadata), Bluetooth through the production client (:mod:`sensors.sources.ble`, bleak's public API only), the
  voice (:mod:`coach.voice.speaker`) and the data directory; :func:`~coach.doctor.probes.run_checks` runs them in
  order. The command is :mod:`coach.cli.doctor_cmd`; docs/ble.md shows its output.
"""
