"""``open_source(moniker)``: the right sample source for ``ble:``, ``virtual:`` or ``replay:``.

All three are consumed the same way, ``async for sample in source``; the two radio sources
(:class:`~sensors.sources.ble.client.BleSource`, :class:`~sensors.sources.virtual.source.VirtualSource`) also have
``await source.start()`` (connect now, raising :class:`~sensors.errors.SensorUnavailableError` with advice) and
``await source.aclose()``. Heavy modules (bleak, bumble) are imported only for the moniker that needs them.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from sensors.capture import CaptureSink
from sensors.clock import Clock
from sensors.errors import MonikerError, SensorUnavailableError
from sensors.sources.moniker import SensorMoniker, parse_sensor_moniker

if TYPE_CHECKING:
    from sensors.samples import Sample
    from sensors.sources.ble.client import ClientConfig


class SampleSource(Protocol):
    def __aiter__(self) -> AsyncIterator[Sample]: ...


def open_source(
    moniker: str | SensorMoniker,
    *,
    capture_writer: CaptureSink | None = None,
    clock: Clock | None = None,
    speed: float = 1.0,
    config: ClientConfig | None = None,
    loop: bool = False,
) -> SampleSource:
    """The source ``moniker`` names. ``speed`` paces ``replay:`` and ``virtual:`` (a live strap runs at 1);
    ``clock`` gives session time (a virtual strap runs on it too, so a given clock sets its pace, not ``speed``).

    ``capture_writer`` records the raw traffic of every source, a replay's records included (a capture tee). Raises :class:`~sensors.errors.MonikerError` for a bad moniker,
    :class:`~sensors.errors.CaptureError` for a capture file that cannot be read, and
    :class:`~sensors.errors.SensorUnavailableError` when ``virtual:`` is asked for without bumble installed.
    ``loop`` (``virtual:`` only): the strap streams its recording again and again on the same connection (a replay
    is looped by whoever iterates it, e.g. :func:`coach.session.sources.source_samples`).
    """
    parsed = parse_sensor_moniker(moniker) if isinstance(moniker, str) else moniker
    if loop and parsed.kind != "virtual":
        raise MonikerError(f"only a virtual: strap loops its recording itself, not {parsed}")
    if not (speed >= 0 and math.isfinite(speed)):
        raise MonikerError(f"speed must be a number >= 0, not {speed!r}")
    if parsed.kind == "replay":
        from sensors.sources.replay import ReplaySource

        assert parsed.path is not None
        return ReplaySource(parsed.path, speed=speed, clock=clock, capture_writer=capture_writer)
    if parsed.kind == "virtual":
        if speed == 0:
            raise MonikerError("a virtual strap runs over a radio link: give a speed > 0 (e.g. --speed 20)")
        try:
            from sensors.sources.virtual.source import VirtualSource
        except ImportError as exc:
            raise SensorUnavailableError(
                f"the virtual strap needs bumble ({exc.name or exc})", "pip install 'coach[virtual]'"
            ) from exc
        assert parsed.path is not None
        return VirtualSource(
            parsed.path,
            drop_every_s=parsed.drop_every_s,
            hr_only=parsed.hr_only,
            speed=speed,
            capture=capture_writer,
            clock=clock,
            config=config,
            label=parsed.text,
            loop=loop,
        )
    if speed != 1.0:
        raise MonikerError(f"--speed applies to replay: and virtual: sensors, not to a live strap ({parsed})")
    from sensors.sources.ble.client import BleSource

    return BleSource(
        address=parsed.address,
        name=parsed.name,
        capture=capture_writer,
        clock=clock,
        config=config,
        label=parsed.text,
    )
