"""paho's client, with the per-message work of a QoS 1 publisher made cheap.

Every reading is one QoS 1 PUBLISH and one PUBACK, so what paho does per message is most of what MQTT costs the room.
paho keeps the connection (CONNECT, will, TLS, keepalive, subscriptions, incoming messages, DISCONNECT); for the
messages roomctl publishes, :class:`RoomClient` does less than paho's general ``publish``:

- :meth:`RoomClient.publish_qos1` builds the PUBLISH packet itself (the topic's bytes kept per topic, the properties
  packed once: :class:`ExpiryProperties`) and queues it on paho's connection, appended to the packet the last
  publish queued while that one is still in paho's queue (one queue entry per loop turn, not one per message). roomctl's publisher keeps every message
  until its PUBACK in its own durable outbox, so paho's per-message bookkeeping (a message object, an info object,
  a retry queue) is not made; a fresh client is used per connection, so nothing needs re-sending by paho.
- PUBACKs for such messages call :attr:`RoomClient.on_acks` with ``(mids, ok, reason)``; two-byte PUBACKs (success,
  no properties, what brokers send almost always) are not decoded at all, and a run of them is one call.
- Queued packets go out in one ``send`` (paho sends each packet on its own), and the socket is read in chunks (paho
  reads each packet's header a byte at a time): the loop driver drains :meth:`RoomClient.buffered` bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

_PUBLISH_QOS1 = 0x32  # PUBLISH, QoS 1 (bit 0: retain)
_PUBACK = 0x40
_PUBLISH = 0x30
_DISCONNECT = 0xE0
_NO_PROPERTIES = b"\x00"
RECV_CHUNK = 65536
_paho_time: Callable[[], float] = getattr(mqtt, "time_func", time.monotonic)  # paho's keepalive clock
TOPIC_CACHE_MAX = 512


class ExpiryProperties(Properties):
    """PUBLISH properties holding only a message expiry interval (whole seconds), packed once."""

    def __init__(self, seconds: int) -> None:
        super().__init__(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho leaves it unannotated
        self.MessageExpiryInterval = seconds
        object.__setattr__(self, "_packed", super().pack())  # type: ignore[no-untyped-call]

    def pack(self) -> bytes:
        packed: bytes = self.__dict__["_packed"]
        return packed


def remaining_length(n: int) -> bytes:
    """MQTT's variable-length "remaining length" of a packet body."""
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | 0x80 if n else digit)
        if not n:
            return bytes(out)


