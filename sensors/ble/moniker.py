"""Moved: the one moniker parser is :mod:`sensors.moniker` (shared by every source); this name stays for imports."""

from __future__ import annotations

from sensors.moniker import USAGE, MonikerKind, SensorMoniker, check_sensor, parse_sensor_moniker

__all__ = ["USAGE", "MonikerKind", "SensorMoniker", "check_sensor", "parse_sensor_moniker"]
