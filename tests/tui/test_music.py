"""The music on the screen: one line at 80x24 in a room with music, its keys (in the help line), nothing otherwise."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.commands import MusicCommand
from roomctl.hub import Hub
from roomctl.models import MusicPlay, MusicState
from roomctl.tui.app import RoomApp
from roomctl.tui.widgets import Vitals
from tests.tui.conftest import Served, connected, demo_info, room_state, until


@pytest.fixture
async def served_music(tmp_path: Path, hub: Hub, clock: FakeClock) -> Served:
    s = Served(tmp_path, hub, clock, info=demo_info().model_copy(update={"music": True}))
    room_state(s.hub, s.clock.now())
    await s.start()
    return s


def music(clock: FakeClock, **changes: object) -> MusicState:
    fields: dict[str, object] = {
        "state": MusicPlay.PLAY,
        "phase": "onset",
        "playlist": "Onset",
        "title": "Slow Water",
        "artist": "Ensemble",
        "file": "onset/01.flac",
        "volume": 0.4,
        "elapsed_s": 130.0,
        "duration_s": 300.0,
        "ts": clock.now() - timedelta(seconds=4),
    }
    return MusicState.model_validate(fields | changes)


def line(app: RoomApp) -> str:
    return app._cell("music").shown


async def test_the_music_line_and_its_ducked_held_and_unreachable_states(
    served_music: Served, clock: FakeClock
) -> None:
    app = served_music.app()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await connected(pilot)
            served_music.hub.publish(music(clock))
            await until(pilot, lambda: line(app).startswith("Music  Onset playlist"))
            assert line(app) == "Music  Onset playlist · Slow Water — Ensemble  2:14  vol 40 %"
            served_music.hub.publish(music(clock, volume=0.0, fade_to=0.35))  # a fade in: where it goes
            await until(pilot, lambda: line(app).endswith("vol 0 % → 35 %"))
            served_music.hub.publish(music(clock, volume=0.1, ducked=True))
            await until(pilot, lambda: line(app).endswith("vol 10 %  (ducked)"))
            served_music.hub.publish(music(clock, state=MusicPlay.PAUSE, volume=0.0, held=True))
            await until(pilot, lambda: line(app).endswith("(off for talking)"))
            assert "2:10" in line(app)  # paused: the position stands still
            served_music.hub.publish(music(clock, state=MusicPlay.UNREACHABLE))
            await until(pilot, lambda: "player unreachable" in line(app))
            long = music(clock, title="T" * 90)
            served_music.hub.publish(long)
            await until(pilot, lambda: line(app).endswith("…"))
            assert len(line(app)) == 80

            # the line takes the vitals' last gap: every vital's rows are still on screen
            vitals = app._main.query_one(Vitals)
            assert vitals.size.height == 14
            assert app._cell("music").region.y == vitals.region.y + 14
            assert app._cell("session").region.y == vitals.region.y + 15
            keys = app._cell("keys").shown
            for entry in ("m music", "M talk", ",. vol", "> track"):
                assert entry in keys, keys
            assert len(keys.splitlines()) <= 2
    finally:
        await served_music.stop()


@pytest.mark.parametrize(
    ("key", "action"),
    [
        ("m", "toggle"),
        ("M", "off"),
        ("comma", "volume_down"),
        ("full_stop", "volume_up"),
        ("greater_than_sign", "next"),
    ],
)
async def test_music_keys_send_the_music_command(served_music: Served, key: str, action: str) -> None:
    app = served_music.app()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await connected(pilot)
            await pilot.press(key)
            assert await served_music.handler.next() == MusicCommand.model_validate({"action": action})
    finally:
        await served_music.stop()


async def test_a_room_without_music_has_no_music_line_or_keys(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert not app._cell("music").display
        assert app._main.query_one(Vitals).size.height == 15
        assert "music" not in app._cell("keys").shown
        await pilot.press("m")
        await pilot.pause(0.1)
        assert served.handler.commands.empty()
