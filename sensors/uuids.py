"""Bluetooth UUIDs the project uses, always in the normalised lowercase 128-bit form.

Backends differ in how they spell UUIDs (16-bit short forms, upper case); compare only normalised strings.
"""

from __future__ import annotations

BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def normalize_uuid(uuid: str | int) -> str:
    """Return ``uuid`` as a lowercase 128-bit string.

    Accepts an int (``0x2A37``), a 16- or 32-bit hex string (``"2A37"``, ``"0x2a37"``) or a full 128-bit string.
    Raises ``ValueError`` for anything else.
    """
    if isinstance(uuid, int):
        if not 0 <= uuid <= 0xFFFFFFFF:
            raise ValueError(f"not a 16/32-bit UUID: {uuid:#x}")
        return f"{uuid:08x}{BASE_UUID_SUFFIX}"
    text = uuid.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) in (4, 8) and all(c in "0123456789abcdef" for c in text):
        return f"{int(text, 16):08x}{BASE_UUID_SUFFIX}"
    parts = text.split("-")
    if [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in "0123456789abcdef" for c in "".join(parts)):
        return text
    raise ValueError(f"not a Bluetooth UUID: {uuid!r}")


def short_name(uuid: str) -> str:
    """A readable name for a known UUID, else the UUID itself."""
    return NAMES.get(normalize_uuid(uuid), uuid)


HEART_RATE_SERVICE = normalize_uuid(0x180D)
HEART_RATE_MEASUREMENT = normalize_uuid(0x2A37)
BODY_SENSOR_LOCATION = normalize_uuid(0x2A38)
BATTERY_SERVICE = normalize_uuid(0x180F)
BATTERY_LEVEL = normalize_uuid(0x2A19)
RSC_SERVICE = normalize_uuid(0x1814)
RSC_MEASUREMENT = normalize_uuid(0x2A53)
RSC_FEATURE = normalize_uuid(0x2A54)
DEVICE_INFORMATION_SERVICE = normalize_uuid(0x180A)
MANUFACTURER_NAME = normalize_uuid(0x2A29)
MODEL_NUMBER = normalize_uuid(0x2A24)
FIRMWARE_REVISION = normalize_uuid(0x2A26)
# Polar Measurement Data (PMD) service, vendor-specific 128-bit UUIDs.
PMD_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

NAMES: dict[str, str] = {
    HEART_RATE_SERVICE: "heart_rate_service",
    HEART_RATE_MEASUREMENT: "heart_rate_measurement",
    BODY_SENSOR_LOCATION: "body_sensor_location",
    BATTERY_SERVICE: "battery_service",
    BATTERY_LEVEL: "battery_level",
    RSC_SERVICE: "rsc_service",
    RSC_MEASUREMENT: "rsc_measurement",
    RSC_FEATURE: "rsc_feature",
    DEVICE_INFORMATION_SERVICE: "device_information",
    MANUFACTURER_NAME: "manufacturer_name",
    MODEL_NUMBER: "model_number",
    FIRMWARE_REVISION: "firmware_revision",
    PMD_SERVICE: "pmd_service",
    PMD_CONTROL_POINT: "pmd_control_point",
    PMD_DATA: "pmd_data",
}
