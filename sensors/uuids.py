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


#: The standard (Bluetooth SIG assigned) services and characteristics a strap or foot pod may expose, by 16-bit
#: UUID: the one table of their names (``short_name``, ``coach capture info``/``decode``, ``coach scan``). Names
#: follow the SIG's "Assigned Numbers" document, in snake_case.
STANDARD_NAMES: dict[int, str] = {
    # services
    0x1800: "generic_access",
    0x1801: "generic_attribute",
    0x180A: "device_information",
    0x180D: "heart_rate_service",
    0x180F: "battery_service",
    0x1814: "rsc_service",
    # Generic Access / Generic Attribute
    0x2A00: "device_name",
    0x2A01: "appearance",
    0x2A04: "peripheral_preferred_connection_parameters",
    0x2A05: "service_changed",
    0x2AA6: "central_address_resolution",
    # Device Information Service (DIS 1.1)
    0x2A23: "system_id",
    0x2A24: "model_number",
    0x2A25: "serial_number",
    0x2A26: "firmware_revision",
    0x2A27: "hardware_revision",
    0x2A28: "software_revision",
    0x2A29: "manufacturer_name",
    0x2A2A: "ieee_regulatory_certification",
    0x2A50: "pnp_id",
    # Battery, Heart Rate, Running Speed and Cadence
    0x2A19: "battery_level",
    0x2A37: "heart_rate_measurement",
    0x2A38: "body_sensor_location",
    0x2A39: "heart_rate_control_point",
    0x2A53: "rsc_measurement",
    0x2A54: "rsc_feature",
    0x2A55: "sc_control_point",
    0x2A5D: "sensor_location",
}

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
SERIAL_NUMBER = normalize_uuid(0x2A25)
FIRMWARE_REVISION = normalize_uuid(0x2A26)
HARDWARE_REVISION = normalize_uuid(0x2A27)
SOFTWARE_REVISION = normalize_uuid(0x2A28)
SYSTEM_ID = normalize_uuid(0x2A23)
DEVICE_NAME = normalize_uuid(0x2A00)
# Polar Measurement Data (PMD) service, vendor-specific 128-bit UUIDs.
PMD_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: Standard characteristics whose value is a UTF-8 string: the device name (GAP) and the Device Information
#: strings (DIS 1.1, 3.2-3.7).
TEXT_CHARACTERISTICS: frozenset[str] = frozenset(
    {
        DEVICE_NAME,
        MANUFACTURER_NAME,
        MODEL_NUMBER,
        SERIAL_NUMBER,
        FIRMWARE_REVISION,
        HARDWARE_REVISION,
        SOFTWARE_REVISION,
    }
)

NAMES: dict[str, str] = {
    **{normalize_uuid(short): name for short, name in STANDARD_NAMES.items()},
    PMD_SERVICE: "pmd_service",
    PMD_CONTROL_POINT: "pmd_control_point",
    PMD_DATA: "pmd_data",
}
