"""The async face of the database: every call runs on one dedicated writer thread, so the event loop never blocks.

``Store`` also implements the MQTT publisher's :class:`~roomctl.storage.outbox.Outbox` protocol. The records this
process writes stay in memory until they are marked sent (at most ``RECENT_MAX``), so the publisher's steady state
reads them without a query or a trip to the storage thread; older ones (an outage's backlog, a previous run's) are
read from the database.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from roomctl.clock import Clock, SystemClock
from roomctl.storage.database import Database, Row, SessionRow
from roomctl.storage.outbox import OutboxRecord, pending_in

T = TypeVar("T")

SENT_KEEP_S = 600.0
"""Sent outbox records are kept this long (for a look after an incident), then deleted."""
UNSENT_MAX_AGE_S = 3 * 86400.0
"""Outbox records never sent (no broker for days, or MQTT off) are dropped after this; the record itself stays."""
RECENT_MAX = 2000
"""Unsent records kept in memory for the publisher; past this the oldest are read back from the database."""


class Store:
    """``async with Store(path) as store:`` opens (and migrates) the database on its own thread."""

    def __init__(self, path: Path | str, *, clock: Clock | None = None, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._clock: Clock = clock or SystemClock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roomctl-storage")
        self._db: Database | None = None
        self._new_record = asyncio.Event()
        self.last_seq = 0
        self._recent: dict[int, OutboxRecord] = {}  # unsent records this process wrote, oldest first
        self._recent_from = 1  # every unsent record with this seq or a later one is in ``_recent``

    async def open(self) -> None:
        self._db = await self._run(functools.partial(Database, self.path, busy_timeout_s=self.busy_timeout_s))
        self.last_seq = self._db.last_seq
        self._recent_from = self.last_seq + 1

    async def close(self) -> None:
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
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return self._db

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def call(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(database)`` on the storage thread (for reads that have no method here)."""
        return await self._run(fn, self.db)

    # ---------------------------------------------------------------- writes

    async def write_batch(self, rows: Sequence[Row], now: float) -> int:
        records = await self._run(self.db.write_batch, rows, now)
        recent = self._recent
        for record in records:
            recent[record.seq] = record
        while len(recent) > RECENT_MAX:
            self._recent_from = recent.pop(next(iter(recent))).seq + 1
        last = records[-1].seq if records else self.last_seq
        self.last_seq = max(self.last_seq, last)
        self._new_record.set()
        return last

    async def save_session(self, row: SessionRow) -> None:
        await self._run(self.db.save_session, row)

    async def open_session(self) -> SessionRow | None:
        return await self._run(self.db.open_session)

    async def apply_retention(self, now: float, retention_days: float) -> int:
        return await self._run(self.db.apply_retention, now, retention_days, SENT_KEEP_S, UNSENT_MAX_AGE_S)

    async def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok" when the file is sound."""
        return await self._run(self.db.integrity_check)

    # ---------------------------------------------------------------- the Outbox protocol

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        if after_seq < self._recent_from - 1:
            return await self._run(self.db.pending, after_seq, limit)
        return pending_in(self._recent, after_seq, limit, self.last_seq)

    async def append(self, kind: str, payload: str) -> int:
        return await self.write_batch([Row(kind, None, payload, None)], self._clock.now().timestamp())

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        if seqs:
            await self._run(self.db.mark_sent, list(seqs), self._clock.now().timestamp())
            for seq in seqs:
                self._recent.pop(seq, None)

    async def wait_new(self, after_seq: int) -> None:
        while self.last_seq <= after_seq:
            self._new_record.clear()
            await self._new_record.wait()
