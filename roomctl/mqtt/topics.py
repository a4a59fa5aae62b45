"""Topics and the hot-path encoder: one outbox record in, one MQTT message out.

Records hold the hub event's JSON; this module reshapes it into the contract's payload (:mod:`roomctl.mqtt.payloads`)
with plain ``json`` — no per-reading model validation — and adds ``seq`` (and ``session`` for vitals).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.storage.outbox import OutboxRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def topic_safe(name: str) -> str:
    """A topic level from a name: MQTT wildcards, separators and other oddities become ``_``."""
    return _UNSAFE.sub("_", name) or "_"


def dumps(payload: Any) -> bytes:
    return _dumps(payload).encode()


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    expires: bool = False  # a live vital: carries the MQTT v5 message expiry


class Topics:
    """The topic tree of one room: ``<prefix>/<site>/<room>/...``."""

    def __init__(self, config: MqttConfig, room: RoomSection) -> None:
        self.root = f"{config.topic_prefix}/{room.site}/{room.room}"
        self.status = f"{self.root}/status"
        self.info = f"{self.root}/info"
        self.alarms = f"{self.root}/alarms"
        self.alarms_active = f"{self.root}/alarms/active"
        self.session = f"{self.root}/session"
        self.events = f"{self.root}/events"
        self.lighting = f"{self.root}/lighting"
        self.command = f"{self.root}/cmd"
        self.command_result = f"{self.root}/cmd/result"
        self._vitals: dict[str, str] = {}
        self._devices: dict[str, str] = {}

    def vital(self, quantity: str) -> str:
        topic = self._vitals.get(quantity)
        if topic is None:
            topic = self._vitals[quantity] = f"{self.root}/vitals/{topic_safe(quantity)}"
        return topic

    def device(self, device: str) -> str:
        topic = self._devices.get(device)
        if topic is None:
            topic = self._devices[device] = f"{self.root}/devices/{topic_safe(device)}"
        return topic


_ALARM_FIELDS = (
    "id",
    "condition",
    "kind",
    "priority",
    "message",
    "quantity",
    "device",
    "value",
    "limit",
    "raised_at",
    "active",
    "latched",
    "acknowledged_at",
    "cleared_at",
)


def alarm_body(alarm: dict[str, Any]) -> dict[str, Any]:
    """An alarm as the contract shows it (every field present, null where unknown)."""
    return {k: alarm.get(k) for k in _ALARM_FIELDS} | {
        "active": alarm.get("active", True),
        "latched": alarm.get("latched", False),
    }


class UnknownRecord(ValueError):
    """An outbox record of a kind MQTT does not carry (it is marked sent and skipped, with a log line)."""


PUBLIC_EVENT_DATA: dict[str, type | tuple[type, ...]] = {
    "amount_mg": (int, float),
    "systolic": (int, float),
    "diastolic": (int, float),
    "pulse_rate": (int, float),
    "celsius": (int, float),
    "session_kind": str,
    "phase": str,
    "from": str,
    "to": str,
}
"""What of a session event's ``data`` may leave the Pi: numbers (dose, manual vitals) and ids from the configuration.
Free text (notes, break texts) never does; a key not listed here is dropped (docs/mqtt.md, "Privacy")."""


def public_event_data(data: dict[str, Any]) -> dict[str, Any]:
    """The part of a session event's ``data`` that MQTT may carry (see :data:`PUBLIC_EVENT_DATA`)."""
    kept: dict[str, Any] = {}
    for key, kinds in PUBLIC_EVENT_DATA.items():
        value = data.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, kinds):
            continue
        if isinstance(value, str) and not _ID.fullmatch(value):
            continue  # a configuration id is a slug; anything else could be typed text
        kept[key] = value
    return kept


def encode(topics: Topics, record: OutboxRecord) -> tuple[Message, dict[str, Any]]:
    """The message for one record, and the decoded event (the publisher keeps alarm state from it)."""
    event: dict[str, Any] = json.loads(record.payload)
    kind = record.kind
    seq = record.seq
    if kind == "reading":
        payload = {
            "ts": event["ts"],
            "value": event["value"],
            "unit": event["unit"],
            "device": event["device"],
            "session": record.session,
            "seq": seq,
            "quality": event.get("quality", "ok"),
        }
        return Message(topics.vital(event["quantity"]), dumps(payload), retain=False, expires=True), event
    if kind == "rr_intervals":
        payload = {
            "ts": event["ts"],
            "intervals": event["intervals"],
            "unit": "s",
            "device": event["device"],
            "session": record.session,
            "seq": seq,
        }
        return Message(topics.vital("rr_intervals"), dumps(payload), retain=False, expires=True), event
    if kind == "device":
        payload = {
            "device": event["device"],
            "profile": event["profile"],
            "state": event["state"],
            "available": event["state"] == "connected",
            "address": event.get("address"),
            "battery": event.get("battery"),
            "rssi": event.get("rssi"),
            "last_seen": event.get("last_seen"),
            "conditions": list(event.get("conditions", ())),
            "seq": seq,
        }
        return Message(topics.device(event["device"]), dumps(payload), retain=True), event
    if kind == "alarm":
        payload = alarm_body(event["alarm"]) | {"action": event["action"], "ts": event["ts"], "seq": seq}
        return Message(topics.alarms, dumps(payload), retain=False), event
    if kind == "session":
        payload = {
            "id": event.get("id"),
            "kind": event.get("session_kind"),
            "phase": event.get("phase"),
            "started_at": event.get("started_at"),
            "ended_at": event.get("ended_at"),
            "dose_times": list(event.get("dose_times", ())),
            "on_break": event.get("on_break", False),
            "next_vitals_check": event.get("next_vitals_check"),
            "suggested_phase": event.get("suggested_phase"),
            "seq": seq,
        }
        return Message(topics.session, dumps(payload), retain=True), event
    if kind == "event":
        payload = {
            "id": event["id"],
            "session": event["session"],
            "event": event["event"],
            "ts": event["ts"],
            "data": public_event_data(event.get("data", {})),
            "seq": seq,
        }
        return Message(topics.events, dumps(payload), retain=False), event
    if kind == "lighting":
        payload = {
            "scene": event.get("scene"),
            "levels": event.get("levels", {}),
            "override": event.get("override", False),
            "reason": event.get("reason", ""),
            "seq": seq,
        }
        return Message(topics.lighting, dumps(payload), retain=True), event
    raise UnknownRecord(f"outbox record {seq} has kind {kind!r}, which MQTT does not carry")
