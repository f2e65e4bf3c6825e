"""Turn real recordings into capture files, exactly as a strap would have sent them over Bluetooth.

Two kinds of real recording are converted (see ../shared/data/README.md and each folder's SOURCE.txt):

- a Hexoskin chest-shirt recording (:func:`load_hexoskin`, :class:`HexoskinToPolar`): the chest acceleration
  (64 Hz, 1/256 g) is resampled to the Polar H10's 100 Hz, converted to mG and packed into Polar PMD ACC data
  frames (Polar "online measurement" document v1.0: measurement type 0x02, 64-bit timestamp of the *last*
  sample in ns since 2000-01-01, frame type 0x01 raw int16 or 0x81 delta-compressed), at most one ATT payload
  (MTU 232 -> 229 bytes) each; the real RR intervals become Heart Rate Measurement notifications (HRS 1.0,
  3.1.1) about once a second;
- a Garmin FIT activity (:func:`load_fit`, read by :func:`sensors.readers.fit.read_fit`; :class:`FitToStrap`): heart rate, beat-to-beat RR (``hrv``
  messages) and running speed/cadence become Heart Rate Measurement and RSC Measurement (RSCS 1.0, 3.1)
  notifications at 1 Hz. FIT running cadence is strides/min (+ ``fractional_cadence``); RSC carries
  steps/min = 2 * (cadence + fractional_cadence).

What a real session adds around the data is emulated too: a ``connected`` event, reads of Body Sensor
Location and Battery Level, and for PMD the control-point exchange (the H10's real feature read and ACC
settings response, then the start response and a ``pmd_started`` event).

Timing model (see :class:`HexoskinToPolar`): the host clock starts at 0 at ``connected``; the first streamed
sample is at :data:`SETUP_S`. The strap's sample clock runs ``clock_ppm`` fast of nominal (a real H10 "130
Hz" ECG stream ran at 130.05-130.17 Hz), so the acceleration is resampled to the *true* rate and the frame
timestamps show it; each notification reaches the host a few ms (seeded random latency) after its last
sample. Everything random comes from ``random.Random(seed)``, whose stream Python keeps stable, so a given
recording, cut and seed always gives the same bytes.

The converters are pure: loaders read the source files into plain arrays, converters turn arrays into
:class:`Conversion` objects, :func:`write_capture` is the only function that writes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt

from sensors import uuids
from sensors.codecs.gatt_misc import BatteryLevel, BodySensorLocation
from sensors.codecs.heart_rate import HeartRateMeasurement
from sensors.codecs.pmd import HEADER_SIZE, PMD_EPOCH, build_acc_frame
from sensors.codecs.rsc import RscMeasurement

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Host seconds from the ``connected`` event to the first streamed sample (service discovery, reads, PMD start).
SETUP_S = 1.0
#: ATT MTU a Polar H10 negotiates; a notification carries at most MTU - 3 bytes.
DEFAULT_MTU = 232
#: Hexoskin RR_interval_quality: bit 7 marks an interval its own algorithm flagged (their RR spread is ~3x wider).
HEXOSKIN_RR_ARTEFACT_BIT = 0x80

# Real Polar H10 control-point bytes (../shared/data/ble-vectors: "real_h10_feature_read" from a gatttool
# capture, "doc_h10_get_acc_settings" and "doc_h10_start_acc_200hz_8g" from the Polar PMD document).
H10_PMD_FEATURE_READ = bytes.fromhex("0f05000000000000000000000000000000")
H10_ACC_SETTINGS_RESPONSE = bytes.fromhex("f0010200000004190032006400c800010110000203020004000800")
H10_ACC_START_RESPONSE = bytes.fromhex("f00202000001")
H10_ACC_STOP_RESPONSE = bytes.fromhex("f003020000")

AccFrameKind = Literal["compressed", "raw"]


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification or read the host received at ``t`` seconds."""

    t: float
    char: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Event:
    """A capture event (``connected``, ``pmd_started``...) at ``t`` seconds, with JSON-able fields."""

    t: float
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Item = Notification | Event


@dataclass(frozen=True)
class Conversion:
    """A converted recording: what the capture header says and the records, in time order."""

    device_name: str
    device_address: str
    source: str
    created: datetime
    items: tuple[Item, ...]

    @property
    def duration_s(self) -> float:
        return self.items[-1].t if self.items else 0.0


