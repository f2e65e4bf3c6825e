"""``coach doctor``: check the whole chain before a run; one line per check, its fix under it, a telling exit code.

The checks are :mod:`coach.doctor.checks` (pure), the probes :mod:`coach.doctor.probes`; this module parses the
options, calls ``asyncio.run`` once and prints.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coach.cli.options import SENSOR_KINDS, data_dir_option, resolve

if TYPE_CHECKING:
    from collections.abc import Callable

    from coach.doctor.checks import Check, SensorWanted
    from coach.doctor.probes import DoctorOptions
    from sensors.sources.moniker import SensorMoniker


@click.command()
@click.option(
    "--sensor",
    metavar="MONIKER",
    default=None,
    help=f"The strap to check: {SENSOR_KINDS['ble']}; or {SENSOR_KINDS['virtual']}. "
    "Default: the first heart-rate strap the scan finds.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.5),
    default=5.0,
    show_default=True,
    help="Seconds to listen for advertisements.",
)
@click.option(
    "--quiet", is_flag=True, help="Do not say the test phrase aloud (the speech engine is still checked)."
)
@click.option("--json", "as_json", is_flag=True, help="The same results as one JSON object on stdout.")
@data_dir_option
def doctor(sensor: str | None, timeout_s: float, quiet: bool, as_json: bool, data_dir: Path | None) -> None:
    """Check everything a run needs, on a Raspberry Pi or a laptop.

    Python and packages; on Linux BlueZ, rfkill, the adapter and this user's permission; the strap advertising
    (with its signal strength); heart rate flowing for 5 s through the same client a run uses; the Polar
    accelerometer (PMD) starting, and whether the strap wants pairing; the speech engine; an audio player, by saying
    a short test phrase (--quiet: silent); the data directory writable, and its free space.

    Each line is ok, warn (a run works, with less), FAIL (a run would fail) or skip, with the fix under it. The exit
    code is 0 when a run would start, else the code the run would end with (5 Bluetooth or strap, 7 storage, 1 a
    broken install).
    """
    from coach.doctor.checks import HR_WINDOW_S, exit_code, format_json, format_text
    from coach.doctor.probes import DoctorOptions

    wanted, moniker = _wanted(sensor)
    options = DoctorOptions(
        data_dir=resolve(data_dir),
        wanted=wanted,
        scan_timeout_s=timeout_s,
        hr_window_s=HR_WINDOW_S,
        quiet=quiet,
    )
    if not as_json:
        click.echo(f"coach doctor (scan {timeout_s:g} s, heart rate {HR_WINDOW_S:g} s)")

    def report(check: Check) -> None:
        if not as_json:
            for line in format_text([check])[:-1]:  # the summary line comes once, at the end
                click.echo(line)

    checks = asyncio.run(_run(options, moniker, report))
    if as_json:
        click.echo(format_json(checks))
    else:
        click.echo(format_text(checks)[-1])
    sys.exit(exit_code(checks))


def _wanted(sensor: str | None) -> tuple[SensorWanted | None, SensorMoniker | None]:
    """The strap asked for, and the parsed moniker (a bad one is a usage error, exit 2)."""
    from coach.doctor.checks import SensorWanted
    from sensors.errors import MonikerError
    from sensors.sources.moniker import check_sensor

    if sensor is None:
        return None, None
    moniker = check_sensor(sensor)
    if moniker.kind == "replay":
        raise MonikerError("replay: has no radio to check: use ble:... or virtual:...")
    if moniker.kind == "ble":
        return SensorWanted(address=moniker.address, name=moniker.name), moniker
    return None, moniker


async def _run(
    options: DoctorOptions, moniker: SensorMoniker | None, report: Callable[[Check], None]
) -> list[Check]:
    import dataclasses

    from coach.doctor.checks import SensorWanted
    from coach.doctor.probes import BleakProbe, Probes, SpeakerProbe, run_checks, virtual_probe

    if moniker is not None and moniker.kind == "virtual":
        async with virtual_probe(moniker) as (probe, name):
            options = dataclasses.replace(options, wanted=SensorWanted(name=name))
            return await run_checks(options, Probes(ble=probe, voice=SpeakerProbe()), report=report)
    return await run_checks(options, Probes(ble=BleakProbe(), voice=SpeakerProbe()), report=report)
