"""The feed, defined once: every message roomctl publishes (or accepts) on MQTT, as one table.

Each row names the topic (below ``<prefix>/<site>/<room>``), whether it is retained, whether it carries the MQTT v5
message expiry, the payload model (:mod:`roomctl.mqtt.payloads`, the source of the shipped JSON Schema) and, for
messages made from an outbox record, the record's kind (the hub event's tag). From this table come the topics (:class:`Topics`), the encoder
(:func:`encode`), the schemas (:mod:`roomctl.mqtt.schemas`, ``roomctl schema mqtt``) and the docs' topic table.

The encoder is derived from the payload model: each field of the model is the hub event's field of the same name
(on the wire: a field's alias, e.g. an alarm's ``category`` is ``kind`` in both), unless the row says where it comes from instead (``seq`` and ``session`` from the record, ``available`` from the
link state, ...). A record that does not fit its model (a renamed field, a kind MQTT does not carry, bad JSON) raises
:class:`FeedEncodingError`; the publisher then stops loudly rather than marking the record sent.

Each record is encoded once, to bytes, on the publisher's hot path with pydantic-core's JSON reader and writer (no\nper-reading validation; a third of the standard library's time here);
the tests check every message a real broker delivers against the schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter
from pydantic_core import from_json, to_json

from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.mqtt import payloads as p
from roomctl.mqtt.command_topic import MQTT_COMMAND_ADAPTER
from roomctl.storage.outbox import OutboxRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")

Event = dict[str, Any]
Source = Callable[[Event, OutboxRecord], Any]


def topic_safe(name: str) -> str:
    """A topic level from a name: MQTT wildcards, separators and other oddities become ``_``."""
    return _UNSAFE.sub("_", name) or "_"


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON (pydantic-core's writer; a value it cannot write raises ValueError)."""
    return to_json(payload)


def _seq(event: Event, record: OutboxRecord) -> int:
    return record.seq


def _session(event: Event, record: OutboxRecord) -> str | None:
    return record.session


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
    "category": str,  # an adverse event's category and severity (ids; its action and text stay on the Pi)
    "severity": str,
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


def _alarm_view(event: Event) -> Event:
    """An alarm event flattened: the alarm's own fields, then the event's action and time."""
    return {**event["alarm"], "action": event["action"], "ts": event["ts"]}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One row of the feed: a message roomctl publishes (or accepts) and its topic, payload model and record."""

    name: str  # the schema's file name (schemas/mqtt/<name>.json)
    topic: str  # below the room root; ``<quantity>`` / ``<device>`` are filled from the event field of that name
    retained: bool
    model: type[BaseModel] | TypeAdapter[Any]
    record: str | None = None  # the outbox record kind it is encoded from; None: made by the publisher itself
    expires: bool = False  # a live vital: carries the MQTT v5 message expiry (its remaining life)
    sources: Mapping[str, Source] = field(default_factory=dict)  # payload fields not copied from the event
    view: Callable[[Event], Event] | None = None  # reshape the event before copying fields
    direction: str = "published"  # or "subscribed" (commands roomctl accepts)
    text: bool = False  # plain text, not JSON
    history_of: str | None = None  # the history lane of this live row (by name): its readings not published live
    summary: str = ""

    placeholder: str | None = field(init=False, default=None, compare=False)
    """The event field that fills the topic's ``<...>`` level, if any (from ``topic``)."""

    def __post_init__(self) -> None:
        if "<" in self.topic:
            object.__setattr__(self, "placeholder", self.topic[self.topic.index("<") + 1 : self.topic.index(">")])

    @property
    def fields(self) -> tuple[str, ...]:
        """The payload's keys: each field's wire name (its alias, where its Python name differs)."""
        if isinstance(self.model, TypeAdapter):
            return ()
        return tuple(info.alias or name for name, info in self.model.model_fields.items())


_OF_RECORD: dict[str, Source] = {"seq": _seq, "session": _session}

