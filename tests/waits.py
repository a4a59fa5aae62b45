"""Waiting in tests: on the event a follower sets when something changed, never by sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until_changed(changed: asyncio.Event, done: Callable[[], object], within_s: float = 60.0) -> None:
    """Wait until ``done()`` holds, looking again each time ``changed`` is set (whoever sets it saw something new)."""
    async with asyncio.timeout(within_s):
        while not done():
            changed.clear()
            await changed.wait()
