"""The session database: migrations, user-only files, sessions/intervals/cues, pain entries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coach.errors import StorageError
from coach.store.database import DB_NAME, MIGRATIONS, Database


def _session(i: int, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"2026-11-0{i}T08-00-00",
        "started_at": f"2026-11-0{i}T08:00:00+00:00",
        "programme": "back-pain",
        "stage": 1,
        "completed": True,
        "adherence": 0.9,
        "summary_json": {"k": i},
    }
    base.update(kw)
    return base


def test_new_database_is_migrated_and_user_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Database.in_dir(data) as db:
        assert db.schema_version == len(MIGRATIONS)
    assert (data / DB_NAME).stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700


def test_sessions_round_trip_with_intervals_and_cues(tmp_path: Path) -> None:
    with Database.in_dir(tmp_path) as db:
        db.upsert_session(
            _session(1),
            intervals=[{"idx": 0, "activity": "walk", "planned_s": 300, "compliant_share": 0.97}],
            cues=[{"t": 290.1, "planned_t": 290.0, "type": "heads_up", "text": "Run in 10 seconds"}],
        )
        db.upsert_session(_session(2, stage=2))
        # replacing a session replaces its intervals
        db.upsert_session(_session(1, adherence=0.5), intervals=[])
        rows = db.sessions()
        assert [r["id"] for r in rows] == ["2026-11-01T08-00-00", "2026-11-02T08-00-00"]
        assert rows[0]["adherence"] == 0.5
        assert db.intervals(rows[0]["id"]) == []
        assert db.session("latest")["stage"] == 2
        assert db.session("nope") is None


def test_cues_are_stored_in_order(tmp_path: Path) -> None:
    with Database.in_dir(tmp_path) as db:
        cues = [
            {"t": float(t), "planned_t": float(t), "type": "change", "text": f"cue {t}"} for t in range(5)
        ]
        db.upsert_session(_session(1), cues=cues)
        assert [c["text"] for c in db.cues(_session(1)["id"])] == [f"cue {t}" for t in range(5)]


def test_pain_entries_validate_and_keep_latest_per_kind(tmp_path: Path) -> None:
    with Database.in_dir(tmp_path) as db:
        sid = str(_session(1)["id"])
        db.upsert_session(_session(1))
        db.add_pain(2, "before", session_id=sid, now=datetime(2026, 11, 1, 7, tzinfo=UTC))
        db.add_pain(3, "after", session_id=sid, note="<b>stiff</b>", now=datetime(2026, 11, 1, 9, tzinfo=UTC))
        db.add_pain(1, "after", session_id=sid, now=datetime(2026, 11, 1, 10, tzinfo=UTC))
        assert db.pain_by_when(sid) == {"before": 2, "after": 1}
        with pytest.raises(ValueError, match="between 0 and 10"):
            db.add_pain(11, "after", session_id=sid)
        with pytest.raises(ValueError, match="--when"):
            db.add_pain(1, "tomorrow", session_id=sid)
        with pytest.raises(ValueError, match="no session"):
            db.add_pain(1, "after", session_id="missing")


def test_database_from_a_newer_coach_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer coach"):
        Database(path)


def test_garbage_file_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a usable coach database"):
        Database(path)


def test_unwritable_data_dir_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="not writable"):
        Database.in_dir(blocker / "sub")


def test_settings(tmp_path: Path) -> None:
    with Database.in_dir(tmp_path) as db:
        assert db.get_setting("injury") is None
        db.set_setting("injury", "disc-mild")
        db.set_setting("injury", "sprain-mild")
        assert db.get_setting("injury") == "sprain-mild"
