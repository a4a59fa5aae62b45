"""MPD missing, killed or hung: a low technical alarm, reconnect with backoff, the phase's playlist again; the player's
calls are bounded and the event loop is never blocked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from roomctl.commands import MusicCommand
from roomctl.models import MusicPlay, Priority
from roomctl.music.server import MpdServer, free_port
from tests.music.conftest import MusicRoom, close_room, music_config, open_room, playing


async def test_mpd_killed_and_restarted_is_an_alarm_then_the_phase_playlist_again(
    music_room: MusicRoom, start_mpd: Callable[..., MpdServer]
) -> None:
    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    music_room.server.kill()
    await music_room.until_hub(lambda: "music_unreachable" in music_room.conditions())
    (alarm,) = [a for a in music_room.hub.state.alarms.values() if a.condition == "music_unreachable"]
    assert alarm.priority is Priority.LOW
    assert alarm.message.startswith("Music player unreachable")
    assert music_room.health() is False
    await music_room.until_hub(
        lambda: music_room.hub.state.music is not None and music_room.hub.state.music.state is MusicPlay.UNREACHABLE
    )
    result = await music_room.player.handle(MusicCommand(action="next"))
    assert not result.ok
    assert "unreachable" in result.message

    restarted = start_mpd(port=music_room.server.port)  # same folder, same port; a fresh MPD with an empty queue
    music_room.watch.close()
    music_room.watch.server = restarted
    await music_room.watch.connect()
    await music_room.watch.until(playing("Onset", 40))
    await music_room.until_hub(lambda: "music_unreachable" not in music_room.conditions())
    assert music_room.health() is True


async def test_an_mpd_that_is_not_running_yet_is_an_alarm_until_it_starts(tmp_path: Path) -> None:
    port = free_port()
    server = MpdServer(tmp_path / "late", port=port)
    config = music_config(server)
    from roomctl.alarms.engine import AlarmEngine
    from roomctl.clock import SystemClock
    from roomctl.config import AlarmsConfig
    from roomctl.hub import Hub
    from roomctl.music.player import MusicPlayer
    from tests.music.conftest import PHASE_FADE_S, MpdWatch, MusicRoom, start_mpd_in

    hub = Hub()
    engine = AlarmEngine(AlarmsConfig(), [], clock=SystemClock())
    hub.add_processor(engine)
    player = MusicPlayer(config, hub, phase_fade_s=PHASE_FADE_S, clock=SystemClock())
    room = MusicRoom(hub, player, engine, MpdWatch(server), server)
    room.task = asyncio.create_task(player.run())
    try:
        room.phase("onset")
        await room.until_hub(lambda: "music_unreachable" in room.conditions())
        started = start_mpd_in(tmp_path / "late", port)
        try:
            room.watch.server = started
            await room.watch.connect()
            await room.watch.until(playing("Onset", 40))
            await room.until_hub(lambda: "music_unreachable" not in room.conditions())
        finally:
            started.stop()
    finally:
        await close_room(room)


async def test_a_hung_mpd_is_unreachable_within_the_timeout_and_never_blocks_the_loop(
    music_room: MusicRoom,
) -> None:
    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    music_room.server.pause_process(True)  # SIGSTOP: the socket stays open, nothing answers
    try:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        beat = asyncio.create_task(heartbeat())
        t0 = time.monotonic()
        result = await music_room.player.handle(MusicCommand(action="volume_up"))
        took = time.monotonic() - t0
        beat.cancel()
        assert not result.ok
        assert "unreachable" in result.message
        assert took < 1.0 + 10.0  # timeout_s plus a generous margin: bounded, not forever
        assert ticks >= int(took / 0.05) // 4  # the loop kept running while MPD hung
        await music_room.until_hub(lambda: "music_unreachable" in music_room.conditions())
    finally:
        music_room.server.pause_process(False)
    await music_room.until_hub(lambda: "music_unreachable" not in music_room.conditions())


async def test_bad_settings_reach_a_refusal_not_a_crash(mpd_server: MpdServer) -> None:
    from roomctl.config.music import PhaseMusic

    config = music_config(mpd_server, playlists={"onset": PhaseMusic(playlist="No such list", volume=0.4)})
    room = await open_room(mpd_server, config)
    try:
        room.phase("onset")
        await room.until_hub(lambda: room.hub.state.music is not None and room.hub.state.music.phase == "onset")
        music = room.hub.state.music
        assert music is not None
        assert music.playlist is None
        assert room.health() is not False  # a missing playlist is a configuration matter, not an outage
        status = await room.watch.status()
        assert status["state"] == "stop"
    finally:
        await close_room(room)


async def test_hostile_tags_become_one_clean_line_in_the_music_state(mpd_server: MpdServer, tmp_path: Path) -> None:
    from roomctl.config.music import PhaseMusic
    from roomctl.music.library import ARTIST, Mood, tone, write_wav

    title = "Evil\x1b[2J\u202etitle\nsecond line\t" + "x" * 400
    write_wav(mpd_server.music_dir / "odd" / "01.wav", tone(Mood("Odd", (220.0,), 0.0, 0.1), 5.0, 1), title, ARTIST)
    (mpd_server.playlist_dir / "Odd.m3u").write_text("odd/01.wav\n")
    mpd_server.update()
    config = music_config(mpd_server, playlists={"onset": PhaseMusic(playlist="Odd", volume=0.3)})
    room = await open_room(mpd_server, config)
    try:
        room.phase("onset")
        await room.until_hub(lambda: room.hub.state.music is not None and room.hub.state.music.title is not None)
        music = room.hub.state.music
        assert music is not None
        assert music.title is not None
        assert music.title.startswith("Evil")
        assert "title second line x" in music.title  # one line: the newline and the tab are spaces
        assert len(music.title) == 200
        assert not any(ord(c) < 32 or c == "\u202e" for c in music.title)
    finally:
        await close_room(room)


async def test_an_mpd_without_a_mixer_plays_and_says_once_that_it_cannot_duck(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.builders import alarm_event
    from tests.music.conftest import start_mpd_in

    server = start_mpd_in(tmp_path / "nomixer", mixer="none")
    try:
        room = await open_room(server, music_config(server))
        try:
            room.phase("onset")
            await room.watch.until(lambda s: s["state"] == "play" and s["song"].get("file", "").startswith("onset/"))
            room.hub.publish(alarm_event())
            await room.until_hub(lambda: room.hub.state.music is not None and room.hub.state.music.ducked)
            room.phase("active")
            await room.watch.until(lambda s: s["song"].get("file", "").startswith("peak/"))
            assert room.health() is not False  # no mixer is not an outage
            music = room.hub.state.music
            assert music is not None
            assert music.volume is None  # MPD says -1: no volume
        finally:
            await close_room(room)
    finally:
        server.stop()
    warnings = [r for r in caplog.records if "cannot set the volume" in r.getMessage()]
    assert len(warnings) == 1


async def test_music_over_mpds_unix_socket(tmp_path: Path) -> None:
    from roomctl.music.library import make_library
    from tests.music.conftest import MOODS, playing

    server = MpdServer(tmp_path / "sock", socket=tmp_path / "sock" / "mpd.sock")
    make_library(server.music_dir, server.playlist_dir, MOODS, tracks_per_playlist=1, seconds=10)
    server.start()
    try:
        server.update()
        config = music_config(server, host="localhost", port=1, socket=server.socket)  # the port is not used
        assert config.address == str(server.socket)
        room = await open_room(server, config)
        try:
            room.phase("onset")
            await room.watch.until(playing("Onset", 40))
        finally:
            await close_room(room)
    finally:
        server.stop()
