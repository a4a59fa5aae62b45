"""The broker stopped for 30 s and restarted: a persistent-session subscriber gets every reading exactly once after
de-duplication by seq, in order, with the original timestamps. The whole chain is real: hub -> storage (SQLite outbox)
-> publisher -> mosquitto (persistence on) -> subscriber.

The outage lasts ``ROOMCTL_MQTT_OUTAGE_S`` seconds (default 30, as the issue asks); the rest of the test takes ~3 s.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from roomctl.hub import Hub
from roomctl.models import Quantity, Reading, ServiceHealth
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.mqtt.broker import Broker
from tests.mqtt.helpers import ROOT, mqtt_config, running
from tests.mqtt.subscriber import Subscriber

OUTAGE_S = float(os.environ.get("ROOMCTL_MQTT_OUTAGE_S", "30"))
RATE_HZ = 20


async def produce(hub: Hub, produced: list[Reading]) -> None:
    while True:
        reading = Reading(
            quantity=Quantity.HEART_RATE,
            value=60 + len(produced) % 40,
            unit="bpm",
            device="strap",
            ts=datetime.now(UTC),
        )
        produced.append(reading)
        hub.publish(reading)
        await asyncio.sleep(1 / RATE_HZ)


async def test_broker_outage_loses_nothing(
    start_broker: Callable[..., Broker], tmp_path: Path, subscribers: list[Subscriber]
) -> None:
    broker = start_broker(persistence=True)
    dashboard = Subscriber(broker.port, (f"{ROOT}/vitals/#",), client_id="dashboard", persistent=True)
    subscribers.append(dashboard)
    await dashboard.wait_subscribed()
    hub = Hub()
    health: list[ServiceHealth] = []
    hub.add_processor(lambda e: health.append(e) if isinstance(e, ServiceHealth) and e.service == "mqtt" else None)
    produced: list[Reading] = []
    # vitals_expiry_s outlasts the outage: messages the broker held for the subscriber survive its restart
    config = mqtt_config(broker.port, vitals_expiry_s=300, reconnect_max_s=0.5, keepalive_s=5)
    async with Store(tmp_path / "room.db") as store:
        writer = StorageWriter(store, hub, flush_interval_s=0.1)
        await writer.start()
        async with running(config, store, hub) as publisher:
            producer = asyncio.create_task(produce(hub, produced))
            await dashboard.wait_for(lambda ms: len(ms) >= 10)
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(OUTAGE_S)  # the outage itself: nothing to wait for but time
            assert not health[-1].ok
            await asyncio.to_thread(broker.start)
            await asyncio.wait_for(publisher.connected.wait(), 20)
            await asyncio.sleep(1.0)  # live readings after the restart too
            producer.cancel()
            async with asyncio.timeout(60):
                # polling the database: no event says "all stored and acknowledged"
                while store.last_seq < len(produced) or await store.pending(0, 1):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            newest = store.last_seq
            await writer.stop()
            got = await dashboard.wait_for(
                lambda ms: bool(ms) and max(m.json()["seq"] for m in ms) >= newest, within_s=60
            )
    runs = [h.ok for i, h in enumerate(health) if i == 0 or h.ok != health[i - 1].ok]
    assert runs == [True, False, True]  # healthy, broker unreachable (a technical alarm), healthy again
    # whichever the publisher noticed first: the connection dropping, or a publish that found it gone
    assert "lost" in health[1].detail or "cannot publish" in health[1].detail, health[1].detail
    assert any("refused the connection" in h.detail for h in health)
    assert publisher.stats.connects >= 2
    # de-duplicate by seq, keep arrival order
    seen: set[int] = set()
    unique = []
    for msg in got:
        body = msg.json()
        if body["seq"] not in seen:
            seen.add(body["seq"])
            unique.append(body)
    seqs = [b["seq"] for b in unique]
    missing = sorted(set(range(1, newest + 1)) - seen)
    assert not missing, f"missing seqs {missing} of {newest}"
    assert seqs == sorted(seqs), "readings out of order"
    assert len(unique) == len(produced) > OUTAGE_S * RATE_HZ * 0.5, (len(unique), len(produced))
    assert [(b["ts"], b["value"]) for b in unique] == [(r.model_dump(mode="json")["ts"], r.value) for r in produced]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in seq"
