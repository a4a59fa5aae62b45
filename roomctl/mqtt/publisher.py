"""The MQTT publisher: the durable outbox to the broker, with nothing lost and nothing stale presented as live.

One loop per connection: connect (fresh client, last will ``offline``), publish ``status`` ``online``, ``info`` and the
retained state we know, then pump the outbox in three lanes under one in-flight window, marking rows sent only on PUBACK:

- the *ordered* lane publishes every record in ``seq`` order — alarms, events, state, and the vitals of the outage's
  backlog — paced at ``replay_rate_per_s`` while it replays that backlog;
- the *live* lane publishes the vitals written since this connection was made as they come, so live data never waits
  behind a backlog. A backlog vital the live lane has overtaken on its topic (superseded) is not published live, so
  every topic still sees ``seq`` increase; neither is one past its life. Each live vital's MQTT v5 message expiry is
  the life it has left (``vitals_expiry_s`` after its ``ts``), rounded down;
- the *history* lane publishes every vital not published live (past its life, or overtaken) on ``…/history/…``, the
  same payload without expiry, in ``seq`` order, once the ordered lane is through the backlog, paced, and only while
  the window is less than half full: it never delays live vitals or events.

A lost connection ends the loop; unacknowledged rows are replayed on the next one. Reconnects back off exponentially;
while the broker is unreachable the hub hears ``ServiceHealth(service="mqtt", ok=False)``. Health says "connected"
only once the broker acknowledges a message: a broker that refuses publishes (a PUBACK reason such as "not
authorized") is reported at once, one that acknowledges nothing within ``ACK_TIMEOUT_S``, then; both leave the records
unsent and reconnect to try again (with backoff). A record that cannot be encoded stops publishing loudly (a technical
alarm, ``offline``), never marked sent. A clean stop first publishes what is pending (within ``FLUSH_TIMEOUT_S``), then
``offline``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from roomctl import __version__
from roomctl.clock import Clock, SystemClock
from roomctl.commands import CommandHandler
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.hub import Hub
from roomctl.models import ServiceHealth, iso_ms
from roomctl.mqtt.active_alarms import RetainedAlarmList
from roomctl.mqtt.commands_in import CommandInbox
from roomctl.mqtt.connection import (
    BrokerUnavailable,
    ClientFactory,
    Connection,
    default_client_factory,
    read_credentials,
    refusal_text,
    tls_context,
)
from roomctl.mqtt.discovery import Discovery
from roomctl.mqtt.feed import BY_NAME, FeedEncodingError, Message, Topics, encode
from roomctl.mqtt.pacing import TokenBucket
from roomctl.mqtt.payloads import Info
from roomctl.mqtt.room_client import ExpiryProperties
from roomctl.storage.outbox import Outbox, OutboxRecord

log = logging.getLogger(__name__)

GOODBYE_TIMEOUT_S = 2.0
FLUSH_TIMEOUT_S = 4.0  # a clean stop publishes what is pending for at most this long before "offline"
ACK_FLUSH_INTERVAL_S = 1.0  # acknowledged rows are marked sent in batches, at most this often
MIN_LIFE_S = 2  # a vital with less life left is not published (MQTT expiry counts whole seconds)
VITAL_RECORDS = frozenset(k.record for k in (BY_NAME["vital"], BY_NAME["rr_intervals"]))
ACK_TIMEOUT_S = 15.0  # messages waiting this long with no acknowledgement at all: a technical alarm, then reconnect
REFUSED_RETRY_S = 10.0  # a broker refusing messages: reconnect (and try them again) this long after the first refusal
REFUSAL_QUIET_S = 10.0  # health is "connected" again once acknowledged messages come with no refusal for this long
REFUSAL_LOG_INTERVAL_S = 10.0  # refusals are logged at most this often, with how many there were
WATCH_INTERVAL_S = 1.0
LATE_HISTORY_MAX = (
    1000  # live-lane vitals already past their life, waiting for the history lane (more: next connection)
)


class DeliveryRetry(BrokerUnavailable):
    """The broker takes the connection but not the messages: reconnect (politely) and try again."""


@dataclass
class PublisherStats:
    connects: int = 0
    published: int = 0
    acknowledged: int = 0
    refused: int = 0
    expired: int = 0  # vitals found past their life: not published live (the history lane's)
    superseded: int = 0  # backlog vitals overtaken on their topic by a live one: not published live (history's)
    history: int = 0  # vitals published on the history lane
    flushed: int = 0  # published during a clean stop
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
        self._expiry_props: dict[int, Any] = {}  # remaining life (s) -> MQTT v5 properties carrying it
        self._pace = TokenBucket(config.replay_rate_per_s, self._clock)
        self._retained: dict[str, bytes] = {}  # last payload per retained topic, republished after every reconnect
        self._announced: set[str] = set()
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._live_latest: dict[str, int] = {}  # vital topic -> newest seq the live lane published on this connection
        self._backlog_live: set[int] = set()  # backlog vitals published live on this connection (not history's)
        self._backlog_done = asyncio.Event()  # the ordered lane is through this connection's backlog
        self._late: deque[OutboxRecord] = deque()  # live-lane vitals past their life, for the history lane
        self._late_ready = asyncio.Event()
        self._where = ""
        self._delivering = False  # the broker acknowledges this connection's messages and refuses none lately
        self._conn_delivered = False  # some message of this connection was acknowledged
        self._problem: str | None = None  # why delivery is not working (a refusal, no acknowledgements)
        self._refused_first: float | None = None  # monotonic time of this connection's first refusal
        self._refused_last: float | None = None
        self._refusals_unlogged = 0
        self._refusal_logged_at = -math.inf
        self.failure: FeedEncodingError | None = None  # set when a record could not be encoded: publishing stopped
        self.stopped = asyncio.Event()  # set with ``failure``
        self._window = asyncio.Event()
        self._acked: list[int] = []
        self._ack_ready = asyncio.Event()
        self._health: tuple[bool, str] | None = None
        self._started_at = self._clock.now()
        self._active_alarms = RetainedAlarmList((), 0)
        self._active_seq = 0  # the seq of the start-up alarms_active record of this run
        self.stats = PublisherStats()
        self.connected = asyncio.Event()
        self.commands_ready = asyncio.Event()  # the broker confirmed the command subscription

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Publish until cancelled; on cancel, flush what is pending, say ``offline`` and disconnect cleanly."""
        self._started_at = self._clock.now()
        # The start-up list gets a seq of its own, after every record of a previous run: alarms/active grows along seq.
        self._active_seq = await self._outbox.append("alarms_active", json.dumps({"ts": iso_ms(self._started_at)}))
        # Seeded after that record exists: alarm events stored before it are in the hub's state (by seq, not wall time).
        self._active_alarms = RetainedAlarmList(self._hub.state.alarms.values(), self._active_seq)
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
                self._problem = None
                self._set_health(False, str(e))
                log.warning("MQTT: %s; next attempt in %.2f s", e, delay)
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_s)
                continue
            try:
                await self._serve(conn)
            except BrokerUnavailable as e:  # paho refused a publish: the connection just went
                conn.lost_reason = conn.lost_reason or str(e)
            except FeedEncodingError as e:
                await self._stop_for(conn, e)
            except asyncio.CancelledError:
                await self._goodbye(conn, flush=True)
                raise
            finally:
                self.connected.clear()
                conn.close()
            if self.failure is not None:
                # Stay stopped (the alarm stays up) rather than crash-loop the daemon: a restart after the fix resumes.
                await asyncio.Event().wait()
            if self._conn_delivered:
                delay = self._config.reconnect_min_s
            self._set_health(False, self._problem or conn.lost_reason or "connection lost")
            log.warning("MQTT: %s; reconnecting in %.1f s", conn.lost_reason, delay)
            await self._clock.sleep(delay)
            if not self._conn_delivered:  # the broker took the connection but not the messages: back off
                delay = min(delay * 2, self._config.reconnect_max_s)

    async def _stop_for(self, conn: Connection, error: FeedEncodingError) -> None:
        """A record that cannot be encoded: never marked sent; a technical alarm; ``offline``; publishing stops."""
        self.failure = error
        self.stopped.set()
        log.critical("MQTT: publishing stopped: %s", error)
        self._set_health(False, f"publishing stopped: {error}")
        await self._goodbye(conn, flush=False)

    async def _serve(self, conn: Connection) -> None:
        self.stats.connects += 1
        self._inflight.clear()
        self._live_latest.clear()
        self._backlog_live.clear()
        self._backlog_done = asyncio.Event()
        self._late.clear()
        self._where = conn.where
        self._delivering = self._conn_delivered = False
        self._refused_first = None
        # A refusal carried over from the last connection holds until acknowledgements come without one for a while.
        self._refused_last = time.monotonic() if self._refused_last is not None else None
        conn.on_acks = self._on_acks
        log.info("MQTT: connected to %s as %s", conn.where, self._client_id)
        conn.publish(self.topics.status, b"online", retain=True)
        conn.publish(self.topics.info, self._info(), retain=True)
        if self._discovery is not None:
            for found in self._discovery.room():
                self._remember(*found)
        for topic, payload in self._retained.items():
            conn.publish(topic, payload, retain=True)
        # Rows written before this connection are the backlog of an outage; rows written from now on are live.
        backlog_end = self._outbox.last_seq
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(self._ordered_lane(conn, backlog_end), name="mqtt-ordered"),
            asyncio.create_task(self._live_lane(conn, backlog_end), name="mqtt-live"),
            asyncio.create_task(self._history_lane(conn, backlog_end), name="mqtt-history"),
            asyncio.create_task(self._mark_sent_loop(), name="mqtt-mark-sent"),
            asyncio.create_task(self._watch_delivery(conn), name="mqtt-delivery"),
        ]
        if self._inbox is not None:
            conn.on_message = self._inbox.offer
            conn.subscribe(self.topics.command)
            tasks.append(asyncio.create_task(self._inbox.serve(conn), name="mqtt-commands"))
            tasks.append(asyncio.create_task(self._mark_commands_ready(conn), name="mqtt-subscribed"))
        tasks.append(asyncio.create_task(conn.lost.wait(), name="mqtt-lost"))
        self.connected.set()
        retry = False
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and (exc := task.exception()) is not None:
                    if not isinstance(exc, BrokerUnavailable):
                        raise exc
                    conn.lost_reason = str(exc)
                    retry = retry or isinstance(exc, DeliveryRetry)
        finally:
            self.commands_ready.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if retry:  # a polite end: no last will "offline" for a connection the broker keeps but does not serve
            await self._flush_acks()
            await conn.disconnect(GOODBYE_TIMEOUT_S)

    async def _mark_commands_ready(self, conn: Connection) -> None:
        await conn.subscribed.wait()
        self.commands_ready.set()
        await asyncio.Event().wait()  # stays until the connection ends (FIRST_COMPLETED must not fire on it)

    async def _goodbye(self, conn: Connection, *, flush: bool) -> None:
        """Clean shutdown: what is pending (bounded), retained ``offline``, a polite disconnect (so no will), and the
        last acknowledgements saved."""
        if conn.client.is_connected():
            if flush:
                await self._flush_pending(conn, FLUSH_TIMEOUT_S)
            ok = await conn.publish_and_wait(self.topics.status, b"offline", retain=True, within_s=GOODBYE_TIMEOUT_S)
            if not ok:
                log.warning("MQTT: the broker did not confirm 'offline'; its last will says it instead")
            await conn.disconnect(GOODBYE_TIMEOUT_S)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                await self._flush_acks()
        log.info("MQTT: disconnected")

    async def _flush_pending(self, conn: Connection, within_s: float) -> None:
        """Publish every pending record the lanes had not sent (in seq order, unpaced) and wait for the broker's
        acknowledgements, for at most ``within_s`` seconds altogether."""
        try:
            async with asyncio.timeout(within_s):
                taken = set(self._inflight.values()) | set(self._acked)
                cursor = 0
                while records := await self._outbox.pending(cursor, self._config.max_inflight):
                    for record in records:
                        cursor = record.seq
                        if record.seq in taken:
                            continue
                        await self._window_slot()
                        if self._send(conn, record, backlog=True):
                            self.stats.flushed += 1
                        elif record.kind in VITAL_RECORDS:  # not for the live topic: its history then
                            self._publish_history(conn, record)
                            self.stats.flushed += 1
                while self._inflight:
                    self._window.clear()
                    await self._window.wait()
        except TimeoutError:
            log.warning(
                "MQTT: stopping with %d message(s) unacknowledged after %.1f s; they go out after the next start",
                len(self._inflight),
                within_s,
            )
        except (BrokerUnavailable, FeedEncodingError) as e:
            log.warning("MQTT: could not publish everything before stopping: %s", e)

    # ------------------------------------------------------------------ the outbox lanes
    async def _window_slot(self) -> None:
        while len(self._inflight) >= self._config.max_inflight:
            self._window.clear()
            await self._window.wait()

    async def _records_after(self, cursor: int, idle: asyncio.Event | None = None) -> AsyncIterator[list[OutboxRecord]]:
        """Unsent records after ``cursor`` as they are written, in batches of at most the window, for ever (``idle``
        is set whenever none is left)."""
        while True:
            newest = self._outbox.last_seq  # read before the query, so a row written meanwhile is never skipped
            records = await self._outbox.pending(cursor, self._config.max_inflight)
            if not records:
                cursor = max(cursor, newest)
                if idle is not None:
                    idle.set()
                await self._outbox.wait_new(cursor)
                continue
            cursor = records[-1].seq
            yield records

    async def _ordered_lane(self, conn: Connection, backlog_end: int) -> None:
        """Every record in seq order, except the live vitals (the live lane's); the backlog paced. A backlog vital
        that cannot go live is left for the history lane."""
        await self._flush_acks()
        done = self._backlog_done
        async for records in self._records_after(0, done):
            for record in records:
                backlog = record.seq <= backlog_end
                if not backlog:
                    done.set()
                    if record.kind in VITAL_RECORDS:
                        continue
                prepared = self._prepare(record, backlog=backlog)
                if prepared is None:
                    continue  # a vital past its life or overtaken by a live one (history's), or a settled list
                await self._window_slot()
                msg, event, props = prepared
                if backlog and (wait := self._pace.take()) > 0:
                    await self._clock.sleep(wait)
                    if props is not None and (props := self._expiry(record, msg, backlog=True)) is None:
                        continue  # time passed while paced: its life left, again (encoded once all the same)
                if props is not None:
                    self._backlog_live.add(record.seq)
                self._emit(conn, record, msg, event, props)

    async def _live_lane(self, conn: Connection, backlog_end: int) -> None:
        """The vitals written since this connection was made, as they come."""
        async for records in self._records_after(backlog_end):
            now = self._clock.now()  # the vitals' remaining life: one clock reading for the batch
            for record in records:
                if record.kind in VITAL_RECORDS:
                    if len(self._inflight) >= self._config.max_inflight:
                        await self._window_slot()
                        now = self._clock.now()
                    if not self._send(conn, record, backlog=False, now=now) and len(self._late) < LATE_HISTORY_MAX:
                        self._late.append(record)  # already past its life: the history lane's, after the backlog
                        self._late_ready.set()

    async def _history_lane(self, conn: Connection, backlog_end: int) -> None:
        """The backlog's vitals that did not go live, on their history topics in seq order, paced, in the lower half
        of the window; then the live lane's late ones as they come."""
        await self._backlog_done.wait()
        inflight = self._inflight
        # The backlog's live vitals acknowledged first: a lost connection then leaves none of them unsent below what
        # the history topics have shown (the next connection may send them there).
        while any(seq <= backlog_end for seq in inflight.values()):
            self._window.clear()
            await self._window.wait()
        cursor = 0
        while records := await self._outbox.pending(cursor, self._config.max_inflight):
            if records[0].seq > backlog_end:
                break
            for record in records:
                if record.seq > backlog_end:
                    break
                cursor = record.seq
                if record.kind in VITAL_RECORDS and record.seq not in self._backlog_live:
                    await self._history_slot()
                    self._publish_history(conn, record)
        while True:
            while self._late:
                await self._history_slot()
                self._publish_history(conn, self._late.popleft())
            self._late_ready.clear()
            await self._late_ready.wait()

    async def _history_slot(self) -> None:
        """Room in the lower half of the window (the rest is for live vitals and events), then a paced token."""
        half = max(1, self._config.max_inflight // 2)
        while len(self._inflight) >= half:
            self._window.clear()
            await self._window.wait()
        if (wait := self._pace.take()) > 0:
            await self._clock.sleep(wait)

    def _publish_history(self, conn: Connection, record: OutboxRecord) -> None:
        msg, _ = encode(self.topics, record)
        self._publish(conn, self.topics.history(msg.topic), msg.payload, record.seq, retain=False, properties=None)
        self.stats.history += 1

    def _send(self, conn: Connection, record: OutboxRecord, *, backlog: bool, now: datetime | None = None) -> bool:
        """Publish one record (True), or not (False): a vital that cannot go live (past its life or superseded), a
        settled list."""
        prepared = self._prepare(record, backlog=backlog, now=now)
        if prepared is not None:
            self._emit(conn, record, *prepared)
        return prepared is not None

    def _prepare(
        self, record: OutboxRecord, *, backlog: bool, now: datetime | None = None
    ) -> tuple[Message, dict[str, Any], Any] | None:
        """The message for a record and its expiry properties; None when it is settled without publishing. Raises
        :class:`FeedEncodingError` for a record that cannot be encoded: it is never marked sent."""
        if record.kind == "alarms_active":
            if record.seq != self._active_seq:
                self._settle(record)  # a previous run's start-up list: this run's replaces it
                return None
            payload = self._active_alarms.payload(record.seq, iso_ms(self._clock.now()))
            return Message(self.topics.alarms_active, payload, retain=True), {}, None
        msg, event = encode(self.topics, record)
        if not msg.expires:
            return msg, event, None
        props = self._expiry(record, msg, backlog=backlog, now=now)
        return None if props is None else (msg, event, props)

    def _expiry(self, record: OutboxRecord, msg: Message, *, backlog: bool, now: datetime | None = None) -> Any:
        """A vital's MQTT v5 properties carrying the life it has left (at ``now``, else the clock's time); None when it
        cannot go live (past its life, or a backlog reading overtaken on its topic by a live one): history's."""
        life = self._life_left(msg, self._clock.now() if now is None else now)
        if life < MIN_LIFE_S:
            self.stats.expired += 1
            return None
        if backlog and self._live_latest.get(msg.topic, 0) > record.seq:
            self.stats.superseded += 1
            return None
        if not backlog:
            self._live_latest[msg.topic] = record.seq
        properties = self._expiry_props.get(life)
        if properties is None:
            properties = self._expiry_props[life] = ExpiryProperties(life)
        return properties

    def _emit(self, conn: Connection, record: OutboxRecord, msg: Message, event: dict[str, Any], props: Any) -> None:
        if self._discovery is not None:
            self._announce(conn, record.kind, event)
        self._publish(conn, msg.topic, msg.payload, record.seq, retain=msg.retain, properties=props)
        if record.kind == "alarm" and self._active_alarms.apply(event, record.seq):
            payload = self._active_alarms.payload(record.seq, event["ts"])
            self._remember(self.topics.alarms_active, payload)
            conn.publish(self.topics.alarms_active, payload, retain=True)

    def _publish(
        self, conn: Connection, topic: str, payload: bytes, seq: int, *, retain: bool, properties: Any
    ) -> None:
        mid = conn.publish(topic, payload, retain=retain, properties=properties)
        self._inflight[mid] = seq
        self.stats.published += 1
        self.stats.peak_inflight = max(self.stats.peak_inflight, len(self._inflight))
        if retain:
            self._retained[topic] = payload

    def _life_left(self, msg: Message, now: datetime) -> int:
        """Whole seconds of life the vital has left at ``now``: ``vitals_expiry_s`` after its own ``ts``, rounded down."""
        assert msg.ts is not None
        age = (now - datetime.fromisoformat(msg.ts)).total_seconds()
        return math.floor(self._config.vitals_expiry_s - max(age, 0.0))

    def _settle(self, record: OutboxRecord) -> None:
        """Done with a record without publishing it (it stays in the room's record)."""
        self._acked.append(record.seq)
        self._ack_ready.set()

    def _on_acks(self, mids: list[int], ok: bool, reason: str) -> None:
        if not ok:
            self._on_refused(mids, reason)
        elif not self._delivering:
            self._delivered()
        inflight = self._inflight
        seqs = [seq for seq in map(inflight.pop, mids, repeat(None)) if seq is not None]
        if not seqs:
            return
        if ok:
            self._acked += seqs
            self._ack_ready.set()
            self.stats.acknowledged += len(seqs)
        if len(inflight) <= self._config.max_inflight // 2:
            self._window.set()  # a full window reopens half way: the lanes wake once per half, not per PUBACK

    # ------------------------------------------------------------------ is the broker taking our messages?
    def _delivered(self) -> None:
        """An acknowledgement: health says "connected" — unless the broker refused messages a moment ago."""
        self._conn_delivered = True
        if self.failure is not None:
            return  # publishing stopped: the alarm stays
        if self._refused_last is not None and time.monotonic() - self._refused_last < REFUSAL_QUIET_S:
            return
        self._delivering = True
        self._refused_last = None
        self._problem = None
        self._set_health(True, f"connected to {self._where}")

    def _on_refused(self, mids: list[int], reason: str) -> None:
        """The broker refused messages (PUBACK with a failure reason): they stay unsent (the next connection tries
        them again); a technical alarm naming the reason; warnings at most every ``REFUSAL_LOG_INTERVAL_S``."""
        now = time.monotonic()
        self.stats.refused += len(mids)
        self._delivering = False
        if self._refused_first is None:
            self._refused_first = now
        self._refused_last = now
        self._problem = refusal_text(reason)
        self._set_health(False, self._problem)
        self._refusals_unlogged += len(mids)
        if now - self._refusal_logged_at >= REFUSAL_LOG_INTERVAL_S:
            self._log_refusals(now)

    def _log_refusals(self, now: float) -> None:
        log.warning(
            "MQTT: %s (%d message(s) refused since the last such warning; they stay unsent and are tried again)",
            self._problem,
            self._refusals_unlogged,
        )
        self._refusals_unlogged = 0
        self._refusal_logged_at = now

    async def _watch_delivery(self, conn: Connection) -> None:
        """Once a second: messages waiting ``ACK_TIMEOUT_S`` with no acknowledgement at all, or refusals for
        ``REFUSED_RETRY_S``, end the connection (:class:`DeliveryRetry`) to try again on a new one."""
        client = conn.client
        while True:
            await self._clock.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            since = client.waiting_since
            if since is not None and now - since >= ACK_TIMEOUT_S:
                self._delivering = False
                self._problem = (
                    f"{self._where} takes the connection but has acknowledged none of {client.unacked} message(s) "
                    f"for {now - since:.0f} s"
                )
                self._set_health(False, self._problem)
                raise DeliveryRetry(self._problem)
            if self._refusals_unlogged and now - self._refusal_logged_at >= REFUSAL_LOG_INTERVAL_S:
                self._log_refusals(now)
            if self._refused_first is not None and now - self._refused_first >= REFUSED_RETRY_S:
                raise DeliveryRetry(self._problem or "the broker refuses messages")
            if not self._delivering and self._conn_delivered and self._refused_last is not None:
                self._delivered()  # acknowledged messages, and no refusal for a while

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
        if kind not in ("reading", "device", "music"):
            return
        key = f"{kind}:{event.get('quantity') or event.get('device') or ''}"
        if key in self._announced:
            return
        self._announced.add(key)
        if kind == "music":  # a room with music: its title sensor, once its first state is published
            found = self._discovery.music()
        elif kind == "reading":
            found = self._discovery.vital(event["quantity"])
        else:
            found = self._discovery.device(event["device"])
        for topic, payload in found:
            self._remember(topic, payload)
            conn.publish(topic, payload, retain=True)

    def _remember(self, topic: str, payload: bytes) -> None:
        self._retained[topic] = payload

    def _info(self) -> bytes:
        return (
            Info(
                version=__version__,
                site=self._room.site,
                room=self._room.room,
                name=self._room.name,
                started_at=self._started_at,
                vitals_expiry_s=self._config.vitals_expiry_s,
                commands_enabled=self._inbox is not None,
                ha_discovery=self._discovery is not None,
                tls=self._ssl is not None,
                config=self._config_summary,
            )
            .model_dump_json()
            .encode()
        )

    def _set_health(self, ok: bool, detail: str) -> None:
        if self._health == (ok, detail):
            return
        self._health = (ok, detail)
        self._hub.publish(ServiceHealth(service="mqtt", ok=ok, detail=detail, ts=self._clock.now()))
