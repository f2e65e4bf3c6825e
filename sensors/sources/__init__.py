"""Sources: where samples come from, live or rehearsed.

One moniker names a source (:mod:`sensors.sources.moniker`: ``ble:ADDRESS``, ``ble:name=...``, ``virtual:FILE``,
``replay:FILE``) and one opener opens it (:func:`sensors.sources.opener.open_source`), each copying its raw traffic
to the session's capture as it happens (a capture tee, a replay's included). Every source yields the same
:mod:`sensors.samples` through the one :class:`sensors.samples.SampleDecoder`, so a rehearsal runs the live code path:

- ``ble/``: the live strap over bleak (the only package that imports bleak);
- ``virtual/``: a virtual strap played from a capture over bumble's in-process link (the only package importing
  bumble);
- ``replay.py``: a capture file replayed at any speed.

The readers of other programs' files (FIT, Polar Sensor Logger, format conversion) are apart, in
:mod:`sensors.readers`.
"""
