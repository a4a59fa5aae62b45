"""Honest freshness after an outage. The broker is stopped for ``ROOMCTL_MQTT_OUTAGE_S`` seconds (default 45, as the
issue asks), with ``vitals_expiry_s = 30``, while a heart-rate strap streams throughout and an oximeter streams only
during the outage (its wearable is gone when the broker returns). The whole chain is real: hub -> storage (SQLite
outbox) -> publisher -> mosquitto (persistence on) -> a persistent-session subscriber.

It shows: no vital is delivered with more life than it has left (tolerance: mosquitto counts expiry in whole seconds);
none past its life is delivered; live vitals reach the subscriber while the backlog still drains (how soon after the
broker's return: bench/bench_mqtt_outage.py); every topic sees seq increase; and every reading is either delivered live once or left for the history lane
(past its life, or overtaken by a live one) — and kept in the record.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from roomctl.hub import Hub
from roomctl.models import Quantity, Reading, ServiceHealth
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.helpers import ROOT, mqtt_config, running

OUTAGE_S = float(os.environ.get("ROOMCTL_MQTT_OUTAGE_S", "45"))
EXPIRY_S = 30
HR_HZ = 20
OXI_HZ = 10
WHOLE_SECOND = 1.0  # mosquitto keeps a message's expiry in whole seconds
REPLAY_PER_S = 20  # the backlog's pace: slow enough that it is still draining when the first live vital arrives
LIVE_BOUND_S = 4.0  # the oximeter's backlog alone takes ~14 s at 20/s: a live vital behind it would miss this


async def stream(hub: Hub, quantity: Quantity, device: str, hz: float, produced: list[Reading]) -> None:
    unit = "bpm" if quantity is Quantity.HEART_RATE else "%"
    while True:
        reading = Reading(quantity=quantity, value=60 + len(produced) % 40, unit=unit, device=device,
                          ts=datetime.now(UTC))  # fmt: skip
        produced.append(reading)
        hub.publish(reading)
        await asyncio.sleep(1 / hz)


def ts_of(body: dict[str, object]) -> float:
    return datetime.fromisoformat(str(body["ts"])).timestamp()


async def test_after_an_outage_vitals_are_honest_and_live_data_comes_first(
    start_broker: Callable[..., Broker], tmp_path: Path, subscribe: Subscribe, hub: Hub
) -> None:
    broker = start_broker(persistence=True)
    dashboard = await subscribe(broker.port, (f"{ROOT}/vitals/#",), client_id="dashboard", persistent=True)
    recorder = await subscribe(  # the history lane, and the live SpO2 it must come behind
        broker.port, (f"{ROOT}/history/#", f"{ROOT}/vitals/spo2"), client_id="recorder", persistent=True
    )
    health: list[ServiceHealth] = []
    hub.add_processor(lambda e: health.append(e) if isinstance(e, ServiceHealth) and e.service == "mqtt" else None)
    heart: list[Reading] = []
    oxi: list[Reading] = []
    config = mqtt_config(
        broker.port, vitals_expiry_s=EXPIRY_S, reconnect_max_s=0.5, keepalive_s=5, replay_rate_per_s=REPLAY_PER_S
    )
    async with Store(tmp_path / "room.db") as store:
        writer = StorageWriter(store, hub, flush_interval_s=0.1)
        await writer.start()
        async with running(config, store, hub) as publisher:
            strap = asyncio.create_task(stream(hub, Quantity.HEART_RATE, "strap", HR_HZ, heart))
            await dashboard.wait_for(lambda ms: len(ms) >= 10)
            await asyncio.to_thread(broker.stop)
            oximeter = asyncio.create_task(stream(hub, Quantity.SPO2, "oxi", OXI_HZ, oxi))
            await asyncio.sleep(OUTAGE_S)  # the outage itself: nothing to wait for but time
            oximeter.cancel()
            assert not health[-1].ok
            await asyncio.to_thread(broker.start)
            returned = time.time()
            live = await dashboard.wait_for(
                lambda ms: any(m.topic.endswith("/heart_rate") and ts_of(m.json()) >= returned for m in ms)
            )
            first_live = next(m for m in live if m.topic.endswith("/heart_rate") and ts_of(m.json()) >= returned)
            await asyncio.sleep(2.0)  # live readings while the backlog drains
            strap.cancel()
            async with asyncio.timeout(180):
                # polling the database: no event says "all stored and settled"
                while store.last_seq < len(heart) + len(oxi) or await store.pending(0, 1):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            await writer.stop()
            expected = len(heart) + len(oxi) - publisher.stats.expired - publisher.stats.superseded
            got = await dashboard.wait_for(lambda ms: len({m.payload for m in ms}) >= expected, within_s=60)
            stats = publisher.stats
            not_live = stats.expired + stats.superseded
            recorded = await recorder.wait_for(
                lambda ms: len({m.payload for m in ms if "/history/" in m.topic}) >= not_live, within_s=60
            )
            stored = await store.call(lambda db: db.conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0])

    runs = [h.ok for i, h in enumerate(health) if i == 0 or h.ok != health[i - 1].ok]
    assert runs == [True, False, True]  # healthy, broker unreachable (a technical alarm), healthy again
    assert stored == len(heart) + len(oxi)  # the record keeps every reading, published or not

    # live data is not stuck behind the backlog: it arrives while the backlog still drains. (How fast is a timing
    # goal, so a benchmark: bench/bench_mqtt_outage.py prints it — 0.09 s on the development machine against the
    # issue's 2 s. The bound here only catches a live vital that waited for the whole paced backlog.)
    assert first_live.at - returned <= LIVE_BOUND_S, f"first live vital {first_live.at - returned:.2f} s after return"
    backlog_after_live = [m for m in got if m.at > first_live.at and ts_of(m.json()) < returned]
    assert backlog_after_live, "the backlog should still be draining when live data arrives"
    assert all(m.topic.endswith("/spo2") for m in backlog_after_live)  # heart rate's backlog: overtaken by live

    # no vital is delivered with more life than it has left, and none past its life
    for m in got:
        body = m.json()
        assert m.expiry is not None
        left = ts_of(body) + EXPIRY_S - m.at
        assert m.expiry <= left + WHOLE_SECOND, (body["seq"], m.expiry, left)
        assert left > 0, (body["seq"], left)
    assert stats.expired > 0  # the first 15 s of the outage were past their life at the return
    assert stats.superseded > 0

    # the docs' rule: per topic, seq increases; every reading delivered live once or left for history
    seen: dict[str, int] = {}
    unique = []
    for m in got:
        seq = m.json()["seq"]
        if seq <= seen.get(m.topic, 0):
            continue
        seen[m.topic] = seq
        unique.append(m)
    assert len(unique) == len({m.payload for m in got}) == expected
    assert len(unique) + stats.expired + stats.superseded == len(heart) + len(oxi)

    # what did not go live came on history: each such reading once, after the backlog's live SpO2, without expiry
    history = [m for m in recorded if "/history/" in m.topic]
    history_seqs = {m.json()["seq"] for m in history}
    assert len(history_seqs) == not_live == stats.history
    assert history_seqs.isdisjoint(m.json()["seq"] for m in unique)
    assert len(history_seqs) + len(unique) == len(heart) + len(oxi)  # every reading: live or on history
    assert all(m.expiry is None and not m.retain for m in history)
    first_history = recorded.index(history[0])
    assert not [m for m in recorded[first_history:] if "/vitals/" in m.topic and ts_of(m.json()) < returned]
