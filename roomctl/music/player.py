"""The room's music: MPD plays; this follows the session and the alarms and tells MPD what to do.

- A phase change brings in the phase's stored playlist: the music fades out over the first half of the lighting's
  ``phase_fade_s`` and the new playlist fades in over the second, in step with the light. A phase without a playlist
  keeps what plays; the session's end fades the music out (``end_fade_s``) and stops it.
- While an alarm sounds (:func:`roomctl.alarms.signal.sounding`: unacknowledged, no audio pause) the volume steps down
  to ``duck_volume`` at once, and comes back over ``duck_restore_s`` when the alarm is acknowledged or ends.
- The screen's keys (the ``music`` command): play/pause, next, volume up/down, and off for talking (held until the
  next phase or a key).

MPD is never in the way of monitoring: every call is bounded by ``timeout_s``; a connection that fails, closes or hangs
is ``ServiceHealth("music")`` not ok (the low technical alarm "music player unreachable"), retried with backoff from
``reconnect_min_s`` doubling to ``reconnect_max_s``; on reconnect the phase's playlist comes back. What MPD does is
learnt from its ``idle`` notifications, never by polling; a ``ping`` every ``KEEPALIVE_S`` finds an MPD that hangs.

A :class:`~roomctl.models.MusicState` reaches the hub on a track, state or playlist change and when a fade or a duck
settles (never per fade step): the record keeps it (what played when) and MQTT publishes it (``…/music``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import mpd
from mpd.asyncio import MPDClient

from roomctl.alarms.signal import sounding
from roomctl.clock import Clock, SystemClock
from roomctl.commands import Command, CommandResult, MusicCommand
from roomctl.config.music import MusicConfig
from roomctl.hub import Hub, Subscription
from roomctl.models import MusicPlay, MusicState, ServiceHealth
from roomctl.report.clean import clean_text

log = logging.getLogger(__name__)

T = TypeVar("T")

KEEPALIVE_S = 30.0
"""A ``ping`` this often while connected: an MPD that stopped answering (hung, not closed) is found within this plus
``timeout_s``. It is the only periodic call; everything else waits on MPD's ``idle``."""
MIXER_STEP_S = 0.25
"""During a fade the volume is recomputed this often and sent when its whole percent changes (MPD's volume is 0-100).
Longer than python-mpd2's 0.1 s before it re-enters ``idle``, so MPD's notifications keep coming during a fade."""
IDLE_SUBSYSTEMS = ("player", "mixer", "playlist", "options")
UNREACHABLE = "music player unreachable"


class MpdUnreachable(Exception):
    """MPD did not answer in time, refused the connection or closed it."""


_MPD_ERRORS = (MpdUnreachable, mpd.ConnectionError, mpd.ProtocolError, OSError, TimeoutError)


@dataclass(frozen=True)
class Ramp:
    """A straight line from ``start`` to ``end`` over ``seconds`` beginning at monotonic ``t0``."""

    start: float
    end: float
    t0: float
    seconds: float

    def at(self, now: float) -> float:
        if self.seconds <= 0 or now >= self.t0 + self.seconds:
            return self.end
        return self.start + (self.end - self.start) * max(0.0, now - self.t0) / self.seconds

    def done(self, now: float) -> bool:
        return now >= self.t0 + self.seconds


@dataclass(frozen=True)
class Goal:
    """What the room asks of the music now."""

    kind: str  # "play" (a phase's playlist), "keep" (a phase without one), "end" (the session ended), "none"
    phase: str | None = None
    playlist: str | None = None
    volume: float = 0.0


def _percent(level: float) -> int:
    return max(0, min(100, round(level * 100)))


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    """A tag as roomctl shows, records and publishes it: one line, no control or bidi characters, at most 200."""
    if isinstance(value, list):  # a tag given twice: MPD sends both
        value = " / ".join(str(v) for v in value)
    text = " ".join(clean_text(str(value)).split())[:200] if value else ""
    return text or None


