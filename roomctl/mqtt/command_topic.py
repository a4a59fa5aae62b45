"""Commands over MQTT (opt-in): the shared strict parse (:func:`roomctl.commands.parse_command`) and an allow-list.

Only lighting (``set_scene``, ``set_level``, ``reset_lighting``), alarm ``acknowledge`` and ``set_limit`` (this session's
alarm limits) may come over MQTT; session and clinical entries stay with the people in the room (the screen). Anything else is rejected with a reason, never acted on.
"""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field, TypeAdapter

from roomctl.commands import (
    MAX_COMMAND_BYTES,
    Acknowledge,
    Command,
    CommandRejected,
    ResetLighting,
    SetLevel,
    SetLimit,
    SetScene,
)
from roomctl.commands import parse_command as parse_any_command

__all__ = ["ALLOWED", "MAX_COMMAND_BYTES", "MQTT_COMMAND_ADAPTER", "CommandRejected", "MqttCommand", "parse_command"]

MqttCommand = Annotated[Acknowledge | SetLimit | SetScene | SetLevel | ResetLighting, Field(discriminator="command")]
MQTT_COMMAND_ADAPTER: TypeAdapter[MqttCommand] = TypeAdapter(MqttCommand)
ALLOWED: frozenset[str] = frozenset(m.model_fields["command"].default for m in get_args(get_args(MqttCommand)[0]))


def parse_command(payload: bytes, *, retained: bool) -> Command:
    """Validate one command message, or raise :class:`CommandRejected`."""
    if retained:
        raise CommandRejected("retained message: commands must be sent with retain=false, or they would repeat")
    return parse_any_command(payload, allowed=ALLOWED, channel="MQTT")
