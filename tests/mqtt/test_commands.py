"""Commands over MQTT: opt-in, behind the broker's ACL, strictly validated; anything else rejected and never acted on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.commands import SetLimit, SetScene
from roomctl.hub import Hub
from roomctl.models import Quantity
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.helpers import ACL, ROOT, RecordingHandler, credentials_file, mqtt_config, running, send
from tests.mqtt.memory_outbox import MemoryOutbox
from tests.mqtt.subscriber import Subscriber


async def test_commands_are_validated_and_only_allowed_ones_act(
    start_broker: Callable[..., Broker],
    tmp_path: Path,
    subscribers: list[Subscriber],
    caplog: pytest.LogCaptureFixture,
    shipped_schemas: dict[str, dict[str, Any]],
    hub: Hub,
) -> None:
    broker = start_broker(users={"willow": "r-pw", "console": "d-pw", "dashboard": "v-pw"}, acl=ACL)
    dash = Subscriber(broker.port, (f"{ROOT}/cmd/result/#",), auth=("console", "d-pw"))
    viewer = Subscriber(broker.port, (f"{ROOT}/status",), auth=("dashboard", "v-pw"))
    subscribers += [dash, viewer]
    await dash.wait_subscribed()
    await viewer.wait_subscribed()
    handler = RecordingHandler()
    config = mqtt_config(
        broker.port, commands_enabled=True, credentials_file=credentials_file(tmp_path, "willow", "r-pw")
    )
    caplog.set_level(logging.INFO, logger="roomctl.mqtt")
    async with running(config, MemoryOutbox(), hub, commands=handler) as publisher:
        await asyncio.wait_for(publisher.commands_ready.wait(), 20)
        await send(dash, b"{oops")
        await send(dash, b'{"command": "end_session"}')
        await send(dash, b'{"command": "set_level", "level": 7}')
        await send(dash, b'{"command": "set_scene", "scene": "calm"}', retain=True)
        rejected = await dash.wait_for(lambda ms: len(ms) >= 4)
        await send(viewer, b'{"command": "set_scene", "scene": "sneaky"}')  # the broker's ACL drops it
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = f"{ROOT}/cmd/result/dash"
        props.CorrelationData = b"req-1"
        await send(dash, b'{"command": "set_scene", "scene": "calm"}', props=props)
        results = await dash.wait_for(lambda ms: len(ms) >= 5)
    for result in results:
        jsonschema.validate(result.json(), shipped_schemas["command_result"])
    assert [r.json()["ok"] for r in rejected] == [False] * 4
    reasons = [r.json()["message"] for r in rejected]
    assert reasons[0].startswith("command refused: not valid JSON")
    assert (
        reasons[1]
        == "command refused: 'end_session' is not allowed over MQTT (only acknowledge, reset_lighting, set_level, set_limit, set_scene)"
    )
    assert reasons[2] == "command refused: level must be at most 1"
    assert reasons[3].startswith("retained message")
    for reason in reasons:
        assert f"MQTT command rejected: {reason}" in caplog.text
    assert handler.handled == [(SetScene(scene="calm"), "mqtt")]  # never the malformed, disallowed or unauthorised ones
    answer = results[4]
    assert answer.topic == f"{ROOT}/cmd/result/dash"
    assert answer.json() | {"ts": None} == {"ok": True, "command": "set_scene", "message": "did set_scene", "ts": None}
    assert "Denied PUBLISH from" in broker.log_path.read_text()  # the viewer's attempt, refused by the broker


async def test_commands_are_off_by_default(broker: Broker, subscribe: Subscribe, hub: Hub) -> None:
    handler = RecordingHandler()
    dash = await subscribe(broker.port, (f"{ROOT}/#",))
    async with running(mqtt_config(broker.port), MemoryOutbox(), hub, commands=handler) as publisher:
        await asyncio.wait_for(publisher.connected.wait(), 20)
        await send(dash, b'{"command": "set_scene", "scene": "calm"}')
        await send(dash, b'{"command": "reset_lighting"}')
        # the publisher is still alive and publishing: its goodbye arrives after the commands
    messages = await dash.wait_for(lambda ms: any(m.payload == b"offline" for m in ms))
    assert handler.handled == []
    assert not any(m.topic.startswith(f"{ROOT}/cmd/result") for m in messages)


async def test_set_limit_may_come_over_mqtt_when_commands_are_enabled(
    broker: Broker,
    subscribe: Subscribe,
    hub: Hub,
) -> None:
    dash = await subscribe(broker.port, (f"{ROOT}/cmd/result/#",))
    handler = RecordingHandler()
    async with running(
        mqtt_config(broker.port, commands_enabled=True), MemoryOutbox(), hub, commands=handler
    ) as publisher:
        await asyncio.wait_for(publisher.commands_ready.wait(), 20)
        await send(dash, b'{"command": "set_limit", "quantity": "spo2", "low": 101, "high": 100}')
        await send(dash, b'{"command": "set_limit", "quantity": "heart_rate", "high": 140}')
        results = await dash.wait_for(lambda ms: len(ms) >= 2)
    assert [r.json()["ok"] for r in results] == [False, True]
    assert "low 101 must be below high 100" in results[0].json()["message"]
    assert handler.handled == [(SetLimit(quantity=Quantity.HEART_RATE, high=140), "mqtt")]
