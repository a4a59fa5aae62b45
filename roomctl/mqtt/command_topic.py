"""Commands over MQTT (opt-in): strict validation and an allow-list. Anything else is rejected with a reason, never acted on.

Only lighting (``set_scene``, ``set_level``, ``reset_lighting``) and alarm ``acknowledge`` may come over MQTT; session
and clinical entries stay with the people in the room (the TUI).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter, ValidationError

from roomctl.commands import COMMAND_ADAPTER, Acknowledge, Command, ResetLighting, SetLevel, SetScene

MAX_COMMAND_BYTES = 2048
MqttCommand = Annotated[Acknowledge | SetScene | SetLevel | ResetLighting, Field(discriminator="command")]
MQTT_COMMAND_ADAPTER: TypeAdapter[MqttCommand] = TypeAdapter(MqttCommand)
ALLOWED: frozenset[str] = frozenset(m.model_fields["command"].default for m in get_args(get_args(MqttCommand)[0]))
KNOWN: frozenset[str] = frozenset(m.model_fields["command"].default for m in get_args(get_args(Command)[0]))


class CommandRejected(ValueError):
    """A command that will not be acted on; the message says why, in words."""


def _explain(error: ValidationError) -> str:
    parts = []
    for err in error.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"][1:]) or "command"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_command(payload: bytes, *, retained: bool) -> Command:
    """Validate one command message, or raise :class:`CommandRejected`."""
    if retained:
        raise CommandRejected("retained message: commands must be sent with retain=false, or they would repeat")
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandRejected(f"payload of {len(payload)} bytes is over the {MAX_COMMAND_BYTES}-byte limit")
    try:
        data: Any = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as e:
        raise CommandRejected(f"not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise CommandRejected('not a JSON object like {"command": "set_scene", "scene": "calm"}')
    name = data.get("command")
    if not isinstance(name, str) or name not in KNOWN:
        raise CommandRejected(f"unknown command {name!r}; allowed over MQTT: {', '.join(sorted(ALLOWED))}")
    if name not in ALLOWED:
        raise CommandRejected(f"command {name!r} is not allowed over MQTT (only {', '.join(sorted(ALLOWED))})")
    try:
        return COMMAND_ADAPTER.validate_json(payload)
    except ValidationError as e:
        raise CommandRejected(f"invalid {name}: {_explain(e)}") from None
