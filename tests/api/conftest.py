"""A real hub, a small real command handler and a real API server on a Unix socket in tmp_path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from roomctl.api.protocol import RoomInfo
from roomctl.api.server import ApiServer
from roomctl.commands import Command, CommandResult, EnterBloodPressure
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.room_info import room_info
from roomctl.hub import Hub


class RecordingHandler:
    """Records every command that reaches it and answers ok (blood pressure above 200 is refused, to test errors)."""

    def __init__(self) -> None:
        self.commands: asyncio.Queue[tuple[Command, str]] = asyncio.Queue()

    async def handle(self, command: Command, source: str) -> CommandResult:
        await self.commands.put((command, source))
        if isinstance(command, EnterBloodPressure) and command.systolic > 200:
            return CommandResult(ok=False, message="systolic above 200: please re-measure")
        return CommandResult(ok=True, message=f"done: {command.command}")

    async def next(self, within_s: float = 10.0) -> Command:
        command, _ = await asyncio.wait_for(self.commands.get(), within_s)
        return command


@dataclass
class Room:
    hub: Hub
    handler: RecordingHandler
    info: RoomInfo
    socket_path: Path

    def server(self, **kwargs: object) -> ApiServer:
        return ApiServer(self.hub, self.handler, self.info, self.socket_path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def room(tmp_path: Path, hub: Hub) -> Room:
    info = room_info(parse_config(demo_config_text()))
    return Room(hub, RecordingHandler(), info, tmp_path / "api.sock")


@pytest.fixture
async def served(room: Room) -> AsyncIterator[tuple[Room, ApiServer]]:
    async with room.server() as server:
        yield room, server


GREETING = ("hello", "snapshot", "history")


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The next line the server sends, as JSON (fails when the server closed the connection); idle heartbeats (one a
    second while nothing else is sent; tested in tests/tui/test_heartbeat.py) are passed over."""
    while True:
        line = await asyncio.wait_for(reader.readline(), 10)
        assert line, "the server closed the connection"
        data: dict[str, Any] = json.loads(line)
        if data.get("type") != "heartbeat":
            return data


async def read_greeting(reader: asyncio.StreamReader) -> dict[str, dict[str, Any]]:
    """What the server sends every client first (hello, snapshot, history), checked for order, by type."""
    messages = [await read_message(reader) for _ in GREETING]
    assert [m["type"] for m in messages] == list(GREETING)
    return {m["type"]: m for m in messages}
