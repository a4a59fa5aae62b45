"""The bridge chain on loopback with real mosquittos, as config/brokers/room-mosquitto.conf sets it up:

    room (roomctl's publisher) -> room broker -> bridge -> [network] -> facility broker -> roomctl central

The network between the bridge and the facility broker is cut for ROOMCTL_BRIDGE_CUT_S seconds (default 30), then
restored: every alarm and session event the room published arrives at the facility broker, in seq order, nothing
lost; the station ends with the room's true alarm list.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

from roomctl.central.state import Facility
from roomctl.central.subscriber import FeedReader
from roomctl.clock import SystemClock
from roomctl.config.mqtt import BrokerConfig, MqttConfig
from roomctl.loadgen.room import Rates, SimRoom
from tests.central.proxy import CuttableLink
from tests.mqtt.broker import Broker
from tests.mqtt.subscriber import Received, Subscriber

CUT_S = float(os.environ.get("ROOMCTL_BRIDGE_CUT_S", "30"))
SHIPPED = Path(__file__).resolve().parents[2] / "config" / "brokers" / "room-mosquitto.conf"
NOT_ON_LOOPBACK = ("bridge_cafile", "bridge_insecure", "remote_username", "remote_password")  # TLS and credentials


class RoomBroker(Broker):
    """A room's mosquitto with the shipped bridge section, pointed at ``facility_port`` without TLS or a password."""

    facility_port: int = 0

    def write_config(self) -> Path:
        conf = super().write_config()
        bridge = SHIPPED.read_text().split("# --- the bridge to the facility broker", 1)[1].splitlines()[1:]
        lines = [line for line in bridge if line.strip() and not line.startswith("#")]
        lines = [line for line in lines if line.split()[0] not in NOT_ON_LOOPBACK]
        lines = [f"address 127.0.0.1:{self.facility_port}" if line.startswith("address ") else line for line in lines]
        lines = [line.replace("restart_timeout 2 30", "restart_timeout 1 2") for line in lines]
        lines = [line.replace("harbor-clinic", "harbor") for line in lines]  # the test room's site
        conf.write_text(conf.read_text() + "\n".join(lines) + "\n")
        return conf


async def until(condition: Callable[[], bool], changed: asyncio.Event, within_s: float = 60.0) -> None:
    async with asyncio.timeout(within_s):
        while not condition():
            changed.clear()
            await changed.wait()


def records(messages: list[Received], suffix: str) -> list[int]:
    return [json.loads(m.payload)["seq"] for m in messages if m.topic.endswith(suffix)]


def in_seq_order(seqs: list[int]) -> bool:
    """The documented de-dup rule keeps every message: each seq is above the highest before it, or an exact repeat."""
    highest = 0
    for seq in seqs:
        if seq < highest:
            return False
        highest = max(highest, seq)
    return True


async def test_bridge_cut_30s_loses_nothing_and_keeps_order(
    tmp_path: Path, start_broker: Callable[..., Broker]
) -> None:
    facility = start_broker(persistence=True)
    link = CuttableLink(facility.port)
    await link.start()
    room_broker = RoomBroker(tmp_path / "room-broker", persistence=True)
    room_broker.facility_port = link.port
    room_broker.start()
    clock = SystemClock()
    config = MqttConfig(enabled=True, host="127.0.0.1", port=room_broker.port)
    rates = Rates(alarm_every_s=0, dropout_every_s=20.0, offline_every_s=0, phase_every_s=4.0)
    room = SimRoom("harbor", "willow", config, clock, random.Random(5), rates)
    at_room = Subscriber(room_broker.port, ["roomctl/#"])
    at_facility = Subscriber(facility.port, ["roomctl/#"], client_id="facility-recorder", persistent=True)
    station = Facility()
    changed = asyncio.Event()
    reader = FeedReader(BrokerConfig(host="127.0.0.1", port=facility.port), ("harbor",))
    reading = asyncio.create_task(reader.run(station, lambda key, urgent: changed.set()))
    publisher = None
    try:
        await at_room.wait_subscribed()
        await at_facility.wait_subscribed()
        room.start_session(clock.now())
        publisher = room.start_publisher()

        async def live(seconds: float) -> None:
            for second in range(int(seconds)):
                room.tick(clock.now())
                if second % 3 == 2:  # an alarm raised, then escalated or cleared, all the time
                    room.step_alarm(clock.now()) if room.alarm else room.raise_alarm(clock.now(), hold=True)
                await asyncio.sleep(1.0)  # the room's own 1 Hz

        await live(5)
        await at_facility.wait_for(lambda msgs: any(m.topic.endswith("/vitals/heart_rate") for m in msgs))
        await link.cut()
        cut_from, room_from = len(at_facility.snapshot()), len(at_room.snapshot())
        cut_for = asyncio.create_task(live(CUT_S))
        # the facility broker publishes the bridge's will: the station shows the room offline while the link is cut
        await until(lambda: station.rooms[("harbor", "willow")].offline, changed, within_s=CUT_S + 30)
        assert not cut_for.done(), "the station noticed the cut only after it ended"
        await cut_for
        during_cut = len(at_facility.snapshot()) - cut_from
        published_in_cut = at_room.snapshot()[room_from:]
        await link.restore()
        await live(3)
        await until(lambda: not station.rooms[("harbor", "willow")].offline, changed)

        def arrived(msgs: list[Received]) -> bool:
            sent = set(records(at_room.snapshot(), "/alarms")) | set(records(at_room.snapshot(), "/events"))
            got = set(records(msgs, "/alarms")) | set(records(msgs, "/events"))
            return bool(sent) and sent <= got

        await at_facility.wait_for(arrived, within_s=60)
    finally:
        if publisher is not None:
            publisher.cancel()
        reading.cancel()
        await asyncio.gather(*(t for t in (publisher, reading) if t is not None), return_exceptions=True)
        at_room.close()
        at_facility.close()
        await link.cut()
        room_broker.stop()

    room_msgs, facility_msgs = at_room.snapshot(), at_facility.snapshot()
    assert during_cut == 0, "the link was not cut"
    assert link.connections >= 2, "the bridge did not come back"
    for suffix in ("/alarms", "/events"):
        sent, got = records(room_msgs, suffix), records(facility_msgs, suffix)
        assert sent, f"the room published no {suffix} during the test"
        assert set(sent) <= set(got), f"{suffix}: lost {sorted(set(sent) - set(got))}"
        assert in_seq_order(got), f"{suffix} out of seq order at the facility: {got}"
    assert len(records(published_in_cut, "/alarms")) >= CUT_S // 3 - 1  # alarms raised and moved on during the cut
    assert records(published_in_cut, "/events")  # and session events (phase changes)
    willow = station.rooms[("harbor", "willow")]
    assert set(willow.alarms) == set(room.hub.state.alarms), "the station's alarm list is not the room's"
