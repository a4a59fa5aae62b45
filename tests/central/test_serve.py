"""A served screen ends with its browser connection or its server: never left behind spinning or deaf to SIGTERM.

Each app runs under the real textual-serve (as ``roomctl central --serve`` runs it); a websocket client stands in for
the browser here (the Chromium test shows a real one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from roomctl.clock import FakeClock, SystemClock
from roomctl.config.mqtt import MqttConfig
from roomctl.hub import Hub
from roomctl.loadgen.room import Rates, SimRoom
from roomctl.models import Quantity
from tests.central.served import Served, central_config, central_serve_argv, cpu_seconds, exited, tui_serve_argv
from tests.mqtt.broker import Broker
from tests.tui.conftest import Served as RoomDaemon
from tests.tui.conftest import reading, room_state


@asynccontextmanager
async def browser_tab(served: Served) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A websocket like the page's: connected once the app has drawn its first screen."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{served.url}/ws?width=80&height=24")
        async with asyncio.timeout(60):
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 10:
                    break
        yield ws


async def live_room(port: int) -> None:
    """A room publishing through the real publisher, a tick every 0.2 s: the station redraws all the time."""
    clock = SystemClock()
    config = MqttConfig(enabled=True, host="127.0.0.1", port=port)
    room = SimRoom("harbor", "willow", config, clock, random.Random(1), Rates(0, 0, 0, 0))
    room.start_session(clock.now())
    publisher = room.start_publisher()
    try:
        while True:
            room.tick(clock.now())
            await asyncio.sleep(0.2)
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher


async def live_daemon(tmp_path: Path, hub: Hub, clock: FakeClock) -> None:
    """The room daemon's local API with a hub that gets readings every 0.2 s: the screen redraws all the time."""
    daemon = RoomDaemon(tmp_path, hub, clock)
    room_state(daemon.hub, daemon.clock.now())
    await daemon.start()
    try:
        while True:
            daemon.clock.advance(0.2)
            daemon.hub.publish(reading(Quantity.HEART_RATE, 80 + int(daemon.clock.monotonic()) % 9, daemon.clock.now()))
            await asyncio.sleep(0.2)
    finally:
        await daemon.stop()


@pytest.fixture(params=["central", "tui"])
async def served(
    request: pytest.FixtureRequest, tmp_path: Path, start_broker: Callable[..., Broker], hub: Hub, clock: FakeClock
) -> AsyncIterator[Served]:
    """A served screen with live data (the stock web driver lingers only while there is something to draw)."""
    if request.param == "central":
        port = start_broker().port
        source = asyncio.create_task(live_room(port))
        argv = central_serve_argv(central_config(tmp_path, port))
    else:
        source = asyncio.create_task(live_daemon(tmp_path, hub, clock))
        argv = tui_serve_argv(tmp_path / "api.sock")
    server = Served(argv, tmp_path)
    yield server
    server.stop()
    source.cancel()
    await asyncio.gather(source, return_exceptions=True)


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp and tcp6 give them) with a socket listening on ``port``."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
                out.append(fields[1])
    return out


async def test_app_ends_when_its_server_is_killed(served: Served) -> None:
    await served.listening()
    async with browser_tab(served):
        apps = served.apps()
        assert len(apps) == 1, apps
        app = apps[0]
        await asyncio.sleep(2)  # the screen has drawn live data for a while (a pause, not a wait for an event)
        before = cpu_seconds(app)
        os.kill(served.proc.pid, signal.SIGKILL)  # the server dies without a word to its apps
        assert await exited(app, within_s=15), "the app outlived its server"
    assert cpu_seconds(app) - before < 2.0


async def test_app_ends_when_its_browser_tab_closes(served: Served) -> None:
    await served.listening()
    async with browser_tab(served) as ws:
        app = served.apps()[0]
        await ws.close()
    assert await exited(app, within_s=15), "the app outlived its browser tab"
    assert served.proc.poll() is None  # the server goes on serving


async def test_served_app_obeys_sigterm(served: Served) -> None:
    await served.listening()
    async with browser_tab(served):
        app = served.apps()[0]
        os.kill(app, signal.SIGTERM)
        assert await exited(app, within_s=15), "the app ignored SIGTERM"


async def test_server_serves_on_loopback_by_default(tmp_path: Path, start_broker: Callable[..., Broker]) -> None:
    server = Served(central_serve_argv(central_config(tmp_path, start_broker().port)), tmp_path)
    try:
        await server.listening()
        assert listening_addresses(server.port) == [f"0100007F:{server.port:04X}"]  # 127.0.0.1 only
    finally:
        server.stop()
