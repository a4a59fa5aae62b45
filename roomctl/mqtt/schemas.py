"""JSON Schemas for every MQTT payload, generated from :mod:`roomctl.mqtt.payloads`.

The same schemas ship in the repository under ``schemas/mqtt/`` (a test keeps the files equal to these) and are printed
by ``roomctl schema mqtt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from roomctl.mqtt import payloads as p
from roomctl.mqtt.command_topic import MQTT_COMMAND_ADAPTER

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True)
class TopicSchema:
    name: str  # file name without .json
    topic: str  # below the room's root
    retained: bool
    source: type[BaseModel] | TypeAdapter[Any]
    direction: str = "published"  # or "subscribed" (commands roomctl accepts)


TOPIC_SCHEMAS: tuple[TopicSchema, ...] = (
    TopicSchema("status", "status", True, p.Status),
    TopicSchema("info", "info", True, p.Info),
    TopicSchema("vital", "vitals/<quantity>", False, p.Vital),
    TopicSchema("rr_intervals", "vitals/rr_intervals", False, p.RRIntervalsPayload),
    TopicSchema("device", "devices/<device>", True, p.DevicePayload),
    TopicSchema("alarm_event", "alarms", False, p.AlarmEventPayload),
    TopicSchema("alarms_active", "alarms/active", True, p.ActiveAlarms),
    TopicSchema("session", "session", True, p.SessionPayload),
    TopicSchema("session_event", "events", False, p.SessionEventPayload),
    TopicSchema("lighting", "lighting", True, p.LightingPayload),
    TopicSchema("command", "cmd", False, MQTT_COMMAND_ADAPTER, direction="subscribed"),
    TopicSchema("command_result", "cmd/result", False, p.CommandResultPayload),
)


def schema_of(entry: TopicSchema) -> dict[str, Any]:
    source = entry.source
    body = source.json_schema() if isinstance(source, TypeAdapter) else source.model_json_schema()
    head = {
        "$schema": DIALECT,
        "title": body.pop("title", entry.name),
        "x-mqtt": {
            "topic": f"<prefix>/<site>/<room>/{entry.topic}",
            "retained": entry.retained,
            "qos": 1,
            "direction": entry.direction,
            "encoding": "plain text" if entry.name == "status" else "JSON, UTF-8",
        },
    }
    return head | body


def all_schemas() -> dict[str, dict[str, Any]]:
    return {entry.name: schema_of(entry) for entry in TOPIC_SCHEMAS}


def entry_for(topic: str) -> TopicSchema | None:
    """The schema entry for a topic below the room root (``vitals/spo2``), a pattern, or a schema name."""
    topic = topic.strip("/")
    for entry in TOPIC_SCHEMAS:
        if topic in (entry.name, entry.topic):
            return entry
    head, _, rest = topic.partition("/")
    if head == "vitals" and rest and "/" not in rest:
        return next(e for e in TOPIC_SCHEMAS if e.name == ("rr_intervals" if rest == "rr_intervals" else "vital"))
    if head == "devices" and rest and "/" not in rest:
        return next(e for e in TOPIC_SCHEMAS if e.name == "device")
    return None


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
