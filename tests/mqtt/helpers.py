"""Build a publisher for a test broker and run it as a task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from roomctl.commands import CommandHandler
from roomctl.config import MqttConfig, RoomSection
from roomctl.hub import Hub
from roomctl.mqtt.publisher import MqttPublisher
from roomctl.storage.outbox import Outbox

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
