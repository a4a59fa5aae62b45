"""``roomctl run`` against a real mosquitto with TLS, passwords and the ACL docs/mqtt.md recommends: hostile MQTT commands
never stop the MQTT part, and free text typed on the screen never leaves the Pi."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.api.client import send_once
from roomctl.commands import MarkEvent, StartSession
from roomctl.config.mqtt import TlsConfig
from roomctl.mqtt.connection import tls_context
from tests.daemon.helpers import MQTT_USERS, commanded_room, start_daemon, stop_process
from tests.mqtt.broker import Broker, Tls, make_ca, make_cert
from tests.mqtt.helpers import ACL
from tests.mqtt.subscriber import Subscriber

ROOT = "roomctl/demo-clinic/demo-room"
SECRET = "Jane Doe (DOB 1970-01-01)"


@dataclass
class RunningRoom:
    dir: Path
    daemon: asyncio.subprocess.Process
    console: Subscriber
    log_path: Path

    @property
    def socket_path(self) -> Path:
        return self.dir / "api.sock"


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[RunningRoom]:
    ca = make_ca(tmp_path / "pki", "test-ca")
    server = make_cert(tmp_path / "pki", "server", ca, server=True)
    pki = {"ca": ca[0]}
    broker = Broker(tmp_path / "broker", users=MQTT_USERS, acl=ACL, tls=Tls(ca[0], *server))
    broker.start()
    config = commanded_room(tmp_path, broker.port, host="localhost", extra=f'[mqtt.tls]\nca_file = "{pki["ca"]}"\n')
    tls = tls_context(TlsConfig(ca_file=pki["ca"]))
    console = Subscriber(broker.port, (f"{ROOT}/#",), auth=("console", "console-pw"), tls=tls)
    await console.wait_subscribed()
    log_path = tmp_path / "daemon.log"
    daemon = await start_daemon(config)
    try:
        await console.wait_for(lambda ms: any(m.topic == f"{ROOT}/status" and m.payload == b"online" for m in ms))
        yield RunningRoom(tmp_path, daemon, console, log_path)
    finally:
        await stop_process(daemon)
        console.close()
        broker.stop()


async def test_notes_and_break_texts_stay_on_the_pi(room: RunningRoom) -> None:
    for command in (
        StartSession(),
        MarkEvent(event="note", text=SECRET),
        MarkEvent(event="break_start", text=f"{SECRET} asked for a break"),
        MarkEvent(event="dose", amount_mg=120),
    ):
        assert (await send_once(room.socket_path, command, timeout_s=30)).ok
    messages = await room.console.wait_for(
        lambda ms: sum(1 for m in ms if m.topic == f"{ROOT}/events") >= 4, within_s=60
    )
    events = [m.json() for m in messages if m.topic == f"{ROOT}/events"]
    kinds = [e["event"] for e in events]
    assert {"note", "break_start", "dose"} <= set(kinds)
    for message in messages:
        assert b"Jane" not in message.payload, message
        assert b"1970" not in message.payload, message
    note = next(e for e in events if e["event"] == "note")
    assert set(note) == {"id", "session", "event", "ts", "data", "seq"}  # kind and time, no text
    assert next(e for e in events if e["event"] == "dose")["data"] == {"amount_mg": 120}
    # the local record keeps the text
    with sqlite3.connect(room.dir / "roomctl.db") as db:
        stored = [json.dumps(row) for row in db.execute("select * from events")]
    assert any("Jane Doe (DOB 1970-01-01)" in row for row in stored)
    assert any("asked for a break" in row for row in stored)


async def test_hostile_reply_topics_never_stop_the_mqtt_part(room: RunningRoom) -> None:
    def command(response_topic: str, correlation: bytes, retain: bool = False) -> None:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = response_topic
        props.CorrelationData = correlation
        payload = b'{"command": "set_scene", "scene": "journey"}'
        room.console.client.publish(f"{ROOT}/cmd", payload, qos=1, retain=retain, properties=props)

    command(f"{ROOT}/cmd/+", b"wild", retain=True)  # retained: comes back on every reconnect
    command(f"{ROOT}/status", b"status")
    command(f"{ROOT}/alarms/active", b"active")
    command(f"{ROOT}/cmd/result/console", b"good")
    messages = await room.console.wait_for(
        lambda ms: any(m.correlation == b"good" and m.topic == f"{ROOT}/cmd/result/console" for m in ms)
    )
    replies = {m.correlation: m for m in messages if m.topic.startswith(f"{ROOT}/cmd/result")}
    assert {replies[c].topic for c in (b"wild", b"status", b"active")} == {f"{ROOT}/cmd/result"}
    assert replies[b"good"].json()["ok"] is True
    assert [m.payload for m in messages if m.topic == f"{ROOT}/status"] == [b"online"]
    assert room.daemon.returncode is None
    log = room.log_path.read_text()
    assert log.count("MQTT: connected to") == 1  # never died, never reconnected
    assert "Traceback" not in log
