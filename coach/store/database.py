"""The session database: SQLite (standard library) in the user data directory. The only module that opens it.

Session folders (capture.jsonl, events.jsonl, summary.json) are the source of truth for raw data; the database
indexes them (sessions, intervals, cues) and holds what only the user can tell (pain scores, injury category,
programme progress). ``coach history --rebuild`` recreates the index from the folders.

The schema is versioned with ``PRAGMA user_version`` and upgraded by the ordered :data:`MIGRATIONS`. Files are
user-only (0600) in a user-only folder (0700).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coach.errors import StorageError

DB_NAME = "coach.sqlite3"
PAIN_WHEN = ("before", "during", "after", "next-morning")

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        programme TEXT,
        stage INTEGER,
        completed INTEGER NOT NULL DEFAULT 0,
        folder TEXT,
        source TEXT,
        duration_s REAL,
        adherence REAL,
        cadence_walk_spm REAL,
        cadence_run_spm REAL,
        hr_mean_bpm REAL,
        hr_max_bpm REAL,
        summary_json TEXT
    );
    CREATE TABLE intervals (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        activity TEXT NOT NULL,
        planned_s REAL NOT NULL,
        start_s REAL,
        end_s REAL,
        detected_mode TEXT,
        compliant_share REAL,
        time_to_comply_s REAL,
        cadence_mean_spm REAL,
        cadence_sd_spm REAL,
        hr_mean_bpm REAL,
        hr_max_bpm REAL,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TABLE cues (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t REAL,
        planned_t REAL,
        kind TEXT,
        text TEXT,
        PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE pain (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
        when_kind TEXT NOT NULL CHECK (when_kind IN ('before', 'during', 'after', 'next-morning')),
        score REAL NOT NULL CHECK (score >= 0 AND score <= 10),
        note TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE INDEX sessions_started ON sessions(started_at);
    CREATE INDEX pain_session ON pain(session_id);
    """,
)

SESSION_COLUMNS = (
    "id",
    "started_at",
    "ended_at",
    "programme",
    "stage",
    "completed",
    "folder",
    "source",
    "duration_s",
    "adherence",
    "cadence_walk_spm",
    "cadence_run_spm",
    "hr_mean_bpm",
    "hr_max_bpm",
    "summary_json",
)
INTERVAL_COLUMNS = (
    "idx",
    "activity",
    "planned_s",
    "start_s",
    "end_s",
    "detected_mode",
    "compliant_share",
    "time_to_comply_s",
    "cadence_mean_spm",
    "cadence_sd_spm",
    "hr_mean_bpm",
    "hr_max_bpm",
)


@dataclass(frozen=True)
class PainEntry:
    id: int
    session_id: str | None
    when: str
    score: float
    note: str | None
    recorded_at: str


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) user-only; tighten it if it exists. Raise StorageError if not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StorageError(
            f"data directory {path} is not writable ({exc.strerror}); choose another with --data-dir or COACH_DATA_DIR"
        ) from exc
    if not os.access(path, os.W_OK):
        raise StorageError(
            f"data directory {path} is not writable; choose another with --data-dir or COACH_DATA_DIR"
        )
    return path


