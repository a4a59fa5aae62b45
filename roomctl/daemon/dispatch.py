"""The daemon's :class:`~roomctl.commands.CommandHandler`: routes each command to the part that owns it, and logs it."""

from __future__ import annotations

import logging

from roomctl.commands import (
    Acknowledge,
    Command,
    CommandHandler,
    CommandResult,
    MusicCommand,
    ResetLighting,
    SetLevel,
    SetLimit,
    SetScene,
)

log = logging.getLogger(__name__)


class CommandDispatcher:
    """acknowledge, set_limit -> alarms; set_scene, set_level, reset_lighting -> lighting; music -> the music player;
    everything else -> the session.

    A part the room does not run (no lights configured, say) answers with a refusal in words, never a crash.
    """

    def __init__(
        self,
        *,
        session: CommandHandler | None = None,
        lighting: CommandHandler | None = None,
        alarms: CommandHandler | None = None,
        music: CommandHandler | None = None,
    ) -> None:
        self.session = session
        self.lighting = lighting
        self.alarms = alarms
        self.music = music

    def _owner(self, command: Command) -> tuple[str, CommandHandler | None]:
        match command:
            case Acknowledge() | SetLimit():
                return "alarms", self.alarms
            case SetScene() | SetLevel() | ResetLighting():
                return "lighting", self.lighting
            case MusicCommand():
                return "music", self.music
            case _:
                return "session", self.session

    async def handle(self, command: Command, source: str) -> CommandResult:
        part, handler = self._owner(command)
        if handler is None:
            result = CommandResult(ok=False, message=f"'{command.command}' is not available: this room runs no {part}")
        else:
            result = await handler.handle(command, source)
        log.info(
            "command %s from %s: %s%s",
            command.command,
            source,
            "done" if result.ok else "refused",
            f" ({result.message})" if result.message else "",
            extra={"command": command.command, "ok": result.ok},
        )
        return result
