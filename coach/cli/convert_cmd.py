"""``coach convert``: turn real recordings into capture files, as a strap would have sent them.

The conversion itself lives in :mod:`sensors.readers.convert`; this module parses options, reports what it made and
turns bad input into one-line errors. tools/make_fixtures.sh runs it for every committed fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from coach.cli.options import force_option
from coach.errors import InputError


def _time(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """Seconds, ``mm:ss`` or ``h:mm:ss`` (click callback)."""
    if value is None:
        return None
    from sensors.readers.convert import parse_time_s

    try:
        return parse_time_s(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


_output = click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Capture file to write (JSON Lines, created user-only).",
)
_start = click.option(
    "--start",
    metavar="TIME",
    callback=_time,
    default=None,
    help="Cut start (seconds, mm:ss or h:mm:ss) [default: 0].",
)
_end = click.option(
    "--end",
    metavar="TIME",
    callback=_time,
    default=None,
    help="Cut end (seconds, mm:ss or h:mm:ss) [default: the end].",
)
_seed = click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for the host arrival jitter (same seed, same bytes).",
)
_ppm = click.option(
    "--clock-ppm",
    type=float,
    default=600.0,
    show_default=True,
    help="How fast the strap's clock runs against nominal, in parts per million.",
)


@click.group()
def convert() -> None:
    """Turn real recordings into capture files, as a strap would have sent them.

    The result replays through exactly the code path of a live strap (`coach capture info/decode`,
    `--sensor replay:FILE`). fixtures/README.md lists the committed fixtures and the commands that made them.
    """


@convert.command("hexoskin", short_help="Hexoskin chest record -> Polar H10 PMD ACC + heart rate.")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_output
@_start
@_end
@click.option(
    "--rate-hz",
    type=float,
    default=100.0,
    show_default=True,
    help="Nominal PMD ACC sample rate (H10: 25/50/100/200).",
)
@_ppm
@click.option(
    "--acc-frames",
    type=click.Choice(["compressed", "raw"]),
    default="compressed",
    show_default=True,
    help="PMD ACC frame type: 0x81 delta-compressed or 0x01 raw int16.",
)
@click.option(
    "--range-g", type=click.Choice(["2", "4", "8"]), default="8", show_default=True, help="ACC range (clips)."
)
@click.option(
    "--mtu", type=int, default=232, show_default=True, help="ATT MTU; a frame holds at most MTU-3 bytes."
)
@_seed
@force_option
def hexoskin_cmd(
    folder: Path,
    output: Path,
    start: float | None,
    end: float | None,
    rate_hz: float,
    clock_ppm: float,
    acc_frames: str,
    range_g: str,
    mtu: int,
    seed: int,
    force: bool,
) -> None:
    """Convert a Hexoskin chest record FOLDER (e.g. hexoskin-chest/005hexoskin).

    Chest acceleration becomes Polar PMD ACC frames (resampled to the rate, mG), the real RR intervals become
    Heart Rate Measurement notifications about once a second, after a Polar H10's connection set-up.
    """
    from coach.cli.options import check_output
    from sensors.readers.convert import HexoskinToPolar, load_hexoskin

    check_output(output, force=force)  # before the work
    try:
        recording = load_hexoskin(folder)
        converter = HexoskinToPolar(
            start_s=start,
            end_s=end,
            rate_hz=rate_hz,
            clock_ppm=clock_ppm,
            acc_frames="raw" if acc_frames == "raw" else "compressed",
            range_g=int(range_g),
            mtu=mtu,
            seed=seed,
        ).convert(recording)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    _write(converter.conversion_, output, force)
    sizes = converter.acc_frame_sizes_
    click.echo(
        f"{output}: {converter.conversion_.duration_s:.1f} s, "
        f"{len(converter.acc_mg_)} ACC samples at {converter.acc_rate_hz_:.3f} Hz in {converter.acc_frames_} "
        f"{acc_frames} frames ({min(sizes)}-{max(sizes)} bytes), {len(converter.hr_)} HR notifications, "
        f"{converter.rr_dropped_} flagged RR left out, {converter.acc_clipped_} values clipped"
    )


@convert.command("fit", short_help="FIT activity -> heart rate (RR) + RSC at 1 Hz.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_output
@_start
@_end
@_ppm
@_seed
@force_option
def fit_cmd(
    file: Path,
    output: Path,
    start: float | None,
    end: float | None,
    clock_ppm: float,
    seed: int,
    force: bool,
) -> None:
    """Convert a FIT activity FILE into Heart Rate (with RR) and RSC (speed, steps/min) notifications at 1 Hz."""
    from coach.cli.options import check_output
    from sensors.readers.convert import FitToStrap, load_fit

    check_output(output, force=force)
    try:
        activity = load_fit(file)
        converter = FitToStrap(start_s=start, end_s=end, clock_ppm=clock_ppm, seed=seed).convert(activity)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    _write(converter.conversion_, output, force)
    rr = sum(len(rr) for _, _, rr in converter.hr_)
    click.echo(
        f"{output}: {converter.conversion_.duration_s:.1f} s, {len(converter.hr_)} HR notifications "
        f"({rr} RR intervals), {len(converter.rsc_)} RSC notifications"
    )


def _write(conversion: Any, output: Path, force: bool) -> None:
    from coach.cli.options import check_output, writing
    from sensors.readers.convert import write_capture

    check_output(output, force=force)
    with writing(output):
        write_capture(conversion, output, overwrite=force)
