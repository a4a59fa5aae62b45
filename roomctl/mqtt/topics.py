"""Topics, messages and the encoder: defined once in :mod:`roomctl.mqtt.feed`, re-exported here for the MQTT parts."""

from __future__ import annotations

from roomctl.mqtt.feed import (
    PUBLIC_EVENT_DATA,
    FeedEncodingError,
    Message,
    Topics,
    dumps,
    encode,
    public_event_data,
    topic_safe,
)

__all__ = [
    "PUBLIC_EVENT_DATA",
    "FeedEncodingError",
    "Message",
    "Topics",
    "dumps",
    "encode",
    "public_event_data",
    "topic_safe",
]
