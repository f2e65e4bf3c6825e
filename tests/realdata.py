"""Where the tests' real recordings live: tests/data, inside the repository, so a clone tests itself.

Every file there is a verbatim copy of a real recording or published file; tests/data/README.md names each one
with its origin (repository, commit, licence) and its SHA-256, and tests/test_data_provenance.py keeps the two in
step. Tests reach the data only through these names (or the ``data_dir`` fixture), never through a folder beside
the checkout.
"""

from __future__ import annotations

from pathlib import Path

#: The root of the committed test data.
DATA = Path(__file__).resolve().parent / "data"
#: BLE payload bytes with expected decoded values (Heart Rate, RSC, Polar PMD).
BLE_VECTORS = DATA / "ble-vectors" / "ble_test_vectors.json"
#: Garmin's TCX v2 XML schema, for validating exported .tcx files.
TCX_SCHEMA = DATA / "schemas" / "TrainingCenterDatabasev2.xsd"
#: TopoGrafix's GPX 1.1 XML schema, for validating exported .gpx files.
GPX_SCHEMA = DATA / "gpx-schema" / "gpx.xsd"
#: Real Garmin FIT activities (python-fitparse's test files).
FIT_DIR = DATA / "garmin-fit"
#: Hexoskin chest-shirt record folders (subjects 005 and 008).
HEXOSKIN_DIR = DATA / "hexoskin-chest"
#: Mobilise-D lower-back lab examples (participants HA/001 and HA/002).
MOBILISE_DIR = DATA / "mobilise-d-lowerback"
#: Files from other people's watches, apps and phones (FIT, TCX, Polar Sensor Logger, phone-on-chest walks).
THIRD_PARTY = DATA / "third-party"
