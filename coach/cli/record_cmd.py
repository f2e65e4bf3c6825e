"""``coach record``: record a capture file from a strap (live or virtual), with a progress line.

The recording loop (:func:`record_capture`) is async and testable without the CLI; the command only parses
options, calls ``asyncio.run`` once and prints. Progress (:class:`Progress`) is pure: counts in, a line out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coach.cli.options import force_option, no_pair_option, sensor_option

if TYPE_CHECKING:
    from sensors.sources.ble.client import BleSource

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    """What the progress line shows: session seconds, last heart rate, ACC samples/s, drops, link state."""

    elapsed_s: float = 0.0
    hr_bpm: int | None = None
    acc_samples: int = 0
    hr_samples: int = 0
    drops: int = 0
    connected: bool = False
    _window: list[tuple[float, int]] = field(default_factory=list)

    def acc_rate_hz(self, window_s: float = 5.0) -> float | None:
        """ACC samples per session second since the oldest tick of the last ``window_s`` (or the previous tick);
        None until two ticks span some time (the first tick has nothing to measure a rate over)."""
        if len(self._window) < 2:
            return None
        older = [w for w in self._window[:-1] if w[0] >= self.elapsed_s - window_s] or [self._window[-2]]
        t0, n0 = older[0]
        t1, n1 = self._window[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else None

    def tick(self, elapsed_s: float) -> None:
        self.elapsed_s = elapsed_s
        self._window.append((elapsed_s, self.acc_samples))
        self._window = self._window[-200:]

    def line(self, duration_s: float | None) -> str:
        total = f"/{duration_s:.0f}" if duration_s else ""
        hr = f"{self.hr_bpm} bpm" if self.hr_bpm is not None else "-- bpm"
        state = "connected" if self.connected else "reconnecting"
        rate = self.acc_rate_hz()
        acc = f"{rate:5.1f}" if rate is not None else f"{'--':>5}"  # "--" as for HR: not measured yet
        return (
            f"{self.elapsed_s:6.1f}{total} s | HR {hr} | ACC {acc} samples/s | drops {self.drops} | {state}"
        )


@dataclass
class RecordResult:
    elapsed_s: float
    progress: Progress
    ended_by: str  # "duration", "source", "interrupted"


async def record_capture(
    source: BleSource,
    duration_s: float | None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every_s: float = 1.0,
    stop: asyncio.Event | None = None,
) -> RecordResult:
    """Run ``source`` until ``duration_s`` session seconds passed, the source ended or ``stop`` is set (Ctrl-C);
    ``on_progress`` every ``progress_every_s`` wall seconds. The caller owns the capture writer; the source is
    closed here, whatever happens, also when ``source.start()`` fails (its error then propagates, unmasked)."""
    from sensors.samples import AccBlock, HeartRateSample

    progress = Progress()

    async def consume() -> None:
        async for sample in source:
            if isinstance(sample, AccBlock):
                progress.acc_samples += len(sample)
            elif isinstance(sample, HeartRateSample):
                progress.hr_samples += 1
                progress.hr_bpm = sample.bpm

    ended_by = "duration"
    consumer: asyncio.Task[None] | None = None
    timer: asyncio.Task[None] | None = None
    stopper: asyncio.Task[Any] | None = None
    starter: asyncio.Task[None] | None = None
    failed = True
    try:
        # Ctrl-C must work while the strap is still being found and connected (that can take a minute).
        starter = asyncio.create_task(source.start())
        stopper = asyncio.create_task(stop.wait()) if stop is not None else None
        await asyncio.wait(
            {starter, *(t for t in (stopper,) if t is not None)}, return_when=asyncio.FIRST_COMPLETED
        )
        if not starter.done():
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starter
            ended_by = "interrupted"
            failed = False
            return RecordResult(elapsed_s=source.now(), progress=progress, ended_by=ended_by)
        starter.result()
        consumer = asyncio.create_task(consume())
        timer = asyncio.create_task(source.clock.sleep(duration_s - source.now())) if duration_s else None
        waiting: set[asyncio.Future[Any]] = {consumer, *(t for t in (timer, stopper) if t is not None)}
        while True:
            done, _ = await asyncio.wait(
                waiting, timeout=progress_every_s, return_when=asyncio.FIRST_COMPLETED
            )
            progress.tick(source.now())
            progress.drops = source.drops_
            progress.connected = source.connected
            if on_progress is not None:
                on_progress(progress)
            if consumer in done:
                consumer.result()
                ended_by = "source"
                break
            if timer is not None and timer in done:
                break
            if stopper is not None and stopper in done:
                ended_by = "interrupted"
                break
        failed = False
    finally:
        for task in (timer, stopper, consumer, starter):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await source.aclose()
        except Exception:
            if not failed:
                raise
            # The error already on its way (e.g. the strap refused) is the one the user must see.
            logger.warning("closing %s after a failure failed too", source.label, exc_info=True)
    progress.tick(source.now())
    progress.drops = source.drops_
    return RecordResult(elapsed_s=source.now(), progress=progress, ended_by=ended_by)


@click.command()
@sensor_option("ble", "virtual")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Capture file to write (JSON Lines, created user-only).",
)
@click.option(
    "--duration",
    "duration_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many seconds (session time). Default: until Ctrl-C or the source ends.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Clock speed for virtual: sensors (20 records a 90 s session in 4.5 s). Live straps run at 1.",
)
@click.option(
    "--acc-rate",
    "acc_rate_hz",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Polar accelerometer sample rate to ask for (Hz).",
)
@click.option(
    "--acc-range",
    "acc_range_g",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Polar accelerometer range (G); 8 G keeps running from clipping.",
)
@click.option("--no-acc", is_flag=True, help="Do not start the accelerometer (heart rate / RSC only).")
@no_pair_option
@force_option
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def record(
    sensor: str,
    output: Path,
    duration_s: float | None,
    speed: float,
    acc_rate_hz: int,
    acc_range_g: int,
    no_acc: bool,
    no_pair: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Record a capture file from a chest strap (or a virtual one).

    Connects, subscribes to heart rate (and RSC, battery), starts the Polar accelerometer, and writes every
    notification raw to the capture with connect/drop events. A drop-out does not stop the recording: the
    strap is reconnected in the background and the gap is recorded. A progress line shows elapsed time,
    heart rate, accelerometer samples/s and drops; `coach capture info FILE` summarises the result.

    Example: coach record --sensor 'virtual:fixtures/chest-walk-jog-walk-hexoskin-005.jsonl?drop_every=30'
    --duration 90 --speed 20 -o out.jsonl
    """
    from coach.cli.options import check_output, writing
    from sensors.capture import CaptureWriter
    from sensors.errors import MonikerError
    from sensors.sources.ble.client import AccConfig, BleSource, ClientConfig
    from sensors.sources.moniker import check_sensor, parse_sensor_moniker
    from sensors.sources.opener import open_source

    moniker = parse_sensor_moniker(sensor)
    if moniker.kind == "replay":
        raise MonikerError(
            "replay: is already a capture file: record from ble: or virtual: (or copy the file)"
        )
    check_sensor(moniker)  # a virtual: file that is not there fails before anything opens
    check_output(output, force=force)  # before connecting: a refusal must not cost a recording
    config = ClientConfig(
        acc=None if no_acc else AccConfig(sample_rate_hz=acc_rate_hz, range_g=acc_range_g), pair=not no_pair
    )
    source = open_source(moniker, speed=speed, config=config)
    assert isinstance(source, BleSource)
    tty = sys.stderr.isatty()
    last_line = [0.0]

    warned: list[str | None] = [None]

    def warn_pmd() -> None:
        """The accelerometer is lost (what, and what to do): one line as soon as it happens, not per reconnection."""
        if source.pmd_error_ and source.pmd_error_ != warned[0]:
            warned[0] = source.pmd_error_
            click.echo(("\n" if tty and not quiet else "") + f"coach: warning: {source.pmd_error_}", err=True)

    def show(progress: Progress) -> None:
        warn_pmd()
        if quiet:
            return
        if tty:
            click.echo("\r" + progress.line(duration_s), nl=False, err=True)
        elif time.monotonic() - last_line[0] >= 1.0 or progress.elapsed_s >= (duration_s or float("inf")):
            last_line[0] = time.monotonic()
            click.echo(progress.line(duration_s), err=True)

    with writing(output):
        writer = CaptureWriter(
            output,
            device={"name": source.device_name_, "address": source.device_address_},
            source=moniker.text,
            overwrite=force,
            extra={"speed": speed} if speed != 1.0 else None,
        )
    source.capture = writer

    async def run() -> RecordResult:
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers on Windows loops
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        return await record_capture(
            source, duration_s, on_progress=show, progress_every_s=0.25 if tty else 0.5, stop=stop
        )

    try:
        result = asyncio.run(run())
    except BaseException:
        writer.close()
        if writer.records_written == 0:
            output.unlink(missing_ok=True)  # nothing recorded: leave no empty capture behind
        raise
    writer.close()
    if tty and not quiet:
        click.echo("", err=True)
    if result.ended_by == "interrupted" and not source.connections_:
        if writer.records_written == 0:
            output.unlink(missing_ok=True)
            click.echo(f"Stopped with Ctrl-C before {source.label} was connected: nothing recorded.")
        else:
            click.echo(
                f"Stopped with Ctrl-C before {source.label} was connected: {output} keeps "
                f"{writer.records_written} record(s) of the attempt."
            )
        return
    p = result.progress
    outages = source.outages_s_
    longest = f", longest gap {max(outages):.1f} s" if outages else ""
    why = {
        "duration": "duration reached",
        "source": "the source ended",
        "interrupted": "stopped with Ctrl-C",
    }[result.ended_by]
    click.echo(
        f"Recorded {result.elapsed_s:.1f} s to {output} ({why}): {writer.records_written} records, "
        f"{p.hr_samples} heart-rate and {p.acc_samples} accelerometer samples, {source.drops_} drop(s){longest}."
    )
    warn_pmd()
