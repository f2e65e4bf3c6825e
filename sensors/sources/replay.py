"""Replay a capture file as if the strap were live: the recorded bytes go through :class:`SampleDecoder`.

A live strap's notifications and a replayed capture's records take the same path: ``SampleDecoder.feed(t, char,
data)`` for payloads and ``SampleDecoder.feed_event(t, name, fields)`` for events (docs/maintainers/architecture.md,
``sensors.sources.replay``). So whatever the session sees from a replay, it would have seen from the strap: the same
samples, the same ``decode_error`` events (a corrupt payload is logged, counted and skipped, as a live strap's
would be), the same accelerometer timestamps.

Pacing (``async for``): record ``i`` is delivered when ``(t_i - t_first) / speed`` seconds have passed on the
injected clock since iteration started; ``speed=1`` is real time, ``speed=N`` N times faster, ``speed=0`` as fast
as possible (still yielding to the event loop between records). A slow consumer is never "caught up" by skipping:
replay falls behind and :attr:`ReplaySource.max_lag_s_` says by how much. Sample times are the capture's ``t``
(recording seconds) whatever the speed. :meth:`ReplaySource.iter_samples` is the synchronous, unpaced form.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import AsyncIterator, Iterator

from sensors.capture import (
    Capture,
    CaptureHeader,
    CaptureSink,
    CaptureWarning,
    EventRecord,
    Record,
    read_capture,
)
from sensors.clock import Clock, MonotonicClock
from sensors.samples import Sample, SampleDecoder

logger = logging.getLogger(__name__)


class ReplaySource:
    """Samples from a capture file, paced by ``clock`` at ``speed`` (see the module docstring).

    The file is read and checked when the source is made, so a bad file fails before a session starts
    (:class:`~sensors.errors.CaptureError`). ``lenient=True`` skips bad lines with a warning instead (see
    :func:`sensors.capture.read_capture`); a torn last line is always just a warning (:attr:`warnings`).
    Each iteration starts from the beginning with a fresh :class:`SampleDecoder` (:attr:`decoder`).

    Results, updated while iterating: ``records_replayed_``, ``decode_errors_`` (payloads the decoder rejected),
    ``max_lag_s_`` (how far, in clock seconds, delivery fell behind the pace).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        speed: float = 1.0,
        clock: Clock | None = None,
        *,
        lenient: bool = False,
        capture_writer: CaptureSink | None = None,
    ) -> None:
        if (
            isinstance(speed, bool)
            or not isinstance(speed, int | float)
            or not math.isfinite(speed)
            or speed < 0
        ):
            raise ValueError(f"speed must be a finite number >= 0 (0 = as fast as possible), not {speed!r}")
        self.path = os.fspath(path)
        self.speed = float(speed)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.capture: Capture = read_capture(path, lenient=lenient)
        self.decoder = SampleDecoder()
        #: Where each replayed record is copied as it is reached (the session's own capture), like a live source's.
        self.capture_writer = capture_writer
        self.records_replayed_ = 0
        self.max_lag_s_ = 0.0

    @property
    def header(self) -> CaptureHeader:
        return self.capture.header

    @property
    def warnings(self) -> list[CaptureWarning]:
        return self.capture.warnings

    @property
    def duration_s(self) -> float:
        """Recording seconds from the first record to the last (replay takes ``duration_s / speed``)."""
        return self.capture.duration_s

    @property
    def decode_errors_(self) -> int:
        return self.decoder.errors_

    def _start(self) -> SampleDecoder:
        self.decoder = SampleDecoder()
        self.records_replayed_ = 0
        self.max_lag_s_ = 0.0
        return self.decoder

    def iter_samples(self) -> Iterator[Sample]:
        """Every sample of the capture, in order, without pacing."""
        decoder = self._start()
        for record in self.capture.records:
            yield from self._feed(decoder, record)
        self._log_summary()

    def __aiter__(self) -> AsyncIterator[Sample]:
        return self._paced()

    async def _paced(self) -> AsyncIterator[Sample]:
        decoder = self._start()
        records = self.capture.records
        if not records:
            return
        t_first = records[0].t
        start = self.clock.now()
        for record in records:
            if self.speed > 0:
                due = start + (record.t - t_first) / self.speed
                wait = due - self.clock.now()
                if wait > 0:
                    await self.clock.sleep(wait)
                else:
                    self.max_lag_s_ = max(self.max_lag_s_, -wait)
                    await asyncio.sleep(0)
            else:
                await asyncio.sleep(0)  # as fast as possible, but let the rest of the session run
            samples = self._feed(decoder, record)
            for sample in samples:
                yield sample
        self._log_summary()

    def _feed(self, decoder: SampleDecoder, record: Record) -> list[Sample]:
        """Decode one record (and copy it to :attr:`capture_writer`): the one path of paced and unpaced replay."""
        writer = self.capture_writer
        if isinstance(record, EventRecord):
            samples = decoder.feed_event(record.t, record.event, record.fields)
            if writer is not None:
                fields = {k: v for k, v in record.fields.items() if k not in ("t", "event", "char", "hex")}
                writer.event(record.t, record.event, **fields)
        else:
            samples = decoder.feed(record.t, record.char, record.data)
            if writer is not None:
                writer.payload(record.t, record.char, record.data)
        self.records_replayed_ += 1
        return samples

    def _log_summary(self) -> None:
        if self.decoder.errors_:
            logger.warning(
                "%s: %d of %d records could not be decoded and were skipped",
                self.path,
                self.decoder.errors_,
                self.records_replayed_,
            )
