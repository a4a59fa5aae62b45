"""The music player against a real MPD: phase playlists and volumes, fades, ducking under alarms, the screen's keys.

Everything is read back from MPD itself (its ``status``, woken by its ``idle``), never from the player's own view."""

from __future__ import annotations

import time
from typing import Any

from roomctl.commands import MusicCommand
from roomctl.models import AlarmAction, AudioPause, MusicPlay, Priority
from tests.builders import alarm_event
from tests.music.conftest import PHASE_FADE_S, MusicRoom, playing


def volume_at_most(volume: int) -> Any:
    return lambda status: int(status["volume"]) <= volume


async def test_a_phase_brings_its_playlist_at_its_volume_over_the_fade(music_room: MusicRoom) -> None:
    t0 = time.monotonic()
    music_room.phase("onset")
    status = await music_room.watch.until(playing("Onset", 40))
    took = time.monotonic() - t0
    assert took >= PHASE_FADE_S * 0.9  # faded in, not switched on
    assert status["repeat"] == "1"
    assert status["playlistlength"] == "3"
    await music_room.until_hub(
        lambda: music_room.hub.state.music is not None and music_room.hub.state.music.volume == 0.4
    )
    music = music_room.hub.state.music
    assert music is not None
    assert (music.state, music.playlist, music.phase, music.artist) == (
        MusicPlay.PLAY,
        "Onset",
        "onset",
        "roomctl demo",
    )
    assert music.title is not None
    assert music.title.startswith("Onset ")

    t1 = time.monotonic()
    music_room.phase("active")
    # the crossfade: down first (half the fade), then the new playlist comes up to its own volume
    await music_room.watch.until(volume_at_most(5))
    await music_room.watch.until(playing("Peak", 60))
    assert time.monotonic() - t1 >= PHASE_FADE_S * 0.9
    await music_room.until_hub(
        lambda: music_room.hub.state.music is not None and music_room.hub.state.music.playlist == "Peak"
    )


async def test_a_phase_without_a_playlist_keeps_what_plays(music_room: MusicRoom) -> None:
    music_room.phase("onset")
    before = await music_room.watch.until(playing("Onset", 40))
    music_room.phase("dose")  # not in [music.playlists]
    await music_room.until_hub(lambda: music_room.player.goal().kind == "keep")
    music_room.hub.publish(AudioPause(until=None))  # any room event: the player has taken the phase in by now
    after = await music_room.watch.status()
    assert after["state"] == "play"
    assert after["volume"] == "40"
    assert after["song"]["file"].startswith("onset/")
    assert after["playlistlength"] == before["playlistlength"]


async def test_the_session_end_fades_the_music_out_and_stops_it(music_room: MusicRoom) -> None:
    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    music_room.phase("onset", ended=True)
    status = await music_room.watch.until(lambda s: s["state"] == "stop")
    assert int(status["volume"]) == 0
    await music_room.until_hub(
        lambda: music_room.hub.state.music is not None and music_room.hub.state.music.state is MusicPlay.STOP
    )
    # after the end, play/pause brings the music back in (not silently at the faded-out volume)
    assert (await music_room.player.handle(MusicCommand(action="toggle"))).ok
    await music_room.watch.until(playing("Onset", 40))


async def test_the_music_ducks_in_one_step_under_a_sounding_alarm_and_comes_back_after_acknowledge(
    music_room: MusicRoom,
) -> None:
    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    seen: list[int] = []

    def ducked(status: dict[str, Any]) -> bool:
        seen.append(int(status["volume"]))
        return seen[-1] <= 10

    music_room.hub.publish(alarm_event(AlarmAction.RAISED, alarm_id="a1"))
    await music_room.watch.until(ducked)
    # a step, not a fade: the first volume MPD reports after the alarm is the duck's (how fast: bench/bench_music.py)
    assert [v for v in seen if v != 40][:1] == [10], seen
    await music_room.until_hub(lambda: music_room.hub.state.music is not None and music_room.hub.state.music.ducked)

    t1 = time.monotonic()
    music_room.hub.publish(alarm_event(AlarmAction.ACKNOWLEDGED, alarm_id="a1", acknowledged=True))
    await music_room.watch.until(lambda s: int(s["volume"]) == 40)
    assert time.monotonic() - t1 >= 3.0 * 0.9  # over duck_restore_s, not at once
    await music_room.until_hub(lambda: music_room.hub.state.music is not None and not music_room.hub.state.music.ducked)


async def test_the_music_comes_back_when_the_alarm_clears_and_stays_ducked_while_it_sounds(
    music_room: MusicRoom,
) -> None:
    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    music_room.hub.publish(alarm_event(AlarmAction.RAISED, alarm_id="a2", priority=Priority.MEDIUM))
    await music_room.watch.until(volume_at_most(10))
    music_room.phase("active")  # a phase change under the alarm: the new playlist comes in, still ducked
    await music_room.watch.until(lambda s: s["song"].get("file", "").startswith("peak/") and s["state"] == "play")
    assert int((await music_room.watch.status())["volume"]) <= 10
    music_room.hub.publish(alarm_event(AlarmAction.CLEARED, alarm_id="a2", priority=Priority.MEDIUM))
    await music_room.watch.until(playing("Peak", 60))


async def test_the_audio_pause_lets_the_music_back_up(music_room: MusicRoom) -> None:
    from datetime import timedelta

    from roomctl.clock import SystemClock

    music_room.phase("onset")
    await music_room.watch.until(playing("Onset", 40))
    music_room.hub.publish(alarm_event(AlarmAction.RAISED, alarm_id="a3"))
    await music_room.watch.until(volume_at_most(10))
    music_room.hub.publish(AudioPause(until=SystemClock().now() + timedelta(seconds=120), remaining_s=120))
    await music_room.watch.until(lambda s: int(s["volume"]) == 40)


async def test_the_keys_play_pause_skip_turn_up_and_down_and_hold_the_music_off_for_talking(
    music_room: MusicRoom,
) -> None:
    player = music_room.player
    music_room.phase("onset")
    first = await music_room.watch.until(playing("Onset", 40))

    assert (await player.handle(MusicCommand(action="volume_up"))).ok
    await music_room.watch.until(lambda s: s["volume"] == "45")
    assert (await player.handle(MusicCommand(action="volume_down"))).ok
    assert (await player.handle(MusicCommand(action="volume_down"))).ok
    await music_room.watch.until(lambda s: s["volume"] == "35")

    assert (await player.handle(MusicCommand(action="next"))).ok
    await music_room.watch.until(lambda s: s["songid"] != first["songid"])

    assert (await player.handle(MusicCommand(action="toggle"))).ok
    await music_room.watch.until(lambda s: s["state"] == "pause")
    assert (await player.handle(MusicCommand(action="toggle"))).ok
    await music_room.watch.until(lambda s: s["state"] == "play")

    result = await player.handle(MusicCommand(action="off"))
    assert result.ok
    assert "talking" in result.message
    await music_room.watch.until(lambda s: s["state"] == "pause" and s["volume"] == "0")
    await music_room.until_hub(lambda: music_room.hub.state.music is not None and music_room.hub.state.music.held)
    music_room.phase("active")  # the next phase ends the hold
    await music_room.watch.until(playing("Peak", 60))
    await music_room.until_hub(lambda: music_room.hub.state.music is not None and not music_room.hub.state.music.held)

    assert (await player.handle(MusicCommand(action="off"))).ok
    await music_room.watch.until(lambda s: s["state"] == "pause")
    assert (await player.handle(MusicCommand(action="off"))).ok  # the key again: back on
    await music_room.watch.until(playing("Peak", 60))
