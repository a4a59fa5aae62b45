"""``roomctl schema mqtt [--topic T] [--write DIR]``: the JSON Schemas of the MQTT payloads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from roomctl.errors import RoomctlError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("schema", help="print the JSON Schemas of roomctl's interfaces")
    kinds = parser.add_subparsers(dest="schema_kind", metavar="KIND", required=True)
    mqtt = kinds.add_parser("mqtt", help="the MQTT payloads, one schema per topic")
    mqtt.add_argument("--topic", help="only this topic, below the room root (e.g. vitals/spo2, alarms/active)")
    mqtt.add_argument("--write", type=Path, metavar="DIR", help="write one <name>.json file per topic into DIR")
    mqtt.set_defaults(handler=mqtt_command)


def mqtt_command(args: argparse.Namespace) -> int:
    from roomctl.mqtt.feed import FEED
    from roomctl.mqtt.schemas import all_schemas, entry_for, render, schema_of, write_all

    if args.write is not None:
        try:
            for path in write_all(args.write):
                print(path)
        except OSError as e:
            raise RoomctlError(f"cannot write schemas into {args.write}: {e.strerror or e}") from e
        return 0
    if args.topic is not None:
        entry = entry_for(args.topic)
        if entry is None:
            known = ", ".join(e.topic for e in FEED)
            raise RoomctlError(f"no schema for topic {args.topic!r}; topics: {known}")
        print(render(schema_of(entry)), end="")
        return 0
    print(json.dumps(all_schemas(), indent=2, ensure_ascii=False))
    return 0
