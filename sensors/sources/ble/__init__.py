"""The live BLE client: scanning, capability detection, connection, streams, reconnect supervision.

The only package that imports bleak. This ``__init__`` stays light (no bleak import) so that the capabilities and
the reconnect policy cost nothing; the client lives in :mod:`sensors.sources.ble.client`, scanning in
:mod:`sensors.sources.ble.scan`. Behaviour and rationale: docs/ble.md.
"""

from sensors.sources.ble.capabilities import Capabilities
from sensors.sources.ble.policy import Backoff, ReconnectPolicy

__all__ = ["Backoff", "Capabilities", "ReconnectPolicy"]