def write_capture(conversion: Conversion, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``conversion`` as a capture file (docs/formats/capture.md), user-only (0600)."""
    from sensors.capture import CaptureWriter
    from sensors.clock import FakeClock

    # A fake clock that never moves: the writer fsyncs at events and at close only, not once a wall second.
    with CaptureWriter(
        path,
        device={"name": conversion.device_name, "address": conversion.device_address},
        source=conversion.source,
        created=conversion.created,
        clock=FakeClock(),
        overwrite=overwrite,
    ) as writer:
        for item in conversion.items:
            if isinstance(item, Notification):
                writer.payload(item.t, item.char, item.data)
            else:
                writer.event(item.t, item.name, **item.fields)


# ------------------------------------------------------------------------------------------ shared helpers


def parse_time_s(text: str) -> float:
    """Seconds from ``"870"``, ``"870.5"``, ``"14:30"`` (mm:ss) or ``"1:02:03"`` (h:mm:ss)."""
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use seconds, mm:ss or h:mm:ss)") from None
    if len(values) > 3 or any(v < 0 or not math.isfinite(v) for v in values):
        raise ValueError(f"not a time: {text!r} (use seconds, mm:ss or h:mm:ss)")
    seconds = 0.0
    for v in values:
        seconds = seconds * 60.0 + v
    return seconds


def pmd_timestamp_ns(when: datetime) -> int:
    """Nanoseconds since 2000-01-01T00:00:00Z (the PMD epoch) of an aware ``when``."""
    delta = when - PMD_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class _Latency:
    """Seeded host-side delay of a notification after the sensor produced it (BLE connection events, stack).

    ``base_s`` plus an exponential tail with mean ``mean_extra_s``, capped at ``max_s``; per characteristic the
    arrival times never go backwards (one link delivers notifications in order).
    """

    def __init__(self, rng: random.Random, base_s: float = 0.008, mean_extra_s: float = 0.012) -> None:
        self._rng = rng
        self._base_s = base_s
        self._mean_extra_s = mean_extra_s
        self._last: dict[str, float] = {}

    def arrival(self, char: str, produced_t: float) -> float:
        extra = -math.log(1.0 - self._rng.random()) * self._mean_extra_s
        t = produced_t + self._base_s + min(extra, 0.1)
        t = max(t, self._last.get(char, -math.inf) + 0.0005)
        self._last[char] = t
        return round(t, 6)


def _sorted(items: Sequence[Item]) -> tuple[Item, ...]:
    # Stable: items produced in order at the same time keep their order.
    return tuple(sorted(items, key=lambda item: item.t))


#: Provenance of the shared data folders (their SOURCE.txt), added to a capture's "source" when converting them.
KNOWN_ORIGINS: dict[str, str] = {
    "hexoskin-chest": "Har-Lab/HumanActivityData @69540a8114c88c7ffe79bf56341853dc1adc7ca3, MIT",
    "garmin-fit": "dtcooper/python-fitparse @d88bb6997138c38d0c578aeaaf4108df0711d1f6 tests/files, MIT",
}


def _origin(name: str) -> str:
    origin = KNOWN_ORIGINS.get(name.split("/")[0])
    return f" ({origin})" if origin else ""


def _data_name(path: Path) -> str:
    """``folder/file`` of a data path: the provenance without this machine's absolute path."""
    resolved = path.resolve()
    return f"{resolved.parent.name}/{resolved.name}"


# ---------------------------------------------------------------------------------------------- Hexoskin


@dataclass(frozen=True)
class HexoskinRecording:
    """One Hexoskin record folder, in plain arrays (times in seconds since ``start_utc``)."""

    name: str
    start_utc: datetime
    acc_rate_hz: float
    acc_g: FloatArray
    rr_time_s: FloatArray
    rr_256: IntArray
    rr_artefact: npt.NDArray[np.bool_]
    hr_bpm_1hz: IntArray
    step_time_s: FloatArray

    @property
    def duration_s(self) -> float:
        return float(len(self.acc_g) / self.acc_rate_hz)


def _read_csv(path: Path) -> FloatArray:
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return np.asarray(data, dtype=np.float64)


def load_hexoskin(folder: str | os.PathLike[str]) -> HexoskinRecording:
    """Read a Hexoskin record folder (``acceleration_{X,Y,Z}.wav``, ``RR_interval*.csv``, ``heart_rate.wav``,
    ``step.csv``, ``info.json``) as described in hexoskin-chest/SOURCE.txt.

    Raises ``ValueError`` naming the file for anything missing or inconsistent.
    """
    from scipy.io import wavfile

    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder (expected a Hexoskin record folder such as 005hexoskin)")

    def need(name: str) -> Path:
        path = root / name
        if not path.is_file():
            raise ValueError(f"{path}: missing (not a Hexoskin record folder?)")
        return path

    try:
        info = json.loads(need("info.json").read_text(encoding="utf-8"))
        start_utc = datetime.fromtimestamp(float(info["timestamp"]), UTC)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{root / 'info.json'}: no usable record start ({exc})") from exc

    axes = []
    rate: float | None = None
    for axis in "XYZ":
        path = need(f"acceleration_{axis}.wav")
        axis_rate, samples = wavfile.read(path)
        if samples.ndim != 1 or samples.dtype != np.int16:
            raise ValueError(f"{path}: expected one int16 channel, got {samples.dtype} {samples.shape}")
        if rate is not None and axis_rate != rate:
            raise ValueError(f"{path}: sample rate {axis_rate} Hz differs from the other axes ({rate} Hz)")
        rate = float(axis_rate)
        axes.append(samples)
    assert rate is not None
    n = min(len(a) for a in axes)
    if any(len(a) != n for a in axes):
        logger.warning("%s: acceleration axes differ in length; using the first %d samples", root, n)
    acc_g = np.stack([a[:n] for a in axes], axis=1).astype(np.float64) / 256.0

    rr = _read_csv(need("RR_interval.csv"))
    quality = _read_csv(need("RR_interval_quality.csv"))
    if rr.shape != quality.shape or not np.allclose(rr[:, 0], quality[:, 0]):
        raise ValueError(f"{root}: RR_interval.csv and RR_interval_quality.csv do not list the same beats")
    keep = rr[:, 1] > 0  # the first row of a record has no interval (RR 0)
    rr_time_s = rr[keep, 0]
    rr_256 = np.rint(rr[keep, 1]).astype(np.int64)
    rr_artefact = (quality[keep, 1].astype(np.int64) & HEXOSKIN_RR_ARTEFACT_BIT) != 0

    _, hr = wavfile.read(need("heart_rate.wav"))
    steps = _read_csv(need("step.csv"))
    return HexoskinRecording(
        name=_data_name(root),
        start_utc=start_utc,
        acc_rate_hz=rate,
        acc_g=acc_g,
        rr_time_s=rr_time_s,
        rr_256=rr_256,
        rr_artefact=rr_artefact,
        hr_bpm_1hz=np.asarray(hr, dtype=np.int64),
        step_time_s=steps[:, 0] if len(steps) else np.zeros(0),
    )


def resample_acc(
    acc: FloatArray,
    in_rate_hz: float,
    out_rate_hz: float,
    start_s: float,
    end_s: float,
    *,
    pad_s: float = 2.0,
) -> tuple[FloatArray, FloatArray, float]:
    """Resample ``acc`` (n, 3) from ``in_rate_hz`` to about ``out_rate_hz`` between ``start_s`` and ``end_s``.

    Uses ``scipy.signal.resample_poly`` (polyphase FIR, Kaiser window) with the rational ratio nearest to
    ``out_rate_hz / in_rate_hz`` (denominator <= 10000), on the cut plus ``pad_s`` either side so that the
    filter's edge effects fall outside it. Returns ``(time_s, values, rate_hz)``: the sample times in recording
    seconds (``start_s <= time_s < end_s``), the resampled values (same unit as ``acc``) and the exact output rate.
    """
    from scipy.signal import resample_poly

    ratio = Fraction(out_rate_hz / in_rate_hz).limit_denominator(10_000)
    rate_hz = in_rate_hz * ratio.numerator / ratio.denominator
    first = max(0, math.floor((start_s - pad_s) * in_rate_hz))
    last = min(len(acc), math.ceil((end_s + pad_s) * in_rate_hz) + 1)
    if last - first < 2:
        raise ValueError(f"no acceleration between {start_s:g} s and {end_s:g} s")
    resampled = resample_poly(acc[first:last], ratio.numerator, ratio.denominator, axis=0)
    time_s = first / in_rate_hz + np.arange(len(resampled)) / rate_hz
    keep = (time_s >= start_s) & (time_s < end_s)
    # Samples past the input's last sample are filter tails, not signal.
    keep &= time_s <= (last - 1) / in_rate_hz
    return time_s[keep], np.asarray(resampled[keep], dtype=np.float64), rate_hz


class HexoskinToPolar:
    """Re-encode a Hexoskin chest recording as a Polar H10 would have streamed it (ACC over PMD + HR).

    Parameters (keyword-only): ``start_s``/``end_s`` cut the recording (recording seconds; default all of it);
    ``rate_hz`` is the nominal PMD ACC rate (the H10 offers 25/50/100/200 Hz) and ``clock_ppm`` how fast the
    strap's sample clock runs (the samples come at ``rate_hz * (1 + clock_ppm / 1e6)`` true seconds);
    ``acc_frames`` is ``"compressed"`` (frame type 0x81, delta blocks) or ``"raw"`` (0x01, int16 x/y/z);
    ``range_g`` clips like the sensor's range; ``mtu`` limits a frame to ``mtu - 3`` bytes; ``seed`` drives the
    host latency; ``battery_percent`` is the battery read at connection.

    :meth:`convert` sets:

    - ``conversion_``: the :class:`Conversion` to write;
    - ``acc_time_s_``: recording seconds of every ACC sample sent; ``acc_resampled_mg_`` (n, 3) the resampled
      acceleration in mG before quantisation; ``acc_mg_`` (n, 3) the int16 mG values sent; ``acc_rate_hz_``
      the true sample rate; ``acc_clipped_`` how many values the range clipped; ``acc_frames_`` the number of
      frames and ``acc_frame_sizes_`` their sizes in bytes;
    - ``hr_``: one ``(t_host_s, bpm, rr_1024)`` per Heart Rate notification; ``rr_dropped_``: intervals left
      out because the Hexoskin flagged them.
    """

    def __init__(
        self,
        *,
        start_s: float | None = None,
        end_s: float | None = None,
        rate_hz: float = 100.0,
        clock_ppm: float = 600.0,
        acc_frames: AccFrameKind = "compressed",
        range_g: int = 8,
        mtu: int = DEFAULT_MTU,
        seed: int = 0,
        battery_percent: int = 87,
    ) -> None:
        self.start_s = start_s
        self.end_s = end_s
        self.rate_hz = rate_hz
        self.clock_ppm = clock_ppm
        self.acc_frames = acc_frames
        self.range_g = range_g
        self.mtu = mtu
        self.seed = seed
        self.battery_percent = battery_percent

    def convert(self, recording: HexoskinRecording) -> Self:
        if self.acc_frames not in ("compressed", "raw"):
            raise ValueError(f"acc_frames must be 'compressed' or 'raw', not {self.acc_frames!r}")
        if self.range_g not in (2, 4, 8):
            raise ValueError(f"range_g must be 2, 4 or 8 (the H10's ranges), not {self.range_g}")
        if not 1.0 <= self.rate_hz <= 1000.0:
            raise ValueError(f"rate_hz {self.rate_hz} is not a sensible sample rate")
        if not abs(self.clock_ppm) < 10_000:
            raise ValueError(f"clock_ppm {self.clock_ppm} is not a sensible clock error")
        if self.mtu < 23:
            raise ValueError(f"mtu {self.mtu} is below the ATT minimum of 23")
        start_s = 0.0 if self.start_s is None else float(self.start_s)
        end_s = recording.duration_s if self.end_s is None else min(float(self.end_s), recording.duration_s)
        if not 0.0 <= start_s < end_s:
            raise ValueError(
                f"empty cut {start_s:g}-{end_s:g} s (the recording is {recording.duration_s:.1f} s long)"
            )
        rng = random.Random(self.seed)
        latency = _Latency(rng)

        def host_t(recording_s: float) -> float:
            return SETUP_S + (recording_s - start_s)

        # -- acceleration: resample to the true rate, mG, clip to the range, int16
        true_rate = self.rate_hz * (1.0 + self.clock_ppm * 1e-6)
        time_s, acc_g, rate_hz = resample_acc(
            recording.acc_g, recording.acc_rate_hz, true_rate, start_s, end_s
        )
        resampled_mg = acc_g * 1000.0
        limit = self.range_g * 1000
        quantised = np.rint(resampled_mg)
        clipped = int(np.count_nonzero(np.abs(quantised) > limit))
        if clipped:
            logger.warning("%d acceleration values clipped to the %d G range", clipped, self.range_g)
        acc_mg = np.clip(quantised, -limit, limit).astype(np.int64)

        items: list[Item] = []
        t_connect = 0.0
        items.append(Event(t_connect, "connected", {"name": _h10_name(recording), "address": _address(1)}))
        items.append(Notification(0.12, uuids.BODY_SENSOR_LOCATION, bytes(BodySensorLocation(1))))
        items.append(Notification(0.18, uuids.BATTERY_LEVEL, bytes(BatteryLevel(self.battery_percent))))
        items.append(Notification(0.31, uuids.PMD_CONTROL_POINT, H10_PMD_FEATURE_READ))
        items.append(Notification(0.45, uuids.PMD_CONTROL_POINT, H10_ACC_SETTINGS_RESPONSE))
        items.append(Notification(0.62, uuids.PMD_CONTROL_POINT, H10_ACC_START_RESPONSE))
        items.append(
            Event(
                0.62,
                "pmd_started",
                {
                    "measurement": "acc",
                    "sample_rate_hz": int(self.rate_hz) if self.rate_hz.is_integer() else self.rate_hz,
                    "resolution_bits": 16,
                    "range_g": self.range_g,
                },
            )
        )

        # -- ACC frames
        t0_ns = pmd_timestamp_ns(recording.start_utc)
        compressed = self.acc_frames == "compressed"
        rows = [tuple(r) for r in acc_mg.tolist()]
        frames = pack_acc_frames(rows, compressed=compressed, max_bytes=self.mtu - 3)
        sizes: list[int] = []
        for first, last in frames:
            last_s = float(time_s[last - 1])
            ts_ns = t0_ns + round(last_s * 1e9)
            data = bytes(
                build_acc_frame(rows[first:last], ts_ns, compressed=compressed, **_block_args(compressed))
            )
            sizes.append(len(data))
            items.append(Notification(latency.arrival(uuids.PMD_DATA, host_t(last_s)), uuids.PMD_DATA, data))

        # -- heart rate, about once a second on the strap's clock, from the real RR intervals
        hr: list[tuple[float, int, tuple[int, ...]]] = []
        good = ~recording.rr_artefact
        bpm_prev: int | None = None
        period_s = 1.0 / (1.0 + self.clock_ppm * 1e-6)
        k = 0
        while True:
            s = start_s + 0.5 + k * period_s
            if s > end_s:
                break
            k += 1
            in_window = good & (recording.rr_time_s > s - period_s) & (recording.rr_time_s <= s)
            rr_1024 = tuple(int(v) * 4 for v in recording.rr_256[in_window])  # 1/256 s -> 1/1024 s, exact
            recent = good & (recording.rr_time_s > s - 5.0) & (recording.rr_time_s <= s)
            if np.any(recent):
                bpm_prev = round(60.0 * 256.0 / float(np.median(recording.rr_256[recent])))
            elif bpm_prev is None:
                second = min(int(s), len(recording.hr_bpm_1hz) - 1)
                bpm_prev = int(recording.hr_bpm_1hz[second]) if second >= 0 else 0
            bpm = int(bpm_prev)
            hrm = HeartRateMeasurement(bpm=bpm, contact=True, rr_1024=rr_1024, uint16=bpm > 0xFF)
            t = latency.arrival(uuids.HEART_RATE_MEASUREMENT, host_t(s))
            items.append(Notification(t, uuids.HEART_RATE_MEASUREMENT, bytes(hrm)))
            hr.append((t, bpm, rr_1024))
        cut = (recording.rr_time_s > start_s) & (recording.rr_time_s <= end_s)
        self.rr_dropped_ = int(np.count_nonzero(cut & recording.rr_artefact))

        t_end = max(item.t for item in items) + 0.2
        items.append(Notification(t_end, uuids.PMD_CONTROL_POINT, H10_ACC_STOP_RESPONSE))
        items.append(Event(round(t_end + 0.05, 6), "disconnected", {"reason": "session ended"}))

        created = recording.start_utc + timedelta(seconds=start_s)
        source = (
            f"{recording.name}{_origin(recording.name)}: recording seconds {start_s:g}-{end_s:g}; "
            f"chest ACC {recording.acc_rate_hz:g} Hz 1/256 g resampled to {rate_hz:.4f} Hz (nominal {self.rate_hz:g} Hz, clock "
            f"{self.clock_ppm:+g} ppm) as Polar PMD ACC frames ({self.acc_frames}, mG, {self.range_g} G); "
            f"Heart Rate Measurement ~1 Hz from the device RR intervals; converted by coach convert, seed {self.seed}"
        )
        self.conversion_ = Conversion(
            device_name=_h10_name(recording),
            device_address=_address(1),
            source=source,
            created=created,
            items=_sorted(items),
        )
        self.acc_time_s_ = time_s
        self.acc_resampled_mg_ = resampled_mg
        self.acc_mg_ = acc_mg
        self.acc_rate_hz_ = rate_hz
        self.acc_clipped_ = clipped
        self.acc_frames_ = len(frames)
        self.acc_frame_sizes_ = sizes
        self.hr_ = hr
        return self


#: Deltas per compressed block: frames then hold several blocks, each with its own minimal bit width, as real
#: frames do (a real Verity Sense frame: blocks of 62, 20 and 16 deltas).
ACC_BLOCK_SAMPLES = 32


def _block_args(compressed: bool) -> dict[str, int]:
    return {"max_block_samples": ACC_BLOCK_SAMPLES} if compressed else {}


def pack_acc_frames(
    samples_mg: Sequence[tuple[int, ...]], *, compressed: bool, max_bytes: int
) -> list[tuple[int, int]]:
    """Cut ``samples_mg`` into frames of at most ``max_bytes`` bytes each; returns ``(first, end)`` index pairs.

    Raw int16 frames hold ``(max_bytes - 10) // 6`` samples (36 at MTU 232, as in the Polar SDK's H10 ACC test
    frame). Compressed frames take as many samples as fit: the encoded size only grows with the sample count, so
    a binary search with :func:`sensors.codecs.pmd.build_acc_frame` finds the largest count.
    """
    n = len(samples_mg)
    if max_bytes < HEADER_SIZE + 6:
        raise ValueError(f"max_bytes {max_bytes} cannot hold one ACC sample")
    if not compressed:
        per = (max_bytes - HEADER_SIZE) // 6
        return [(i, min(i + per, n)) for i in range(0, n, per)]

    def fits(first: int, count: int) -> bool:
        frame = build_acc_frame(samples_mg[first : first + count], 0, compressed=True, **_block_args(True))
        return len(bytes(frame)) <= max_bytes

    # 1-bit deltas are the densest case: 3 bits a sample plus a 2-byte header per block.
    ceiling = 1 + (max_bytes - HEADER_SIZE - 6) * 8 // 3
    frames: list[tuple[int, int]] = []
    first = 0
    guess = 1
    while first < n:
        top = min(ceiling, n - first)
        # Bracket the answer around the previous frame's count (consecutive frames are alike), then bisect:
        # lo always fits (one sample always does), hi + 1 never does (or is past the end).
        lo, hi, step = 1, top, 1
        probe = min(guess, top)
        if fits(first, probe):
            lo = probe
            while lo < top:
                probe = min(lo + step, top)
                if not fits(first, probe):
                    hi = probe - 1
                    break
                lo, step = probe, step * 2
        else:
            hi = probe - 1
            while hi > 1:
                probe = max(hi - step, 1)
                if fits(first, probe):
                    lo = probe
                    break
                hi, step = probe - 1, step * 2
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(first, mid):
                lo = mid
            else:
                hi = mid - 1
        frames.append((first, first + lo))
        first += lo
        guess = lo
    return frames


def _h10_name(recording: HexoskinRecording) -> str:
    return f"Polar H10 (Hexoskin {recording.name.split('/')[-1]} re-encoded)"


def _address(n: int) -> str:
    # A static random address (top bits 11) that no real device is likely to use.
    return f"C0:00:00:00:00:{n:02X}"


# --------------------------------------------------------------------------------------------- Garmin FIT


@dataclass(frozen=True, slots=True)
class FitRecord:
    """One FIT ``record`` message, times in seconds since the activity start; ``None`` = not recorded."""

    t_s: float
    heart_rate_bpm: int | None
    cadence_spm: float | None
    speed_mps: float | None
    distance_m: float | None
    activity_type: str | None


@dataclass(frozen=True)
class FitActivity:
    """The parts of a FIT activity file a strap or foot pod would have sent."""

    name: str
    start_utc: datetime
    records: tuple[FitRecord, ...]
    rr_s: tuple[float, ...]
    sport: str | None
    product: str | None

    @property
    def duration_s(self) -> float:
        return self.records[-1].t_s if self.records else 0.0


def load_fit(path: str | os.PathLike[str]) -> FitActivity:
    """Records, ``hrv`` beat intervals, sport and product of a FIT activity file, read once by
    :func:`sensors.readers.fit.read_fit`.

    The start is the first timer-start event (else the first record). Cadence becomes steps/min:
    FIT running cadence is strides/min, so steps/min = 2 * (cadence + fractional_cadence) (FIT profile,
    ``record.cadence`` in rpm / strides per minute for running; :attr:`sensors.readers.fit.FitRecord.cadence_spm`).
    Raises ``ValueError`` for an unreadable file.
    """
    from sensors.readers import ReaderError
    from sensors.readers.fit import read_fit

    source = Path(path)
    if not source.is_file():
        raise ValueError(f"{source}: no such file")
    try:
        fit = read_fit(source)
    except ReaderError as exc:
        raise ValueError(str(exc)) from exc
    if not fit.records:
        raise ValueError(f"{source}: no record messages (not an activity file?)")
    first = fit.records[0].timestamp
    start = min([*fit.timer_starts[:1], first])
    records = [
        FitRecord(
            t_s=(r.timestamp - start).total_seconds(),
            heart_rate_bpm=int(r.heart_rate_bpm) if r.heart_rate_bpm is not None else None,
            cadence_spm=r.cadence_spm,
            speed_mps=r.speed_mps,
            distance_m=r.distance_m,
            activity_type=r.activity_type,
        )
        for r in fit.records
    ]
    records.sort(key=lambda r: r.t_s)
    return FitActivity(
        name=_data_name(source),
        start_utc=start,
        records=tuple(records),
        rr_s=fit.rr_s,
        sport=fit.sport,
        product=fit.product,
    )


class FitToStrap:
    """Replay a FIT activity as a strap with Heart Rate and RSC (like a Garmin HRM-Pro) would have sent it.

    Every ``1 / (1 + clock_ppm / 1e6)`` s the strap sends a Heart Rate Measurement (bpm of the latest FIT record,
    contact detected, the RR intervals of the beats since the previous notification) and an RSC Measurement
    (speed, cadence in steps/min, total distance, running flag). FIT "smart recording" stores a record only
    when something changes, so between records the latest values are held, as the strap's display would.
    Beat times are the running sum of the ``hrv`` intervals from the activity start. The running flag is the
    record's ``activity_type`` when the watch wrote one, else cadence >= ``running_spm``; never at cadence 0. Stride length is
    left out: FIT ``step_length`` is per step and RSC "stride" means different things to different pods.

    :meth:`convert` sets ``conversion_``, ``hr_`` (``(t, bpm, rr_1024)`` per HR notification) and ``rsc_``
    (``(t, FitRecord used, RscMeasurement sent)`` per RSC notification).
    """

    def __init__(
        self,
        *,
        start_s: float | None = None,
        end_s: float | None = None,
        clock_ppm: float = 600.0,
        running_spm: float = 140.0,
        seed: int = 0,
        battery_percent: int = 74,
    ) -> None:
        self.start_s = start_s
        self.end_s = end_s
        self.clock_ppm = clock_ppm
        self.running_spm = running_spm
        self.seed = seed
        self.battery_percent = battery_percent

    def convert(self, activity: FitActivity) -> Self:
        start_s = 0.0 if self.start_s is None else float(self.start_s)
        end_s = activity.duration_s if self.end_s is None else min(float(self.end_s), activity.duration_s)
        if not 0.0 <= start_s < end_s:
            raise ValueError(
                f"empty cut {start_s:g}-{end_s:g} s (the activity is {activity.duration_s:.0f} s long)"
            )
        if not abs(self.clock_ppm) < 10_000:
            raise ValueError(f"clock_ppm {self.clock_ppm} is not a sensible clock error")
        rng = random.Random(self.seed)
        latency = _Latency(rng)
        name = f"HR+RSC strap ({activity.name.split('/')[-1]} re-encoded)"
        items: list[Item] = [
            Event(0.0, "connected", {"name": name, "address": _address(2)}),
            Notification(0.12, uuids.BODY_SENSOR_LOCATION, bytes(BodySensorLocation(1))),
            Notification(0.18, uuids.BATTERY_LEVEL, bytes(BatteryLevel(self.battery_percent))),
        ]
        beat_times = np.cumsum(np.asarray(activity.rr_s, dtype=np.float64))
        rr = np.asarray(activity.rr_s, dtype=np.float64)
        record_times = np.asarray([r.t_s for r in activity.records])
        period_s = 1.0 / (1.0 + self.clock_ppm * 1e-6)
        hr: list[tuple[float, int, tuple[int, ...]]] = []
        rsc: list[tuple[float, FitRecord, RscMeasurement]] = []
        k = 0
        while True:
            s = start_s + k * period_s
            if s > end_s:
                break
            k += 1
            index = int(np.searchsorted(record_times, s, side="right")) - 1
            if index < 0:
                continue
            record = activity.records[index]
            produced = SETUP_S + (s - start_s)
            if record.heart_rate_bpm is not None:
                in_window = (beat_times > s - period_s) & (beat_times <= s)
                rr_1024 = tuple(round(float(v) * 1024.0) for v in rr[in_window])
                bpm = record.heart_rate_bpm
                hrm = HeartRateMeasurement(bpm=bpm, contact=True, rr_1024=rr_1024, uint16=bpm > 0xFF)
                t = latency.arrival(uuids.HEART_RATE_MEASUREMENT, produced)
                items.append(Notification(t, uuids.HEART_RATE_MEASUREMENT, bytes(hrm)))
                hr.append((t, bpm, rr_1024))
            if record.cadence_spm is not None or record.speed_mps is not None:
                cadence = min(255, round(record.cadence_spm or 0.0))
                if cadence == 0:
                    running = False  # standing: no pod calls that running
                elif record.activity_type in ("running", "walking"):
                    running = record.activity_type == "running"
                else:
                    running = cadence >= self.running_spm
                measurement = RscMeasurement(
                    speed_mps=min(record.speed_mps or 0.0, 0xFFFF / 256.0),
                    cadence_per_min=cadence,
                    total_distance_m=record.distance_m,
                    running=running,
                )
                t = latency.arrival(uuids.RSC_MEASUREMENT, produced + 0.004)
                items.append(Notification(t, uuids.RSC_MEASUREMENT, bytes(measurement)))
                rsc.append((t, record, measurement))
        t_end = max(item.t for item in items) + 0.2
        items.append(Event(round(t_end, 6), "disconnected", {"reason": "session ended"}))
        source = (
            f"{activity.name}{_origin(activity.name)}: activity seconds {start_s:g}-{end_s:g}, sport {activity.sport}, product {activity.product}; "
            f"FIT records (held between records) as Heart Rate Measurement + RSC Measurement at 1 Hz, RR from "
            f"hrv messages, cadence 2 x (cadence + fractional_cadence) steps/min; converted by coach convert, "
            f"seed {self.seed}"
        )
        self.conversion_ = Conversion(
            device_name=name,
            device_address=_address(2),
            source=source,
            created=activity.start_utc + timedelta(seconds=start_s),
            items=_sorted(items),
        )
        self.hr_ = hr
        self.rsc_ = rsc
        return self
