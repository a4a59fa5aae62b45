"""The daemon's :class:`~roomctl.commands.CommandHandler`: routes each command to the part that owns it, and logs it."""

from __future__ import annotations

import logging

from roomctl.commands import Command, CommandHandler, CommandResult, Owner

log = logging.getLogger(__name__)


class CommandDispatcher:
    """Each command to the part its model names (``CommandModel.owner``: alarms, lighting, music, the session).

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
        owner = type(command).owner
        parts = {Owner.ALARMS: self.alarms, Owner.LIGHTING: self.lighting, Owner.MUSIC: self.music}
        return owner.value, parts.get(owner, self.session)

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
