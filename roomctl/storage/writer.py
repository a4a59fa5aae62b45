"""The storage writer: takes hub events from a bounded queue and commits them in batches, at most every flush interval.

A reading accepted by the hub is committed (fsync'd) within ``flush_interval_s`` plus one write. When a write fails
the batch is kept and retried, and the hub hears ``ServiceHealth(service="storage", ok=False)`` (a technical alarm);
``ok=True`` follows once writes succeed and no events were dropped for a while. Dropped events (the queue overflowed
because the disk stalled) are counted and also reported as not ok: the record has a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from roomctl.clock import Clock, SystemClock
from roomctl.errors import StorageError
from roomctl.hub import Hub
from roomctl.models import HubEvent, ServiceHealth
from roomctl.storage.database import Row
from roomctl.storage.rows import STORED_KINDS, RowMaker
from roomctl.storage.store import Store

log = logging.getLogger(__name__)

QUEUE_SIZE = 50_000
"""Events waiting for the disk: hours of readings; a full queue drops its oldest and says so."""
MAX_RETRY_ROWS = 200_000
"""Rows kept in memory for retry while the disk refuses writes; past this the oldest are dropped (and counted)."""
RETENTION_EVERY_S = 600.0
RECOVER_AFTER_S = 30.0
"""Health returns to ok only after this long without a failure or a drop."""


class StorageWriter:
    def __init__(
        self,
        store: Store,
        hub: Hub,
        *,
        clock: Clock | None = None,
        flush_interval_s: float = 0.5,
        retention_days: float = 400,
        queue_size: int = QUEUE_SIZE,
        recover_after_s: float = RECOVER_AFTER_S,
    ) -> None:
        if not 0 < flush_interval_s <= 0.5:
            raise ValueError("flush_interval_s must be more than 0 and at most 0.5 s")
        self.store = store
        self.hub = hub
        self.clock: Clock = clock or SystemClock()
        self.flush_interval_s = flush_interval_s
        self.retention_days = retention_days
        self.sub = hub.subscribe("storage", maxsize=queue_size, kinds=STORED_KINDS)
        self.rows = RowMaker(hub.state.session.id)
        self.recover_after_s = recover_after_s
        self.written = 0
        self.batches = 0
        self.failed_writes = 0
        self.dropped_retry = 0
        self._retry: list[Row] = []
        self._taken: list[HubEvent] = []
        self._seen_dropped = 0
        self._healthy = True
        self._last_trouble = -1e18
        self._trouble_detail = ""
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    @property
    def dropped(self) -> int:
        """Events lost before reaching the disk (queue overflow plus retry overflow)."""
        return self.sub.dropped + self.dropped_retry

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="storage-writer")

    async def run(self) -> None:
        """For the supervisor: wait on the writing loop and fail when it fails (it is started again on the next call).

        Cancelling this leaves the loop running: only :meth:`stop` ends it, between two writes, and flushes what is left.
        """
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="storage-writer")
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop and write everything still queued."""
        if self._task is not None:
            async with self._flush_lock:  # never cancel a write half way
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        self.sub.close()

    async def flush(self) -> None:
        """Write whatever is queued now (also used before answering a command that must be on disk)."""
        async with self._flush_lock:
            events, self._taken = self._taken, []
            events += self.sub.take()
            await self._write(events)

    async def _run(self) -> None:
        last_flush = self.clock.monotonic() - self.flush_interval_s
        last_retention = -1e18
        while True:
            if not self._retry and not self._taken:
                event = await self.sub.get()
                self._taken.append(event)  # flush() writes it first: hub order is kept whoever flushes
            delay = last_flush + self.flush_interval_s - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            last_flush = self.clock.monotonic()
            await self.flush()
            if last_flush - last_retention >= RETENTION_EVERY_S:
                last_retention = last_flush
                await self._retention()

    async def _write(self, events: Sequence[HubEvent]) -> None:
        now = self.clock.now().timestamp()
        rows = self._retry
        for event in events:
            row = self.rows.make(event, now)
            if row is not None:
                rows.append(row)
        if len(rows) > MAX_RETRY_ROWS:
            self.dropped_retry += len(rows) - MAX_RETRY_ROWS
            del rows[: len(rows) - MAX_RETRY_ROWS]
        self._retry = []
        if rows:
            try:
                await self.store.write_batch(rows, now)
            except StorageError as e:
                self._retry = rows
                self.failed_writes += 1
                self._trouble(f"cannot write the record: {e.__cause__ or e}")
                return
            self.written += len(rows)
            self.batches += 1
        if self.dropped > self._seen_dropped:
            self._seen_dropped = self.dropped
            self._trouble(f"{self.dropped} events were lost before reaching the disk (it could not keep up)")
        elif not self._healthy and self.clock.monotonic() - self._last_trouble >= self.recover_after_s:
            self._healthy = True
            log.info("storage is writing again")
            self._health(True, f"writing; {self.dropped} events lost in total" if self.dropped else "writing")

    async def _retention(self) -> None:
        try:
            n = await self.store.apply_retention(self.clock.now().timestamp(), self.retention_days)
        except StorageError as e:
            log.warning("retention: %s", e)
            return
        if n:
            log.info("retention: deleted %d old rows", n)

    def _trouble(self, detail: str) -> None:
        self._last_trouble = self.clock.monotonic()
        if self._healthy or detail != self._trouble_detail:
            log.error("storage: %s", detail)
            self._health(False, detail)  # on a change only: a failing disk must not flood the hub
        self._healthy = False
        self._trouble_detail = detail

    def _health(self, ok: bool, detail: str) -> None:
        self.hub.publish(ServiceHealth(service="storage", ok=ok, detail=detail, ts=self.clock.now()))
