"""End to end against a real mosquitto: topics, retained flags, expiry, schemas, seq, PUBACK bookkeeping, goodbye."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime
from typing import Any

import jsonschema

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import SystemClock
from roomctl.config.alarms import AlarmsConfig
from roomctl.hub import Hub
from roomctl.models import LightingState
from roomctl.mqtt.publisher import FLUSH_TIMEOUT_S, GOODBYE_TIMEOUT_S
from roomctl.mqtt.schemas import all_schemas, entry_for
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.events import one_of_each, reading
from tests.mqtt.helpers import ROOT, mqtt_config, running
from tests.mqtt.memory_outbox import MemoryOutbox
from tests.mqtt.subscriber import Received, Subscriber


def validate(msg: Received, schemas: dict[str, dict[str, Any]]) -> None:
    if msg.topic.startswith("homeassistant/"):
        body = msg.json()
        assert body["availability_topic"] == f"{ROOT}/status"
        assert body["state_topic"].startswith(ROOT + "/")
        return
    entry = entry_for(msg.topic.removeprefix(ROOT + "/"))
    assert entry is not None, msg.topic
    assert msg.retain == entry.retained, msg.topic
    if entry.name == "status":
        jsonschema.validate(msg.payload.decode(), schemas["status"])
    else:
        jsonschema.validate(msg.json(), schemas[entry.name])


async def test_every_kind_is_published_validates_and_is_marked_sent(
    broker: Broker,
    subscribe: Subscribe,
    shipped_schemas: dict[str, dict[str, Any]],
    hub: Hub,
) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/#", "homeassistant/#"))
    outbox = MemoryOutbox()
    config = mqtt_config(broker.port, ha_discovery=True, vitals_expiry_s=45)
    async with running(config, outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        events = one_of_each(datetime.now(UTC))
        for event in events:
            outbox.add(event, session="s1")
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        assert hub.state.health["mqtt"].ok
        await sub.wait_for(
            lambda ms: (
                sum(1 for m in ms if '"seq":' in m.payload.decode() and m.topic != f"{ROOT}/alarms/active")
                >= len(events)
            )
        )
        live = [*outbox.records]
        outbox.add(reading(1))  # a reading after the first batch: still flows
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        await sub.wait_for(lambda ms: any(m.topic == f"{ROOT}/vitals/heart_rate" for m in ms))
        assert publisher.stats.acknowledged == len(live) + 1

    messages = await sub.wait_for(lambda ms: any(m.topic == f"{ROOT}/status" and m.payload == b"offline" for m in ms))
    strict = all_schemas(strict=True)  # the project's own check: exactly this version's shape
    for msg in messages:
        validate(msg, strict)
        validate(msg, shipped_schemas)
    topics = {m.topic for m in messages}
    for suffix in ("status", "info", "session", "devices/oxi", "vitals/spo2", "vitals/pulse_rate", "vitals/rr_intervals",
                   "alarms", "alarms/active", "events", "lighting", "vitals/heart_rate"):  # fmt: skip
        assert f"{ROOT}/{suffix}" in topics, suffix
    assert [m.payload for m in messages if m.topic == f"{ROOT}/status"] == [b"online", b"offline"]
    # seq: every outbox record once, each topic in seq order (live vitals have a lane of their own)
    records = [m for m in messages if m.topic.startswith(ROOT) and m.topic.split("/")[-1] not in ("status", "info")]
    by_topic: dict[str, list[int]] = {}
    for m in records:
        by_topic.setdefault(m.topic, []).append(m.json()["seq"])
    assert all(seqs == sorted(set(seqs)) for seqs in by_topic.values()), by_topic
    assert {m.json()["seq"] for m in records if not m.topic.endswith("/active")} | {1} == set(outbox.records)
    assert outbox.records[1].kind == "alarms_active"  # the start-up list's own record
    # live vitals carry the MQTT v5 expiry; retained state does not
    vitals = [m for m in messages if "/vitals/" in m.topic]
    assert vitals
    assert all(m.expiry is not None and 40 <= m.expiry <= 45 for m in vitals)
    assert all(m.expiry is None for m in messages if m.retain)
    # alarms/active follows the alarm events: raised, then empty after clear
    active = [m.json()["alarms"] for m in messages if m.topic == f"{ROOT}/alarms/active"]
    assert [len(a) for a in active] == [0, 1, 0]
    assert by_topic[f"{ROOT}/alarms/active"][0] == 1  # the start-up list, under its own record's seq
    # per-device availability, latest state retained
    devices = [m.json() for m in messages if m.topic == f"{ROOT}/devices/oxi"]
    assert [(d["state"], d["available"]) for d in devices] == [("connected", True), ("stale", False)]
    info = next(m.json() for m in messages if m.topic == f"{ROOT}/info")
    assert (info["site"], info["room"], info["config"], info["tls"]) == ("clinic", "willow", "test room", False)
    discovered = {m.topic for m in messages if m.topic.startswith("homeassistant/")}
    assert "homeassistant/sensor/roomctl_clinic_willow/spo2/config" in discovered
    assert "homeassistant/sensor/roomctl_clinic_willow/device_oxi/config" in discovered
    spo2 = next(m.json() for m in messages if m.topic.endswith("/spo2/config"))
    assert (spo2["expire_after"], spo2["unit_of_measurement"]) == (45, "%")
    assert spo2["default_entity_id"] == "sensor.roomctl_clinic_willow_spo2"
    assert spo2["object_id"] == "roomctl_clinic_willow_spo2"  # read up to Home Assistant 2025.9


async def test_retained_state_after_clean_shutdown(broker: Broker, subscribers: list[Subscriber], hub: Hub) -> None:
    outbox = MemoryOutbox()
    for event in one_of_each(datetime.now(UTC)):
        outbox.add(event)
    async with running(mqtt_config(broker.port), outbox, hub):
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
    late = Subscriber(broker.port, (f"{ROOT}/#",))
    subscribers.append(late)
    retained = await late.wait_for(
        lambda ms: {m.topic for m in ms} >= {f"{ROOT}/status", f"{ROOT}/lighting", f"{ROOT}/devices/oxi"}
    )
    by_topic = {m.topic: m for m in retained}
    assert by_topic[f"{ROOT}/status"].payload == b"offline"
    assert by_topic[f"{ROOT}/devices/oxi"].json()["state"] == "stale"
    assert all(m.retain for m in retained)
    assert not any("/vitals/" in m.topic or m.topic.endswith("/alarms") for m in retained)


async def test_a_record_that_cannot_be_encoded_stops_publishing_loudly(
    broker: Broker,
    subscribe: Subscribe,
    hub: Hub,
) -> None:
    """A renamed field (here: ``value`` missing) must not be marked sent and lost: a technical alarm, ``offline``."""
    sub = await subscribe(broker.port, (f"{ROOT}/#",))
    outbox = MemoryOutbox()
    hub.add_processor(AlarmEngine(AlarmsConfig(), [], clock=SystemClock()))  # the real engine: a technical alarm
    outbox.add(reading(1))
    bad = json.loads(reading(2).model_dump_json())
    bad["reading"] = bad.pop("value")
    broken = outbox.add_raw("reading", json.dumps(bad))
    outbox.add(reading(3))
    async with running(mqtt_config(broker.port), outbox, hub) as publisher:
        got = await sub.wait_for(lambda ms: any(m.topic == f"{ROOT}/status" and m.payload == b"offline" for m in ms))
        assert publisher.failure is not None
        health = hub.state.health["mqtt"]
        assert not health.ok
        assert f"outbox record {broken.seq} (reading)" in health.detail
        assert "value" in health.detail
        (raised,) = [a for a in hub.state.alarms.values() if a.condition == "broker_unreachable"]
        assert raised.category == "technical"
        assert "publishing stopped" in raised.message
    assert broken.seq not in outbox.sent
    assert broken.seq + 1 not in outbox.sent
    vitals = [m.json()["seq"] for m in got if "/vitals/" in m.topic]
    assert vitals == [1]  # in order: nothing after the broken record either


async def test_an_unknown_record_kind_stops_publishing_too(broker: Broker, hub: Hub) -> None:
    outbox = MemoryOutbox()
    mystery = outbox.add_raw("mystery", "{}")
    async with running(mqtt_config(broker.port), outbox, hub) as publisher:
        await asyncio.wait_for(publisher.stopped.wait(), 20)
    assert "which the feed does not define" in str(publisher.failure)
    assert mystery.seq not in outbox.sent


async def test_a_clean_stop_publishes_what_is_pending_before_offline(
    broker: Broker,
    subscribe: Subscribe,
    hub: Hub,
) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/#",))
    outbox = MemoryOutbox()
    for i in range(40):
        outbox.add(reading(i))  # a backlog, paced at 2/s: it would take 20 s
    outbox.add(LightingState(scene=None, levels={"ceiling": 0.4}, reason="safe"))
    async with running(mqtt_config(broker.port, replay_rate_per_s=2), outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
    # the context cancelled the publisher at once: everything went out first, then "offline"
    got = await sub.wait_for(lambda ms: any(m.topic == f"{ROOT}/status" and m.payload == b"offline" for m in ms))
    order = [m.topic.removeprefix(ROOT + "/") for m in got if m.topic != f"{ROOT}/info"]
    assert order[-1] == "status"
    assert order.index("lighting") < len(order) - 1
    assert sum(1 for t in order if t == "vitals/heart_rate") == 40
    assert outbox.unsent == []
    assert publisher.stats.flushed >= 30


async def test_a_clean_stop_is_bounded_when_the_broker_takes_nothing(broker: Broker, hub: Hub) -> None:
    outbox = MemoryOutbox()
    async with running(mqtt_config(broker.port), outbox, hub) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGSTOP)  # the broker hangs: no acknowledgement will come
        for i in range(20):
            outbox.add(reading(i))
        await asyncio.sleep(0.5)  # let the live lane hand them to the hung broker
        start = time.monotonic()
    elapsed = time.monotonic() - start
    broker.proc.send_signal(signal.SIGCONT)
    assert elapsed < FLUSH_TIMEOUT_S + 3 * GOODBYE_TIMEOUT_S + 1.0
    assert len(outbox.unsent) >= 20  # unacknowledged: kept for the next start
