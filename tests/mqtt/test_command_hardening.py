"""Hostile commands over MQTT (real mosquitto with ACLs): a reply only on the room's own reply subtree, every command
answered (or ``dropped: busy``), and nothing a sender does stops the MQTT part."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.commands import Command, CommandResult, SetScene
from roomctl.config.mqtt import MqttConfig
from roomctl.hub import Hub
from roomctl.mqtt.commands_in import BUSY, QUEUE_LIMIT, check_response_topic
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.helpers import ACL, ROOT, RecordingHandler, credentials_file, mqtt_config, running, send
from tests.mqtt.memory_outbox import MemoryOutbox
from tests.mqtt.subscriber import Subscriber

RESULT = f"{ROOT}/cmd/result"


def asking(response_topic: str, correlation: bytes) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ResponseTopic = response_topic
    props.CorrelationData = correlation
    return props


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        (f"{RESULT}/dash", None),
        (RESULT, None),
        (f"{RESULT}/+", "not a topic roomctl can publish to"),
        (f"{ROOT}/cmd/#", "not a topic roomctl can publish to"),
        (f"{ROOT}/status", "not under this room's reply topic"),
        (f"{ROOT}/alarms/active", "not under this room's reply topic"),
        ("roomctl/clinic/oak/cmd/result", "not under this room's reply topic"),
        (f"{RESULT}x", "not under this room's reply topic"),
        ("", "empty"),
        (f"{RESULT}/" + "x" * 300, "at most 256"),
        (f"{RESULT}/a\0b", "NUL"),
    ],
)
def test_response_topic_rule(topic: str, reason: str | None) -> None:
    problem = check_response_topic(topic, RESULT)
    assert problem is None if reason is None else reason in (problem or "")


async def room_with_console(
    start_broker: Callable[..., Broker], tmp_path: Path, subscribe: Subscribe, topic: str
) -> tuple[Subscriber, MqttConfig]:
    """A broker with passwords and the ACL; the console subscribed to ``topic``; the room's config, commands on."""
    broker = start_broker(users={"willow": "r-pw", "console": "d-pw"}, acl=ACL)
    console = await subscribe(broker.port, (topic,), auth=("console", "d-pw"))
    credentials = credentials_file(tmp_path, "willow", "r-pw")
    return console, mqtt_config(broker.port, commands_enabled=True, credentials_file=credentials)


async def test_a_reply_goes_only_under_the_rooms_reply_topic_and_the_mqtt_part_survives(
    start_broker: Callable[..., Broker],
    tmp_path: Path,
    subscribe: Subscribe,
    caplog: pytest.LogCaptureFixture,
    hub: Hub,
) -> None:
    # the console reads everything of the room: it would see a reply that lands on status or alarms/active
    dash, config = await room_with_console(start_broker, tmp_path, subscribe, f"{ROOT}/#")
    handler = RecordingHandler()
    caplog.set_level(logging.INFO, logger="roomctl.mqtt")
    good = b'{"command": "set_scene", "scene": "calm"}'
    hostile = [f"{RESULT}/+", f"{ROOT}/cmd/#", f"{ROOT}/status", f"{ROOT}/alarms/active", "roomctl/clinic/oak/cmd"]
    async with running(config, MemoryOutbox(), hub, commands=handler) as publisher:
        await asyncio.wait_for(publisher.commands_ready.wait(), 20)
        for n, topic in enumerate(hostile):
            await send(dash, good, props=asking(topic, f"bad-{n}".encode()))
        # the same hostile request retained: it comes back on every (re)subscription and must not loop
        await send(dash, good, retain=True, props=asking(f"{RESULT}/+", b"retained"))
        await send(dash, good, props=asking(f"{RESULT}/dash", b"good"))
        messages = await dash.wait_for(
            lambda ms: any(m.correlation == b"good" and m.topic.startswith(RESULT) for m in ms)
        )
        replies = {m.correlation: m for m in messages if m.topic.startswith(RESULT)}
        for n in range(len(hostile)):
            reply = replies[f"bad-{n}".encode()]
            assert reply.topic == RESULT  # answered on the room's own reply topic, never where it asked
            assert reply.json()["ok"] is False
            assert reply.json()["message"].startswith("command refused: the response topic")
        assert replies[b"retained"].topic == RESULT
        assert replies[b"good"].topic == f"{RESULT}/dash"
        assert replies[b"good"].json()["ok"] is True
        assert handler.handled == [(SetScene(scene="calm"), "mqtt")]  # only the good one acted on
        # nothing landed on status or alarms/active but the room's own retained state
        assert [m.payload for m in messages if m.topic == f"{ROOT}/status"] == [b"online"]
        assert not any(b'"command"' in m.payload for m in messages if m.topic == f"{ROOT}/alarms/active")
        assert not any(m.topic.startswith("roomctl/clinic/oak") for m in messages)
        assert publisher.connected.is_set()
    assert caplog.text.count("MQTT: connected to") == 1  # the MQTT part never died and reconnected
    assert caplog.text.count("MQTT command rejected: command refused: the response topic") == len(hostile) + 1
    assert "Traceback" not in caplog.text


