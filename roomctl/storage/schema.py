"""The database schema, versioned: each migration moves it one version forward, inside one transaction.

``schema_version`` holds one row per applied version. A database made by an older roomctl is migrated on open;
one made by a newer roomctl is refused (it might hold data this version does not understand).
Timestamps are stored as REAL Unix seconds (UTC); exports turn them back into ISO-8601.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from roomctl.errors import StorageError

V1 = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    state TEXT NOT NULL
);
CREATE TABLE readings (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    device TEXT NOT NULL,
    quantity TEXT NOT NULL,
    value REAL,
    unit TEXT NOT NULL,
    quality TEXT NOT NULL
);
CREATE INDEX readings_session_ts ON readings(session, ts);
CREATE TABLE rr_intervals (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    device TEXT NOT NULL,
    intervals TEXT NOT NULL
);
CREATE INDEX rr_session_ts ON rr_intervals(session, ts);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    ts REAL NOT NULL,
    session TEXT NOT NULL,
    event TEXT NOT NULL,
    text TEXT,
    data TEXT NOT NULL
);
CREATE INDEX events_session_ts ON events(session, ts);
CREATE TABLE alarms (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    action TEXT NOT NULL,
    alarm_id TEXT NOT NULL,
    condition TEXT NOT NULL,
    alarm_kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX alarms_session_ts ON alarms(session, ts);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    session TEXT,
    payload TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
"""

V2 = """
ALTER TABLE sessions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
CREATE TABLE device_states (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    device TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX device_states_session_ts ON device_states(session, ts);
CREATE TABLE lighting (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    scene TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX lighting_session_ts ON lighting(session, ts);
ALTER TABLE outbox ADD COLUMN created_at REAL NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sent_at REAL;
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent = 0;
"""

V3 = """
CREATE TABLE music (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    session TEXT,
    state TEXT NOT NULL,
    phase TEXT,
    playlist TEXT,
    title TEXT,
    artist TEXT,
    file TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX music_session_ts ON music(session, ts);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3)
"""MIGRATIONS[n - 1] takes the schema from version n - 1 to n. Append; never edit a released one."""

SCHEMA_VERSION = len(MIGRATIONS)


class NewerDatabase(StorageError):
    """The database was written by a newer roomctl: no retry can fix it (update roomctl, or give another file)."""


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to ``target`` (default: the newest); returns the version found before."""
    found = current_version(conn)
    if found > SCHEMA_VERSION:
        raise NewerDatabase(
            f"the database was written by a newer roomctl (schema version {found}, this one knows up to "
            f"{SCHEMA_VERSION}); update roomctl or use another database file"
        )
    for version in range(found + 1, target + 1):
        _apply(conn, version)
    return found


def _apply(conn: sqlite3.Connection, version: int) -> None:
    statements = [s.strip() for s in MIGRATIONS[version - 1].split(";") if s.strip()]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        for statement in statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (version, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        conn.execute("ROLLBACK")
        raise StorageError(f"could not upgrade the database to schema version {version}: {e}") from e
