"""Sensor monikers: one string names where samples come from, like bumble's transport monikers (``usb:0``).

- ``ble:AA:BB:CC:DD:EE:FF`` a live sensor by Bluetooth address (on macOS, the CoreBluetooth UUID);
- ``ble:name=Polar H10 ABCD1234`` a live sensor by advertised name (exact, or a unique prefix);
- ``virtual:PATH[?drop_every=S&hr_only=1]`` the emulated strap of :mod:`sensors.sources.virtual` streaming capture ``PATH``
  over a real GATT stack, through the same client as a live strap;
- ``replay:PATH`` a capture file decoded directly (:mod:`sensors.sources.replay`), no Bluetooth at all.

This is the one parser for every source (``ble``, ``virtual``, ``replay``) and every command that takes
``--sensor``. :func:`parse_sensor_moniker` is pure: it checks the syntax, not that the file or the sensor exists;
:func:`check_sensor` adds the one check that can be made before connecting: a ``virtual:``/``replay:`` file exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl

from sensors.errors import CaptureError, MonikerError

MonikerKind = Literal["ble", "virtual", "replay"]

_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_CB_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_VIRTUAL_OPTIONS = ("drop_every", "hr_only")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

USAGE = "use ble:AA:BB:CC:DD:EE:FF, ble:name=NAME, virtual:PATH[?drop_every=S&hr_only=1] or replay:PATH"


@dataclass(frozen=True, slots=True)
class SensorMoniker:
    """A parsed ``--sensor`` value. Exactly one of ``address``/``name`` is set for ``ble``; ``path`` otherwise."""

    kind: MonikerKind
    text: str
    address: str | None = None
    name: str | None = None
    path: Path | None = None
    drop_every_s: float | None = None
    hr_only: bool = False

    @property
    def is_live(self) -> bool:
        """Whether this is real radio (``ble:``), where Bluetooth errors can happen."""
        return self.kind == "ble"

    def __str__(self) -> str:
        return self.text


def parse_sensor_moniker(text: str) -> SensorMoniker:
    """Parse ``text``; raises :class:`~sensors.errors.MonikerError` (a ``ValueError``) with the accepted forms."""
    raw = text.strip()
    kind, sep, rest = raw.partition(":")
    kind = kind.lower()
    if not sep or kind not in ("ble", "virtual", "replay"):
        raise MonikerError(f"unknown sensor {text!r}: {USAGE}")
    if kind == "ble":
        return _parse_ble(raw, rest)
    path_text, _, query = rest.partition("?")
    if not path_text:
        raise MonikerError(f"sensor {text!r} names no file: {USAGE}")
    path = Path(path_text).expanduser()
    if kind == "replay":
        if query:
            raise MonikerError(f"replay:PATH takes no options (got {query!r}); use --speed for the pace")
        return SensorMoniker(kind="replay", text=raw, path=path)
    options = _parse_options(text, query)
    drop_every_s = None
    if "drop_every" in options:
        try:
            drop_every_s = float(options["drop_every"])
        except ValueError:
            raise MonikerError(
                f"drop_every must be a number of seconds, not {options['drop_every']!r}"
            ) from None
        if not drop_every_s > 0 or drop_every_s == float("inf"):
            raise MonikerError(
                f"drop_every must be a positive number of seconds, not {options['drop_every']!r}"
            )
    hr_only = False
    if "hr_only" in options:
        value = options["hr_only"].lower()
        if value not in _TRUE | _FALSE:
            raise MonikerError(f"hr_only must be 1 or 0, not {options['hr_only']!r}")
        hr_only = value in _TRUE
    return SensorMoniker(kind="virtual", text=raw, path=path, drop_every_s=drop_every_s, hr_only=hr_only)


def _parse_ble(raw: str, rest: str) -> SensorMoniker:
    rest = rest.strip()
    if rest.lower().startswith("name="):
        name = rest[5:].strip()
        if not name:
            raise MonikerError(f"sensor {raw!r} has an empty name: {USAGE}")
        return SensorMoniker(kind="ble", text=raw, name=name)
    if _MAC_RE.match(rest) or _CB_UUID_RE.match(rest):
        return SensorMoniker(kind="ble", text=raw, address=rest.upper())
    raise MonikerError(
        f"sensor {raw!r} is neither an address (AA:BB:CC:DD:EE:FF) nor name=NAME; "
        "run `coach scan` to see the addresses and names nearby"
    )


def _parse_options(text: str, query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key not in _VIRTUAL_OPTIONS:
            raise MonikerError(
                f"unknown option {key!r} in {text!r}; virtual: takes {', '.join(_VIRTUAL_OPTIONS)}"
            )
        options[key] = value
    return options


def check_sensor(text: str | SensorMoniker) -> SensorMoniker:
    """Parse ``text`` (if it is not parsed yet) and check that a ``virtual:``/``replay:`` capture file is there.

    Raises :class:`~sensors.errors.MonikerError` for a bad moniker and :class:`~sensors.errors.CaptureError`
    ("PATH: no such capture file") for a missing file, so a command fails before it opens anything.
    """
    moniker = parse_sensor_moniker(text) if isinstance(text, str) else text
    if moniker.path is not None and not moniker.path.is_file():
        raise CaptureError(str(moniker.path), None, "no such capture file")
    return moniker
