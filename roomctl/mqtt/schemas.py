"""JSON Schemas for every MQTT payload, generated from the feed's table (:mod:`roomctl.mqtt.feed`).

The same schemas ship in the repository under ``schemas/mqtt/`` (a test keeps the files equal to these) and are printed
by ``roomctl schema mqtt``. Published schemas let consumers accept additions (no ``additionalProperties: false``):
later versions add fields, never rename them. ``strict=True`` gives the exact shape of this version, which the
project's own tests check against. The command schema stays strict: roomctl rejects unknown command fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from roomctl.mqtt.feed import BY_NAME, FEED, FeedEntry

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _open(node: Any) -> Any:
    """The schema with every ``additionalProperties: false`` removed (so additions validate)."""
    if isinstance(node, dict):
        return {k: _open(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


def schema_of(entry: FeedEntry, *, strict: bool = False) -> dict[str, Any]:
    source = entry.model
    body = source.json_schema() if isinstance(source, TypeAdapter) else source.model_json_schema()
    if entry.direction == "published" and not strict:
        body = _open(body)
    mqtt: dict[str, Any] = {
        "topic": f"<prefix>/<site>/<room>/{entry.topic}",
        "retained": entry.retained,
        "qos": 1,
        "direction": entry.direction,
        "encoding": "plain text" if entry.text else "JSON, UTF-8",
    }
    if entry.expires:
        mqtt["message_expiry"] = "the reading's remaining life: vitals_expiry_s after its ts, rounded down"
    if entry.history_of is not None:
        live = BY_NAME[entry.history_of].topic
        mqtt["history_of"] = f"<prefix>/<site>/<room>/{live}: the readings not published there, in seq order, no expiry"
    return {"$schema": DIALECT, "title": body.pop("title", entry.name), "x-mqtt": mqtt} | body


def all_schemas(*, strict: bool = False) -> dict[str, dict[str, Any]]:
    return {entry.name: schema_of(entry, strict=strict) for entry in FEED}


def entry_for(topic: str) -> FeedEntry | None:
    """The feed row for a topic below the room root (``vitals/spo2``), a pattern, or a schema name."""
    topic = topic.strip("/")
    for entry in FEED:
        if topic in (entry.name, entry.topic):
            return entry
    for entry in FEED:  # a topic with a filled level: the pattern's head, then one level
        slot = entry.placeholder
        if slot is None:
            continue
        head = entry.topic[: entry.topic.index("<")]
        rest = topic.removeprefix(head)
        if topic.startswith(head) and rest and "/" not in rest:
            return entry
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
