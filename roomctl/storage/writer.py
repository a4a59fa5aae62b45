"""The storage writer: takes hub events from a bounded queue and commits them in batches, at most every flush interval.

A reading accepted by the hub is committed (fsync'd) within ``flush_interval_s`` plus one write. When a write fails
the rows wait in the store's bounded backlog and are retried every few seconds, and the hub hears
``ServiceHealth(service="storage", ok=False)`` with what is wrong in words ("recording stopped: the disk is full"; a
high-priority technical alarm); ``ok=True`` follows at the first write that succeeds. Rows shed from the backlog (the
disk was away past its bound) are recorded as one ``record_gap`` event once writing works again. Events dropped by the
queue (the writing loop itself stalled) are counted and reported as not ok until none were dropped for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from roomctl.clock import Clock, SystemClock
from roomctl.errors import StorageError
from roomctl.hub import Hub
from roomctl.models import HubEvent, ServiceHealth, SessionEvent, SessionEventKind
from roomctl.storage import faults
from roomctl.storage.backlog import Gap
from roomctl.storage.rows import STORED_KINDS, RowMaker
from roomctl.storage.store import Store

log = logging.getLogger(__name__)

QUEUE_SIZE = 50_000
"""Events waiting for the writing loop (it takes them every flush, whether the disk writes or not); a full queue drops
its oldest and says so."""
RETENTION_EVERY_S = 600.0
RECOVER_AFTER_S = 30.0
"""After a queue drop, health returns to ok only after this long without another."""


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
        self.gaps: list[Gap] = []
        self._taken: list[HubEvent] = []
        self._seen_dropped = 0
        self._healthy = True
        self._last_trouble = -1e18
        self._trouble_detail = ""
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    @property
    def dropped(self) -> int:
        """Events lost before reaching the disk (queue overflow plus rows shed from the backlog)."""
        return self.sub.dropped + self.store.backlog.shed_total

    async def start(self) -> None:
        self._report_notices()
        if self.store.problem is not None:  # opened without a record: the alarm from the start
            self._trouble(self.store.problem, failure=True)
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
            if not self.store.pending_writes and not self._taken and self.store.problem is None:
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
        rows = [row for event in events if (row := self.rows.make(event, now)) is not None]
        self.store.stage(rows, now)
        waiting = len(self.store.backlog)
        try:
            await self.store.write_pending()
        except StorageError as e:
            self.failed_writes += 1
            self._report_notices()
            self._trouble(self.store.problem or faults.describe(e, self.store.path.parent), failure=True)
            return
        self.written += waiting
        self.batches += 1
        self._report_notices()
        gap = self.store.backlog.take_gap()
        if gap is not None:
            self._record_gap(gap)
        queue_dropped = self.sub.dropped
        if queue_dropped > self._seen_dropped:
            self._seen_dropped = queue_dropped
            self._trouble(f"{queue_dropped} events were lost before reaching the disk (it could not keep up)")
        elif not self._healthy and self.clock.monotonic() - self._last_trouble >= self.recover_after_s:
            self._healthy = True
            log.info("storage is writing again")
            self._health(True, f"writing; {self.dropped} events lost in total" if self.dropped else "writing")

    def _report_notices(self) -> None:
        """What the store did about a fault (a damaged file moved aside, a deleted -wal put back) is an alarm too."""
        while self.store.notices:
            self._trouble(self.store.notices.pop(0), failure=True)

    def _record_gap(self, gap: Gap) -> None:
        """Readings were shed while the disk was away: one event in the record says how long and how many."""
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(gap.counts.items()))
        span = gap.last - gap.first
        text = f"record gap: the disk was away too long; {gap.total} records not kept over {span:.0f} s ({counts})"
        log.error("storage: %s", text)
        self.gaps.append(gap)
        self.hub.publish(
            SessionEvent(
                id=secrets.token_hex(8),
                session=self.rows.session or "",
                event=SessionEventKind.RECORD_GAP,
                ts=datetime.fromtimestamp(gap.first, UTC),
                text=text,
                data={"gap_s": round(span, 3), "counts": dict(gap.counts), "until": gap.last, "source": "roomctl"},
            )
        )

    async def _retention(self) -> None:
        try:
            n = await self.store.apply_retention(self.clock.now().timestamp(), self.retention_days)
        except StorageError as e:
            log.warning("retention: %s", e)
            return
        if n:
            log.info("retention: deleted %d old rows", n)

    def _trouble(self, detail: str, *, failure: bool = False) -> None:
        """Not ok, saying ``detail``. A failed write recovers at the next write that succeeds; a queue drop only
        after ``recover_after_s`` without another."""
        self._last_trouble = -1e18 if failure else self.clock.monotonic()
        if self._healthy or detail != self._trouble_detail:
            log.error("storage: %s", detail)
            self._health(False, detail)  # on a change only: a failing disk must not flood the hub
        self._healthy = False
        self._trouble_detail = detail

    def _health(self, ok: bool, detail: str) -> None:
        self.hub.publish(ServiceHealth(service="storage", ok=ok, detail=detail, ts=self.clock.now()))
