"""BLE client benchmark: CPU cost of streaming 200 Hz ACC + HR through the real client, and reconnect times.

``python -m bench.ble_bench [--seconds 120] [--speed 4] [--quick] [--no-write]`` (also ``python -m bench ble``).

What runs: a real Hexoskin chest recording (../shared/data/hexoskin-chest/005, MIT) re-encoded as a Polar H10
would stream it at **200 Hz** ACC (PMD frames, delta-compressed, MTU 232) plus Heart Rate notifications
(``sensors.readers.convert.HexoskinToPolar``); the virtual strap (bumble) streams it and the production client
(``sensors.sources.ble.client.BleSource`` through bleak with the bumble backend) connects, starts ACC at 200 Hz and
records every payload raw to a capture file before decoding it, as in a session.

Numbers (per second of sensor data, i.e. independent of ``--speed``):

- **client**: process CPU seconds spent in the client's notification path (capture write + decode + queue)
  and in the consumer, per second of data, in % of one core. This is what a real session pays on top of the
  platform's Bluetooth stack (BlueZ/D-Bus on Linux, not measurable here);
- **whole process**: all CPU of the process per second of data: client + bleak + the emulated strap + two
  bumble host stacks + two emulated controllers. An upper bound: a real run has no emulated strap.
- **reconnect**: with ``drop_every=20`` (link dropped with reason 0x08 every 20 s of data), the outage from
  ``disconnected`` to ``connected`` in capture seconds (target: every one < 2 s).

Target (issue 4): streaming 200 Hz ACC + HR through the real client costs < 5 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGET_PCT = 5.0
START = "<!-- ble_bench:start -->"
END = "<!-- ble_bench:end -->"


@dataclass
class StreamResult:
    data_s: float
    wall_s: float
    process_cpu_s: float
    client_cpu_s: float
    notifications: int
    acc_samples: int
    hr_samples: int
    acc_rate_hz: float

    @property
    def client_pct(self) -> float:
        return 100.0 * self.client_cpu_s / self.data_s

    @property
    def process_pct(self) -> float:
        return 100.0 * self.process_cpu_s / self.data_s


def make_capture(folder: Path, seconds: float, rate_hz: float = 200.0) -> tuple[Path, str]:
    """A 200 Hz ACC + HR capture from real data (or, without ../shared/data, from a synthetic walk)."""
    from sensors.readers.convert import HexoskinToPolar, load_hexoskin, write_capture

    out = folder / "h10-200hz.jsonl"
    subject = SHARED / "hexoskin-chest" / "005hexoskin"
    if subject.is_dir():
        recording = load_hexoskin(subject)
        # Raw int16 frames (type 0x01) as the H10 sends them: more notifications than compressed ones.
        conv = HexoskinToPolar(
            start_s=870.0, end_s=870.0 + seconds + 2.0, rate_hz=rate_hz, acc_frames="raw"
        ).convert(recording)
        write_capture(conv.conversion_, out)
        return (
            out,
            f"hexoskin-chest/005hexoskin s 870-{870 + seconds + 2:.0f}, re-encoded at {rate_hz:g} Hz (raw int16 PMD frames)",
        )
    return _synthetic_capture(
        out, seconds, rate_hz
    ), f"synthetic 1.8 Hz walk at {rate_hz:g} Hz (no ../shared/data)"


def _synthetic_capture(out: Path, seconds: float, rate_hz: float) -> Path:
    import math

    from sensors import uuids
    from sensors.capture import CaptureWriter
    from sensors.clock import FakeClock
    from sensors.codecs import HeartRateMeasurement, build_acc_frame

    per_frame = 36
    period_s = per_frame / rate_hz
    with CaptureWriter(out, device={"name": "Polar H10 BENCH"}, source="synthetic", clock=FakeClock()) as w:
        w.payload(0.4, uuids.PMD_CONTROL_POINT, bytes.fromhex("f00202000001"))
        w.event(
            0.4, "pmd_started", measurement="acc", sample_rate_hz=int(rate_hz), resolution_bits=16, range_g=8
        )
        n, t, next_hr = 0, 1.0, 1.0
        while t < seconds + 1.0:
            rows = [
                (0, int(300 * math.sin(2 * math.pi * 1.8 * (n + i) / rate_hz)), 1000)
                for i in range(per_frame)
            ]
            n += per_frame
            while next_hr <= t:
                w.payload(
                    next_hr, uuids.HEART_RATE_MEASUREMENT, bytes(HeartRateMeasurement(bpm=110, contact=True))
                )
                next_hr += 1.0
            w.payload(t, uuids.PMD_DATA, bytes(build_acc_frame(rows, int(t * 1e9), compressed=False)))
            t += period_s
    return out


class ClientMeter:
    """The client's own CPU (``cpu_s``, process time): every payload it decodes and writes to the capture (its
    ``_payload`` is wrapped) and every sample the consumer counts with :meth:`take` (``acc`` samples, ``hr``)."""

    def __init__(self, source: Any) -> None:
        self.cpu_s = 0.0
        self.acc = self.hr = 0
        inner = source._payload

        def timed_payload(char: str, data: bytes) -> None:
            c0 = time.process_time()
            inner(char, data)
            self.cpu_s += time.process_time() - c0

        source._payload = timed_payload

    def take(self, sample: object) -> None:
        from sensors.samples import AccBlock, HeartRateSample

        c0 = time.process_time()
        if isinstance(sample, AccBlock):
            self.acc += len(sample)
        elif isinstance(sample, HeartRateSample):
            self.hr += 1
        self.cpu_s += time.process_time() - c0


async def stream(
    capture: Path, *, speed: float, rate_hz: int, drop_every_s: float | None = None
) -> tuple[StreamResult, list[float]]:
    from sensors.capture import CaptureWriter
    from sensors.sources.ble.client import AccConfig, ClientConfig
    from sensors.sources.virtual.source import VirtualSource

    with (
        tempfile.TemporaryDirectory() as tmp,
        CaptureWriter(Path(tmp) / "rec.jsonl", source="bench") as writer,
    ):
        source = VirtualSource(
            capture,
            speed=speed,
            drop_every_s=drop_every_s,
            capture=writer,
            config=ClientConfig(acc=AccConfig(sample_rate_hz=rate_hz)),
        )
        meter = ClientMeter(source)
        await source.start()
        t_data0 = source.now()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        async for sample in source:
            meter.take(sample)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        data_s = source.now() - t_data0
        outages = list(source.outages_s_)
        result = StreamResult(
            data_s=data_s,
            wall_s=wall,
            process_cpu_s=cpu,
            client_cpu_s=meter.cpu_s,
            notifications=source.notifications_,
            acc_samples=meter.acc,
            hr_samples=meter.hr,
            acc_rate_hz=meter.acc / data_s if data_s > 0 else 0.0,
        )
    return result, outages


def render(
    res: StreamResult,
    outages: list[float],
    drops_expected: int,
    *,
    source: str,
    speed: float,
    argv: list[str],
) -> str:
    ok = res.client_pct < TARGET_PCT
    lines = [
        START,
        "## BLE client (issue 4)",
        "",
        f"Generated by `{' '.join(['python -m bench.ble_bench', *argv])}`"
        f" on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}; data: {source}; "
        f"virtual strap at speed {speed:g} (numbers are per second of sensor data).",
        "",
        "| metric | target | value |",
        "|---|---|---|",
        f"| client CPU, 200 Hz ACC + HR (capture write + decode + consumer), % of a core | < {TARGET_PCT:g} | "
        f"{res.client_pct:.2f} {'pass' if ok else 'FAIL'} |",
        f"| whole process CPU incl. emulated strap, controllers, bumble, bleak, % of a core | info | {res.process_pct:.2f} |",
        f"| ACC samples/s received | 200 | {res.acc_rate_hz:.1f} |",
        f"| notifications / HR samples over {res.data_s:.0f} s | info | {res.notifications} / {res.hr_samples} |",
    ]
    if outages:
        lines.append(
            f"| reconnect outage with drop_every=20, capture s (median / max, {len(outages)} of {drops_expected} drops) "
            f"| max < 2 | {statistics.median(outages):.2f} / {max(outages):.2f} {'pass' if max(outages) < 2 else 'FAIL'} |"
        )
    lines += [
        "",
        "The platform's own Bluetooth cost (BlueZ + D-Bus on a Raspberry Pi) is not in these numbers; see docs/ble.md.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = RESULTS) -> None:
    """Replace this benchmark's section of RESULTS.md (between the markers), or append it."""
    from bench.results import write_marked

    write_marked(text, path)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m bench.ble_bench", description=__doc__.split("\n")[0])
    p.add_argument(
        "--seconds", type=float, default=120.0, help="seconds of sensor data to stream (default 120)"
    )
    p.add_argument("--speed", type=float, default=4.0, help="virtual strap speed (default 4)")
    p.add_argument("--quick", action="store_true", help="40 s at speed 10; does not write RESULTS.md")
    p.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = p.parse_args(argv)
    seconds, speed = (40.0, 10.0) if args.quick else (args.seconds, args.speed)
    import logging

    logging.getLogger("bumble").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        capture, source = make_capture(Path(tmp), seconds)
        res, _ = asyncio.run(stream(capture, speed=speed, rate_hz=200))
        _, outages = asyncio.run(stream(capture, speed=10.0, rate_hz=200, drop_every_s=20.0))
    drops_expected = int(seconds // 20)
    text = render(res, outages, drops_expected, source=source, speed=speed, argv=argv)
    print(text.replace(START + "\n", "").replace(END + "\n", ""))
    if not (args.quick or args.no_write):
        write_section(text)
    return 0 if res.client_pct < TARGET_PCT and (not outages or max(outages) < 2.0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
