"""The live BLE client: scanning, capability detection, connection, streams, reconnect supervision.

The only package that imports bleak. This ``__init__`` stays light (no bleak import) so that parsing a moniker
or the reconnect policy costs nothing; the client lives in :mod:`sensors.ble.client`, scanning in
:mod:`sensors.ble.scan`, and :func:`open_source` picks the source for a ``--sensor`` moniker.
Behaviour and rationale: docs/ble.md.
"""

from sensors.ble.capabilities import Capabilities
from sensors.ble.policy import Backoff, ReconnectPolicy
from sensors.ble.source import SampleSource, open_source
from sensors.moniker import SensorMoniker, parse_sensor_moniker

__all__ = [
    "Backoff",
    "Capabilities",
    "ReconnectPolicy",
    "SampleSource",
    "SensorMoniker",
    "open_source",
    "parse_sensor_moniker",
]
