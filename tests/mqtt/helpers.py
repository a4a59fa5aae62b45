"""Build a publisher for a test broker and run it as a task; the ACL docs/mqtt.md recommends, a handler that records
the commands it gets, and a command sent as the console would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from paho.mqtt.properties import Properties

from roomctl.commands import Command, CommandHandler, CommandResult
from roomctl.config import MqttConfig, RoomSection
from roomctl.hub import Hub
from roomctl.mqtt.publisher import MqttPublisher
from roomctl.storage.outbox import Outbox
from tests.mqtt.subscriber import Subscriber

ROOM = RoomSection(site="clinic", room="willow", name="Willow")
ROOT = "roomctl/clinic/willow"


def mqtt_config(port: int, **overrides: Any) -> MqttConfig:
    base: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
    }
    return MqttConfig.model_validate(base | overrides)


def credentials_file(directory: Path, user: str, password: str) -> Path:
    path = directory / f"{user}.credentials"
    path.write_text(f"{user}\n{password}\n")
    path.chmod(0o600)
    return path


@contextlib.asynccontextmanager
async def running(
    config: MqttConfig, outbox: Outbox, hub: Hub, *, commands: CommandHandler | None = None
) -> AsyncIterator[MqttPublisher]:
    """The real publisher on the test's hub (the root ``hub`` fixture), running until the block ends."""
    publisher = MqttPublisher(config, ROOM, outbox, hub, commands=commands, config_summary="test room")
    task = asyncio.create_task(publisher.run(), name="publisher")
    try:
        yield publisher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# The ACL docs/mqtt.md recommends, word for word: rooms write their own tree (user named after the room), the
# dashboard reads, the console may also send commands.
ACL = """\
pattern readwrite roomctl/+/%u/#
pattern write homeassistant/sensor/+/+/config

user dashboard
topic read roomctl/#

user console
topic read roomctl/#
topic write roomctl/+/+/cmd
"""


class RecordingHandler:
    def __init__(self) -> None:
        self.handled: list[tuple[Command, str]] = []

    async def handle(self, command: Command, source: str) -> CommandResult:
        self.handled.append((command, source))
        return CommandResult(ok=True, message=f"did {command.command}")


async def send(sub: Subscriber, payload: bytes, *, retain: bool = False, props: Properties | None = None) -> None:
    info = sub.client.publish(f"{ROOT}/cmd", payload, qos=1, retain=retain, properties=props)
    await asyncio.to_thread(info.wait_for_publish, 10)
