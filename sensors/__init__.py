"""Everything about sensors: wire codecs, samples, capture files, the sources and the readers of other files.

- :mod:`sensors.codecs`: pure wire codecs; :mod:`sensors.samples`: typed samples and the one decoder;
  :mod:`sensors.capture`: the capture file; :mod:`sensors.events`, :mod:`sensors.uuids`, :mod:`sensors.units`;
- :mod:`sensors.sources`: where samples come from (live strap, virtual strap, replay), opened by one opener;
- :mod:`sensors.readers`: FIT, Polar Sensor Logger and format conversion.

Dependencies point one way: ``sensors`` never imports ``coach``. The codecs are pure (bytes in, values out);
only :mod:`sensors.sources.ble` imports bleak and only :mod:`sensors.sources.virtual` imports bumble.
"""