class MusicPlayer:
    def __init__(self, config: MusicConfig, hub: Hub, *, phase_fade_s: float, clock: Clock | None = None) -> None:
        self.config = config
        self.hub = hub
        self.phase_fade_s = phase_fade_s
        self.clock = clock or SystemClock()
        self.connected = asyncio.Event()
        """Set while MPD answers (tests and tools wait on it)."""
        self.published: list[MusicState] = []
        """The states this published, oldest first (bounded): for the log and the tests."""
        self._client: MPDClient | None = None
        self._healthy: bool | None = None
        self._goal = Goal("none")
        self._session: str | None = None
        self._transition: asyncio.Task[None] | None = None
        self._level: Ramp = Ramp(0.0, 0.0, 0.0, 0.0)  # the music's own volume (fades), before ducking
        self._cap: Ramp | None = None  # the duck: a ceiling, then a ramp back up; None: no ceiling
        self._ducked = False
        self._held = False
        self._base = 0.0  # the phase's volume, moved by the volume keys
        self._playlist: str | None = None  # the stored playlist roomctl loaded
        self._phase: str | None = None  # the phase it was loaded for
        self._sent: int | None = None  # the volume MPD was last given (percent)
        self._no_mixer = False  # MPD refused a volume (said once in the log)
        self._mixer_wake = asyncio.Event()
        self._status: dict[str, Any] = {}
        self._song: dict[str, Any] = {}
        self._last_key: tuple[Any, ...] | None = None

    # -- the service --------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the room and drive MPD until cancelled (the supervisor's service); MPD going away is retried."""
        changes = self.hub.subscribe("music", maxsize=64, kinds=("session", "alarm", "audio_pause"))
        delay = self.config.reconnect_min_s
        try:
            while True:
                try:
                    await self._connected(changes)
                    reason = "MPD closed the connection"
                except* _MPD_ERRORS as group:
                    reason = _reason(group)
                if self.connected.is_set():
                    delay = self.config.reconnect_min_s  # it was up: start the backoff again
                self._disconnect()
                self._unreachable(reason)
                await self.clock.sleep(delay)
                delay = min(delay * 2, self.config.reconnect_max_s)
        finally:
            changes.close()
            self._disconnect()

    async def _connected(self, changes: Subscription) -> None:
        client = MPDClient()
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.timeout_s):
                await client.connect(str(cfg.socket) if cfg.socket is not None else cfg.host, cfg.port)
        except TimeoutError:
            client.disconnect()
            raise MpdUnreachable(f"no answer from MPD at {cfg.address} within {cfg.timeout_s:g} s") from None
        except (OSError, mpd.ConnectionError) as e:
            client.disconnect()
            raise MpdUnreachable(f"cannot connect to MPD at {cfg.address}: {e}") from None
        self._client = client
        self._sent = None
        await self._refresh()
        volume = _float(self._status.get("volume"))
        if volume is not None and volume >= 0 and self._transition is None:
            self._level = Ramp(volume / 100, volume / 100, 0.0, 0.0)
        self.connected.set()
        self._health(True, f"MPD {client.mpd_version} at {cfg.address}")
        self._goal = Goal("none")  # taken in afresh: the phase's playlist comes back after an outage
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_mpd(), name="music-idle")
            tasks.create_task(self._mixer(), name="music-mixer")
            tasks.create_task(self._keepalive(), name="music-ping")
            tasks.create_task(self._follow(changes), name="music-follow")

    def _disconnect(self) -> None:
        self.connected.clear()
        if self._transition is not None:
            self._transition.cancel()
            self._transition = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.disconnect()
            self._client = None

    async def _call(self, command: Awaitable[T]) -> T:
        """One MPD call, bounded: a slow MPD is an unreachable one."""
        try:
            async with asyncio.timeout(self.config.timeout_s):
                return await command
        except TimeoutError:
            raise MpdUnreachable(f"MPD did not answer within {self.config.timeout_s:g} s") from None

    def _mpd(self) -> MPDClient:
        if self._client is None:
            raise MpdUnreachable("not connected to MPD")
        return self._client

    async def _keepalive(self) -> None:
        while True:
            await self.clock.sleep(KEEPALIVE_S)
            await self._call(self._mpd().ping())

    # -- what MPD does -------------------------------------------------------------------------------------------

    async def _watch_mpd(self) -> None:
        async for _changed in self._mpd().idle(IDLE_SUBSYSTEMS):
            await self._refresh()
            self._report()

    async def _refresh(self) -> None:
        client = self._mpd()
        self._status = await self._call(client.status())
        self._song = await self._call(client.currentsong()) if self._status.get("songid") is not None else {}

    def state(self) -> MusicState:
        """The music now, from MPD's last status and roomctl's own view (playlist, phase, duck, hold)."""
        status, song = self._status, self._song
        if not self.connected.is_set():
            play = MusicPlay.UNREACHABLE
        else:
            play = (
                MusicPlay(status.get("state", "stop")) if status.get("state") in ("play", "pause") else MusicPlay.STOP
            )
        volume = _float(status.get("volume"))
        return MusicState(
            state=play,
            phase=self._phase,
            playlist=self._playlist,
            title=_text(song.get("title")),
            artist=_text(song.get("artist")),
            file=_text(song.get("file")),
            volume=volume / 100 if volume is not None and volume >= 0 else None,
            elapsed_s=_float(status.get("elapsed")),
            duration_s=_float(status.get("duration")),
            fade_to=self._fade_to(),
            ducked=self._ducked,
            held=self._held,
            ts=self.clock.now(),
        )

    def _report(self, *, settled: bool = False) -> None:
        """Publish the music's state when something worth recording changed: the track, the state, the playlist, the
        duck or hold; the volume only once it settled (a fade is one record, not a hundred)."""
        state = self.state()
        moving = self._moving(self.clock.monotonic())
        key = (
            state.state,
            state.file,
            state.playlist,
            state.phase,
            state.ducked,
            state.held,
            state.fade_to,
            self._status.get("songid"),
        )
        volume_news = (settled or not moving) and self.published and self.published[-1].volume != state.volume
        if key == self._last_key and not volume_news:
            return
        self._last_key = key
        self.published.append(state)
        del self.published[:-1000]
        if state.file != (self.published[-2].file if len(self.published) > 1 else None) and state.file is not None:
            log.info(
                "music: %s — %s (%s, playlist %s, phase %s)",
                state.title or "untitled",
                state.artist or "unknown artist",
                state.file,
                state.playlist or "-",
                state.phase or "-",
                extra={"music": state.state.value},
            )
        self.hub.publish(state)

    def _health(self, ok: bool, detail: str) -> None:
        if ok == self._healthy:
            return
        first = self._healthy is None
        self._healthy = ok
        if ok:
            log.info("music: %s", detail)
            if first:
                return  # a healthy start is no news
        else:
            log.warning("music: %s", detail)
        self.hub.publish(ServiceHealth(service="music", ok=ok, detail=detail, ts=self.clock.now()))

    def _unreachable(self, reason: str) -> None:
        self._health(False, reason)
        self._report()

    # -- following the room --------------------------------------------------------------------------------------

    async def _follow(self, changes: Subscription) -> None:
        self._take_in()
        while True:
            await changes.get_batch()  # what changed is read from hub.state: only the latest matters
            self._take_in()

    def goal(self) -> Goal:
        session = self.hub.state.session
        if session.id is None or session.ended_at is not None:
            return Goal("end") if self._session is not None else Goal("none")
        phase = session.phase
        music = self.config.playlists.get(phase) if phase is not None else None
        if music is None:
            return Goal("keep", phase=phase)
        return Goal("play", phase=phase, playlist=music.playlist, volume=music.volume)

    def _take_in(self) -> None:
        """Take in the room's state: a new goal starts its transition; an alarm that sounds ducks the music."""
        state = self.hub.state
        now = self.clock.monotonic()
        ducked = sounding(state.alarms.values(), state.audio_pause is not None) is not None
        if ducked != self._ducked:
            self._ducked = ducked
            if ducked:
                self._cap = Ramp(self.config.duck_volume, self.config.duck_volume, now, 0.0)
            else:
                cap_from = self._cap.at(now) if self._cap is not None else self.config.duck_volume
                self._cap = Ramp(cap_from, max(cap_from, self._level.end), now, self.config.duck_restore_s)
            self._mixer_wake.set()
            self._report()
        goal = self.goal()
        if goal == self._goal:
            return
        self._goal = goal
        if goal.kind == "keep":
            if self._held:  # the next phase ends "off for talking", even one that keeps the music
                self._held = False
                self._start(self._unhold())
            return
        if goal.kind == "none":
            return
        if goal.kind == "play":
            self._session = state.session.id
            self._held = False  # the next phase ends "off for talking"
            self._base = goal.volume
        self._start(self._to_goal(goal))

    def _start(self, transition: Awaitable[None]) -> None:
        if self._transition is not None:
            self._transition.cancel()
        self._transition = asyncio.ensure_future(transition)
        self._transition.add_done_callback(self._transition_done)

    def _transition_done(self, task: asyncio.Task[None]) -> None:
        if task is self._transition:
            self._transition = None
        if not task.cancelled() and (error := task.exception()) is not None:
            if isinstance(error, (*_MPD_ERRORS, mpd.CommandError)):
                log.warning("music: %s", error)
                if self._client is not None and not isinstance(error, mpd.CommandError):
                    self._client.disconnect()  # the idle loop then fails and the service reconnects
            else:
                log.error("music: the transition failed", exc_info=error)

    async def _to_goal(self, goal: Goal) -> None:
        if goal.kind == "end":
            await self._fade(0.0, self.config.end_fade_s)
            await self._call(self._mpd().stop())
            self._session = None
            self._phase = self._playlist = None
            self._report()
            return
        assert goal.playlist is not None
        half = self.phase_fade_s / 2
        if await self._queue_is(goal.playlist):
            self._playlist, self._phase = goal.playlist, goal.phase
            if self._status.get("state") != "play":
                await self._call(self._mpd().play())
            await self._fade(goal.volume, self.phase_fade_s)
            return
        playing = self._status.get("state") == "play"
        if playing and self._level.at(self.clock.monotonic()) > 0:
            await self._fade(0.0, half)
        client = self._mpd()
        await self._refresh()  # the track that played last is in the record before the queue changes
        self._report()
        try:
            await self._call(client.clear())
            await self._call(client.load(goal.playlist))
        except mpd.CommandError as e:
            log.warning("music: cannot load the playlist %r for phase %s: %s", goal.playlist, goal.phase, e)
            self._playlist, self._phase = None, goal.phase
            self._report()
            return
        self._level = Ramp(0.0, 0.0, 0.0, 0.0)
        await self._set_volume(0)
        await self._call(client.repeat(1))
        self._playlist, self._phase = goal.playlist, goal.phase
        await self._call(client.play())
        await self._fade(goal.volume, half if playing else self.phase_fade_s)

    async def _queue_is(self, playlist: str) -> bool:
        """Whether MPD's queue is already this stored playlist (after a restart of roomctl or a blip of MPD's)."""
        client = self._mpd()
        try:
            stored = list(await self._call(client.listplaylist(playlist)))
        except mpd.CommandError:
            return False
        queue = [song.get("file") for song in await self._call(client.playlistinfo())]
        return bool(stored) and queue == stored

    # -- the volume -----------------------------------------------------------------------------------------------

    async def _fade(self, target: float, seconds: float) -> None:
        now = self.clock.monotonic()
        self._level = Ramp(self._level.at(now), target, now, seconds)
        self._mixer_wake.set()
        self._report()  # the fade's target is news (the screen shows it); its steps are not
        if seconds > 0:
            await self.clock.sleep(seconds)
        self._mixer_wake.set()

    def _fade_to(self) -> float | None:
        """Where a running fade (or the way back from a duck) takes the volume; None when it stays where it is."""
        now = self.clock.monotonic()
        if not self._moving(now):
            return None
        end = self._level.end
        return round(min(end, self.config.duck_volume) if self._ducked else end, 2)

    def _output(self, now: float) -> float:
        level = self._level.at(now)
        return min(level, self._cap.at(now)) if self._cap is not None else level

    def _moving(self, now: float) -> bool:
        return not self._level.done(now) or (self._cap is not None and not self._ducked and not self._cap.done(now))

    async def _set_volume(self, percent: int) -> None:
        if percent == self._sent:
            return
        try:
            await self._call(self._mpd().setvol(percent))
        except mpd.CommandError as e:  # MPD without a mixer: the music plays at its own level
            if not self._no_mixer:
                self._no_mixer = True
                log.warning(
                    "music: MPD cannot set the volume (%s): no ducking; configure a mixer (docs/operations.md)", e
                )
        self._sent = percent

    async def _mixer(self) -> None:
        """Keep MPD's volume at the fade's level under the duck's ceiling; idle (no wake-ups) when nothing moves."""
        was_moving = False
        while True:
            self._mixer_wake.clear()  # before looking: a change from now on wakes the wait below
            now = self.clock.monotonic()
            await self._set_volume(_percent(self._output(now)))
            moving = self._moving(now)
            if not moving:
                if self._cap is not None and not self._ducked:
                    self._cap = None  # back up: no ceiling any more; the volume without it is sent next
                    continue
                if was_moving:
                    await self._refresh()
                    self._report(settled=True)
                was_moving = False
                await self._mixer_wake.wait()
                continue
            was_moving = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MIXER_STEP_S):
                    await self._mixer_wake.wait()

    # -- the screen's keys ----------------------------------------------------------------------------------------

    async def handle(self, command: Command, source: str = "local") -> CommandResult:
        if not isinstance(command, MusicCommand):
            return CommandResult(ok=False, message=f"'{command.command}' is not a music command")
        if self._client is None or not self.connected.is_set():
            return CommandResult(ok=False, message=f"{UNREACHABLE} (MPD at {self.config.address})")
        try:
            message = await self._key(command.action)
            await self._refresh()  # a skipped track is recorded even if the next change comes before MPD's idle
            self._report()
        except mpd.CommandError as e:
            return CommandResult(ok=False, message=f"MPD refused: {e}")
        except _MPD_ERRORS as e:
            if self._client is not None:
                self._client.disconnect()  # the idle loop ends: reported unreachable, retried with backoff
            return CommandResult(ok=False, message=f"{UNREACHABLE}: {e}")
        log.info("music: %s (by %s)", message, source)
        return CommandResult(ok=True, message=message)

    async def _key(self, action: str) -> str:
        client = self._mpd()
        step = self.config.volume_step
        await self._refresh()  # what MPD does this moment, not at its last idle
        match action:
            case "toggle":
                if self._held:
                    return await self._talk(False)
                if self._status.get("state") == "play":
                    await self._call(client.pause(1))
                    return "music paused"
                if self._level.end <= 0 and self._base > 0:  # faded out (the session ended): fade back in
                    self._start(self._unhold())
                    return "music playing"
                await self._call(client.play())
                return "music playing"
            case "next":
                await self._call(client.next())
                return "next track"
            case "volume_up" | "volume_down":
                self._base = min(1.0, max(0.0, self._base + (step if action == "volume_up" else -step)))
                if self._transition is not None:
                    self._transition.cancel()
                self._level = Ramp(self._base, self._base, 0.0, 0.0)
                self._mixer_wake.set()
                return f"music volume {_percent(self._base)} %"
            case "off":
                return await self._talk(not self._held)
        raise AssertionError(action)

    async def _talk(self, off: bool) -> str:
        """Music off for talking (held until the next phase or a key), or back on."""
        self._held = off
        self._report()
        if off:
            self._start(self._hold())
            return "music off for talking (back with the next phase or the key)"
        self._start(self._unhold())
        return "music back on"

    async def _hold(self) -> None:
        await self._fade(0.0, self.config.talk_fade_s)
        await self._call(self._mpd().pause(1))

    async def _unhold(self) -> None:
        await self._call(self._mpd().play())
        await self._fade(self._base, self.config.talk_fade_s)


def _reason(group: BaseExceptionGroup[BaseException]) -> str:
    errors: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        e = stack.pop()
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        else:
            errors.append(e)
    first = errors[0] if errors else group
    text = str(first) or type(first).__name__
    if isinstance(first, mpd.ConnectionError) and not str(first):
        text = "MPD closed the connection"
    return text
