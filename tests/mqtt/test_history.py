"""The outage drill: every reading of a broker outage reaches MQTT once, live or on history, by the documented rule.

Heart rate and SpO2 stream at ``HZ`` each through the real chain (hub -> storage's SQLite outbox -> publisher ->
mosquitto with persistence -> a persistent-session subscriber to ``vitals/#`` and ``history/#``). The broker stops for
``ROOMCTL_MQTT_HISTORY_OUTAGE_S`` seconds (default 30, as the issue asks) with ``vitals_expiry_s = 30``, then comes
back. docs/mqtt.md's rule for the complete series — per topic, a ``seq`` at or below the highest seen is a repeat;
across the two topics of a quantity, a reading is its ``seq`` — must give every reading made exactly once; the
readings past their life at the return come on history (no expiry, not retained, the vital's schema), in ``seq``
order, and live vitals never carry one past its life.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema

from roomctl.hub import Hub
from roomctl.models import Quantity, Reading
from roomctl.mqtt.schemas import all_schemas
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.helpers import ROOT, mqtt_config, running
from tests.mqtt.memory_outbox import MemoryOutbox
from tests.mqtt.subscriber import Received

OUTAGE_S = float(os.environ.get("ROOMCTL_MQTT_HISTORY_OUTAGE_S", "30"))
EXPIRY_S = 30
HZ = 2.0


def complete_series(messages: list[Received]) -> dict[str, dict[int, Any]]:
    """docs/mqtt.md's rule for the complete series, as written: quantity -> {seq: payload}."""
    highest: dict[str, int] = {}  # per topic
    series: dict[str, dict[int, Any]] = {}
    for m in messages:
        body = m.json()
        if body["seq"] <= highest.get(m.topic, 0):
            continue  # a repeat on its topic
        highest[m.topic] = body["seq"]
        quantity = m.topic.rsplit("/", 1)[1]
        series.setdefault(quantity, {}).setdefault(body["seq"], body)  # a reading is its seq: kept once
    return series


async def produce(hub: Hub, quantity: Quantity, unit: str, made: list[Reading]) -> None:
    while True:
        reading = Reading(quantity=quantity, value=60 + len(made) % 40, unit=unit, device="strap", ts=datetime.now(UTC))
        made.append(reading)
        hub.publish(reading)
        await asyncio.sleep(1 / HZ)


async def test_a_broker_outage_loses_no_reading_live_or_on_history(
    start_broker: Callable[..., Broker], tmp_path: Path, subscribe: Subscribe, hub: Hub
) -> None:
    broker = start_broker(persistence=True)
    consumer = await subscribe(
        broker.port, (f"{ROOT}/vitals/#", f"{ROOT}/history/#"), client_id="influx", persistent=True
    )
    made: list[Reading] = []
    config = mqtt_config(broker.port, vitals_expiry_s=EXPIRY_S, keepalive_s=5, replay_rate_per_s=20)
    async with Store(tmp_path / "room.db") as store:
        writer = StorageWriter(store, hub, flush_interval_s=0.1)
        await writer.start()
        async with running(config, store, hub) as publisher:
            streams = [
                asyncio.create_task(produce(hub, Quantity.HEART_RATE, "bpm", made)),
                asyncio.create_task(produce(hub, Quantity.SPO2, "%", made)),
            ]
            await consumer.wait_for(lambda ms: len(ms) >= 6)
            await asyncio.to_thread(broker.stop)
            first_in_outage = len(made)
            await asyncio.sleep(OUTAGE_S)  # the outage itself: nothing to wait for but time
            await asyncio.to_thread(broker.start)
            last_in_outage = len(made)
            await consumer.wait_for(lambda ms: any("/history/" in m.topic for m in ms), within_s=60)
            await asyncio.sleep(3.0)  # live readings after the return, while history drains
            for task in streams:
                task.cancel()
            async with asyncio.timeout(120):
                # polling the database: no event says "all stored and sent"
                while store.last_seq < len(made) or await store.pending(0, 1):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            await writer.stop()
            seqs = await store.call(
                lambda db: [row[0] for row in db.conn.execute("SELECT seq FROM outbox WHERE kind = 'reading'")]
            )
            stats = publisher.stats
    got = consumer.snapshot()
    assert len(seqs) == len(made)

    series = complete_series(got)
    assert set(series) == {"heart_rate", "spo2"}
    delivered = sorted(seq for by_seq in series.values() for seq in by_seq)
    assert delivered == sorted(seqs)  # every reading once: live or on history

    window = {(r.quantity.value, r.ts.isoformat(timespec="milliseconds")) for r in made[first_in_outage:last_in_outage]}
    shown = {(q, body["ts"].replace("Z", "+00:00")) for q, by_seq in series.items() for body in by_seq.values()}
    assert window <= shown  # in particular every reading made while the broker was away

    history = [m for m in got if "/history/" in m.topic]
    live = [m for m in got if "/vitals/" in m.topic]
    assert stats.history > 0
    assert len({m.json()["seq"] for m in history}) >= stats.expired  # the ones past their life at the return
    schema = all_schemas(strict=True)["vital_history"]
    for m in history:
        assert m.expiry is None
        assert not m.retain
        jsonschema.validate(m.json(), schema)
    for m in live:
        assert m.expiry is not None
        assert datetime.fromisoformat(m.json()["ts"]).timestamp() + EXPIRY_S > m.at  # never past its life
    for topic in {m.topic for m in history}:
        on_topic = [m.json()["seq"] for m in history if m.topic == topic]
        assert on_topic == sorted(on_topic)  # in seq order (a repeat after a reconnect aside: none here)


