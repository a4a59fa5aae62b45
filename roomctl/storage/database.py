"""Synchronous SQLite access. Used from the store's one writer thread, and directly by the CLI (export, report).

Every write is one transaction. ``synchronous=FULL`` with WAL: a committed batch is on disk (fsync'd) when
:meth:`Database.write_batch` returns; batching keeps that to a few fsyncs a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from roomctl.errors import StorageError
from roomctl.storage.faults import DamagedDatabase
from roomctl.storage.kinds import EVENT_TABLES, STORED
from roomctl.storage.outbox import OutboxRecord
from roomctl.storage.schema import migrate


class Row(NamedTuple):
    """One event ready for the database: its outbox record (without seq) and its table row (without seq)."""

    kind: str
    session: str | None
    payload: str
    columns: tuple[Any, ...] | None  # None: outbox only (session state)


PAGE_CACHE_KIB = 256
"""SQLite's page cache of the writing connection (the daemon's; SQLite's default is 2 MiB). The daemon appends rows and
reads back recent ones, so a small cache serves it and the operating system's file cache holds the rest."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    session_kind: str  # the ``sessions`` table's ``kind`` column
    started_at: float
    ended_at: float | None
    state: str  # SessionState JSON
    meta: dict[str, Any]


class Staged(NamedTuple):
    """A row with the seq it was given when it was accepted (the outbox serves it from memory before it is on disk)."""

    seq: int
    row: Row
    created_at: float


Identity = tuple[int, int]
"""A file's (device, inode): the same path holding another file is another identity."""