FEED: tuple[FeedEntry, ...] = (
    FeedEntry("status", "status", True, p.Status, text=True, summary="online / offline (birth and last will)"),
    FeedEntry("info", "info", True, p.Info, summary="version, site, room, started_at, settings (never secrets)"),
    FeedEntry(
        "vital",
        "vitals/<quantity>",
        False,
        p.Vital,
        record="reading",
        expires=True,
        sources=_OF_RECORD,
        summary="one reading, with its quality",
    ),
    FeedEntry(
        "rr_intervals",
        "vitals/rr_intervals",
        False,
        p.RRIntervalsPayload,
        record="rr_intervals",
        expires=True,
        sources=_OF_RECORD | {"unit": lambda e, r: "s"},
        summary="beat-to-beat intervals, seconds",
    ),
    FeedEntry(
        "vital_history",
        "history/<quantity>",
        False,
        p.Vital,
        history_of="vital",
        summary="a reading not published live (past its life, or overtaken): the same payload, in seq order",
    ),
    FeedEntry(
        "rr_intervals_history",
        "history/rr_intervals",
        False,
        p.RRIntervalsPayload,
        history_of="rr_intervals",
        summary="RR intervals not published live: the same payload, in seq order",
    ),
    FeedEntry(
        "device",
        "devices/<device>",
        True,
        p.DevicePayload,
        record="device",
        sources={"seq": _seq, "available": lambda e, r: e["state"] == "connected"},
        summary="one wearable: link state, battery, RSSI, last_seen",
    ),
    FeedEntry(
        "alarm_event",
        "alarms",
        False,
        p.AlarmEventPayload,
        record="alarm",
        sources={"seq": _seq},
        view=_alarm_view,
        summary="an alarm raised / escalated / latched / acknowledged / cleared",
    ),
    FeedEntry(
        "alarms_active",
        "alarms/active",
        True,
        p.ActiveAlarms,
        record="alarms_active",
        sources={"seq": _seq},
        summary="every alarm still shown",
    ),
    FeedEntry(
        "session",
        "session",
        True,
        p.SessionPayload,
        record="session",
        sources={"seq": _seq, "kind": lambda e, r: e["session_kind"]},  # the session kind, ``kind`` on MQTT
        summary="the current session: id, kind, phase, started_at, dose_times",
    ),
    FeedEntry(
        "session_event",
        "events",
        False,
        p.SessionEventPayload,
        record="event",
        sources={"seq": _seq, "data": lambda e, r: public_event_data(e["data"])},
        summary="a session event: its kind and time (never free text)",
    ),
    FeedEntry(
        "lighting",
        "lighting",
        True,
        p.LightingPayload,
        record="lighting",
        sources={"seq": _seq},
        summary="scene and per-channel levels",
    ),
    FeedEntry(
        "music",
        "music",
        True,
        p.MusicPayload,
        record="music",
        sources={"seq": _seq},
        summary="the room's music: state, playlist, title, artist, volume (no file names)",
    ),
    FeedEntry(
        "command", "cmd", False, MQTT_COMMAND_ADAPTER, direction="subscribed", summary="commands to roomctl (opt-in)"
    ),
    FeedEntry("command_result", "cmd/result", False, p.CommandResultPayload, summary="what became of a command"),
)

BY_NAME: dict[str, FeedEntry] = {e.name: e for e in FEED}
BY_RECORD: dict[str, FeedEntry] = {e.record: e for e in FEED if e.record is not None}
LIVE_HEAD, HISTORY_HEAD = "vitals/", "history/"  # a live vital's topic and its history's differ in this level


class Message(NamedTuple):
    """One message to publish (a named tuple: made for every reading, and a frozen dataclass costs five setattrs)."""

    topic: str
    payload: bytes
    retain: bool
    expires: bool = False  # a live vital: carries the MQTT v5 message expiry
    ts: str | None = None  # the reading's own time (for its remaining life)


