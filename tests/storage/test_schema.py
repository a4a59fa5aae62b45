"""Schema versioning: a database made by an older roomctl is migrated on open, keeping its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from roomctl.errors import StorageError
from roomctl.storage.database import Database
from roomctl.storage.schema import SCHEMA_VERSION, current_version, migrate


def test_fresh_database_has_newest_schema(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    assert current_version(db.conn) == SCHEMA_VERSION
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "readings", "rr_intervals", "events", "alarms", "device_states", "lighting", "outbox"} <= tables


def test_version_1_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    conn.execute("INSERT INTO sessions (id, kind, started_at, state) VALUES ('abc123', 'dosing', 1000.0, '{}')")
    conn.execute("INSERT INTO readings VALUES (7, 1001.0, 'abc123', 'strap', 'heart_rate', 72.0, 'bpm', 'ok')")
    conn.execute("INSERT INTO outbox (seq, kind, session, payload) VALUES (7, 'reading', 'abc123', '{}')")
    conn.close()

    db = Database(path)
    assert current_version(db.conn) == SCHEMA_VERSION
    versions = [r[0] for r in db.conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    session = db.session("abc123")
    assert session is not None
    assert session.meta == {}  # the column v2 added, with its default
    assert [r[4] for r in db.readings("abc123")] == [72.0]
    assert db.last_seq == 7  # seq carries on from the old outbox
    assert db.integrity_check() == "ok"


def test_database_from_newer_roomctl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer roomctl"):
        Database(path)


def test_missing_database_is_reported_clearly_when_reading(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no such database"):
        Database(tmp_path / "absent.db", readonly=True)
