"""The command inbox: messages on ``<root>/cmd`` are validated on arrival, queued (bounded) and handled one at a time.

Results go to the request's MQTT v5 response topic (with its correlation data) or else to ``<root>/cmd/result``.
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
from roomctl.mqtt.connection import Connection, publish_properties
from roomctl.mqtt.topics import Topics, dumps

log = logging.getLogger(__name__)

QUEUE_LIMIT = 16


class CommandInbox:
    def __init__(self, handler: CommandHandler, topics: Topics, now: Callable[[], datetime]) -> None:
        self._handler = handler
        self._topics = topics
        self._now = now
        self._queue: deque[tuple[Command, str, bytes | None]] = deque()
        self._ready = asyncio.Event()
        self._results: deque[tuple[str, bytes, Properties | None]] = deque(maxlen=4 * QUEUE_LIMIT)
        self.accepted = 0
        self.rejected = 0

    def offer(self, msg: mqtt.MQTTMessage) -> None:
        """Validate one message (on the loop, from paho's callback) and queue it, or reject it with a logged reason."""
        if msg.topic != self._topics.command:
            return
        props = getattr(msg, "properties", None)
        reply_to: str = getattr(props, "ResponseTopic", None) or self._topics.command_result
        correlation: bytes | None = getattr(props, "CorrelationData", None)
        try:
            if len(self._queue) >= QUEUE_LIMIT:
                raise CommandRejected(f"more than {QUEUE_LIMIT} commands waiting; slow down")
            command = parse_command(bytes(msg.payload), retained=bool(msg.retain))
        except CommandRejected as e:
            self.rejected += 1
            log.warning("MQTT command rejected: %s", e)
            self._reply(reply_to, correlation, ok=False, command=None, message=str(e))
            return
        self._queue.append((command, reply_to, correlation))
        self._ready.set()

    async def serve(self, conn: Connection) -> None:
        while True:
            while self._results:
                topic, payload, props = self._results.popleft()
                conn.publish(topic, payload, retain=False, properties=props)
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

    def _reply(self, topic: str, correlation: bytes | None, *, ok: bool, command: str | None, message: str) -> None:
        props = None
        if correlation is not None:
            props = publish_properties()
            props.CorrelationData = correlation
        body = {"ok": ok, "command": command, "message": message, "ts": iso_ms(self._now())}
        self._results.append((topic, dumps(body), props))
        self._ready.set()
