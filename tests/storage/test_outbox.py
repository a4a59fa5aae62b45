"""The outbox (the MQTT publisher's source): seq strictly increasing across restarts, pending / mark_sent / wait_new."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

import roomctl.storage.store as store_module
from roomctl.clock import SystemClock
from roomctl.hub import Hub
from roomctl.models import SessionState
from roomctl.storage.database import Row
from roomctl.storage.outbox import Outbox
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.storage.helpers import T0, reading


async def write(store: Store, events: int) -> list[int]:
    hub = Hub()  # each call is a run of the daemon (the test reopens the database), with its own hub
    writer = StorageWriter(store, hub, clock=SystemClock())
    for i in range(events):
        hub.publish(reading(i))
    await writer.flush()
    await writer.stop()
    return [r.seq for r in await store.pending(0, 10_000)]


async def test_seq_strictly_increases_across_reopen_even_after_sent_rows_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / "room.db"
    async with Store(path) as store:
        first = await write(store, 5)
        await store.mark_sent(first)
        # everything sent and deleted by retention: the table is empty, the sequence must not restart
        await store.call(lambda db: db.apply_retention(T0.timestamp() + 10**9, 400, 0, 10**9))
        assert await store.pending(0, 100) == []
    async with Store(path) as store:
        second = await write(store, 5)
    assert first == [1, 2, 3, 4, 5]
    assert second == [6, 7, 8, 9, 10]


async def test_pending_mark_sent_and_wait_new(tmp_path: Path, hub: Hub) -> None:
    async with Store(tmp_path / "room.db") as store:
        outbox: Outbox = store  # the protocol the MQTT publisher codes against
        writer = StorageWriter(store, hub, clock=SystemClock())
        waiter = asyncio.create_task(outbox.wait_new(0))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # nothing written yet
        hub.publish(SessionState(id="s1", started_at=T0))
        hub.publish(reading(1))
        hub.publish(reading(2))
        await writer.flush()
        await asyncio.wait_for(waiter, timeout=5)
        records = await outbox.pending(0, 10)
        assert [(r.seq, r.kind, r.session) for r in records] == [
            (1, "session", "s1"),
            (2, "reading", "s1"),
            (3, "reading", "s1"),
        ]
        assert '"heart_rate"' in records[1].payload
        await outbox.mark_sent([1, 2])
        assert [r.seq for r in await outbox.pending(0, 10)] == [3]
        assert [r.seq for r in await outbox.pending(3, 10)] == []
        await asyncio.wait_for(outbox.wait_new(2), timeout=1)  # returns at once: seq 3 exists
        await writer.stop()


async def test_acknowledgements_out_of_order_mark_exactly_those_rows(tmp_path: Path) -> None:
    async with Store(tmp_path / "room.db") as store:
        seqs = await write(store, 8)
        acked = [seqs[4], seqs[0], seqs[1], seqs[2], seqs[6]]  # PUBACKs arrive in any order, with gaps
        await store.mark_sent(acked)
        left = [r.seq for r in await store.pending(0, 100)]
        assert left == [s for s in seqs if s not in acked]


async def test_pending_from_memory_always_agrees_with_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process's unsent records are served from memory: the answer must be the database's, whatever the mix
    of a previous run's backlog, records marked sent out of order, and more unsent records than memory keeps."""
    path = tmp_path / "room.db"
    async with Store(path) as store:  # a previous run: 30 records never sent
        await store.write_batch([Row("event", None, f'{{"n":{i}}}', None) for i in range(30)], 0.0)
    monkeypatch.setattr(store_module, "RECENT_MAX", 50)
    rng = random.Random(7)
    async with Store(path) as store:
        for step in range(40):
            batch = [Row("event", None, f'{{"s":{step},"i":{i}}}', None) for i in range(rng.randint(1, 9))]
            await store.write_batch(batch, 0.0)
            truth = await store.call(lambda db: db.pending(0, 10_000))
            if rng.random() < 0.6:
                await store.mark_sent(rng.sample([r.seq for r in truth], k=min(len(truth), rng.randint(1, 6))))
                truth = await store.call(lambda db: db.pending(0, 10_000))
            for after in {0, 29, 30, 31, *(r.seq for r in truth[::5]), store.last_seq}:
                for limit in (1, 7, 10_000):
                    expected = [r for r in truth if r.seq > after][:limit]
                    assert await store.pending(after, limit) == expected, (step, after, limit)
