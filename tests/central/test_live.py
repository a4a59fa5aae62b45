"""The load generator and the station's feed against a real mosquitto: the real contract, end to end."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from roomctl.central.state import Facility, Urgency
from roomctl.central.subscriber import FeedReader
from roomctl.clock import SystemClock
from roomctl.config.mqtt import BrokerConfig, MqttConfig
from roomctl.loadgen.room import Rates, SimRoom
from roomctl.loadgen.runner import LoadGen, LoadOptions
from roomctl.models import Quantity
from roomctl.mqtt.schemas import entry_for
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import SCHEMA_DIR
from tests.mqtt.subscriber import Subscriber

SCHEMAS = {path.stem: json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.json")}


def validate(topic: str, payload: bytes) -> str:
    rest = topic.split("/", 3)[3]
    entry = entry_for(rest)
    assert entry is not None, f"{topic}: not a topic of the contract"
    body: Any = payload.decode() if entry.name == "status" else json.loads(payload)
    jsonschema.validate(body, SCHEMAS[entry.name])
    return entry.name


async def test_loadgen_publishes_the_contract_at_real_rates(
    start_broker: Callable[..., Broker], tmp_path: Path
) -> None:
    broker = start_broker()
    sub = Subscriber(broker.port, ["roomctl/#"])
    try:
        await sub.wait_subscribed()
        alarm_log = tmp_path / "alarms.log"
        options = LoadOptions(
            rooms=3,
            mqtt=MqttConfig(enabled=True, host="127.0.0.1", port=broker.port),
            duration_s=12.0,
            seed=7,
            rates=Rates(alarm_every_s=2.0, dropout_every_s=4.0, offline_every_s=3.0, phase_every_s=5.0),
            offline_s=(2.0, 3.0),
            alarm_log=alarm_log,
        )
        gen = LoadGen(options)
        await gen.run()
        await sub.wait_for(lambda msgs: len(msgs) >= gen.published, within_s=30)
    finally:
        sub.close()
    kinds = Counter(validate(m.topic, m.payload) for m in sub.snapshot())
    rooms = {m.topic.split("/")[2] for m in sub.snapshot()}
    assert rooms == {"room-0001", "room-0002", "room-0003"}
    heart_rates = [m for m in sub.snapshot() if m.topic.endswith("/vitals/heart_rate")]
    assert len(heart_rates) >= 3 * 9  # about 1 Hz per room over 12 s, network cuts included (replayed)
    assert all(m.expiry is not None for m in heart_rates)
    oximeter = Counter(m.topic.rsplit("/", 1)[1] for m in sub.snapshot() if "/vitals/" in m.topic)
    assert oximeter["spo2"] >= 3
    assert oximeter["pulse_rate"] >= 3
    assert oximeter["perfusion_index"] >= 3
    assert oximeter["spo2"] < len(heart_rates)  # the oximeter dropped out for a while
    states = {json.loads(m.payload)["state"] for m in sub.snapshot() if "/devices/" in m.topic}
    assert {"connected", "disconnected"} <= states
    assert kinds["rr_intervals"] >= len(heart_rates) - 3
    statuses = [m.payload for m in sub.snapshot() if m.topic.endswith("/status")]
    assert b"offline" in statuses  # a network cut: the broker published the room's last will
    assert kinds["alarm_event"] >= 1
    assert kinds["alarms_active"] >= 1
    assert kinds["session"] >= 3
    assert kinds["device"] >= 6
    logged = alarm_log.read_text().split("\n")
    assert any(line.endswith(tuple("0123456789")) and " medium " in line for line in logged)


async def until(condition: Callable[[], bool], changed: asyncio.Event, within_s: float = 30.0) -> None:
    async with asyncio.timeout(within_s):
        while not condition():
            changed.clear()
            await changed.wait()


async def test_station_follows_a_real_room_through_alarm_and_last_will(start_broker: Callable[..., Broker]) -> None:
    broker = start_broker()
    clock = SystemClock()
    config = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, reconnect_min_s=0.2)
    rates = Rates(alarm_every_s=0, dropout_every_s=0, offline_every_s=0, phase_every_s=0)  # nothing by chance
    room = SimRoom("harbor", "willow", config, clock, random.Random(3), rates)
    facility = Facility()
    changed = asyncio.Event()
    reader = FeedReader(BrokerConfig(host="127.0.0.1", port=broker.port), ("harbor",))
    reading = asyncio.create_task(reader.run(facility, lambda key, urgent: changed.set()))
    room.start_session(clock.now())
    publisher = room.start_publisher()
    key = ("harbor", "willow")

    def shown(text: str) -> Callable[[], bool]:
        def check() -> bool:
            state = facility.rooms.get(key)
            if state is None:
                return False
            vital = state.vital(Quantity.HEART_RATE, 0, now=clock.now(), mono=clock.monotonic(), stale_s=15)
            return {"hr": vital.why == "", "offline": state.offline, "online": state.status == "online"}.get(
                text, False
            ) or (text == "alarm" and state.urgency() is Urgency.MEDIUM)

        return check

    async def ticking() -> None:
        while True:  # the room's readings keep coming (the station's two links subscribe in their own time)
            room.tick(clock.now())
            await asyncio.sleep(0.5)

    ticker = asyncio.create_task(ticking())
    try:
        # live vitals have a lane of their own (docs/mqtt.md): the session may land just after the first reading
        await until(lambda: shown("hr")() and facility.rooms[key].session is not None, changed)
        assert facility.rooms[key].name == "Room willow"
        room.raise_alarm(clock.now(), hold=True)
        await until(shown("alarm"), changed)
        room.cut_network()  # the broker sees the socket go without DISCONNECT: the last will says offline
        publisher.cancel()
        await until(shown("offline"), changed)
        assert facility.rooms[key].urgency() is Urgency.MEDIUM  # still shown with its last known alarm, never calm
        publisher = room.start_publisher()
        await until(lambda: shown("online")() and shown("hr")(), changed)
        assert reader.status.connected
    finally:
        for task in (ticker, publisher, reading):
            task.cancel()
        await asyncio.gather(ticker, publisher, reading, return_exceptions=True)