async def test_home_assistant_discovery_never_names_a_history_topic(
    broker: Broker, subscribe: Subscribe, hub: Hub
) -> None:
    """A reading past its life goes on history; discovery announces its quantity on the live topic only."""
    sub = await subscribe(broker.port, (f"{ROOT}/#", "homeassistant/#"))
    outbox = MemoryOutbox()
    old = datetime.now(UTC) - timedelta(seconds=EXPIRY_S + 5)
    outbox.add(Reading(quantity=Quantity.SPO2, value=97.0, unit="%", device="oxi", ts=old))
    outbox.add(Reading(quantity=Quantity.HEART_RATE, value=70.0, unit="bpm", device="strap", ts=old))
    async with running(mqtt_config(broker.port, ha_discovery=True, vitals_expiry_s=EXPIRY_S), outbox, hub):
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        outbox.add(Reading(quantity=Quantity.SPO2, value=96.0, unit="%", device="oxi", ts=datetime.now(UTC)))
        got = await sub.wait_for(
            lambda ms: (
                {f"{ROOT}/history/spo2", f"{ROOT}/history/heart_rate", f"{ROOT}/vitals/spo2"} <= {m.topic for m in ms}
            )
        )
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
    configs = [m.payload.decode() for m in got if m.topic.startswith("homeassistant/")]
    assert any(f'"{ROOT}/vitals/spo2"' in c for c in configs)
    assert not any("/history/" in c for c in configs)
    assert [m.json()["value"] for m in got if m.topic == f"{ROOT}/history/spo2"] == [97.0]


async def test_a_reading_written_live_but_already_past_its_life_goes_on_history_not_live(
    broker: Broker, subscribe: Subscribe, hub: Hub
) -> None:
    """A wearable's stored measurement handed over late (its ts a minute old) while connected: never a live value."""
    sub = await subscribe(broker.port, (f"{ROOT}/vitals/#", f"{ROOT}/history/#"))
    outbox = MemoryOutbox()
    async with running(mqtt_config(broker.port, vitals_expiry_s=EXPIRY_S), outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        await asyncio.wait_for(outbox.wait_all_sent(), 20)  # the start-up list: the live lane owns what comes now
        old = datetime.now(UTC) - timedelta(seconds=60)
        late = outbox.add(Reading(quantity=Quantity.SYSTOLIC, value=118.0, unit="mmHg", device="cuff", ts=old))
        fresh = outbox.add(
            Reading(quantity=Quantity.SYSTOLIC, value=121.0, unit="mmHg", device="cuff", ts=datetime.now(UTC))
        )
        got = await sub.wait_for(lambda ms: len(ms) >= 2)
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
    by_topic = {m.topic: m.json()["seq"] for m in got}
    assert by_topic == {f"{ROOT}/history/systolic": late.seq, f"{ROOT}/vitals/systolic": fresh.seq}
    assert publisher.stats.history == 1


async def test_a_restart_in_the_middle_of_the_history_drain_loses_and_reorders_nothing(
    start_broker: Callable[..., Broker], subscribe: Subscribe, hub: Hub
) -> None:
    """Forty readings past their life drain at 10/s; the broker goes away mid-drain and roomctl is stopped meanwhile
    (nothing can be flushed), then both start again: the rest follow, and the per-topic rule keeps each once, in order."""
    broker = start_broker(persistence=True)
    recorder = await subscribe(broker.port, (f"{ROOT}/history/#",), client_id="recorder", persistent=True)
    outbox = MemoryOutbox()
    old = datetime.now(UTC) - timedelta(seconds=EXPIRY_S + 30)
    made = [
        outbox.add(Reading(quantity=Quantity.HEART_RATE, value=60.0 + i, unit="bpm", device="strap",
                           ts=old + timedelta(milliseconds=100 * i))).seq
        for i in range(40)
    ]  # fmt: skip
    config = mqtt_config(broker.port, vitals_expiry_s=EXPIRY_S, replay_rate_per_s=10)
    async with running(config, outbox, hub):
        await recorder.wait_for(lambda ms: len(ms) >= 12)  # past the one-second burst: the drain under way
        await asyncio.to_thread(broker.stop)
    left = set(made) - outbox.sent
    assert left, "the drain should not be over when the broker went"
    await asyncio.to_thread(broker.start)
    async with running(config, outbox, hub):
        await asyncio.wait_for(outbox.wait_all_sent(), 30)
        got = await recorder.wait_for(lambda ms: {m.json()["seq"] for m in ms} >= set(made))
    seqs = [m.json()["seq"] for m in got]
    kept = [seq for i, seq in enumerate(seqs) if seq > max(seqs[:i], default=0)]  # the per-topic rule
    assert kept == made  # each once, in seq order, none dropped as a repeat
