"""The station's client takes plain PUBLISH packets itself (roomctl/central/station_client.py): against a real mosquitto, every
message arrives once with its expiry, QoS 1 ones acknowledged (else mosquitto stops after its in-flight window),
packets split across reads and packets with other properties still through paho's path."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.central.station_client import StationClient
from roomctl.config.mqtt import BrokerConfig
from roomctl.mqtt.connection import Connection
from tests.mqtt.broker import Broker

COUNT = 600  # QoS 1, far beyond mosquitto's in-flight window of 20 unacknowledged messages


def properties(**values: object) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    for name, value in values.items():
        setattr(props, name, value)
    return props


async def test_every_message_once_with_its_expiry(start_broker: Callable[..., Broker]) -> None:
    broker = start_broker()
    received: list[tuple[str, bytes, float | None]] = []  # taken by the station's client
    through_paho: list[tuple[str, bytes, float | None]] = []
    got = asyncio.Event()
    client = StationClient("station-test")
    conn = await Connection.open(
        BrokerConfig(host="127.0.0.1", port=broker.port), client, will_topic=None, ssl_context=None, credentials=None
    )

    def on_room_message(topic: str, payload: bytes, expiry: float | None) -> None:
        received.append((topic, payload, expiry))
        got.set()

    def on_message(msg: mqtt.MQTTMessage) -> None:
        expiry = getattr(msg.properties, "MessageExpiryInterval", None)
        through_paho.append((msg.topic, bytes(msg.payload), expiry))
        got.set()

    client.on_room_message = on_room_message
    conn.on_message = on_message
    conn.subscribe("t/#", qos=1)
    await asyncio.wait_for(conn.subscribed.wait(), 20)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pub", protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    try:
        big = bytes(range(256)) * 800  # 200 KiB: read over many chunks
        for i in range(COUNT):
            expiry = properties(MessageExpiryInterval=30) if i % 2 else None
            publisher.publish(f"t/{i}", f"m{i}".encode(), qos=1, properties=expiry)
        publisher.publish("t/big", big, qos=1, properties=properties(MessageExpiryInterval=7))
        publisher.publish("t/user", b"u", qos=1, properties=properties(UserProperty=[("a", "b")]))
        publisher.publish("t/ünï", b"utf8", qos=0)
        async with asyncio.timeout(60):
            while len(received) + len(through_paho) < COUNT + 3:
                got.clear()
                await got.wait()
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        conn.close()
    arrived = received + through_paho
    by_topic = {topic: (payload, expiry) for topic, payload, expiry in arrived}
    assert len(by_topic) == len(arrived) == COUNT + 3  # each once
    for i in range(COUNT):
        assert by_topic[f"t/{i}"] == (f"m{i}".encode(), 30.0 if i % 2 else None)
    assert by_topic["t/big"] == (big, 7.0)  # over several reads: taken whole by either path
    assert by_topic["t/ünï"] == (b"utf8", None)
    assert "t/user" in {topic for topic, _, _ in through_paho}  # other properties: paho's path
    assert len(received) >= COUNT  # the plain ones: the station's own path


def publish_packet(topic: bytes, payload: bytes, *, qos: int = 0, props: bytes = b"\x00") -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + (b"\x00\x07" if qos else b"") + props + payload
    return bytes([0x30 | qos << 1, len(body)]) + body


def test_malformed_or_partial_packets_are_left_to_paho() -> None:
    """What the fast path cannot take whole and well-formed stays in the buffer, untouched, for paho's own reading
    (which says what is wrong): never an exception in the loop, never a message made up."""
    client = StationClient("station-test")
    taken: list[tuple[str, bytes, float | None]] = []
    client.on_room_message = lambda topic, payload, expiry: taken.append((topic, payload, expiry))
    good = publish_packet(b"t/a", b"x", props=b"\x05\x02\x00\x00\x00\x1e")
    for bad in (
        bytes([0x30, 1, 0]),  # shorter than its topic length
        bytes([0x30, 4, 0, 9, 116, 47]),  # topic longer than the packet
        bytes([0x32, 5, 0, 1, 116, 0]),  # QoS 1: no room for the properties after the packet id
        bytes([0x30, 5, 0, 1, 116, 9, 1]),  # a property block longer than the packet
        good[:-1],  # not wholly read yet
        bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  # a remaining length of more than four bytes
    ):
        client._rx, client._rx_pos = bad, 0
        assert client._take_publishes() is False
        assert client._rx_pos == 0
    ours, theirs = socket.socketpair()  # a connection to take for (without one, it stops after a message)
    client._sock = ours
    try:
        client._rx, client._rx_pos = good + good, 0
        assert client._take_publishes() is True
    finally:
        client._sock = None
        ours.close()
        theirs.close()
    assert taken == [("t/a", b"x", 30.0), ("t/a", b"x", 30.0)]
    assert client._rx_pos == len(good) * 2