class Database:
    """A connection to the session database, migrated to the newest schema on open."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        make_private_dir(self.path.parent)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
            self._conn = sqlite3.connect(self.path, timeout=5.0)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(
                f"{self.path}: not a usable coach database ({exc}); move it aside and rebuild with `coach history --rebuild`"
            ) from exc
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot open the database ({exc.strerror})") from exc

    @classmethod
    def in_dir(cls, data_dir: Path) -> Database:
        return cls(Path(data_dir) / DB_NAME)

    # -- schema -----------------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StorageError(
                f"{self.path}: made by a newer coach (schema {current}, this one knows {len(MIGRATIONS)}); upgrade coach"
            )
        for version in range(current, len(MIGRATIONS)):
            with self._conn:
                self._conn.executescript(MIGRATIONS[version])
                self._conn.execute(f"PRAGMA user_version = {version + 1}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._conn:
                yield self._conn
        except sqlite3.OperationalError as exc:
            raise StorageError(f"{self.path}: {exc} (is the disk full or the file locked?)") from exc

    # -- sessions ---------------------------------------------------------------------------------------------
    def upsert_session(
        self,
        session: Mapping[str, Any],
        intervals: Sequence[Mapping[str, Any]] = (),
        cues: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Insert or replace a session with its intervals and cues (keys as in SESSION/INTERVAL_COLUMNS)."""
        row = {c: session.get(c) for c in SESSION_COLUMNS}
        if not row["id"] or not row["started_at"]:
            raise ValueError("a session needs an id and started_at")
        if isinstance(row["summary_json"], dict):
            row["summary_json"] = json.dumps(row["summary_json"], sort_keys=True)
        row["completed"] = int(bool(row["completed"]))
        with self.transaction() as c:
            c.execute("DELETE FROM intervals WHERE session_id = ?", (row["id"],))
            c.execute("DELETE FROM cues WHERE session_id = ?", (row["id"],))
            cols = ", ".join(SESSION_COLUMNS)
            marks = ", ".join("?" for _ in SESSION_COLUMNS)
            updates = ", ".join(f"{k} = excluded.{k}" for k in SESSION_COLUMNS[1:])
            c.execute(
                f"INSERT INTO sessions ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}",
                [row[k] for k in SESSION_COLUMNS],
            )
            for iv in intervals:
                c.execute(
                    f"INSERT INTO intervals (session_id, {', '.join(INTERVAL_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' for _ in INTERVAL_COLUMNS)})",
                    [row["id"], *(iv.get(k) for k in INTERVAL_COLUMNS)],
                )
            for seq, cue in enumerate(cues):
                c.execute(
                    "INSERT INTO cues (session_id, seq, t, planned_t, kind, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        row["id"],
                        seq,
                        cue.get("t"),
                        cue.get("planned_t"),
                        cue.get("type", cue.get("kind")),
                        cue.get("text"),
                    ),
                )

    def sessions(self, programme: str | None = None) -> list[dict[str, Any]]:
        """All sessions, oldest first."""
        sql = "SELECT * FROM sessions"
        args: tuple[Any, ...] = ()
        if programme is not None:
            sql += " WHERE programme = ?"
            args = (programme,)
        return [dict(r) for r in self._conn.execute(sql + " ORDER BY started_at, id", args)]

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A session by id, or ``latest``."""
        if session_id == "latest":
            row = self._conn.execute(
                "SELECT * FROM sessions ORDER BY started_at DESC, id DESC LIMIT 1"
            ).fetchone()
        else:
            row = self._conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return dict(row) if row else None

    def intervals(self, session_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._conn.execute(
                "SELECT * FROM intervals WHERE session_id = ? ORDER BY idx", (session_id,)
            )
        ]

    def cues(self, session_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._conn.execute("SELECT * FROM cues WHERE session_id = ? ORDER BY seq", (session_id,))
        ]

    # -- pain -------------------------------------------------------------------------------------------------
    def add_pain(
        self,
        score: float,
        when: str,
        *,
        session_id: str | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> int:
        if when not in PAIN_WHEN:
            raise ValueError(f"pain --when must be one of {', '.join(PAIN_WHEN)}, not {when!r}")
        if not 0 <= score <= 10:
            raise ValueError(f"pain score must be between 0 and 10, not {score:g}")
        if session_id is not None and self.session(session_id) is None:
            raise ValueError(f"no session {session_id!r}")
        recorded = (now or datetime.now(UTC)).isoformat()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO pain (session_id, when_kind, score, note, recorded_at) VALUES (?, ?, ?, ?, ?)",
                (session_id, when, float(score), note, recorded),
            )
            return int(cur.lastrowid or 0)

    def pain(self, session_id: str | None = None) -> list[PainEntry]:
        sql = "SELECT * FROM pain"
        args: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            args = (session_id,)
        return [
            PainEntry(r["id"], r["session_id"], r["when_kind"], r["score"], r["note"], r["recorded_at"])
            for r in self._conn.execute(sql + " ORDER BY recorded_at, id", args)
        ]

    def pain_by_when(self, session_id: str) -> dict[str, float]:
        """The latest score of each kind (before/during/after/next-morning) for a session."""
        out: dict[str, float] = {}
        for entry in self.pain(session_id):
            out[entry.when] = entry.score
        return out

    # -- settings ---------------------------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
