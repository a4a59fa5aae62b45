"""The lean QoS 1 path of :class:`RoomClient` against a real mosquitto: what paho would have sent, cheaper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.config.mqtt import BrokerConfig
from roomctl.mqtt.connection import BrokerUnavailable, Connection
from roomctl.mqtt.room_client import ExpiryProperties, RoomClient
from tests.mqtt.broker import Broker
from tests.mqtt.conftest import Subscribe
from tests.mqtt.subscriber import Subscriber


class CountingClient(RoomClient):
    """Counts what goes to the socket (one ``send`` per burst, not per message); with ``max_send`` the socket takes
    at most that many bytes per ``send``, so queued messages are often half sent when more come."""

    def __init__(self, client_id: str, max_send: int | None = None) -> None:
        super().__init__(client_id)
        self.sends = 0
        self.partial = 0
        self.max_send = max_send

    def _sock_send(self, buf: bytes | bytearray) -> int:
        self.sends += 1
        if self.max_send is not None and len(buf) > self.max_send:
            self.partial += 1
            buf = buf[: self.max_send]
        return super()._sock_send(buf)


@asynccontextmanager
async def connected(broker: Broker, client: RoomClient, **auth: str) -> AsyncIterator[Connection]:
    credentials = (auth["user"], auth["password"]) if auth else None
    conn = await Connection.open(
        BrokerConfig(host="127.0.0.1", port=broker.port),
        client,
        will_topic=None,
        ssl_context=None,
        credentials=credentials,
    )
    try:
        yield conn
    finally:
        await conn.disconnect(5)
        conn.close()


def acks_into(
    conn: Connection, count: int, calls: list[int] | None = None
) -> tuple[dict[int, tuple[bool, str]], asyncio.Event]:
    acks: dict[int, tuple[bool, str]] = {}
    done = asyncio.Event()

    def on_acks(mids: list[int], ok: bool, reason: str) -> None:
        if calls is not None:
            calls.append(len(mids))
        for mid in mids:
            assert mid not in acks, f"mid {mid} acknowledged twice"
            acks[mid] = (ok, reason)
        if len(acks) >= count:
            done.set()

    conn.on_acks = on_acks
    return acks, done


def test_expiry_properties_pack_as_paho_does() -> None:
    for seconds in (0, 1, 29, 300, 2**32 - 1):
        theirs = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        theirs.MessageExpiryInterval = seconds
        assert ExpiryProperties(seconds).pack() == theirs.pack()  # type: ignore[no-untyped-call]


async def test_a_burst_is_sent_in_few_writes_and_every_message_acknowledged_and_delivered(
    broker: Broker, subscribe: Subscribe
) -> None:
    sub = await subscribe(broker.port, ["burst/#"])
    client = CountingClient("burst")
    async with connected(broker, client) as conn:
        n = 500
        calls: list[int] = []
        acks, done = acks_into(conn, n, calls)
        before = client.sends
        expiry = ExpiryProperties(30)
        mids = [
            conn.publish(f"burst/{i % 7}", f'{{"i":{i}}}'.encode(), retain=False, properties=expiry) for i in range(n)
        ]
        async with asyncio.timeout(30):
            await done.wait()
        assert sorted(acks) == sorted(mids)
        assert len(set(mids)) == n
        assert all(ok and reason == "" for ok, reason in acks.values())
        assert client.sends - before <= 10, f"{client.sends - before} writes for one burst of {n} messages"
        assert sum(calls) == n
        assert len(calls) <= n // 5, f"{len(calls)} calls for {n} PUBACKs: a run of them is one call"
        got = await sub.wait_for(lambda m: len(m) >= n)
        assert [m.json()["i"] for m in got] == list(range(n))
        assert [m.topic for m in got] == [f"burst/{i % 7}" for i in range(n)]
        assert all(m.expiry is not None and 0 < m.expiry <= 30 for m in got)
        assert all(not m.retain for m in got)


async def test_messages_published_while_earlier_ones_are_half_sent_arrive_whole_once_and_in_order(
    broker: Broker, subscribe: Subscribe
) -> None:
    sub = await subscribe(broker.port, ["trickle/#"])
    client = CountingClient("trickle", max_send=300)
    async with connected(broker, client) as conn:
        n = 400
        acks, done = acks_into(conn, n)
        mids = []
        for i in range(n):
            mids.append(
                conn.publish(f"trickle/{i % 3}", f'{{"i":{i},"pad":"{"x" * (i % 50)}"}}'.encode(), retain=False)
            )
            if i % 7 == 0:
                await asyncio.sleep(0)  # the loop writes part of what is queued
        async with asyncio.timeout(30):
            await done.wait()
        assert sorted(acks) == sorted(mids)
        assert client.partial > 10  # the case under test did happen
        got = await sub.wait_for(lambda m: len(m) >= n)
        assert [m.json()["i"] for m in got] == list(range(n))


async def test_a_confirmed_publish_among_others_is_answered_and_not_passed_on(broker: Broker) -> None:
    """A goodbye (``publish_confirmed``) waits for its own PUBACK; the PUBACKs around it still reach ``on_acks``."""
    async with connected(broker, RoomClient("mixed")) as conn:
        acks, done = acks_into(conn, 40)
        before = [conn.publish(f"mixed/{i}", b"1", retain=False) for i in range(20)]
        confirm = asyncio.create_task(conn.publish_confirmed("mixed/bye", b"0", retain=False, within_s=20))
        await asyncio.sleep(0)
        after = [conn.publish(f"mixed/{i}", b"2", retain=False) for i in range(20)]
        assert await confirm is True
        async with asyncio.timeout(20):
            await done.wait()
        assert sorted(acks) == sorted(before + after)  # the goodbye's mid is not among them


async def test_retained_flag_and_messages_without_properties(broker: Broker, subscribers: list[Subscriber]) -> None:
    client = RoomClient("retained")
    async with connected(broker, client) as conn:
        _acks, done = acks_into(conn, 1)
        conn.publish("state/room", b'{"on":true}', retain=True)
        async with asyncio.timeout(20):
            await done.wait()
    late = Subscriber(broker.port, ["state/#"])  # subscribes after: gets the retained message
    subscribers.append(late)
    got = await late.wait_for(lambda m: len(m) >= 1)
    assert got[0].retain
    assert got[0].json() == {"on": True}


async def test_a_refused_publish_is_reported_with_the_brokers_reason(
    start_broker: Callable[..., Broker],
) -> None:
    broker = start_broker(users={"room": "secret"}, acl="user room\ntopic write allowed/#\n")
    async with connected(broker, RoomClient("refused"), user="room", password="secret") as conn:
        acks, done = acks_into(conn, 2)
        good = conn.publish("allowed/x", b"1", retain=False)
        bad = conn.publish("denied/x", b"1", retain=False)
        async with asyncio.timeout(20):
            await done.wait()
    assert acks[good] == (True, "")
    ok, reason = acks[bad]
    assert not ok
    assert "authori" in reason.lower()


async def test_large_and_many_incoming_messages_are_read_whole(broker: Broker, subscribers: list[Subscriber]) -> None:
    """Reading the socket in chunks: a message larger than a chunk, and many small ones in one read."""
    client = RoomClient("reader")
    received: list[mqtt.MQTTMessage] = []
    enough = asyncio.Event()
    big = bytes(range(256)) * 1000  # 256 kB: several chunks

    async with connected(broker, client) as conn:

        def on_message(msg: mqtt.MQTTMessage) -> None:
            received.append(msg)
            if len(received) >= 302:
                enough.set()

        conn.on_message = on_message
        conn.subscribe("in/#")
        async with asyncio.timeout(20):
            await conn.subscribed.wait()
        sender = Subscriber(broker.port, ["nothing/#"])
        subscribers.append(sender)
        sender.client.publish("in/big", big, qos=1)
        for i in range(300):
            sender.client.publish("in/small", str(i).encode(), qos=1)
        sender.client.publish("in/big", big[::-1], qos=1)
        async with asyncio.timeout(30):
            await enough.wait()
    assert received[0].payload == big
    assert received[-1].payload == big[::-1]
    assert [int(m.payload) for m in received[1:-1]] == list(range(300))


async def test_publishing_without_a_connection_is_a_clear_error(broker: Broker) -> None:
    client = RoomClient("gone")
    async with connected(broker, client) as conn:
        pass  # disconnected on leaving
    with pytest.raises(BrokerUnavailable, match="connection is gone"):
        conn.publish("any/topic", b"x", retain=False)
    async with connected(broker, RoomClient("bad-topic")) as conn:
        with pytest.raises(ValueError, match="cannot publish"):
            conn.publish("bad/+/topic", b"x", retain=False)


def test_a_client_closed_after_its_loop_ended_raises_nothing() -> None:
    """paho's ``__del__`` closes the socket and calls the socket callbacks, from whatever thread collects it, possibly
    after the event loop has closed: nothing is left to watch, and nothing may raise there."""
    import socket
    import threading

    from roomctl.mqtt.aio import LoopDriver

    loop = asyncio.new_event_loop()
    client = RoomClient("late")
    LoopDriver(client, loop)
    loop.close()
    a, b = socket.socketpair()
    errors: list[BaseException] = []

    def collect() -> None:
        try:
            client.on_socket_close(client, None, a)  # type: ignore[misc]
            client.on_socket_unregister_write(client, None, a)  # type: ignore[misc]
        except BaseException as e:
            errors.append(e)

    try:
        worker = threading.Thread(target=collect)
        worker.start()
        worker.join()
    finally:
        a.close()
        b.close()
    assert errors == []
