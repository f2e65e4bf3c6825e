"""The session folder: capture.jsonl, events.jsonl and summary.json (docs/formats/events.md).

The folder is user-only (0700), every file 0600. events.jsonl is appended line by line, flushed to the OS at once
and fsynced at least once a second, so a killed session leaves every line written so far readable (at most the last
line torn). summary.json is replaced atomically (temp file + rename) every ``summary_interval_s`` and at the end,
with ``"complete": false`` until the session ends. At the end (:meth:`SessionRecord.close`) the capture is analysed
after the run into after-run.jsonl (:mod:`coach.store.afterrun`), and the final summary.json's figures use it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from coach.errors import CoachError, StorageError
from coach.session.adherence import after_run_intervals, hr_cleaning, weighted_adherence
from coach.store.afterrun import AFTER_RUN_FILE, AfterRun, write_after_run
from sensors.capture import make_private_dirs

logger = logging.getLogger(__name__)

EVENTS_FORMAT = "coach-events"
SUMMARY_FORMAT = "coach-summary"
FORMAT_VERSION = 1
DATA_DIR_ENV = "COACH_DATA_DIR"


def resolve_data_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` if given, else ``$COACH_DATA_DIR``, else the platform's user data directory."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("coach", appauthor=False))


def new_session_id(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(", ", ": "), default=_default)


def _default(value: Any) -> Any:
    try:  # numpy scalars
        return value.item()
    except AttributeError:
        raise TypeError(f"not JSON-serialisable: {type(value).__name__}") from None


class SessionRecord:
    """Creates ``<data_dir>/sessions/<id>/`` and writes events.jsonl and summary.json into it.

    The capture file is written by :class:`sensors.capture.CaptureWriter` at :attr:`capture_path`.
    ``wall_clock`` (seconds, monotonic) decides when to fsync and when to rewrite the summary.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        started_at: datetime | None = None,
        sync_interval_s: float = 1.0,
        summary_interval_s: float = 30.0,
        wall_clock: Any = time.monotonic,
    ) -> None:
        self.started_at = started_at or datetime.now(UTC)
        self.sync_interval_s = sync_interval_s
        self.summary_interval_s = summary_interval_s
        self._wall = wall_clock
        sessions = Path(data_dir) / "sessions"
        try:
            make_private_dirs(sessions)
            base = new_session_id(self.started_at)
            session_id, n = base, 1
            while True:
                folder = sessions / session_id
                try:
                    folder.mkdir(mode=0o700)
                    break
                except FileExistsError:
                    n += 1
                    session_id = f"{base}-{n}"
            os.chmod(folder, 0o700)
            fd = os.open(folder / "events.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, 0o600)
        except OSError as exc:
            raise StorageError(
                f"cannot create a session folder under {sessions} ({exc.strerror or exc}); "
                f"choose another with --data-dir or {DATA_DIR_ENV}"
            ) from None
        self.session_id = session_id
        self.folder = folder
        self._events: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._last_sync = self._wall()
        self._last_summary = self._wall()
        self.records: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}
        self.completed = False
        #: The after-the-run analysis of the capture, made by :meth:`close` (None before, or without one).
        self.after_run: AfterRun | None = None

    @property
    def closed(self) -> bool:
        return self._events is None

    @property
    def capture_path(self) -> Path:
        return self.folder / "capture.jsonl"

    @property
    def events_path(self) -> Path:
        return self.folder / "events.jsonl"

    @property
    def summary_path(self) -> Path:
        return self.folder / "summary.json"

    def start(self, **fields: Any) -> None:
        """Write the ``session_start`` record (the first line): programme, stage, plan, source, ..."""
        self.meta = dict(fields)
        self.write(
            {
                "t": 0.0,
                "kind": "session_start",
                "format": EVENTS_FORMAT,
                "version": FORMAT_VERSION,
                "session_id": self.session_id,
                "started_at": self.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                **fields,
            }
        )

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (must have ``t`` and ``kind``)."""
        if self._events is None:
            raise StorageError(f"session record {self.folder} is closed")
        if "t" not in record or "kind" not in record:
            raise ValueError(f"an events record needs t and kind: {record!r}")
        line = _json_line(record)
        try:
            self._events.write(line + "\n")
            self._events.flush()
        except OSError as exc:
            raise StorageError(f"cannot write {self.events_path} ({exc.strerror or exc})") from None
        self.records.append(record)
        self.tick()

    def tick(self) -> None:
        """fsync when due (at least once a second while records come) and refresh the summary every 30 s."""
        now = self._wall()
        if self._events is not None and now - self._last_sync >= self.sync_interval_s:
            self._sync()
        if now - self._last_summary >= self.summary_interval_s:
            self._last_summary = now
            self.write_summary(complete=False)

    def _sync(self) -> None:
        assert self._events is not None
        try:
            self._events.flush()
            os.fsync(self._events.fileno())
        except OSError as exc:  # disk full: the caller's next write or the summary raises StorageError
            logger.info("flush/fsync %s: %s", self.events_path, exc)
        self._last_sync = self._wall()

    def summary(self, *, complete: bool) -> dict[str, Any]:
        """summary.json built from the records written so far (docs/formats/events.md)."""
        after = self.after_run.rows if self.after_run is not None else None
        intervals = after_run_intervals(self.records, after)
        cues = [r for r in self.records if r["kind"] == "cue"]
        spoken = [c for c in cues if not c.get("dropped")]
        end = next((r for r in reversed(self.records) if r["kind"] == "session_end"), None)
        baseline = next(
            (r["cadence_baseline_spm"] for r in reversed(self.records) if r["kind"] == "baseline"),
            self.meta.get("targets", {}).get("cadence_baseline_spm"),
        )
        adherence = weighted_adherence((i.get("adherence"), i.get("actual_duration_s")) for i in intervals)
        comply = [i["time_to_comply_s"] for i in intervals if i.get("time_to_comply_s") is not None]
        last_t = self.records[-1]["t"] if self.records else 0.0
        hr_rejected, hr_seen = hr_cleaning(self.records)
        return {
            "format": SUMMARY_FORMAT,
            "version": FORMAT_VERSION,
            "complete": complete,
            "session_id": self.session_id,
            "started_at": self.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "ended_at": end.get("ended_at") if end else None,
            **{k: self.meta.get(k) for k in ("programme", "stage", "source", "speed", "demo", "note")},
            **({"programme_file": self.meta["programme_file"]} if self.meta.get("programme_file") else {}),
            **{k: self.meta[k] for k in ("activity", "routine") if self.meta.get(k)},  # an exercise session
            "end_reason": end.get("reason") if end else None,
            "duration_s": end.get("duration_s") if end else last_t,
            "planned_duration_s": self.meta.get("planned_duration_s"),
            "cadence_baseline_spm": baseline,
            "intervals": intervals,
            "cues": {
                "spoken": len(spoken),
                "dropped": len(cues) - len(spoken),
                "by_type": dict(Counter(c["type"] for c in spoken)),
            },
            "adherence": round(adherence, 3) if adherence is not None else None,
            "time_to_comply_median_s": round(statistics.median(comply), 2) if comply else None,
            "hr_samples": hr_seen,
            "hr_share_rejected": None if hr_rejected is None else round(hr_rejected, 3),
            # which estimator the intervals' mode and cadence figures come from (docs/signal.md, "Two estimators")
            "estimator": "after-run" if after else "live",
            "files": {
                "capture": "capture.jsonl",
                "events": "events.jsonl",
                **({"after_run": AFTER_RUN_FILE} if after else {}),
            },
        }

    def write_summary(self, *, complete: bool) -> dict[str, Any]:
        summary = self.summary(complete=complete)
        tmp = self.folder / ".summary.json.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(summary, fh, indent=2, ensure_ascii=False, default=_default)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.summary_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()  # a disk-full leftover; the previous summary.json (if any) stays
            raise StorageError(f"cannot write {self.summary_path} ({exc.strerror or exc})") from None
        return summary

    def discard(self) -> None:
        """Remove the folder of a session that never started (nothing written to events.jsonl)."""
        if self.records:
            raise StorageError(f"session {self.folder} has records; it is not discarded")
        if self._events is not None:
            self._events.close()
            self._events = None
        for child in self.folder.iterdir():
            child.unlink()
        self.folder.rmdir()

    def close(self, *, complete: bool = True) -> dict[str, Any]:
        """Sync events.jsonl and close it, write the final summary.json, analyse the capture after the run
        (after-run.jsonl, :meth:`analyse_after_run`) and, with that, write summary.json again with its figures."""
        if self._events is not None:
            self._sync()
            with contextlib.suppress(OSError):  # a disk-full buffer that cannot be flushed any more
                self._events.close()
            self._events = None
        self.completed = complete
        summary = self.write_summary(
            complete=complete
        )  # final at once: a second Ctrl-C in the analysis keeps it
        if self.analyse_after_run() is not None:
            summary = self.write_summary(complete=complete)
        return summary

    def analyse_after_run(self) -> AfterRun | None:
        """Write after-run.jsonl from capture.jsonl when it has an accelerometer (:func:`write_after_run`). The
        capture writer hands every record to the OS as it is written, so the file read here is whole. A failure
        is logged, never raised: the summary then keeps the live figures, and the first report tries again."""
        try:
            self.after_run = write_after_run(self.folder)
        except (CoachError, ValueError, OSError) as exc:
            logger.warning("after-run analysis of %s failed: %s", self.capture_path, exc)
            self.after_run = None
        return self.after_run