class GatedHandler:
    """Holds the first command until released, so commands pile up behind it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.handled: list[Command] = []

    async def handle(self, command: Command, source: str) -> CommandResult:
        await self.release.wait()
        self.handled.append(command)
        return CommandResult(ok=True, message="done")


async def test_a_flood_of_500_commands_gets_500_replies_done_or_dropped_busy(
    start_broker: Callable[..., Broker],
    tmp_path: Path,
    subscribe: Subscribe,
    caplog: pytest.LogCaptureFixture,
    hub: Hub,
) -> None:
    dash, config = await room_with_console(start_broker, tmp_path, subscribe, f"{RESULT}/#")
    handler = GatedHandler()
    caplog.set_level(logging.INFO, logger="roomctl.mqtt")
    async with running(config, MemoryOutbox(), hub, commands=handler) as publisher:
        await asyncio.wait_for(publisher.commands_ready.wait(), 20)
        infos = [
            dash.client.publish(
                f"{ROOT}/cmd", b'{"command": "set_level", "level": 0.5}', qos=1, properties=asking(RESULT, b"%d" % i)
            )
            for i in range(500)
        ]
        for info in infos:
            await asyncio.to_thread(info.wait_for_publish, 30)
        # the ones that found the queue full are answered at once, without waiting for the handler
        await dash.wait_for(lambda ms: len(ms) >= 500 - QUEUE_LIMIT - 1, within_s=60)
        handler.release.set()
        messages = await dash.wait_for(lambda ms: len(ms) >= 500, within_s=60)
    by_request = {m.correlation: m.json() for m in messages}
    assert len(messages) == 500
    assert set(by_request) == {b"%d" % i for i in range(500)}  # each request answered exactly once
    done = [r for r in by_request.values() if r["ok"]]
    busy = [r for r in by_request.values() if not r["ok"]]
    assert QUEUE_LIMIT <= len(done) <= QUEUE_LIMIT + 1
    assert len(done) == len(handler.handled)
    assert all(r["message"].startswith(BUSY) for r in busy)
    assert len(done) + len(busy) == 500
    assert caplog.text.count(BUSY) <= 3  # the busy warning is rate-limited, not one line per dropped command
    assert caplog.text.count("MQTT: connected to") == 1  # 500 replies never crowd the publisher off its connection


async def test_deep_nesting_and_huge_numbers_get_a_reply_in_words(
    start_broker: Callable[..., Broker],
    tmp_path: Path,
    subscribe: Subscribe,
    caplog: pytest.LogCaptureFixture,
    hub: Hub,
) -> None:
    dash, config = await room_with_console(start_broker, tmp_path, subscribe, f"{RESULT}/#")
    caplog.set_level(logging.INFO, logger="roomctl.mqtt")
    hostile = {
        b"deep": b'{"command": "set_level", "level": ' + b"[" * 900 + b"]" * 900 + b"}",
        b"digits": b'{"command": "set_level", "level": ' + b"9" * 1900 + b"}",
        b"huge": b'{"command": "set_level", "level": ' + b"9" * 5000 + b"}",
        b"nan": b'{"command": "set_level", "level": NaN}',
    }
    async with running(config, MemoryOutbox(), hub, commands=RecordingHandler()) as publisher:
        await asyncio.wait_for(publisher.commands_ready.wait(), 20)
        for correlation, payload in hostile.items():
            await send(dash, payload, props=asking(RESULT, correlation))
        messages = await dash.wait_for(lambda ms: len(ms) >= len(hostile))
    replies = {m.correlation: m.json()["message"] for m in messages}
    assert replies[b"deep"] == "command refused: nested 901 levels deep; at most 8 are accepted"
    assert replies[b"digits"].startswith("command refused: a number with 1900 digits is not acceptable")
    assert replies[b"huge"] == "command refused: 5035 bytes is over the 2048-byte limit"
    assert replies[b"nan"] == "command refused: NaN is not a number JSON allows"
    assert "Traceback" not in caplog.text
