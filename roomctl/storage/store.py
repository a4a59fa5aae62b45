"""The async face of the database: every call runs on one dedicated writer thread, so the event loop never blocks.

Rows are *staged* first (numbered, kept in the :class:`~roomctl.storage.backlog.Backlog`, offered to the outbox) and
then written; a write that fails leaves them staged and is tried again, at most every ``retry_s``, while the storage
reports what is wrong in words (:mod:`roomctl.storage.faults`). So the room monitors, and the MQTT feed goes on from
memory, while the disk is full, read-only, failing or not there at all: the record catches up, in order, when the disk
takes writes again. Session rows and "sent" marks wait the same way.

Opening: a database SQLite cannot read as one, or that fails ``quick_check``, is moved aside (renamed with the time,
never deleted) and a new one made. A folder where none can be opened (read-only, failing, full) leaves the store
without a record, trying again every ``retry_s``. Before each write the database and its -wal are checked to be the
files that were opened (device and inode); one deleted or replaced is put back from the open connection and reopened.

``Store`` also implements the MQTT publisher's :class:`~roomctl.storage.outbox.Outbox` protocol. The records this
process writes stay in memory until they are marked sent (at most ``RECENT_MAX``), so the publisher's steady state
reads them without a query or a trip to the storage thread; older ones (an outage's backlog, a previous run's) are
read from the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from roomctl.clock import Clock, SystemClock
from roomctl.errors import StorageError
from roomctl.storage import faults
from roomctl.storage.backlog import Backlog
from roomctl.storage.database import Database, Row, SessionRow, Staged, move_aside
from roomctl.storage.outbox import OutboxRecord, pending_in
from roomctl.storage.schema import NewerDatabase

T = TypeVar("T")
log = logging.getLogger(__name__)

SENT_KEEP_S = 600.0
"""Sent outbox records are kept this long (for a look after an incident), then deleted."""
UNSENT_MAX_AGE_S = 3 * 86400.0
"""Outbox records never sent (no broker for days, or MQTT off) are dropped after this; the record itself stays."""
RECENT_MAX = 2000
"""Unsent records kept in memory for the publisher; past this the oldest are read back from the database."""
RETRY_S = 2.0
"""While the disk refuses, a write (or an open) is tried again at most this often."""
CHUNK_ROWS = 5000
"""Rows written in one transaction at most (a batch is far smaller; a backlog is written in pieces of this)."""
SENT_MARKS_MAX = 200_000
""""Sent" marks kept for a database that is away; past this the oldest are forgotten (sent again after a restart)."""


def stamp(clock: Clock) -> str:
    """The time in a file name: ``20261208T031500Z``."""
    return clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Store:
    """``async with Store(path) as store:`` opens (and migrates) the database on its own thread."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock | None = None,
        busy_timeout_s: float = 5.0,
        retry_s: float = RETRY_S,
        backlog: Backlog | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.retry_s = retry_s
        self._clock: Clock = clock or SystemClock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roomctl-storage")
        self._db: Database | None = None
        self._numbered = False  # the record's last seq is known (it opened once): staged rows get their seqs
        self.problem: str | None = None
        """What is wrong with the storage, in the alarm's words; None while writes succeed."""
        self.notices: list[str] = []
        """What the store did about a fault (moved a file aside, put the record back), for the writer to report."""
        self._next_try = -1e18
        self._new_record = asyncio.Event()
        self.last_seq = 0
        self.backlog = backlog if backlog is not None else Backlog()
        self._sessions: dict[str, SessionRow] = {}  # session rows not yet on disk
        self._writing = asyncio.Lock()  # one write of what is staged at a time (the writer's and a session save)
        self._sent_at: dict[int, float] = {}  # staged seqs already published (seq -> when)
        self._marks: list[tuple[int, float]] = []  # written seqs published while the database was away
        self._recent: dict[int, OutboxRecord] = {}  # unsent records this process wrote, oldest first
        self._recent_from = 1  # every unsent record with this seq or a later one is in ``_recent``

    async def open(self) -> None:
        """Open the record; when the storage refuses, the store runs without it (see :attr:`problem`) and tries again
        at each write. Raises only for what no retry can fix (a database from a newer roomctl)."""
        try:
            await self._open()
        except NewerDatabase:
            raise
        except StorageError as e:
            self._failed(e)

    async def _open(self) -> None:
        try:
            db = await self._run(self._connect)
        except StorageError as e:
            if not faults.is_damaged(e):
                raise
            try:
                moved = await self._run(move_aside, self.path, f"damaged-{stamp(self._clock)}")
            except OSError as moving:
                raise StorageError(f"{e}; it could not be moved aside: {moving}") from moving
            notice = f"the database file is damaged: kept as {moved.name}, a new one begun"
            log.error("storage: %s (%s)", notice, e.__cause__ or e)
            self.notices.append(notice)
            db = await self._run(self._connect)
        self._db = db
        if not self._numbered:
            self._numbered = True
            self.backlog.renumber(db.last_seq)
            self.last_seq = db.last_seq + len(self.backlog)
            self._recent_from = db.last_seq + 1
            for item in self.backlog:
                self._offer(item)
            if len(self.backlog):
                self._new_record.set()

    def _connect(self) -> Database:
        return Database(self.path, busy_timeout_s=self.busy_timeout_s)

    def _failed(self, e: StorageError) -> None:
        words = faults.describe(e, self.path.parent)
        if words != self.problem:
            log.error("storage: %s (%s)", words, e)
        self.problem = words
        self._next_try = self._clock.monotonic() + self.retry_s

    async def close(self) -> None:
        if self.pending_writes:
            try:
                await self.write_pending(force=True)
            except StorageError as e:
                log.error("storage: %d record(s) could not be written before closing: %s", len(self.backlog), e)
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def available(self) -> bool:
        """The record is open (it may still be failing writes: see :attr:`problem`)."""
        return self._db is not None

    @property
    def db(self) -> Database:
        if self._db is None:
            raise StorageError(f"the record is not available ({self.problem or 'not open'})")
        return self._db

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(database)`` on the storage thread (for reads that have no method here)."""
        return await self._run(fn, self.db)

    # ---------------------------------------------------------------- writes

    @property
    def pending_writes(self) -> bool:
        return bool(len(self.backlog) or self._sessions or self._marks)

    def stage(self, rows: Sequence[Row], now: float) -> int:
        """Accept rows for the record, in order: numbered and offered to the outbox at once (once the numbering is
        known), written by :meth:`write_pending`. Returns the newest seq (0 while unnumbered)."""
        if not rows:
            return self.last_seq
        if not self._numbered:
            self.backlog.add([Staged(0, row, now) for row in rows])
            return 0
        first = self.last_seq + 1
        staged = [Staged(seq, row, now) for seq, row in enumerate(rows, first)]
        self.last_seq = staged[-1].seq
        self.backlog.add(staged)
        recent = self._recent
        for seq, row, _ in staged:
            recent[seq] = OutboxRecord(seq, row.kind, row.session, row.payload)
        while len(recent) > RECENT_MAX:
            self._recent_from = recent.pop(next(iter(recent))).seq + 1
        self._new_record.set()
        return self.last_seq

    def _offer(self, item: Staged) -> None:
        recent = self._recent
        recent[item.seq] = OutboxRecord(item.seq, item.row.kind, item.row.session, item.row.payload)
        while len(recent) > RECENT_MAX:
            self._recent_from = recent.pop(next(iter(recent))).seq + 1

    async def write_pending(self, *, force: bool = False) -> None:
        """Write everything staged, oldest first (in pieces of ``CHUNK_ROWS``). Raises StorageError (what is staged stays) when
        the storage refuses, or at once, without trying, within ``retry_s`` of the last refusal (unless ``force``)."""
        async with self._writing:  # two at once would both write the backlog's first rows (UNIQUE seq refused)
            await self._write_pending(force)

    async def _write_pending(self, force: bool) -> None:
        if not self.pending_writes and self._db is not None and self.problem is None:
            return
        if not force and self._clock.monotonic() < self._next_try:
            raise StorageError(self.problem or "the record is not available")
        try:
            if self._db is None:
                await self._open()
            await self._write()
        except StorageError as e:
            self._failed(e)
            raise
        self.problem = None
        self._next_try = -1e18

    async def _put_back(self, db: Database, what: str) -> None:
        """The database or its -wal at the path is not the file opened: put the record back, reopen."""
        self._db = None
        try:
            done = await self._run(db.rescue, stamp(self._clock))
        except StorageError as e:
            done = f"{e}; what memory holds is written to a new one"
        notice = f"{what}: {done}; reopened"
        log.error("storage: %s", notice)
        self.notices.append(notice)
        await self._open()

    async def _write(self) -> None:
        """What is staged, oldest first, in transactions of at most ``CHUNK_ROWS`` (a disk that comes back with
        little room takes the backlog piece by piece; each piece written is out of memory)."""
        while True:
            db = self.db
            staged = self.backlog.items[:CHUNK_ROWS]
            sessions = list(self._sessions.values())
            sent_at = {s.seq: self._sent_at[s.seq] for s in staged if s.seq in self._sent_at} if self._sent_at else {}
            marks = self._marks
            replaced = await self._run(self._write_all, db, staged, sessions, sent_at, marks)
            if replaced is not None:
                await self._put_back(db, replaced)
                continue
            self.backlog.written(len(staged))
            for row in sessions:
                if self._sessions.get(row.id) is row:
                    del self._sessions[row.id]
            if staged:  # seqs up to the last written are done with (those shed too)
                last = staged[-1].seq
                self._sent_at = {seq: t for seq, t in self._sent_at.items() if seq > last}
            self._marks = self._marks[len(marks) :]
            if not len(self.backlog):
                return

    @staticmethod
    def _write_all(
        db: Database,
        staged: list[Staged],
        sessions: list[SessionRow],
        sent_at: dict[int, float],
        marks: list[tuple[int, float]],
    ) -> str | None:
        """On the storage thread: check the files are the ones opened (what happened to them, if not: nothing is
        written), then write."""
        replaced = db.replaced()
        if replaced is not None:
            return replaced
        db.write_staged(staged, sent_at, sessions)
        if marks:
            db.mark_sent([seq for seq, _ in marks], marks[-1][1])
        return None

    async def write_batch(self, rows: Sequence[Row], now: float) -> int:
        """Stage rows and write what is staged; returns the newest seq. On StorageError the rows stay staged."""
        last = self.stage(rows, now)
        await self.write_pending()
        return last

    async def save_session(self, row: SessionRow) -> None:
        """Stage the session's row and write it with what else is staged; a storage that refuses keeps it staged
        (the writer reports the fault) — a session runs whether or not its record can be written now."""
        self._sessions[row.id] = row
        try:
            await self.write_pending()
        except StorageError as e:
            log.debug("session %s kept in memory until the record can be written: %s", row.id, e)

    async def apply_retention(self, now: float, retention_days: float) -> int:
        return await self._run(self.db.apply_retention, now, retention_days, SENT_KEEP_S, UNSENT_MAX_AGE_S)

    async def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok" when the file is sound."""
        return await self._run(self.db.integrity_check)

    # ---------------------------------------------------------------- the Outbox protocol

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        if after_seq >= self._recent_from - 1:
            return pending_in(self._recent, after_seq, limit, self.last_seq)
        found: list[OutboxRecord] = []
        if self._db is not None and self.problem is None:
            try:
                found = await self._run(self._db.pending, after_seq, limit)
            except StorageError as e:
                log.warning("outbox: %s", e)
        if len(found) < limit:  # what is not on disk yet, from memory
            after = found[-1].seq if found else after_seq
            for s in self.backlog.after(after, limit - len(found)):
                if s.seq not in self._sent_at:
                    found.append(OutboxRecord(s.seq, s.row.kind, s.row.session, s.row.payload))
        return found

    async def append(self, kind: str, payload: str) -> int:
        last = self.stage([Row(kind, None, payload, None)], self._clock.now().timestamp())
        try:
            await self.write_pending()
        except StorageError as e:
            log.warning("outbox record %s kept in memory: %s", kind, e)
        return last

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        now = self._clock.now().timestamp()
        for seq in seqs:
            self._recent.pop(seq, None)
        first_staged = next(iter(self.backlog)).seq if len(self.backlog) else self.last_seq + 1
        written = [seq for seq in seqs if seq < first_staged]
        for seq in seqs:
            if seq >= first_staged:
                self._sent_at[seq] = now
        if len(self._sent_at) > 2 * len(self.backlog) + 1000:  # marks of rows shed from the backlog
            self._sent_at = {seq: t for seq, t in self._sent_at.items() if seq >= first_staged}
        if not written:
            return
        if self._db is not None and self.problem is None:
            try:
                await self._run(self._db.mark_sent, written, now)
                return
            except StorageError as e:
                log.warning("outbox: %s; kept for later", e)
        self._marks.extend((seq, now) for seq in written)
        del self._marks[:-SENT_MARKS_MAX]

    async def wait_new(self, after_seq: int) -> None:
        while self.last_seq <= after_seq:
            self._new_record.clear()
            await self._new_record.wait()
