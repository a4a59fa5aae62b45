"""The station's MQTT connections: subscribe to the rooms' topics, hand each message to the facility model.

Two connections (alarms and state at QoS 1; live vitals at QoS 0), each reconnecting with backoff like a room's
publisher; retained state (status, info, devices, alarms/active, session) comes back with every subscription, so the picture is whole again a moment after the broker returns. Reads only: no will,
no publishing, no commands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import paho.mqtt.client as mqtt

from roomctl.central.state import Facility
from roomctl.central.station_client import StationClient, station_client_factory
from roomctl.clock import Clock, SystemClock
from roomctl.config.mqtt import BrokerConfig
from roomctl.mqtt.connection import (
    BrokerUnavailable,
    ClientFactory,
    Connection,
    read_credentials,
    tls_context,
)
from roomctl.quantities import STATION_VITALS

log = logging.getLogger(__name__)

ROOM_TOPICS: tuple[str, ...] = (
    "status",
    "info",
    *(f"vitals/{v.quantity.value}" for v in STATION_VITALS),
    "devices/+",
    "alarms",
    "alarms/active",
    "session",
)
"""What the station reads below each room: the rest of the feed (RR intervals, pulse rate, lighting, ...) never
reaches it, which keeps a facility's traffic to it small."""


def subscriptions(prefix: str, sites: tuple[str, ...]) -> list[str]:
    """Topic filters for the sites (``*``: every site)."""
    levels = ["+"] if "*" in sites else list(sites)
    rooms = [f"{prefix}/{site}/+/{rest}" for site in levels for rest in ROOM_TOPICS]
    return rooms + [f"{prefix}-bridge/{site}/+" for site in levels]  # per-Pi bridges' up/down (topology 2)


@dataclass
class LinkStatus:
    connected: bool = False
    detail: str = "connecting to the broker..."
    messages: int = 0


OnChange = Callable[[tuple[str, str] | None, bool], None]
"""Told the room that changed (None: the link itself changed) and whether it is urgent (anything but a new vital)."""


class Feed(Protocol):
    """Where the station's messages come from: :class:`FeedReader` (the broker), or a script in tests."""

    status: LinkStatus

    async def run(self, facility: Facility, on_change: OnChange) -> None: ...


class FeedReader:
    """Keeps a facility up to date from the broker until cancelled; calls ``on_change(room_key)`` per change."""

    def __init__(
        self,
        broker: BrokerConfig,
        sites: tuple[str, ...],
        *,
        clock: Clock | None = None,
        client_factory: ClientFactory | None = None,
        client_id: str | None = None,
    ) -> None:
        self._broker = broker
        self._filters = subscriptions(broker.topic_prefix, sites)
        self._facility = Facility(broker.topic_prefix)
        self._on_change: OnChange = lambda key, urgent: None
        self._clock = clock or SystemClock()
        self._client_factory = client_factory or station_client_factory
        self._client_id = broker.client_id or client_id or "roomctl-central"
        self._credentials = read_credentials(broker.credentials_file) if broker.credentials_file else None
        self._ssl = tls_context(broker.tls) if broker.tls is not None else None
        self.status = LinkStatus()
        self._links: dict[str, tuple[bool, str]] = {}

    async def run(self, facility: Facility, on_change: OnChange) -> None:
        """Two connections: alarms, status and state (QoS 1) on one; live vitals (QoS 0, no PUBACK each: the next
        comes within a second) on the other, so an alarm never waits in the socket behind a burst of vitals."""
        self._facility, self._on_change = facility, on_change
        state = [f for f in self._filters if "/vitals/" not in f]
        vitals = [f for f in self._filters if "/vitals/" in f]
        await asyncio.gather(self._link("state", state, 1), self._link("vitals", vitals, 0))

    async def _link(self, name: str, filters: list[str], qos: int) -> None:
        delay = self._broker.reconnect_min_s
        client_id = f"{self._client_id}-{name}"[:64]
        while True:
            try:
                conn = await Connection.open(
                    self._broker,
                    self._client_factory(client_id),
                    will_topic=None,
                    ssl_context=self._ssl,
                    credentials=self._credentials,
                )
            except BrokerUnavailable as e:
                self._set(name, False, f"{e}; retrying in {delay:.0f} s")
                log.warning("central: %s", e)
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._broker.reconnect_max_s)
                continue
            delay = self._broker.reconnect_min_s
            try:
                conn.on_message = self._on_message
                if isinstance(conn.client, StationClient):
                    conn.client.on_room_message = self._on_publish
                for topic_filter in filters:
                    conn.subscribe(topic_filter, qos=qos)
                self._set(name, True, f"connected to {conn.where}")
                await conn.lost.wait()
            finally:
                conn.close()
            self._set(name, False, f"{conn.lost_reason or 'connection lost'}; reconnecting")
            await self._clock.sleep(delay)

    def _on_message(self, msg: mqtt.MQTTMessage) -> None:
        """A message through paho's own path (one the station's client does not take itself)."""
        props = msg.properties
        expiry = getattr(props, "MessageExpiryInterval", None) if props is not None else None
        self._on_publish(msg.topic, bytes(msg.payload), expiry)

    def _on_publish(self, topic: str, payload: bytes, expiry: float | None) -> None:
        self.status.messages += 1
        room = self._facility.apply(
            topic, payload, now=self._clock.now(), mono=self._clock.monotonic(), expiry_s=expiry
        )
        if room is not None:
            self._on_change(room.key, "/vitals/" not in topic)

    def _set(self, link: str, connected: bool, detail: str) -> None:
        self._links[link] = (connected, detail)
        down = [d for ok, d in self._links.values() if not ok]
        self.status.connected = len(self._links) == 2 and not down
        self.status.detail = down[0] if down else detail
        self._on_change(None, True)
