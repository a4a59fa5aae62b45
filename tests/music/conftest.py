"""A real MPD per test (its own folder and config, a free loopback port, the null output), a small generated library,
and a room around the music player: a hub with the alarm engine, and a way to read MPD back through its ``idle``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mpd.asyncio import MPDClient

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import SystemClock
from roomctl.config import AlarmsConfig
from roomctl.config.music import MusicConfig, PhaseMusic
from roomctl.hub import Hub
from roomctl.models import SessionState
from roomctl.music.library import Mood, make_library
from roomctl.music.player import MusicPlayer
from roomctl.music.server import MpdServer

MOODS = {
    "onset": Mood("Onset", (196.0, 246.9), 0.05, 0.1),
    "active": Mood("Peak", (174.6, 220.0), 0.05, 0.1),
}
PLAYLISTS = {"onset": PhaseMusic(playlist="Onset", volume=0.4), "active": PhaseMusic(playlist="Peak", volume=0.6)}
PHASE_FADE_S = 1.0


def start_mpd_in(directory: Path, port: int | None = None, mixer: str = "software") -> MpdServer:
    server = MpdServer(directory, mixer=mixer) if port is None else MpdServer(directory, port=port, mixer=mixer)
    make_library(server.music_dir, server.playlist_dir, MOODS, tracks_per_playlist=3, seconds=20)
    server.start()
    server.update()
    return server


@pytest.fixture
def start_mpd(tmp_path: Path) -> Iterator[Callable[..., MpdServer]]:
    """Start an MPD in the test's folder (again on the same port and folder, to restart one); all stopped afterwards."""
    servers: list[MpdServer] = []

    def start(port: int | None = None) -> MpdServer:
        server = start_mpd_in(tmp_path / "mpd", port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mpd_server(start_mpd: Callable[..., MpdServer]) -> MpdServer:
    return start_mpd()


class MpdWatch:
    """The test's own MPD client: reads ``status`` and waits on ``idle`` until a condition holds (no polling)."""

    def __init__(self, server: MpdServer) -> None:
        self.server = server
        self.client: MPDClient | None = None

    async def connect(self) -> None:
        self.client = MPDClient()
        await self.client.connect("127.0.0.1", self.server.port)

    async def status(self) -> dict[str, Any]:
        assert self.client is not None
        status: dict[str, Any] = await self.client.status()
        song = await self.client.currentsong()
        return {**status, "song": song}

    async def until(self, check: Callable[[dict[str, Any]], bool], timeout_s: float = 30.0) -> dict[str, Any]:
        assert self.client is not None
        status: dict[str, Any] = {}
        try:
            async with asyncio.timeout(timeout_s):
                status = await self.status()
                if check(status):
                    return status
                changes = self.client.idle(("player", "mixer", "playlist"))
                try:
                    async for _ in changes:
                        status = await self.status()
                        if check(status):
                            return status
                finally:
                    await changes.aclose()
        except TimeoutError:
            raise AssertionError(f"MPD did not get there in {timeout_s:g} s; last status: {status}") from None
        raise AssertionError("MPD's idle ended")

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()


@dataclass
class MusicRoom:
    hub: Hub
    player: MusicPlayer
    engine: AlarmEngine
    watch: MpdWatch
    server: MpdServer
    task: asyncio.Task[None] | None = None

    def phase(self, phase: str | None, *, ended: bool = False, session: str = "s1") -> None:
        now = SystemClock().now()
        self.hub.publish(SessionState(id=session, phase=phase, started_at=now, ended_at=now if ended else None))

    def health(self) -> bool | None:
        h = self.hub.state.health.get("music")
        return None if h is None else h.ok

    def conditions(self) -> set[str]:
        return {a.condition for a in self.hub.state.alarms.values()}

    async def until_hub(self, check: Callable[[], bool], timeout_s: float = 30.0) -> None:
        version = self.hub.version
        async with asyncio.timeout(timeout_s):
            while not check():
                version = await self.hub.wait_changed(version)


def music_config(server: MpdServer, **overrides: Any) -> MusicConfig:
    settings: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": server.port,
        "duck_volume": 0.1,
        "duck_restore_s": 3.0,
        "end_fade_s": 1.0,
        "talk_fade_s": 0.5,
        "timeout_s": 1.0,
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 1.0,
        "playlists": PLAYLISTS,
    }
    return MusicConfig(**(settings | overrides))


@pytest.fixture
async def music_room(mpd_server: MpdServer) -> AsyncIterator[MusicRoom]:
    room = await open_room(mpd_server, music_config(mpd_server))
    try:
        yield room
    finally:
        await close_room(room)


async def open_room(server: MpdServer, config: MusicConfig) -> MusicRoom:
    hub = Hub()
    engine = AlarmEngine(AlarmsConfig(), [], clock=SystemClock())
    hub.add_processor(engine)
    player = MusicPlayer(config, hub, phase_fade_s=PHASE_FADE_S, clock=SystemClock())
    watch = MpdWatch(server)
    await watch.connect()
    room = MusicRoom(hub, player, engine, watch, server)
    room.task = asyncio.create_task(player.run())
    async with asyncio.timeout(30):
        await player.connected.wait()
    return room


async def close_room(room: MusicRoom) -> None:
    if room.task is not None:
        room.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await room.task
    room.watch.close()


def elapsed_since(t0: float) -> float:
    return time.monotonic() - t0


def playing(playlist: str, volume: int) -> Any:
    """A condition on MPD's status for ``watch.until``: playing a track of ``playlist`` at ``volume``."""

    def check(status: dict[str, Any]) -> bool:
        file = status["song"].get("file", "")
        return bool(
            status.get("state") == "play"
            and file.startswith(f"{playlist.lower()}/")
            and int(status["volume"]) == volume
        )

    return check
