"""Everything about sensors: wire codecs, capture files, replay, the BLE client and the virtual strap.

Dependencies point one way: ``sensors`` never imports ``coach``. The codecs are pure (bytes in, values out);
only :mod:`sensors.ble` imports bleak and only :mod:`sensors.virtual` imports bumble.
"""
