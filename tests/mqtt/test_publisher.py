"""End to end against a real mosquitto: topics, retained flags, expiry, schemas, seq, PUBACK bookkeeping, goodbye."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import jsonschema

from roomctl.hub import Hub
from roomctl.mqtt.schemas import entry_for
from tests.mqtt.broker import Broker
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
    broker: Broker, subscribers: list[Subscriber], shipped_schemas: dict[str, dict[str, Any]]
) -> None:
    sub = Subscriber(broker.port, (f"{ROOT}/#", "homeassistant/#"))
    subscribers.append(sub)
    await sub.wait_subscribed()
    outbox, hub = MemoryOutbox(), Hub()
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
    for msg in messages:
        validate(msg, shipped_schemas)
    topics = {m.topic for m in messages}
    for suffix in ("status", "info", "session", "devices/oxi", "vitals/spo2", "vitals/pulse_rate", "vitals/rr_intervals",
                   "alarms", "alarms/active", "events", "lighting", "vitals/heart_rate"):  # fmt: skip
        assert f"{ROOT}/{suffix}" in topics, suffix
    assert [m.payload for m in messages if m.topic == f"{ROOT}/status"] == [b"online", b"offline"]
    # seq: every outbox record once, in order
    seqs = [
        m.json()["seq"]
        for m in messages
        if m.topic.startswith(ROOT) and m.topic.split("/")[-1] not in ("status", "info", "active")
    ]
    assert seqs == sorted(outbox.records)
    # live vitals carry the MQTT v5 expiry; retained state does not
    vitals = [m for m in messages if "/vitals/" in m.topic]
    assert vitals
    assert all(m.expiry is not None and 40 <= m.expiry <= 45 for m in vitals)
    assert all(m.expiry is None for m in messages if m.retain)
    # alarms/active follows the alarm events: raised, then empty after clear
    active = [m.json()["alarms"] for m in messages if m.topic == f"{ROOT}/alarms/active"]
    assert [len(a) for a in active] == [0, 1, 0]
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
    assert "object_id" not in spo2  # deprecated by Home Assistant 2025.10


async def test_retained_state_after_clean_shutdown(broker: Broker, subscribers: list[Subscriber]) -> None:
    outbox = MemoryOutbox()
    for event in one_of_each(datetime.now(UTC)):
        outbox.add(event)
    async with running(mqtt_config(broker.port), outbox):
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


async def test_a_bad_record_is_skipped_not_stuck(broker: Broker, subscribers: list[Subscriber]) -> None:
    sub = Subscriber(broker.port, (f"{ROOT}/vitals/#",))
    subscribers.append(sub)
    await sub.wait_subscribed()
    outbox = MemoryOutbox()
    outbox.add_raw("reading", "{not json")
    outbox.add_raw("mystery", "{}")
    outbox.add(reading(3))
    async with running(mqtt_config(broker.port), outbox) as publisher:
        await asyncio.wait_for(outbox.wait_all_sent(), 20)
        got = await sub.wait_for(lambda ms: len(ms) >= 1)
        assert publisher.stats.skipped == 2
    assert got[0].json()["seq"] == 3
