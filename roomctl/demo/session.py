"""The demo starts a dosing session through the local API, as a therapist would, so the screen shows a live session.

It stops before the dose: the baseline confirmation (``B``, then ``c`` once the proposal's minute is full) and the
pre-dose checklist (``C``) are left for the demo's user at the screen, then the dose (``d``), as a team would do them."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from roomctl.commands import Command, StartSession
from roomctl.errors import RoomctlError
from roomctl.models import SessionKind, SessionState

DEMO_COMMANDS: tuple[Command, ...] = (StartSession(session_kind=SessionKind.DOSING),)


async def start_demo_session(socket_path: Path, *, timeout_s: float) -> str:
    """Wait for the daemon's API, then start a dosing session (unless a session is already running)."""
    from roomctl.api.client import ApiClient
    from roomctl.api.protocol import Snapshot

    client = ApiClient(socket_path)
    first: asyncio.Future[SessionState] = asyncio.get_running_loop().create_future()

    async def read() -> None:  # keeps reading, so the answers to our commands arrive
        async for message in client.updates():
            if isinstance(message, Snapshot) and not first.done():
                first.set_result(message.session)

    reader = asyncio.create_task(read())
    try:
        async with asyncio.timeout(timeout_s):
            session = await first
            if session.id is not None and session.ended_at is None:
                return f"session {session.id} resumed"
            for command in DEMO_COMMANDS:
                result = await client.send(command)
                if not result.ok:
                    raise RoomctlError(f"the daemon refused the demo's {command.command}: {result.message}")
    except TimeoutError:
        raise RoomctlError(f"the daemon's API at {socket_path} did not answer within {timeout_s:.0f} s") from None
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await client.close()
    return "demo session started: confirm the baseline (B) and tick the checklist (C) before the dose (d)"
