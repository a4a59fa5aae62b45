"""Commands over MQTT (opt-in): the shared strict parse (:func:`roomctl.commands.parse_command`) and an allow-list.

Only the commands whose model says so (``CommandModel.over_mqtt``: lighting, alarm ``acknowledge`` and ``set_limit``, this
session's alarm limits) may come over MQTT; session and clinical entries stay with the people in the room (the screen).
Anything else is rejected with a reason, never acted on.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from roomctl.commands import COMMAND_MODELS, MAX_COMMAND_BYTES, Command, CommandRejected
from roomctl.commands import parse_command as parse_any_command

__all__ = ["ALLOWED", "MAX_COMMAND_BYTES", "MQTT_COMMAND_ADAPTER", "CommandRejected", "MqttCommand", "parse_command"]

MQTT_MODELS = tuple(m for m in COMMAND_MODELS if m.over_mqtt)
MqttCommand: Any = Annotated[Union[MQTT_MODELS], Field(discriminator="command")]  # noqa: UP007  # a union made at import
MQTT_COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(MqttCommand)
ALLOWED: frozenset[str] = frozenset(m.model_fields["command"].default for m in MQTT_MODELS)


def parse_command(payload: bytes, *, retained: bool) -> Command:
    """Validate one command message, or raise :class:`CommandRejected`."""
    if retained:
        raise CommandRejected("retained message: commands must be sent with retain=false, or they would repeat")
    return parse_any_command(payload, allowed=ALLOWED, channel="MQTT")
