"""after-run.jsonl: the after-the-run gait analysis of a session's own capture.jsonl (docs/formats/after-run.md).

A live session's events.jsonl keeps what the coach saw (the live, causal ``gait`` records, append-only). After the
run, the session's capture is analysed once more with :class:`coach.signal.GaitAnalysis` (the after-the-run
estimator, the same analysis ``coach analyze``, ``coach import`` and exports use) on the session's own time base:
a capture's ``t`` are the samples' times, which the live tracker used as session times, so each after-run second
has the time of the live ``gait`` record of the same second. The per-second result goes to ``after-run.jsonl``
(user-only, written atomically), which the report, summary.json and exports read for mode, cadence and steps
(:func:`coach.session.adherence.gait_rows` decides which rows the figures use).

- :meth:`coach.store.record.SessionRecord.close` writes the file at the end of a session (:func:`write_after_run`);
- a killed session has none: :func:`load_after_run` (called by :func:`coach.report.model.read_session`, so by
  ``coach report``, the index and ``coach export``) builds it when it is missing and the capture exists, and on a
  failure says so in one line and falls back to the live records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import CoachError

logger = logging.getLogger(__name__)

AFTER_RUN_FILE = "after-run.jsonl"
AFTER_RUN_FORMAT = "coach-after-run"
AFTER_RUN_VERSION = 1
CAPTURE_FILE = "capture.jsonl"
#: The fields of one second of the file (docs/formats/after-run.md), in file order.
ROW_KEYS = ("t", "mode", "cadence_spm", "steps", "confidence")


@dataclass(frozen=True)
class AfterRun:
    """The after-run analysis of one session: ``rows`` (one dict a second with :data:`ROW_KEYS`), the header of the
    file, and how long the analysis took when it was just made (``elapsed_s``; None when read from the file)."""

    rows: list[dict[str, Any]]
    header: dict[str, Any]
    elapsed_s: float | None = None


def capture_has_accelerometer(capture: Path) -> bool:
    """Does ``capture`` hold accelerometer data (a payload of the PMD data characteristic)? Read up to the first
    one; a heart-rate-only capture (``coach exercise`` with a strap, an H9) is read to its end and has none. A
    damaged line is skipped here: the analysis reads the file strictly and says what is wrong."""
    from sensors.capture import PayloadRecord, iter_capture
    from sensors.errors import CaptureError
    from sensors.uuids import PMD_DATA

    try:
        return any(
            isinstance(r, PayloadRecord) and r.char == PMD_DATA for r in iter_capture(capture, lenient=True)
        )
    except (CaptureError, OSError):
        return True  # not even a readable header: let the analysis say why


def analyse_capture(capture: Path) -> AfterRun | None:
    """The after-run analysis of ``capture`` (None when it holds no accelerometer). Raises
    :class:`~coach.errors.CoachError` (an unreadable capture) or ``ValueError`` (nothing to analyse)."""
    from coach.signal import GaitAnalysis
    from coach.signal.io import load_recording

    started = time.perf_counter()
    size = capture.stat().st_size
    if not capture_has_accelerometer(capture):
        return None
    rec = load_recording(capture, format="capture")
    if rec.t_s is None or rec.xyz_g is None:
        return None
    analysis = GaitAnalysis().analyze(rec.t_s, rec.xyz_g, foot_pod=rec.foot_pod, heart_rate=rec.heart_rate)
    # GaitSecond.t is on the capture's own time base (the session's): the live gait records' times
    rows = [
        {
            "t": round(s.t, 3),
            "mode": s.mode,
            "cadence_spm": None if s.cadence_spm is None else round(s.cadence_spm, 1),
            "steps": len(s.steps),
            "confidence": round(s.confidence, 3),
        }
        for s in analysis.seconds_
    ]
    header = {
        "format": AFTER_RUN_FORMAT,
        "version": AFTER_RUN_VERSION,
        "estimator": analysis.estimator,
        "capture": CAPTURE_FILE,
        "capture_bytes": size,
        "sampling_rate_hz": round(analysis.sampling_rate_hz_, 3)
        if math.isfinite(analysis.sampling_rate_hz_)
        else None,
        "seconds": len(rows),
    }
    return AfterRun(rows, header, time.perf_counter() - started)


def write_after_run(folder: Path) -> AfterRun | None:
    """Analyse ``folder``'s capture.jsonl and write after-run.jsonl (:func:`save_after_run`); None (nothing
    written) without a capture or without an accelerometer in it. Errors as :func:`analyse_capture`, and
    ``OSError`` when the file cannot be written."""
    capture = Path(folder) / CAPTURE_FILE
    if not capture.is_file():
        return None
    result = analyse_capture(capture)
    if result is not None:
        save_after_run(folder, result)
    return result


def save_after_run(folder: Path, result: AfterRun) -> None:
    """Write ``result`` as ``folder``/after-run.jsonl: user-only (0600), through a temp file renamed over it."""
    path = Path(folder) / AFTER_RUN_FILE
    tmp = path.with_name(f".{AFTER_RUN_FILE}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for line in (result.header, *result.rows):
                fh.write(json.dumps(line, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    logger.info("%s: %d after-run seconds in %.2f s", path, len(result.rows), result.elapsed_s or 0.0)


def read_after_run(folder: Path) -> AfterRun | None:
    """after-run.jsonl of ``folder`` (None when there is none). Raises ``ValueError`` on a file that is not one,
    or that was made from another state of the capture (its size differs: a report made while the session ran)."""
    path = Path(folder) / AFTER_RUN_FILE
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"{AFTER_RUN_FILE} is empty")
    header = json.loads(lines[0])
    if not isinstance(header, dict) or header.get("format") != AFTER_RUN_FORMAT:
        raise ValueError(f"{AFTER_RUN_FILE}: not a {AFTER_RUN_FORMAT} file")
    if header.get("version") != AFTER_RUN_VERSION:
        raise ValueError(f"{AFTER_RUN_FILE}: version {header.get('version')!r} is not {AFTER_RUN_VERSION}")
    capture = Path(folder) / CAPTURE_FILE
    if capture.is_file() and capture.stat().st_size != header.get("capture_bytes"):
        raise ValueError(f"{AFTER_RUN_FILE} was made from an earlier state of {CAPTURE_FILE}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        row = json.loads(line)
        if not isinstance(row, dict) or not all(k in row for k in ROW_KEYS):
            raise ValueError(f"{AFTER_RUN_FILE}:{n}: a second needs {', '.join(ROW_KEYS)}")
        rows.append(row)
    if len(rows) != header.get("seconds"):
        raise ValueError(f"{AFTER_RUN_FILE}: {len(rows)} seconds, the header says {header.get('seconds')}")
    return AfterRun(rows, header)


def load_after_run(folder: Path) -> tuple[AfterRun | None, str | None]:
    """The after-run analysis of a session folder and a one-line note when it could not be had.

    The file when it is there and sound; else, when the folder has a capture, the analysis made now and written
    (a killed session's first report); else ``(None, None)`` (an old session, an import, a capture without an
    accelerometer: the live records are the figures). A failure gives ``(None, note)``: the note says why and that
    the figures are the live ones; a file that cannot be written still gives the analysis, with a note."""
    folder = Path(folder)
    try:
        found = read_after_run(folder)
        if found is not None:
            return found, None
    except (ValueError, OSError) as exc:
        logger.info("%s: %s; analysing the capture again", folder / AFTER_RUN_FILE, exc)
    if not (folder / CAPTURE_FILE).is_file():
        return None, None
    try:
        made = analyse_capture(folder / CAPTURE_FILE)
    except (CoachError, ValueError, OSError) as exc:
        return None, _fallback(exc)
    if made is None:
        return None, None
    try:
        save_after_run(folder, made)
    except OSError as exc:
        return (
            made,
            f"cannot write {AFTER_RUN_FILE} ({exc.strerror or exc}): the after-run figures are this report's only",
        )
    return made, None


def _fallback(exc: BaseException) -> str:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"after-run analysis of {CAPTURE_FILE} failed ({reason}): cadence and walk/run are the live ones"
