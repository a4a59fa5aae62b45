"""``alarms/active`` follows the outbox's ``seq``, never wall time: a wall step of ±1 h loses no alarm (real mosquitto)."""

from __future__ import annotations

import asyncio
import contextlib

from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import AlarmAction
from roomctl.mqtt.publisher import MqttPublisher
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.events import alarm
from tests.mqtt.helpers import ROOM, ROOT, mqtt_config
from tests.mqtt.memory_outbox import MemoryOutbox


async def test_a_wall_step_either_way_loses_no_alarm_from_the_retained_list(
    broker: Broker,
    subscribe: Subscribe,
    hub: Hub,
    clock: FakeClock,
) -> None:
    sub = await subscribe(broker.port, (f"{ROOT}/alarms/active",))
    outbox = MemoryOutbox()
    publisher = MqttPublisher(mqtt_config(broker.port), ROOM, outbox, hub, clock=clock, config_summary="test")
    task = asyncio.create_task(publisher.run())
    try:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        clock.jump_wall(-3600)  # NTP steps the clock back an hour after the start
        first = alarm(AlarmAction.RAISED, clock.now()).model_copy(deep=True)
        outbox.add(first)
        clock.jump_wall(+7200)  # and then forward past the start again
        second = alarm(AlarmAction.RAISED, clock.now())
        second = second.model_copy(update={"alarm": second.alarm.model_copy(update={"id": "a2"})})
        outbox.add(second)
        messages = await sub.wait_for(lambda ms: any(len(m.json()["alarms"]) == 2 for m in ms))
        assert [a["id"] for a in messages[-1].json()["alarms"]] == ["a1", "a2"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