class Database:
    def __init__(self, path: Path | str, *, readonly: bool = False, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.wal_path = self.path.with_name(self.path.name + "-wal")
        self.identity: tuple[Identity | None, Identity | None] = (None, None)
        try:
            if readonly:
                if not self.path.is_file():
                    raise StorageError(f"{self.path}: no such database (is the path right? see storage.path)")
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                self._configure(readonly, busy_timeout_s)
            except BaseException:
                self.conn.close()
                raise
        except sqlite3.Error as e:
            raise StorageError(f"{self.path}: cannot open the database: {e}") from e
        except OSError as e:
            raise StorageError(f"{self.path}: cannot create the database folder: {e}") from e

    def _configure(self, readonly: bool, busy_timeout_s: float) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if not readonly:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            check = str(self.conn.execute("PRAGMA quick_check(1)").fetchone()[0])
            if check != "ok":
                raise DamagedDatabase(f"quick_check: {check}")
            migrate(self.conn)
        self.last_seq = self._max_seq()
        if not readonly:
            self.identity = (_identity(self.path), _identity(self.wal_path))

    def close(self) -> None:
        self.conn.close()

    def _max_seq(self) -> int:
        """The highest seq ever handed out: AUTOINCREMENT keeps it even after the rows are deleted."""
        found = 0
        for sql in ("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'", "SELECT MAX(seq) FROM outbox"):
            try:
                row = self.conn.execute(sql).fetchone()
            except sqlite3.OperationalError:
                continue  # no sqlite_sequence yet: nothing was ever written
            if row and row[0] is not None:
                found = max(found, int(row[0]))
        return found

    # ---------------------------------------------------------------- the files under it

    def replaced(self) -> str | None:
        """What happened to the files this connection opened, when the database or its -wal at the path is gone or
        another file (checked before each batch: two ``stat`` calls); None while both are the ones opened."""
        db, wal = self.identity
        if db is None:
            return None
        now_db = _identity(self.path)
        if now_db != db:
            return "the database file was " + ("deleted" if now_db is None else "replaced") + " while roomctl ran"
        now_wal = _identity(self.wal_path)
        if wal is not None and now_wal != wal:
            return (
                "the database's -wal file was " + ("deleted" if now_wal is None else "replaced") + " while roomctl ran"
            )
        return None

    def rescue(self, stamp: str) -> str:
        """After :meth:`replaced`: put everything this connection committed back at the path, then close it.

        The connection still reads its files through the descriptors it holds, unlinked or not. A deleted or replaced
        -wal: its content is checkpointed into the database file (still the one at the path). A deleted or replaced
        database file: a full copy is made next to it (``VACUUM INTO``) and renamed into place; a file that replaced
        it is moved aside (``<name>.replaced-<stamp>``), never deleted. Returns what was done, in words."""
        try:
            if _identity(self.path) == self.identity[0]:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.conn.close()
                return "its content was written back into the database file"
            copy = self.path.with_name(f"{self.path.name}.rescue-{stamp}")
            self.conn.execute("VACUUM INTO ?", (str(copy),))
            moved = ""
            if _identity(self.path) is not None:
                # alone: the -wal and -shm at the path are this connection's, and a -wal beside a file not its own
                # would be read into it
                aside = move_aside(self.path, f"replaced-{stamp}", journals=False)
                moved = f"; the file found there was moved to {aside.name}"
            self.conn.close()
            os.replace(copy, self.path)
            _fsync_folder(self.path.parent)
            return f"a copy of the record was put back at {self.path}{moved}"
        except (sqlite3.Error, OSError) as e:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            raise StorageError(f"could not put the record back at {self.path}: {e}") from e

    # ---------------------------------------------------------------- writing

    def write_batch(self, rows: Sequence[Row], now: float) -> list[OutboxRecord]:
        """Write rows and their outbox records in one transaction, numbered after the last; returns the records."""
        staged = [Staged(self.last_seq + i, row, now) for i, row in enumerate(rows, 1)]
        self.write_staged(staged, {})
        return [OutboxRecord(s.seq, s.row.kind, s.row.session, s.row.payload) for s in staged]

    def write_staged(
        self, staged: Sequence[Staged], sent_at: Mapping[int, float], sessions: Sequence[SessionRow] = ()
    ) -> None:
        """Write numbered rows (oldest first), their outbox records and session rows in one transaction; ``sent_at``:
        seqs already published (seq -> when), stored as sent."""
        outbox: list[tuple[int, str, str | None, str, float, bool, float | None]] = []
        per_table: dict[str, list[tuple[Any, ...]]] = {}
        for seq, row, created_at in staged:
            sent = sent_at.get(seq)
            outbox.append((seq, row.kind, row.session, row.payload, created_at, sent is not None, sent))
            if row.columns is not None:
                per_table.setdefault(row.kind, []).append((seq, *row.columns))
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT INTO outbox (seq, kind, session, payload, created_at, sent, sent_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    outbox,
                )
                for kind, table_rows in per_table.items():
                    self.conn.executemany(STORED[kind].insert_sql, table_rows)
                for session in sessions:
                    self._save_session(session)
                self.conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as e:
            raise StorageError(f"could not write {len(staged)} record(s) to {self.path}: {e}") from e
        if staged:
            self.last_seq = max(self.last_seq, staged[-1].seq)

    def _rollback(self) -> None:
        """Roll back what is open. A failed COMMIT (disk full, I/O error) may have rolled back already: then nothing
        is open, and the first error, not "cannot rollback - no transaction is active", is the one reported."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def save_session(self, row: SessionRow) -> None:
        try:
            self._save_session(row)
        except sqlite3.Error as e:
            raise StorageError(f"could not save session {row.id} to {self.path}: {e}") from e

    def _save_session(self, row: SessionRow) -> None:
        self.conn.execute(
            "INSERT INTO sessions (id, kind, started_at, ended_at, state, meta) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET ended_at = excluded.ended_at, state = excluded.state, meta = excluded.meta",
            (row.id, row.session_kind, row.started_at, row.ended_at, row.state, json.dumps(row.meta)),
        )

    def mark_sent(self, seqs: Sequence[int], now: float) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "UPDATE outbox SET sent = 1, sent_at = ? WHERE seq BETWEEN ? AND ?",
                [(now, first, last) for first, last in _runs(seqs)],
            )
            self.conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise StorageError(f"could not mark outbox records sent in {self.path}: {e}") from e

    def apply_retention(self, now: float, retention_days: float, sent_keep_s: float, unsent_max_age_s: float) -> int:
        """Delete what is past its keeping time, in small chunks; returns how many rows went."""
        cutoff = now - retention_days * 86400
        deleted = 0
        try:
            old_sessions = [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?", (cutoff,)
                )
            ]
            # a session that stayed open (an older roomctl left it so): by its last record, never by its start alone
            open_ids = [r[0] for r in self.conn.execute("SELECT id FROM sessions WHERE ended_at IS NULL")]
            old_sessions += [i for i in open_ids if self.last_activity(i) < cutoff]
            for table in EVENT_TABLES:
                for session in old_sessions:
                    deleted += self._delete_chunked(
                        f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM {table} WHERE session = ? LIMIT 5000)",
                        (session,),
                    )
                deleted += self._delete_chunked(
                    f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM {table} WHERE session IS NULL AND ts < ? LIMIT 5000)",
                    (cutoff,),
                )
            for session in old_sessions:
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (session,))
            deleted += len(old_sessions)
            deleted += self._delete_chunked(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent = 1 AND sent_at < ? LIMIT 5000)",
                (now - sent_keep_s,),
            )
            deleted += self._delete_chunked(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent = 0 AND created_at < ? LIMIT 5000)",
                (now - unsent_max_age_s,),
            )
        except sqlite3.Error as e:
            raise StorageError(f"could not delete old records from {self.path}: {e}") from e
        return deleted

    def _delete_chunked(self, sql: str, params: tuple[Any, ...]) -> int:
        total = 0
        while True:
            n = self.conn.execute(sql, params).rowcount
            total += n
            if n < 5000:
                return total

    # ---------------------------------------------------------------- reading

    def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        rows = self.conn.execute(
            "SELECT seq, kind, session, payload FROM outbox WHERE sent = 0 AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [OutboxRecord(seq=r[0], kind=r[1], session=r[2], payload=r[3]) for r in rows]

    def open_sessions(self) -> list[SessionRow]:
        """Every session not ended, newest first (more than one only if a run stopped without closing one)."""
        rows = self.conn.execute(
            "SELECT id, kind, started_at, ended_at, state, meta FROM sessions WHERE ended_at IS NULL "
            "ORDER BY started_at DESC"
        ).fetchall()
        return [_session_row(r) for r in rows]

    def last_activity(self, session_id: str) -> float:
        """Wall time of the session's newest record of any kind (its start when it has none)."""
        union = " UNION ALL ".join(f"SELECT MAX(ts) FROM {table} WHERE session = ?" for table in EVENT_TABLES)
        found = [
            r[0] for r in self.conn.execute(union, (session_id,) * len(EVENT_TABLES)).fetchall() if r[0] is not None
        ]
        row = self.conn.execute("SELECT started_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return float(max([row[0] if row else 0.0, *found]))

    def session(self, session_id: str) -> SessionRow | None:
        row = self.conn.execute(
            "SELECT id, kind, started_at, ended_at, state, meta FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return _session_row(row) if row else None

    def sessions(self) -> list[tuple[SessionRow, int, int]]:
        """Every session, newest first, with its number of readings and events."""
        rows = self.conn.execute(
            "SELECT id, kind, started_at, ended_at, state, meta, "
            "(SELECT COUNT(*) FROM readings r WHERE r.session = s.id), "
            "(SELECT COUNT(*) FROM events e WHERE e.session = s.id) "
            "FROM sessions s ORDER BY started_at DESC"
        ).fetchall()
        return [(_session_row(r[:6]), int(r[6]), int(r[7])) for r in rows]

    def readings(self, session_id: str) -> Iterator[tuple[int, float, str, str, float | None, str, str]]:
        """(seq, ts, device, quantity, value, unit, quality), oldest first."""
        yield from self.conn.execute(
            "SELECT seq, ts, device, quantity, value, unit, quality FROM readings WHERE session = ? ORDER BY ts, seq",
            (session_id,),
        )

    def rr_intervals(self, session_id: str) -> list[tuple[int, float, str, str]]:
        """(seq, ts, device, intervals JSON), oldest first."""
        return self.conn.execute(
            "SELECT seq, ts, device, intervals FROM rr_intervals WHERE session = ? ORDER BY ts, seq", (session_id,)
        ).fetchall()

    def events(self, session_id: str) -> list[tuple[int, str, float, str, str | None, str]]:
        """(seq, id, ts, event, text, data JSON), oldest first."""
        return self.conn.execute(
            "SELECT seq, id, ts, event, text, data FROM events WHERE session = ? ORDER BY ts, seq", (session_id,)
        ).fetchall()

    def music(
        self, session_id: str
    ) -> list[tuple[int, float, str, str | None, str | None, str | None, str | None, str | None]]:
        """(seq, ts, state, phase, playlist, title, artist, file) of every music state recorded, oldest first."""
        return self.conn.execute(
            "SELECT seq, ts, state, phase, playlist, title, artist, file FROM music WHERE session = ? ORDER BY ts, seq",
            (session_id,),
        ).fetchall()

    def alarm_events(self, session_id: str) -> list[tuple[int, float, str, str]]:
        """(seq, ts, action, AlarmEvent JSON), oldest first."""
        return self.conn.execute(
            "SELECT seq, ts, action, payload FROM alarms WHERE session = ? ORDER BY ts, seq", (session_id,)
        ).fetchall()

    def session_alarms(self, session_id: str) -> list[tuple[int, float, str, str]]:
        """(seq, ts, action, AlarmEvent JSON), oldest first: every alarm active during the session. Its own alarm events,
        and those of the alarms already shown when it started (``meta["alarms_at_start"]``), up to its end."""
        own = self.alarm_events(session_id)
        row = self.session(session_id)
        ids = row.meta.get("alarms_at_start", []) if row is not None else []
        if row is None or not ids:
            return own
        end = row.ended_at if row.ended_at is not None else float("inf")
        earlier = self.conn.execute(
            f"SELECT seq, ts, action, payload FROM alarms WHERE alarm_id IN ({', '.join('?' * len(ids))}) "
            "AND (session IS NULL OR session != ?) AND ts <= ?",
            (*ids, session_id, end),
        ).fetchall()
        return sorted([*earlier, *own], key=lambda r: (r[1], r[0]))

    def last_record_ts(self) -> float | None:
        """Wall time (epoch s) of the newest stored event of any kind: when the previous run last recorded something."""
        union = " UNION ALL ".join(f"SELECT MAX(ts) AS ts FROM {table}" for table in EVENT_TABLES)
        (ts,) = self.conn.execute(f"SELECT MAX(ts) FROM ({union})").fetchone()
        return float(ts) if ts is not None else None

    def count(self, table: str) -> int:
        if table not in {*EVENT_TABLES, "outbox", "sessions"}:
            raise ValueError(f"unknown table {table}")
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])


def _session_row(row: Sequence[Any]) -> SessionRow:
    return SessionRow(
        id=row[0],
        session_kind=row[1],
        started_at=row[2],
        ended_at=row[3],
        state=row[4],
        meta=json.loads(row[5] or "{}"),
    )


def _runs(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """Contiguous runs of seqs as (first, last): acknowledgements mostly come in order, so one UPDATE covers many."""
    runs: list[tuple[int, int]] = []
    for seq in sorted(seqs):
        if runs and seq <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(seq, runs[-1][1]))
        else:
            runs.append((seq, seq))
    return runs


def _identity(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_aside(path: Path, suffix: str, *, journals: bool = True) -> Path:
    """Rename the database ``path`` (and its -wal and -shm, unless not ``journals``) to ``<name>.<suffix>``: kept,
    never deleted. Returns the database file's new path."""
    target = path.with_name(f"{path.name}.{suffix}")
    for extra in ("-wal", "-shm", "") if journals else ("",):
        source = path.with_name(path.name + extra)
        if os.path.lexists(source):
            os.rename(source, target.with_name(target.name + extra))
    _fsync_folder(path.parent)
    return target
