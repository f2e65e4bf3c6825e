"""``coach scan``: nearby Bluetooth LE sensors, with what each offers and whether coach can use it."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sensors.sources.ble.scan import ScanResult


def format_results(results: list[ScanResult], *, show_all: bool) -> list[str]:
    """The table ``coach scan`` prints (pure: tested without Bluetooth).

    Usable sensors first; named devices coach cannot use are listed as such; nameless ones (phones, beacons) only
    with ``show_all``.
    """
    shown = [r for r in results if show_all or r.capabilities.usable or r.name]
    hidden = len(results) - len(shown)
    lines = []
    if not results:
        lines.append(
            "No Bluetooth LE devices seen. Wear the strap (it advertises only with skin contact) and retry."
        )
        return lines
    if shown:
        width = max(len(r.name or "(no name)") for r in shown)
        lines.append(f"{'name':<{width}}  {'address':<17}  {'signal':>8}  offers")
        for r in shown:
            rssi = f"{r.rssi} dBm" if r.rssi is not None else "?"
            lines.append(
                f"{r.name or '(no name)':<{width}}  {r.address:<17}  {rssi:>8}  {r.capabilities.describe()}"
            )
        usable = [r for r in shown if r.capabilities.usable]
        if usable:
            best = usable[0]
            # the whole name as advertised (a sensor's complete name when it sent one); a prefix also matches
            moniker = f"ble:name={best.name}" if best.name else f"ble:{best.address}"
            quoted = f"'{moniker}'" if "'" not in moniker else shlex.quote(moniker)
            lines.append("")
            lines.append(f"Use one with: coach record --sensor {quoted} -o capture.jsonl")
    if hidden:
        lines.append(f"({hidden} device(s) without a name offer nothing coach can use; --all lists them)")
    return lines


def result_json(result: ScanResult) -> dict[str, Any]:
    caps = result.capabilities
    return {
        "name": result.name,
        "address": result.address,
        "rssi_dbm": result.rssi,
        "usable": caps.usable,
        "heart_rate": caps.heart_rate,
        "rsc": caps.rsc,
        "pmd": caps.pmd,
        "battery": caps.battery,
        "service_uuids": list(result.service_uuids),
    }


@click.command()
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.5),
    default=5.0,
    show_default=True,
    help="Seconds to listen for advertisements.",
)
@click.option("--all", "show_all", is_flag=True, help="Also list devices coach cannot use.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per device on stdout.")
@click.option(
    "--virtual",
    "virtual",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scan a virtual strap streaming this capture file instead of the radio (demos, tests).",
)
def scan(timeout_s: float, show_all: bool, as_json: bool, virtual: Path | None) -> None:
    """List nearby Bluetooth LE sensors and what they offer.

    Shows each sensor's name, address, signal strength and what coach can read from it: heart rate, RSC
    speed/cadence (foot pods), the Polar PMD accelerometer ("likely" until connected: the H10 does not
    advertise it) and battery. Named devices that offer none of these are listed as not usable; nameless
    ones only with --all.
    Without Bluetooth (no adapter, BlueZ not running, switched off, no permission) it says why, in one line.
    """
    results = asyncio.run(_scan(timeout_s, virtual))
    if as_json:
        for r in results:
            if show_all or r.capabilities.usable or r.name:
                click.echo(json.dumps(result_json(r)))
        return
    for line in format_results(results, show_all=show_all):
        click.echo(line)


async def _scan(timeout_s: float, virtual: Path | None) -> list[ScanResult]:
    from sensors.sources.ble.scan import scan as ble_scan

    if virtual is None:
        return await ble_scan(timeout_s)
    from sensors.errors import SensorUnavailableError

    try:
        from sensors.sources.virtual.clock import ScaledClock
        from sensors.sources.virtual.script import StrapScript
        from sensors.sources.virtual.source import VirtualRig
    except ImportError as exc:
        raise SensorUnavailableError(
            f"the virtual strap needs bumble ({exc.name or exc})", "pip install 'coach[virtual]'"
        ) from exc

    rig = await VirtualRig.create(StrapScript.from_capture(virtual), clock=ScaledClock(1.0))
    try:
        return await ble_scan(timeout_s, backends=rig.backends)
    finally:
        await rig.close()
