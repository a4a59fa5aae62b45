"""A test subscriber: a plain paho client on its own thread that records every message it gets."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    expiry: int | None
    correlation: bytes | None = None
    at: float = 0.0  # arrival, time.time()

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    def __init__(
        self,
        port: int,
        topics: Sequence[str] = ("#",),
        *,
        client_id: str = "",
        persistent: bool = False,
        auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.messages: list[Received] = []
        self.connects = 0
        self.subscribed = 0
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._topics = topics
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(1, 1)
        if auth:
            client.username_pw_set(*auth)
        if tls:
            client.tls_set_context(tls)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 3600
        client.connect("127.0.0.1", port, keepalive=5, clean_start=not persistent, properties=props)
        client.loop_start()
        self.client = client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connects += 1
        opts = SubscribeOptions(qos=1, retainAsPublished=True)
        client.subscribe([(t, opts) for t in self._topics])
        self._loop.call_soon_threadsafe(self._changed.set)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
        self.subscribed += 1
        self._loop.call_soon_threadsafe(self._changed.set)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        expiry = getattr(props, "MessageExpiryInterval", None)
        correlation = getattr(props, "CorrelationData", None)
        with self._lock:
            self.messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), expiry, correlation, time.time())
            )
        self._loop.call_soon_threadsafe(self._changed.set)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.snapshot() if m.topic == topic]

    async def wait_for(self, predicate: Callable[[list[Received]], bool], within_s: float = 30.0) -> list[Received]:
        async with asyncio.timeout(within_s):
            while not predicate(snap := self.snapshot()):
                self._changed.clear()
                await self._changed.wait()
        return snap

    async def wait_subscribed(self, count: int = 1, within_s: float = 20.0) -> None:
        async with asyncio.timeout(within_s):
            while self.subscribed < count:
                self._changed.clear()
                await self._changed.wait()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
