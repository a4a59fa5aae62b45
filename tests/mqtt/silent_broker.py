"""A broker on loopback that completes CONNECT (and answers pings) but never acknowledges a PUBLISH — until told to.

MQTT v5 framing only as far as a client needs it: each packet's fixed header and remaining length; CONNECT gets a
CONNACK (success), PINGREQ a PINGRESP, DISCONNECT ends the connection. A QoS 1 PUBLISH is counted and, while
``acknowledging`` is False, dropped (no PUBACK); once True, answered with a plain PUBACK (and the ones that waited on
the same connection too).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from tests.mqtt.broker import free_port
from tests.waits import until_changed

CONNECT, PUBLISH, PINGREQ, DISCONNECT = 1, 3, 12, 14


class SilentBroker:
    def __init__(self) -> None:
        self.port = free_port()
        self.acknowledging = False
        self.connects = 0
        self.publishes = 0  # PUBLISH packets received
        self.acked_topics: list[str] = []
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> SilentBroker:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def wait_for(self, predicate: Callable[[], object], within_s: float = 60.0) -> None:
        await until_changed(self.changed, predicate, within_s)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        waiting: list[tuple[bytes, str]] = []  # (packet id, topic) of the publishes not acknowledged
        try:
            while True:
                first = await reader.readexactly(1)
                length, shift = 0, 0
                while True:
                    byte = (await reader.readexactly(1))[0]
                    length |= (byte & 0x7F) << shift
                    shift += 7
                    if not byte & 0x80:
                        break
                body = await reader.readexactly(length)
                kind = first[0] >> 4
                if kind == CONNECT:
                    self.connects += 1
                    writer.write(bytes((0x20, 3, 0, 0, 0)))  # CONNACK: no session, success, no properties
                elif kind == PINGREQ:
                    writer.write(bytes((0xD0, 0)))
                elif kind == DISCONNECT:
                    return
                elif kind == PUBLISH and (first[0] >> 1) & 3 == 1:
                    self.publishes += 1
                    topic_len = int.from_bytes(body[:2], "big")
                    topic = body[2 : 2 + topic_len].decode()
                    waiting.append((body[2 + topic_len : 4 + topic_len], topic))
                if self.acknowledging:
                    for packet_id, topic in waiting:
                        writer.write(bytes((0x40, 2)) + packet_id)
                        self.acked_topics.append(topic)
                    waiting.clear()
                await writer.drain()
                self.changed.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
