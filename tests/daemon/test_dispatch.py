from __future__ import annotations

import logging

import pytest

from roomctl.commands import (
    Acknowledge,
    Command,
    CommandResult,
    EndSession,
    MarkEvent,
    ResetLighting,
    SetLevel,
    SetScene,
    StartSession,
)
from roomctl.daemon.dispatch import CommandDispatcher
from tests.builders import param_id


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str]] = []

    async def handle(self, command: Command, source: str) -> CommandResult:
        self.seen.append((command.command, source))
        return CommandResult(ok=True, message=f"{self.name} did it")


@pytest.mark.parametrize(
    ("command", "owner"),
    [
        (Acknowledge(), "alarms"),
        (SetScene(scene="journey"), "lighting"),
        (SetLevel(level=0.5), "lighting"),
        (ResetLighting(), "lighting"),
        (StartSession(), "session"),
        (EndSession(), "session"),
        (MarkEvent(event="dose"), "session"),
    ],
    ids=param_id,
)
async def test_each_command_reaches_its_owner_only(command: Command, owner: str) -> None:
    parts = {name: Recorder(name) for name in ("session", "lighting", "alarms")}
    dispatcher = CommandDispatcher(**parts)
    result = await dispatcher.handle(command, "tui")
    assert result == CommandResult(ok=True, message=f"{owner} did it")
    assert {name: len(r.seen) for name, r in parts.items()} == {n: int(n == owner) for n in parts}
    assert parts[owner].seen == [(command.command, "tui")]


async def test_a_part_the_room_does_not_run_refuses_in_words(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = CommandDispatcher(session=Recorder("session"))
    with caplog.at_level(logging.INFO):
        result = await dispatcher.handle(SetScene(scene="journey"), "mqtt")
    assert not result.ok
    assert result.message == "'set_scene' is not available: this room runs no lighting"
    assert "command set_scene from mqtt: refused" in caplog.text
