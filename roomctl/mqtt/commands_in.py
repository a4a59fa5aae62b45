"""The command inbox: messages on ``<root>/cmd`` are validated on arrival, queued (bounded) and handled one at a time.

Every command gets exactly one reply, published on the room's own reply subtree ``<root>/cmd/result`` (or below it):
- to the request's MQTT v5 Response Topic (with its correlation data) when that topic passes paho's topic validation and
  lies under ``<root>/cmd/result``; a command asking for any other reply topic (a wildcard, ``…/status``, another room)
  is rejected, logged once, and answered on ``<root>/cmd/result``;
- ``dropped: busy`` when more than :data:`QUEUE_LIMIT` commands are already waiting: the command is not acted on.
Replies wait in a bounded queue (:data:`REPLY_LIMIT`) and are published at most :data:`REPLY_WINDOW` at a time
awaiting the broker's acknowledgement, so a flood of commands never fills paho's queue, which the publisher needs for
vitals and alarms. A reply that cannot be published is counted and logged (rate-limited); it never stops the MQTT part.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties

from roomctl.commands import Command, CommandHandler
from roomctl.models import iso_ms
from roomctl.mqtt.command_topic import CommandRejected, parse_command
from roomctl.mqtt.connection import BrokerUnavailable, Connection, publish_properties
from roomctl.mqtt.feed import Topics, dumps
from roomctl.ratelimit import Every

log = logging.getLogger(__name__)

QUEUE_LIMIT = 16
"""Commands waiting to be handled; one more is answered ``dropped: busy`` and not acted on."""
REPLY_LIMIT = 1024
"""Replies waiting to be published (about 200 bytes each). Past this a reply is dropped, counted and logged."""
MAX_RESPONSE_TOPIC = 256
"""Bytes; a longer Response Topic is refused."""
BUSY = "dropped: busy"
"""The start of the reply to a command that arrived while :data:`QUEUE_LIMIT` commands were waiting."""
RETRY_S = 0.05
REPLY_WINDOW = 8
"""Replies awaiting the broker's acknowledgement at once (the publisher keeps the rest of paho's queue)."""
REPLY_ACK_S = 30.0
REPLY_ATTEMPTS = 20
LOG_EVERY_S = 10.0


def check_response_topic(topic: str, reply_root: str) -> str | None:
    """None when roomctl may publish its reply on ``topic``, else why not (in words)."""
    try:
        encoded = topic.encode("utf-8")
    except UnicodeEncodeError:
        return "the response topic is not valid UTF-8"
    if not encoded:
        return "the response topic is empty"
    if len(encoded) > MAX_RESPONSE_TOPIC:
        return f"the response topic is {len(encoded)} bytes long (at most {MAX_RESPONSE_TOPIC})"
    if "\0" in topic:
        return "the response topic contains a NUL character"
    try:
        mqtt.Client._raise_for_invalid_topic(encoded)  # noqa: SLF001  # upstream internal: paho's own check of a publish topic
    except ValueError as e:
        return f"the response topic {topic[:80]!r} is not a topic roomctl can publish to ({e})"
    if not mqtt.topic_matches_sub(f"{reply_root}/#", topic):
        return f"the response topic {topic[:80]!r} is not under this room's reply topic {reply_root}"
    return None


class CommandInbox:
    def __init__(self, handler: CommandHandler, topics: Topics, now: Callable[[], datetime]) -> None:
        self._handler = handler
        self._topics = topics
        self._now = now
        self._queue: deque[tuple[Command, str, bytes | None]] = deque()
        self._ready = asyncio.Event()
        self._replies: deque[tuple[str, bytes, Properties | None]] = deque()
        self._replies_waiting = asyncio.Event()
        self.accepted = 0
        self.rejected = 0
        self.busy = 0
        self.replies_lost = 0
        self._busy_log = Every(LOG_EVERY_S)
        self._lost_log = Every(LOG_EVERY_S)

    def offer(self, msg: mqtt.MQTTMessage) -> None:
        """Validate one message (on the loop, from paho's callback) and queue it, or reject it with a logged reason.

        Never raises: a failure here is logged, and the MQTT part goes on.
        """
        try:
            self._offer(msg)
        except Exception:
            log.exception("MQTT command handling failed")

    def _offer(self, msg: mqtt.MQTTMessage) -> None:
        if msg.topic != self._topics.command:
            return
        props = getattr(msg, "properties", None)
        asked: str | None = getattr(props, "ResponseTopic", None)
        correlation: bytes | None = getattr(props, "CorrelationData", None)
        reply_to = self._topics.command_result
        try:
            if asked is not None:
                problem = check_response_topic(asked, self._topics.command_result)
                if problem is not None:
                    raise CommandRejected(f"command refused: {problem}")
                reply_to = asked
            command = parse_command(bytes(msg.payload), retained=bool(msg.retain))
        except CommandRejected as e:
            self.rejected += 1
            log.warning("MQTT command rejected: %s", e)
            self._reply(reply_to, correlation, ok=False, command=None, message=str(e))
            return
        if len(self._queue) >= QUEUE_LIMIT:
            self.busy += 1
            if self._busy_log.ready():
                log.warning(
                    "MQTT commands: %s (%d waiting; %d more dropped since the last report)",
                    BUSY,
                    QUEUE_LIMIT,
                    self._busy_log.take_held(),
                )
            message = f"{BUSY}: {QUEUE_LIMIT} commands are already waiting; not done, send it again later"
            self._reply(reply_to, correlation, ok=False, command=command.command, message=message)
            return
        self._queue.append((command, reply_to, correlation))
        self._ready.set()

    async def serve(self, conn: Connection) -> None:
        """Handle commands one at a time and, beside that, publish replies (a slow command never holds up a reply)."""
        tasks = {
            asyncio.create_task(self._send_replies(conn), name="mqtt-command-replies"),
            asyncio.create_task(self._handle_commands(), name="mqtt-command-handler"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raises as it is (BrokerUnavailable: the publisher reconnects)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_replies(self, conn: Connection) -> None:
        """Publish replies, at most :data:`REPLY_WINDOW` awaiting the broker's acknowledgement at once: replies never
        take the room of paho's queue that the publisher needs for vitals and alarms."""
        window = asyncio.Semaphore(REPLY_WINDOW)
        sending: set[asyncio.Task[None]] = set()
        try:
            while True:
                if not self._replies:
                    self._replies_waiting.clear()
                    await self._replies_waiting.wait()
                    continue
                await window.acquire()
                if conn.lost.is_set():
                    window.release()
                    raise BrokerUnavailable(conn.lost_reason or f"connection to {conn.where} lost")
                reply = self._replies.popleft()
                task = asyncio.create_task(self._send_reply(conn, reply, window), name="mqtt-command-reply")
                sending.add(task)
                task.add_done_callback(sending.discard)
        finally:
            for task in sending:
                task.cancel()

    async def _send_reply(
        self, conn: Connection, reply: tuple[str, bytes, Properties | None], window: asyncio.Semaphore
    ) -> None:
        topic, payload, props = reply
        try:
            for _attempt in range(REPLY_ATTEMPTS):
                try:
                    if await conn.publish_confirmed(
                        topic, payload, retain=False, properties=props, within_s=REPLY_ACK_S
                    ):
                        return
                    if not conn.client.is_connected():
                        self._replies.appendleft(reply)  # the connection went: sent after the reconnect
                        return
                    problem = f"the broker did not acknowledge it within {REPLY_ACK_S:g} s"
                    break
                except ValueError as e:  # paho refused the topic or payload: never stop the MQTT part for it
                    problem = str(e)
                    break
                except BrokerUnavailable as e:
                    if not conn.client.is_connected():
                        self._replies.appendleft(reply)  # sent after the reconnect
                        return
                    problem = str(e)  # paho's queue is full just now: it drains as the broker acknowledges
                    await asyncio.sleep(RETRY_S)
            self._lost(f"cannot publish a command reply on {topic[:80]}: {problem}")
        finally:
            window.release()

    async def _handle_commands(self) -> None:
        while True:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            command, reply_to, correlation = self._queue.popleft()
            try:
                result = await self._handler.handle(command, source="mqtt")
            except Exception:
                log.exception("MQTT command %s failed", command.command)
                self._reply(reply_to, correlation, ok=False, command=command.command, message="internal error")
                continue
            self.accepted += 1
            log.info("MQTT command %s: %s", command.command, result.message or ("done" if result.ok else "refused"))
            self._reply(reply_to, correlation, ok=result.ok, command=command.command, message=result.message)

    def _lost(self, reason: str) -> None:
        self.replies_lost += 1
        if self._lost_log.ready():
            log.warning("MQTT %s (%d more since the last report)", reason, self._lost_log.take_held())

    def _reply(self, topic: str, correlation: bytes | None, *, ok: bool, command: str | None, message: str) -> None:
        if len(self._replies) >= REPLY_LIMIT:
            self._lost(f"reply queue full ({REPLY_LIMIT}): a reply to {command or 'a rejected command'} was dropped")
            return
        props = None
        if correlation is not None:
            props = publish_properties()
            props.CorrelationData = correlation
        body = {"ok": ok, "command": command, "message": message, "ts": iso_ms(self._now())}
        self._replies.append((topic, dumps(body), props))
        self._replies_waiting.set()
