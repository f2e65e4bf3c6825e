"""coach: a walk/run session coach for getting back to running after back pain.

Pure core (signal, programme, engine, cues, report maths) and thin I/O shells (BLE, speech, storage, CLI).
"""

__version__ = "0.1.0"