class RoomClient(mqtt.Client):
    """A paho client (MQTT v5, VERSION2 callbacks) with a lean QoS 1 publish path; see the module's text."""

    def __init__(self, client_id: str) -> None:
        super().__init__(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.on_acks: Callable[[list[int], bool, str], None] = lambda mids, ok, reason: None
        self._unacked: set[int] = set()
        self._topics: dict[str, bytes] = {}  # topic -> its length-prefixed UTF-8 bytes
        self._rx = b""
        self._rx_pos = 0
        self._batch: Any = None  # paho's queued packet that this turn's publishes join (one send, one dict)
        self.waiting_since: float | None = None
        """Monotonic time since which messages have awaited an acknowledgement with none coming (None: none await)."""

    # ------------------------------------------------------------------ publishing
    def publish_qos1(self, topic: str, payload: bytes, *, retain: bool, properties: Properties | None = None) -> int:
        """Queue one QoS 1 message; its mid. Raises ValueError for a topic MQTT cannot carry and ConnectionError
        when there is no connection."""
        if self._sock is None:
            raise ConnectionError("not connected")
        encoded = self._topics.get(topic)
        if encoded is None:
            raw = topic.encode()
            if not raw or b"+" in raw or b"#" in raw or len(raw) > 65535:
                raise ValueError(f"cannot publish to the topic {topic!r}")
            if len(self._topics) >= TOPIC_CACHE_MAX:
                self._topics.clear()
            encoded = self._topics[topic] = len(raw).to_bytes(2, "big") + raw
        props = _NO_PROPERTIES if properties is None else properties.pack()  # type: ignore[no-untyped-call]
        mid = self._mid_generate()
        body_length = len(encoded) + 2 + len(props) + len(payload)
        packet = b"".join(
            (
                bytes((_PUBLISH_QOS1 | retain,)),
                remaining_length(body_length),
                encoded,
                mid.to_bytes(2, "big"),
                props,
                payload,
            )
        )
        if not self._unacked:
            self.waiting_since = _paho_time()
        self._unacked.add(mid)
        out, batch = self._out_packet, self._batch
        if batch is not None and out and out[-1] is batch:  # still queued (perhaps half sent: paho sends from "pos")
            batch["packet"] += packet
            batch["to_process"] += len(packet)
        else:
            self._packet_queue(_PUBLISH, bytearray(packet), 0, 1)
            self._batch = out[-1]
        return mid

    def _handle_pubackcomp(self, cmd: Literal["PUBACK", "PUBCOMP"]) -> MQTTErrorCode:
        packet: Any = self._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) < 2:
            return super()._handle_pubackcomp(cmd)
        mid = (packet[0] << 8) | packet[1]
        if mid not in self._unacked:
            return super()._handle_pubackcomp(cmd)  # one of paho's own (published through ``publish``)
        self._unacked.discard(mid)
        self.waiting_since = _paho_time() if self._unacked else None
        if len(packet) == 2 or packet[2] == 0:
            self.on_acks([mid], True, "")
        else:
            reason = ReasonCode(PacketTypes.PUBACK, identifier=packet[2])  # e.g. "No matching subscribers": still ok
            self.on_acks([mid], not reason.is_failure, reason.getName() if reason.is_failure else "")
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    # ------------------------------------------------------------------ the socket
    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """What the socket has, read in one chunk: runs of plain PUBACKs here, in one loop, anything else through
        paho, a packet at a time. (Nothing read, or a failed socket: paho reads, and says what happened.)"""
        if self._sock is not None and not self.buffered() and self._in_packet["command"] == 0:
            self._fill()
        if not self.buffered():
            return super().loop_read(max_packets)
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while rc is MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self.buffered():
            if not self._take_acks():
                rc = super().loop_read(max_packets)
        return rc

    def _fill(self) -> None:
        """Read a chunk into the buffer, if the socket has one; a failure is left for paho's read to meet again."""
        try:
            chunk = super()._sock_recv(RECV_CHUNK)
        except OSError:  # BlockingIOError (nothing yet, or TLS wants more) and a broken connection alike
            return
        self._rx, self._rx_pos = chunk, 0

    def _take_acks(self) -> bool:
        """Acknowledge the plain PUBACKs (success, no properties) at the head of the read buffer, in one call of
        :attr:`on_acks`; whether there were any."""
        buf, pos, end, unacked = self._rx, self._rx_pos, len(self._rx), self._unacked
        mids = []
        while end - pos >= 4 and buf[pos] == _PUBACK and buf[pos + 1] == 2:
            mid = (buf[pos + 2] << 8) | buf[pos + 3]
            if mid not in unacked:
                break
            unacked.discard(mid)
            mids.append(mid)
            pos += 4
        if not mids:
            return False
        self._rx_pos = pos
        now = _paho_time()
        with self._msgtime_mutex:
            self._last_bytes_received = now  # paho's keepalive: the broker was heard (as its _packet_read marks it)
        self.waiting_since = now if unacked else None
        self.on_acks(mids, True, "")
        return True

    def _packet_write(self) -> MQTTErrorCode:
        """Send every queued packet that needs nothing done after it in one go; paho's own loop does the rest."""
        out = self._out_packet
        if len(out) > 1:
            merged = []
            while out and _plain(out[0]):
                merged.append(out.popleft())
            if len(merged) > 1:
                data = b"".join(bytes(p["packet"][p["pos"] :]) for p in merged)
                out.appendleft(
                    {
                        "command": _PUBACK,
                        "mid": 0,
                        "qos": 1,
                        "pos": 0,
                        "to_process": len(data),
                        "packet": data,
                        "info": None,
                    }
                )
            elif merged:
                out.appendleft(merged[0])
        return super()._packet_write()

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rx_pos >= len(self._rx):
            chunk = super()._sock_recv(RECV_CHUNK)
            if len(chunk) <= bufsize:
                return chunk
            self._rx, self._rx_pos = chunk, 0
        start = self._rx_pos
        self._rx_pos = start + bufsize
        return self._rx[start : self._rx_pos]

    @property
    def unacked(self) -> int:
        """Messages published through :meth:`publish_qos1` and not acknowledged yet."""
        return len(self._unacked)

    def buffered(self) -> bool:
        """Bytes read from the socket but not handled yet (the socket no longer reports them readable)."""
        return self._rx_pos < len(self._rx)

    def _sock_close(self) -> None:
        self._rx, self._rx_pos = b"", 0
        super()._sock_close()


def _plain(packet: Any) -> bool:
    """A queued packet after which paho does nothing (not a QoS 0 PUBLISH, not a DISCONNECT)."""
    command = packet["command"] & 0xF0
    return command != _DISCONNECT and not (command == _PUBLISH and packet["qos"] == 0)
