"""The station's MQTT client: the rooms' PUBLISH packets read straight from the read buffer.

A station of 1,000 rooms receives ~2,000 messages a second; paho's general path spends most of the station's MQTT time
on each (a packet object, a properties object unpacked field by field, a message object, the topic matched against
callback filters). :class:`StationClient` keeps paho for the connection and for anything unusual, and takes the
plain PUBLISH packets (QoS 0 or 1, no properties or only a message expiry) at the head of the read buffer itself,
as :class:`roomctl.mqtt.room_client.RoomClient` does for PUBACKs: ``on_room_message(topic, payload, expiry_s)`` per message, a
PUBACK queued for QoS 1. A packet not wholly in the buffer, or any other, goes through paho as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from roomctl.mqtt.room_client import RoomClient, _paho_time

log = logging.getLogger(__name__)

_PUBLISH = 0x30
_EXPIRY = 0x02  # the Message Expiry Interval property

OnRoomMessage = Callable[[str, bytes, float | None], None]


class StationClient(RoomClient):
    """A reader: see the module's text. ``on_room_message`` is called on the loop's thread for each plain PUBLISH."""

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        self.on_room_message: OnRoomMessage | None = None

    def _take_acks(self) -> bool:
        return self._take_publishes() or super()._take_acks()

    def _take_publishes(self) -> bool:
        """Hand over the plain PUBLISH packets at the head of the read buffer; whether there were any."""
        deliver = self.on_room_message
        if deliver is None or self._in_packet["command"] != 0:  # paho is in the middle of a packet
            return False
        buf, pos, end = self._rx, self._rx_pos, len(self._rx)
        taken = 0
        while end - pos >= 2:
            first = buf[pos]
            qos = (first >> 1) & 0x03
            if first & 0xF0 != _PUBLISH or qos > 1 or first & 0x08:  # not a PUBLISH, QoS 2, or a DUP: paho's
                break
            length, shift, i = 0, 0, pos + 1
            while i < end and buf[i] & 0x80 and shift < 21:
                length |= (buf[i] & 0x7F) << shift
                shift += 7
                i += 1
            if i >= end:
                break
            length |= buf[i] << shift
            start = i + 1
            stop = start + length
            if stop > end:
                break  # not wholly read yet
            topic_len = (buf[start] << 8) | buf[start + 1] if length >= 2 else stop
            at = start + 2 + topic_len
            mid = 0
            if qos and at + 2 <= stop:
                mid = (buf[at] << 8) | buf[at + 1]
                at += 2
            if at >= stop:
                break  # malformed: paho says so
            props_len = buf[at]
            if props_len == 0:
                expiry: float | None = None
            elif props_len == 5 and buf[at + 1] == _EXPIRY:
                expiry = float(int.from_bytes(buf[at + 2 : at + 6], "big"))
            else:
                break  # other properties (or a long property block): paho reads them
            if at + 1 + props_len > stop:
                break
            topic = buf[start + 2 : start + 2 + topic_len].decode("utf-8", "replace")
            payload = buf[at + 1 + props_len : stop]
            pos = stop
            self._rx_pos = pos
            taken += 1
            try:
                deliver(topic, payload, expiry)
            except Exception:
                log.exception("MQTT message handling failed")
            if qos:
                self._send_puback(mid)
            if self._sock is None or self._rx is not buf:  # the callback closed the connection
                break
        if taken:
            with self._msgtime_mutex:
                self._last_bytes_received = (
                    _paho_time()
                )  # paho's keepalive: the broker was heard (as its _packet_read marks it)
        return taken > 0


def station_client_factory(client_id: str) -> StationClient:
    return StationClient(client_id)
