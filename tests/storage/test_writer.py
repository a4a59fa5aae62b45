"""The storage writer: batches, the 1-second durability promise, health on failure and on drops, flush on stop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomctl.clock import FakeClock, SystemClock
from roomctl.hub import Hub
from roomctl.models import ServiceHealth, SessionState
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.storage.helpers import T0, reading


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Store(tmp_path / "room.db", busy_timeout_s=0.2) as s:
        yield s


def stored_values(path: Path) -> list[float]:
    """Read with a separate connection: what another process would find on disk."""
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT value FROM readings ORDER BY seq")]
    finally:
        conn.close()


async def next_health(sub_items: asyncio.Queue[ServiceHealth]) -> ServiceHealth:
    return await asyncio.wait_for(sub_items.get(), 10)


async def test_reading_is_on_disk_within_one_second(store: Store, hub: Hub) -> None:
    writer = StorageWriter(store, hub, clock=SystemClock(), flush_interval_s=0.5)
    await writer.start()
    commits: list[tuple[int, float]] = []

    async def watch() -> None:
        seen = store.last_seq
        while True:
            await store.wait_new(seen)
            seen = store.last_seq
            commits.append((seen, time.monotonic()))

    watcher = asyncio.create_task(watch())
    accepted: list[float] = []
    for i in range(12):  # spread over about 1.2 s, so readings land at every point of the flush cycle
        hub.publish(reading(i))
        accepted.append(time.monotonic())
        await asyncio.sleep(0.1)
    await asyncio.wait_for(store.wait_new(11), timeout=10)
    watcher.cancel()
    await writer.stop()
    latencies = [next(t for seq, t in commits if seq >= i + 1) - a for i, a in enumerate(accepted)]
    assert max(latencies) < 1.0, latencies
    assert stored_values(store.path) == [60.0 + i for i in range(12)]


async def test_a_burst_is_written_in_few_transactions(store: Store, hub: Hub) -> None:
    writer = StorageWriter(store, hub, clock=SystemClock(), flush_interval_s=0.5)
    await writer.start()
    for i in range(3000):
        hub.publish(reading(i))
    await asyncio.wait_for(store.wait_new(2999), timeout=10)
    await writer.stop()
    assert writer.batches <= 2
    assert writer.written == 3000
    assert len(stored_values(store.path)) == 3000
    assert await store.integrity_check() == "ok"


async def test_stop_flushes_what_is_queued(store: Store, hub: Hub) -> None:
    writer = StorageWriter(store, hub, clock=SystemClock(), flush_interval_s=0.5)
    await writer.start()
    await asyncio.sleep(0)
    for i in range(5):
        hub.publish(reading(i))
    await writer.stop()
    assert len(stored_values(store.path)) == 5


async def test_write_failure_reports_health_keeps_data_and_recovers(store: Store, hub: Hub) -> None:
    health: asyncio.Queue[ServiceHealth] = asyncio.Queue()
    hub.add_processor(lambda e: health.put_nowait(e) if isinstance(e, ServiceHealth) else None)
    writer = StorageWriter(store, hub, clock=SystemClock(), flush_interval_s=0.1, recover_after_s=0.0)
    await writer.start()
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: real "database is locked"
    hub.publish(reading(1))
    bad = await next_health(health)
    assert bad.service == "storage"
    assert not bad.ok
    assert "locked" in bad.detail
    assert hub.state.health["storage"].ok is False
    blocker.execute("ROLLBACK")
    blocker.close()
    good = await next_health(health)
    assert good.ok
    await writer.stop()
    assert stored_values(store.path) == [61.0]  # kept and retried, not lost
    assert writer.failed_writes >= 1


async def test_dropped_events_are_counted_and_reported(store: Store, hub: Hub) -> None:
    writer = StorageWriter(store, hub, clock=SystemClock(), flush_interval_s=0.5, queue_size=5)
    for i in range(20):  # the writer is not running: the queue overflows
        hub.publish(reading(i))
    await writer.flush()
    assert writer.dropped == 15
    health = hub.state.health["storage"]
    assert not health.ok
    assert "15 events were lost" in health.detail
    assert stored_values(store.path) == [60.0 + i for i in range(15, 20)]  # the newest are kept
    await writer.stop()


async def test_hub_order_and_session_attribution_hold_when_a_command_flushes(
    store: Store, hub: Hub, clock: FakeClock
) -> None:
    writer = StorageWriter(store, hub, clock=clock, flush_interval_s=0.5)
    await writer.start()
    hub.publish(reading(0))
    await asyncio.wait_for(store.wait_new(0), timeout=10)
    hub.publish(reading(1))  # taken by the writer, which now waits out its flush interval
    await asyncio.wait_for(clock.wait_sleeping(), timeout=10)
    hub.publish(SessionState(id="s1", started_at=T0))
    hub.publish(reading(2))
    await writer.flush()  # what the session manager does after a command
    await writer.stop()
    conn = sqlite3.connect(store.path)
    rows = conn.execute("SELECT value, session FROM readings ORDER BY seq").fetchall()
    conn.close()
    assert rows == [(60.0, None), (61.0, None), (62.0, "s1")]