class Topics:
    """The topic tree of one room, ``<prefix>/<site>/<room>/...``, from :data:`FEED`."""

    def __init__(self, config: MqttConfig, room: RoomSection) -> None:
        self.root = f"{config.topic_prefix}/{room.site}/{room.room}"
        self.fixed: dict[str, str] = {e.name: f"{self.root}/{e.topic}" for e in FEED if e.placeholder is None}
        self.status = self.fixed["status"]
        self.info = self.fixed["info"]
        self.alarms = self.fixed["alarm_event"]
        self.alarms_active = self.fixed["alarms_active"]
        self.session = self.fixed["session"]
        self.events = self.fixed["session_event"]
        self.lighting = self.fixed["lighting"]
        self.music = self.fixed["music"]
        self.command = self.fixed["command"]
        self.command_result = self.fixed["command_result"]
        self._filled: dict[tuple[str, str], str] = {}
        self._history: dict[str, str] = {}
        self._live_root = f"{self.root}/{LIVE_HEAD}"

    def of(self, entry: FeedEntry, event: Event) -> str:
        slot = entry.placeholder
        if slot is None:
            return self.fixed[entry.name]
        return self.filled(entry, str(event[slot]))

    def filled(self, entry: FeedEntry, value: str) -> str:
        key = (entry.name, value)
        topic = self._filled.get(key)
        if topic is None:
            head = entry.topic[: entry.topic.index("<")]
            topic = self._filled[key] = f"{self.root}/{head}{topic_safe(value)}"
        return topic

    def history(self, live_topic: str) -> str:
        """The history topic of a live vital's topic (``…/vitals/spo2`` -> ``…/history/spo2``)."""
        topic = self._history.get(live_topic)
        if topic is None:
            assert live_topic.startswith(self._live_root), live_topic
            if len(self._history) >= 512:
                self._history.clear()
            topic = self._history[live_topic] = f"{self.root}/{HISTORY_HEAD}{live_topic[len(self._live_root) :]}"
        return topic

    def vital(self, quantity: str) -> str:
        return self.filled(BY_NAME["vital"], quantity)

    def every(self, entry: FeedEntry) -> str:
        """The subscription filter for all topics of an entry with a placeholder: ``…/vitals/+``."""
        return f"{self.root}/{entry.topic[: entry.topic.index('<')]}+"

    def device(self, device: str) -> str:
        return self.filled(BY_NAME["device"], device)


class FeedEncodingError(ValueError):
    """An outbox record that cannot become its message: a bug between the record and the feed's models."""


def _compile(entry: FeedEntry) -> Callable[[Event, OutboxRecord], dict[str, Any]]:
    getters: list[tuple[str, Source | None]] = [(name, entry.sources.get(name)) for name in entry.fields]
    view = entry.view

    def build(event: Event, record: OutboxRecord) -> dict[str, Any]:
        src = view(event) if view is not None else event
        return {name: (get(event, record) if get is not None else src[name]) for name, get in getters}

    return build


_BUILDERS = {record: _compile(entry) for record, entry in BY_RECORD.items()}


def encode(topics: Topics, record: OutboxRecord) -> tuple[Message, Event]:
    """The message for one record, and the decoded event (the publisher keeps alarm state from it)."""
    entry = BY_RECORD.get(record.kind)
    if entry is None:
        raise FeedEncodingError(f"outbox record {record.seq} has kind {record.kind!r}, which the feed does not define")
    try:
        event: Event = from_json(record.payload)
        payload = _BUILDERS[record.kind](event, record)
        topic = topics.of(entry, event)
        body = dumps(payload)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        what = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        raise FeedEncodingError(f"outbox record {record.seq} ({record.kind}) does not fit {entry.name} ({what})") from e
    ts = event.get("ts") if entry.expires else None
    return Message(topic, body, entry.retained, entry.expires, ts), event
