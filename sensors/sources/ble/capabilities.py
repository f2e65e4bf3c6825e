"""What a sensor offers, from its advertisement (before connecting) or its GATT services (after). Pure.

Advertisements are incomplete: a Polar H10 advertises only the Heart Rate service (0x180D), not its PMD
accelerometer service, so PMD is inferred from the Polar company identifier or a known model name and marked
as "likely" until the services are discovered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sensors.uuids import (
    BATTERY_SERVICE,
    HEART_RATE_SERVICE,
    PMD_SERVICE,
    RSC_SERVICE,
    normalize_uuid,
)

#: Bluetooth SIG company identifier of Polar Electro Oy (manufacturer-specific advertising data).
POLAR_COMPANY_ID = 0x006B
#: Polar models known to serve the PMD accelerometer stream (the H9 and H7 do not).
PMD_MODEL_PREFIXES = ("polar h10", "polar oh1", "polar sense", "polar verity")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """``pmd`` is True (served), None (likely, from the name; confirmed after connecting) or False."""

    heart_rate: bool = False
    rsc: bool = False
    pmd: bool | None = False
    battery: bool = False

    @property
    def usable(self) -> bool:
        """Whether coach can use the sensor at all (heart rate, foot-pod cadence or an accelerometer)."""
        return self.heart_rate or self.rsc or bool(self.pmd)

    def describe(self) -> str:
        """A short list for people: ``heart rate, ACC (PMD, likely), battery`` or ``not usable``."""
        parts = []
        if self.heart_rate:
            parts.append("heart rate")
        if self.rsc:
            parts.append("RSC speed/cadence")
        if self.pmd:
            parts.append("accelerometer (PMD)")
        elif self.pmd is None:
            parts.append("accelerometer (PMD, likely)")
        if self.battery:
            parts.append("battery")
        if not self.usable:
            return "not usable by coach" + (f" ({', '.join(parts)})" if parts else "")
        return ", ".join(parts)


def from_advertisement(
    name: str | None, service_uuids: Iterable[str], manufacturer_ids: Iterable[int] = ()
) -> Capabilities:
    """Capabilities as far as the advertisement tells (names and advertised service UUIDs)."""
    uuids = _normalised(service_uuids)
    lowered = (name or "").lower()
    pmd: bool | None = False
    if PMD_SERVICE in uuids:
        pmd = True
    elif lowered.startswith(PMD_MODEL_PREFIXES) or (
        POLAR_COMPANY_ID in set(manufacturer_ids) and HEART_RATE_SERVICE in uuids and "h9" not in lowered
    ):
        pmd = None
    return Capabilities(
        heart_rate=HEART_RATE_SERVICE in uuids,
        rsc=RSC_SERVICE in uuids,
        pmd=pmd,
        battery=BATTERY_SERVICE in uuids,
    )


def from_services(service_uuids: Iterable[str]) -> Capabilities:
    """Capabilities from the discovered GATT services (definite)."""
    uuids = _normalised(service_uuids)
    return Capabilities(
        heart_rate=HEART_RATE_SERVICE in uuids,
        rsc=RSC_SERVICE in uuids,
        pmd=PMD_SERVICE in uuids,
        battery=BATTERY_SERVICE in uuids,
    )


def manufacturer_ids(manufacturer_data: Mapping[int, bytes]) -> tuple[int, ...]:
    return tuple(sorted(manufacturer_data))


def _normalised(uuids: Iterable[str]) -> frozenset[str]:
    out = set()
    for u in uuids:
        try:
            out.add(normalize_uuid(u))
        except ValueError:
            continue
    return frozenset(out)
