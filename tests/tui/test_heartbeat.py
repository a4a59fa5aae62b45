"""A hung daemon is not "ok": the daemon's heartbeat, and the screen's link-lost banner when it stops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

from roomctl.api.client import Update
from roomctl.api.protocol import HEARTBEAT_TIMEOUT_S, Heartbeat
from roomctl.clock import FakeClock
from roomctl.commands import Command, CommandResult
from roomctl.hub import Hub
from roomctl.tui.app import RoomApp
from tests.builders import T0
from tests.tui.conftest import Served, script, until, vital


class QueueLink:
    """A link that yields what the test puts in its queue (a daemon that can go silent and come back)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Update] = asyncio.Queue()

    async def updates(self) -> AsyncIterator[Update]:
        while True:
            yield await self.queue.get()

    async def send(self, command: Command) -> CommandResult:
        return CommandResult(ok=True, message="done")


async def test_silent_daemon_shows_the_link_lost_banner_and_recovers(hub: Hub, clock: FakeClock) -> None:
    link, link_clock = QueueLink(), FakeClock()
    for update in script(hub):
        link.queue.put_nowait(update)
    app = RoomApp(link, clock=clock, link_clock=link_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.view.connected and link.queue.empty())
        app.refresh_view()
        assert app._cell("banner").shown == "no alarms"
        assert app._cell("link").shown.startswith("daemon ok")

        link_clock.advance(HEARTBEAT_TIMEOUT_S - 0.5)  # quiet, but within the heartbeat's time: still ok
        app.refresh_view()
        assert app._cell("link").shown.startswith("daemon ok")

        link_clock.advance(1.5)  # nothing at all for 6 s: hung (SIGSTOP, a stuck loop)
        app.refresh_view()
        assert app._cell("banner").shown.startswith("** NO LINK TO THE ROOM DAEMON")
        assert app._cell("link").shown == "daemon not answering (nothing for 6 s), retrying"
        assert "no data: daemon not reachable" in vital(app, "heart_rate", "label")
        link_clock.advance(34)
        app.refresh_view()
        assert app._cell("link").shown == "daemon not answering (nothing for 40 s), retrying"

        link.queue.put_nowait(Heartbeat(ts=T0 + timedelta(seconds=40)))  # it speaks again (SIGCONT)
        await until(pilot, lambda: not app.view.hung)
        app.refresh_view()
        assert app._cell("banner").shown == "no alarms"
        assert app._cell("link").shown.startswith("daemon ok")


async def test_server_sends_heartbeats_only_when_idle(served: Served) -> None:
    reader, writer = await asyncio.open_unix_connection(str(served.socket_path), limit=8 * 1024 * 1024)
    try:
        writer.write(b'{"type": "hello"}\n')
        kinds = [json.loads(await reader.readline())["type"] for _ in range(3)]  # the greeting, at once
        assert kinds == ["hello", "snapshot", "history"]
        loop = asyncio.get_running_loop()
        started = loop.time()
        beat = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert beat["type"] == "heartbeat"
        assert loop.time() - started < 3  # sent after about 1 s of nothing else
        beat = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert beat["type"] == "heartbeat"
    finally:
        writer.close()
