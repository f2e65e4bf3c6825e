"""The session's samples: any source, named by its ``--sensor`` moniker, on the session timeline.

:func:`open_samples` checks the moniker, opens the source through the one opener
(:func:`sensors.sources.opener.open_source`) with the session's capture as its tee, and for a radio source waits for
the first sample, so a missing strap fails before the session starts. :func:`source_samples` loops a recording
(``--loop``) with its times continuing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from collections.abc import AsyncIterator
from typing import Any

from coach.session.clock import SessionClock
from sensors.capture import CaptureSink, ShiftedCapture
from sensors.samples import AccBlock, Sample
from sensors.sources.moniker import SensorMoniker


def shift_sample(sample: Sample, offset_s: float) -> Sample:
    """A copy of ``sample`` with its time(s) moved by ``offset_s`` (for looping a recording)."""
    if offset_s == 0:
        return sample
    if isinstance(sample, AccBlock):
        return dataclasses.replace(sample, t_s=sample.t_s + offset_s)
    return dataclasses.replace(sample, t=sample.t + offset_s)


async def source_samples(
    moniker: SensorMoniker,
    *,
    capture: CaptureSink,
    clock: SessionClock,
    loop: bool = False,
    gap_s: float = 1.0,
    opened: Any = None,
    pair: bool = True,
) -> AsyncIterator[Sample]:
    """Samples of any source (:func:`sensors.sources.opener.open_source`: ``replay:``, ``virtual:`` or ``ble:``) in
    session seconds, each record of its raw traffic copied to ``capture`` as it happens (a replay's too). With
    ``loop`` (replay and virtual only), the recording starts again ``gap_s`` after it ends, times continuing.
    ``opened``: the source already opened by :func:`open_source` (a replay read and checked before the session);
    a replay is read once and iterated again for each loop; a virtual strap loops its recording itself, on the
    same connection (:meth:`sensors.sources.virtual.script.StrapScript.looped_stream`: no "sensor lost" at each
    pass). A radio source that ends all the same is opened again."""
    offset = 0.0
    replay = moniker.kind == "replay"
    strap_loops = loop and moniker.kind == "virtual"
    source: Any = (
        opened if opened is not None else _open(moniker, capture, clock, pair=pair, loop=strap_loops)
    )
    while True:
        last_t = offset
        try:
            if hasattr(source, "start"):
                await source.start()
            async for sample in source:
                sample = shift_sample(sample, offset)
                if math.isfinite(sample.t):
                    last_t = max(last_t, sample.t)
                yield sample
        finally:
            if hasattr(source, "aclose"):
                await source.aclose()
        if not loop:
            return
        # a replay restarts on its recording's seconds: move on past what was played; a radio source's times are
        # the session clock's since it started
        offset = last_t + gap_s if replay else clock.now()
        if replay:
            await clock.sleep(gap_s)
            source.capture_writer = ShiftedCapture(capture, offset)
        else:
            source = _open(moniker, ShiftedCapture(capture, offset), clock, pair=pair, loop=strap_loops)


def _open(
    moniker: SensorMoniker,
    capture: CaptureSink,
    clock: SessionClock,
    *,
    pair: bool = True,
    loop: bool = False,
) -> Any:
    """The source; ``pair=False`` (``--no-pair``) forbids a live strap's client to pair; ``loop``: a virtual strap
    that streams its recording endlessly."""
    from sensors.sources.opener import open_source

    config = None
    if moniker.kind == "ble" and not pair:
        from sensors.sources.ble.client import ClientConfig

        config = ClientConfig(pair=False)

    return open_source(
        moniker,
        capture_writer=capture,
        # a replay is paced by the wall clock at the session speed, its times are the recording's; a radio source
        # runs on the session clock itself
        clock=clock.wall if moniker.kind == "replay" else clock,
        speed=clock.speed,
        config=config,
        loop=loop,
    )


@contextlib.asynccontextmanager
async def open_samples(
    moniker: SensorMoniker,
    *,
    capture: CaptureSink,
    clock: SessionClock,
    loop: bool = False,
    first_sample_timeout_s: float = 60.0,
    pair: bool = True,
) -> AsyncIterator[tuple[AsyncIterator[Sample], dict[str, Any]]]:
    """The sample stream for ``moniker`` (checked: :func:`sensors.sources.moniker.check_sensor`) and a description
    for the session record.

    A replay is read and checked now, a radio source (``ble:``, ``virtual:``) connects now, so a bad file or a
    missing strap fails before the session starts.
    """
    from coach.errors import InputError

    if moniker.kind == "ble" and clock.speed != 1.0:
        raise InputError(
            f"--speed works with replay: and virtual: sensors only ({moniker.text} runs in real time)"
        )
    if moniker.kind == "ble" and loop:
        raise InputError("--loop works with replay: and virtual: sensors only")
    described: dict[str, Any] = {"source": moniker.text}
    if moniker.kind == "replay":
        replay = _open(moniker, ShiftedCapture(capture, 0.0), clock)  # reads and checks the file, once
        described["recording_s"] = round(replay.duration_s, 1)
        stream = source_samples(moniker, capture=capture, clock=clock, loop=loop, opened=replay)
        try:
            yield stream, described
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return
    stream = source_samples(moniker, capture=capture, clock=clock, loop=loop, pair=pair)
    # Connect now (a missing strap fails before the session starts): take the first sample.
    try:
        first = await asyncio.wait_for(anext(stream), first_sample_timeout_s)
    except (TimeoutError, StopAsyncIteration):
        from coach.errors import SensorUnavailable

        await stream.aclose()  # type: ignore[attr-defined]
        raise SensorUnavailable(
            f"{moniker.text} sent no data within {first_sample_timeout_s:g} s; is the strap worn (wet the "
            "electrodes) and switched on?"
        ) from None

    async def chained() -> AsyncIterator[Sample]:
        yield first
        async for sample in stream:
            yield sample

    chain = chained()
    try:
        yield chain, described
    finally:
        await chain.aclose()  # type: ignore[attr-defined]
        await stream.aclose()  # type: ignore[attr-defined]
