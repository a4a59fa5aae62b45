"""The MQTT publisher: the durable outbox to the broker, with nothing lost.

One loop per connection: connect (fresh client, last will ``offline``), publish ``status`` ``online``, ``info`` and the
retained state we know, then pump the outbox in ``seq`` order under an in-flight window and a paced rate, marking rows
sent only on PUBACK. A lost connection ends the loop; unacknowledged rows are replayed on the next one. Reconnects back
off exponentially; while the broker is unreachable the hub hears ``ServiceHealth(service="mqtt", ok=False)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from roomctl import __version__
from roomctl.clock import Clock, SystemClock
from roomctl.commands import CommandHandler
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.hub import Hub
from roomctl.models import ServiceHealth, iso_ms
from roomctl.mqtt.active_alarms import ActiveAlarms
from roomctl.mqtt.commands_in import CommandInbox
from roomctl.mqtt.connection import (
    BrokerUnavailable,
    ClientFactory,
    Connection,
    default_client_factory,
    publish_properties,
    read_credentials,
    tls_context,
)
from roomctl.mqtt.discovery import Discovery
from roomctl.mqtt.pacing import TokenBucket
from roomctl.mqtt.topics import Topics, UnknownRecord, encode
from roomctl.storage.outbox import Outbox, OutboxRecord

log = logging.getLogger(__name__)

GOODBYE_TIMEOUT_S = 2.0
ACK_FLUSH_INTERVAL_S = 0.2  # acknowledged rows are marked sent in batches, at most this often


@dataclass
class PublisherStats:
    connects: int = 0
    published: int = 0
    acknowledged: int = 0
    refused: int = 0
    skipped: int = 0
    peak_inflight: int = 0


class MqttPublisher:
    def __init__(
        self,
        config: MqttConfig,
        room: RoomSection,
        outbox: Outbox,
        hub: Hub,
        *,
        commands: CommandHandler | None = None,
        clock: Clock | None = None,
        client_factory: ClientFactory | None = None,
        config_summary: str | None = None,
    ) -> None:
        self._config = config
        self._room = room
        self._outbox = outbox
        self._hub = hub
        self._clock = clock or SystemClock()
        self._client_factory = client_factory or default_client_factory
        self._config_summary = config_summary
        self.topics = Topics(config, room)
        self._client_id = config.client_id or f"roomctl-{room.site}-{room.room}"
        # Read once, at start: a bad file is a clear error now, not a retry loop later.
        self._credentials = read_credentials(config.credentials_file) if config.credentials_file else None
        self._ssl = tls_context(config.tls) if config.tls is not None else None
        self._discovery = Discovery(config, room, self.topics) if config.ha_discovery else None
        self._inbox = (
            CommandInbox(commands, self.topics, self._clock.now) if config.commands_enabled and commands else None
        )
        self._expiry = publish_properties()
        self._expiry.MessageExpiryInterval = config.vitals_expiry_s
        self._pace = TokenBucket(config.replay_rate_per_s, self._clock)
        self._retained: dict[str, bytes] = {}  # last payload per retained topic, republished after every reconnect
        self._announced: set[str] = set()
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._window = asyncio.Event()
        self._acked: list[int] = []
        self._ack_ready = asyncio.Event()
        self._health: tuple[bool, str] | None = None
        self._started_at = self._clock.now()
        self._active_alarms = ActiveAlarms((), 0)
        self.stats = PublisherStats()
        self.connected = asyncio.Event()
        self.commands_ready = asyncio.Event()  # the broker confirmed the command subscription

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Publish until cancelled; on cancel, say ``offline`` and disconnect cleanly."""
        self._started_at = self._clock.now()
        self._active_alarms = ActiveAlarms(self._hub.state.alarms.values(), self._outbox.last_seq)
        delay = self._config.reconnect_min_s
        while True:
            try:
                conn = await Connection.open(
                    self._config,
                    self._client_factory(self._client_id),
                    will_topic=self.topics.status,
                    ssl_context=self._ssl,
                    credentials=self._credentials,
                )
            except BrokerUnavailable as e:
                self._set_health(False, str(e))
                log.warning("MQTT: %s; next attempt in %.2f s", e, delay)
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_s)
                continue
            delay = self._config.reconnect_min_s
            try:
                await self._serve(conn)
            except BrokerUnavailable as e:  # paho refused a publish: the connection just went
                conn.lost_reason = conn.lost_reason or str(e)
            except asyncio.CancelledError:
                await self._goodbye(conn)
                raise
            finally:
                self.connected.clear()
                conn.close()
            self._set_health(False, conn.lost_reason or "connection lost")
            log.warning("MQTT: %s; reconnecting in %.1f s", conn.lost_reason, delay)
            await self._clock.sleep(delay)

    async def _serve(self, conn: Connection) -> None:
        self.stats.connects += 1
        self._inflight.clear()
        conn.on_ack = self._on_ack
        self._set_health(True, f"connected to {conn.where}")
        log.info("MQTT: connected to %s as %s", conn.where, self._client_id)
        conn.publish(self.topics.status, b"online", retain=True)
        conn.publish(self.topics.info, self._info(), retain=True)
        if self._discovery is not None:
            self._remember(*self._discovery.active_alarms())
        if self.topics.alarms_active not in self._retained:
            self._remember(self.topics.alarms_active, self._active_alarms.payload(None, iso_ms(self._clock.now())))
        for topic, payload in self._retained.items():
            conn.publish(topic, payload, retain=True)
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(self._pump(conn), name="mqtt-pump"),
            asyncio.create_task(self._mark_sent_loop(), name="mqtt-mark-sent"),
        ]
        if self._inbox is not None:
            conn.on_message = self._inbox.offer
            conn.subscribe(self.topics.command)
            tasks.append(asyncio.create_task(self._inbox.serve(conn), name="mqtt-commands"))
            tasks.append(asyncio.create_task(self._mark_commands_ready(conn), name="mqtt-subscribed"))
        tasks.append(asyncio.create_task(conn.lost.wait(), name="mqtt-lost"))
        self.connected.set()
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and (exc := task.exception()) is not None:
                    if not isinstance(exc, BrokerUnavailable):
                        raise exc
                    conn.lost_reason = str(exc)
        finally:
            self.commands_ready.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _mark_commands_ready(self, conn: Connection) -> None:
        await conn.subscribed.wait()
        self.commands_ready.set()
        await asyncio.Event().wait()  # stays until the connection ends (FIRST_COMPLETED must not fire on it)

    async def _goodbye(self, conn: Connection) -> None:
        """Clean shutdown: retained ``offline``, a polite disconnect (so no will), and the last acknowledgements saved."""
        if conn.client.is_connected():
            ok = await conn.publish_and_wait(self.topics.status, b"offline", retain=True, within_s=GOODBYE_TIMEOUT_S)
            if not ok:
                log.warning("MQTT: the broker did not confirm 'offline'; its last will says it instead")
            await conn.disconnect(GOODBYE_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._flush_acks(), GOODBYE_TIMEOUT_S)
        log.info("MQTT: disconnected")

    # ------------------------------------------------------------------ the outbox pump
    async def _pump(self, conn: Connection) -> None:
        cursor = 0
        await self._flush_acks()
        window = self._config.max_inflight
        # Rows written before this connection are the backlog of an outage: replayed paced, so the broker and the
        # dashboards are not flooded. Rows written from now on are live and go out as they come.
        backlog_end = self._outbox.last_seq
        while True:
            newest = self._outbox.last_seq  # read before the query, so a row written meanwhile is never skipped
            records = await self._outbox.pending(cursor, window)
            if not records:
                cursor = max(cursor, newest)
                await self._outbox.wait_new(cursor)
                continue
            for record in records:
                while len(self._inflight) >= window:
                    self._window.clear()
                    await self._window.wait()
                if record.seq <= backlog_end and (wait := self._pace.take()) > 0:
                    await self._clock.sleep(wait)
                self._send(conn, record)
                cursor = record.seq

    def _send(self, conn: Connection, record: OutboxRecord) -> None:
        try:
            msg, event = encode(self.topics, record)
        except (UnknownRecord, ValueError, KeyError, TypeError) as e:
            log.error("MQTT: skipping outbox record %d (%s): %s", record.seq, record.kind, e)
            self.stats.skipped += 1
            self._acked.append(record.seq)
            self._ack_ready.set()
            return
        if self._discovery is not None:
            self._announce(conn, record.kind, event)
        mid = conn.publish(msg.topic, msg.payload, retain=msg.retain, properties=self._expiry if msg.expires else None)
        self._inflight[mid] = record.seq
        self.stats.published += 1
        self.stats.peak_inflight = max(self.stats.peak_inflight, len(self._inflight))
        if msg.retain:
            self._retained[msg.topic] = msg.payload
        if record.kind == "alarm" and self._active_alarms.apply(event, record.seq):
            payload = self._active_alarms.payload(record.seq, event["ts"])
            self._remember(self.topics.alarms_active, payload)
            conn.publish(self.topics.alarms_active, payload, retain=True)

    def _on_ack(self, mid: int, ok: bool, reason: str) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            if ok:
                self._acked.append(seq)
                self._ack_ready.set()
                self.stats.acknowledged += 1
            else:
                self.stats.refused += 1  # left unsent: replayed after the next reconnect
                log.warning("MQTT: the broker refused seq %d (%s); check its ACL", seq, reason)
            self._window.set()

    async def _mark_sent_loop(self) -> None:
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            await self._flush_acks()
            await self._clock.sleep(ACK_FLUSH_INTERVAL_S)

    async def _flush_acks(self) -> None:
        if not self._acked:
            return
        seqs, self._acked = self._acked, []
        try:
            await self._outbox.mark_sent(seqs)
        except BaseException as e:
            self._acked[:0] = seqs  # kept for the next attempt (a cancelled write is retried at shutdown)
            if not isinstance(e, Exception):
                raise
            log.exception("MQTT: could not mark %d outbox rows sent; will retry", len(seqs))
            self._ack_ready.set()

    # ------------------------------------------------------------------ derived retained topics
    def _announce(self, conn: Connection, kind: str, event: dict[str, Any]) -> None:
        assert self._discovery is not None
        key = f"{kind}:{event.get('quantity') or event.get('device')}"
        if kind not in ("reading", "device") or key in self._announced:
            return
        self._announced.add(key)
        found = (
            self._discovery.vital(event["quantity"]) if kind == "reading" else self._discovery.device(event["device"])
        )
        if found is not None:
            self._remember(*found)
            conn.publish(*found, retain=True)

    def _remember(self, topic: str, payload: bytes) -> None:
        self._retained[topic] = payload

    def _info(self) -> bytes:
        return json.dumps(
            {
                "version": __version__,
                "site": self._room.site,
                "room": self._room.room,
                "name": self._room.name,
                "started_at": iso_ms(self._started_at),
                "vitals_expiry_s": self._config.vitals_expiry_s,
                "commands_enabled": self._inbox is not None,
                "ha_discovery": self._discovery is not None,
                "tls": self._ssl is not None,
                "config": self._config_summary,
            }
        ).encode()

    def _set_health(self, ok: bool, detail: str) -> None:
        if self._health == (ok, detail):
            return
        self._health = (ok, detail)
        self._hub.publish(ServiceHealth(service="mqtt", ok=ok, detail=detail, ts=self._clock.now()))
