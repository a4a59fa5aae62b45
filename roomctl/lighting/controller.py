"""The lighting controller: scenes follow the session phase, breaks and alarms; therapists can override.

Layers, highest first (each only when configured and in force):

1. ``alarm``: a high-priority alarm (unacknowledged, or until it clears: ``alarm_scene_until``) raises ``alarm_scene``;
2. ``break``: the session is on a break: ``break_scene``, bright enough to walk safely;
3. ``override``: the therapists' own scene or level; held until the next phase change or a reset;
4. ``phase``: the scene of the current session phase; with none, the last scene stays (restored after a restart).

The last look of layers 3-4 is saved to the state file on every change, so a restart restores it, not darkness.
On stop the light goes to the safe level. LightingState reaches the hub when a fade starts and ends, never per step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from roomctl.clock import Clock, SystemClock
from roomctl.commands import Command, CommandResult, ResetLighting, SetLevel, SetScene
from roomctl.config.lighting import LightingConfig
from roomctl.hub import Hub
from roomctl.lighting.fader import ChannelFader
from roomctl.lighting.looks import Look, look_from_json, safe_look, scene_look, with_level
from roomctl.lighting.outputs import ChannelOutput, make_pin_factory
from roomctl.lighting.persist import read_state, write_state
from roomctl.models import Priority

log = logging.getLogger(__name__)


class LightingController:
    def __init__(
        self,
        config: LightingConfig,
        hub: Hub,
        *,
        phase_scenes: dict[str, str] | None = None,
        pin_factory: Any = None,
        clock: Clock | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.config = config
        self._hub = hub
        self._phase_scenes = {p: s for p, s in (phase_scenes or {}).items() if s in config.scenes}
        self._pin_factory = pin_factory
        self._clock = clock or SystemClock()
        self._state_file = state_file
        self.outputs: dict[str, ChannelOutput] = {}
        self._faders: dict[str, ChannelFader] = {}
        self._base = safe_look(config)
        self._override: Look | None = None
        self._last_phase: str | None = None
        self._last_key: tuple[object, ...] | None = None
        self._current: Look | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._end_task: asyncio.Task[None] | None = None

    @property
    def current(self) -> Look | None:
        """The look the light shows or is fading to."""
        return self._current

    # -- life cycle -------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Claim the pins, restore the last look (or the safe level), then follow the hub.

        The pins are claimed in a worker thread: a factory may block meanwhile (hardware PWM waits for udev to grant
        access to a freshly exported channel), and the event loop must not. A room without light channels claims
        nothing: no pin factory is made and gpiozero is not even imported (about 2 MiB of the daemon's memory)."""
        if self.config.channels:
            await asyncio.to_thread(self._claim_pins)
        self._faders = {
            cid: ChannelFader(out, self._clock, self.config.fade_rate_hz) for cid, out in self.outputs.items()
        }
        self._restore()
        self._transition(self._override or self._base, 0.0, save=False)
        self._watch_task = asyncio.get_running_loop().create_task(self._watch(), name="lighting-watch")

    async def run(self) -> None:
        """For the supervisor: wait on the loop that follows the room, failing when it fails (restarted on the next call).

        Cancelling this leaves the loop running: :meth:`stop` ends it and brings the light to the safe level.
        """
        if self._watch_task is None or self._watch_task.done():
            self._watch_task = asyncio.get_running_loop().create_task(self._watch(), name="lighting-watch")
        await asyncio.shield(self._watch_task)

    def _claim_pins(self) -> None:
        config = self.config
        factory = self._pin_factory
        if factory is None:
            factory = make_pin_factory(config.pin_factory, board=config.hardware_board, chip=config.hardware_pwm_chip)
        try:
            for ch in config.channels:
                self.outputs[ch.id] = ChannelOutput(ch, factory)
        except BaseException:
            self.close()
            raise

    async def stop(self) -> None:
        """Stop following the room and bring every channel to the safe level (the pins stay driven until close)."""
        for task in (self._watch_task, self._end_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watch_task = self._end_task = None
        if self.outputs:
            self._transition(safe_look(self.config), 0.0, save=False)

    def close(self) -> None:
        """Release the pins. With software PWM the light then goes off."""
        for fader in self._faders.values():
            fader.cancel()
        for output in self.outputs.values():
            output.close()
        self.outputs.clear()
        self._faders.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_idle(self) -> None:
        """Wait until no fade is running."""
        while self._end_task is not None and not self._end_task.done():
            await asyncio.wait({self._end_task})

    # -- commands -------------------------------------------------------------------------------------------------

    async def handle(self, command: Command, source: str = "local") -> CommandResult:
        """SetScene / SetLevel / ResetLighting from the TUI or MQTT. Anything else is not for the lights."""
        self._observe_phase()  # a phase change not yet seen must not end the override about to be set
        match command:
            case SetScene(scene=scene, fade_s=fade_s):
                if scene not in self.config.scenes:
                    known = ", ".join(sorted(self.config.scenes)) or "none configured"
                    return CommandResult(ok=False, message=f"there is no light scene '{scene}' (scenes: {known})")
                self._override = scene_look(self.config, scene, "override", override=True)
                done = f"scene '{scene}'"
            case SetLevel(channel=channel, level=level, fade_s=fade_s):
                if channel is not None and channel not in self.outputs:
                    known = ", ".join(self.outputs) or "none configured"
                    return CommandResult(ok=False, message=f"there is no light channel '{channel}' (channels: {known})")
                self._override = with_level(self.config, self._override or self._base, channel, level)
                done = f"{channel or 'all lights'} at {level:.0%}"
            case ResetLighting():
                self._override, fade_s = None, None
                done = "the light follows the session phase again"
            case _:
                return CommandResult(ok=False, message=f"'{command.command}' is not a lighting command")
        log.info("lighting: %s (by %s)", done, source)
        self._reconcile(fade_s if fade_s is not None else self.config.default_fade_s, force=True)
        return CommandResult(ok=True, message=done + self._held_note())

    # -- following the room ---------------------------------------------------------------------------------------

    async def _watch(self) -> None:
        # Only session and alarm events can change the light: readings (hundreds a second at worst) never wake us.
        changes = self._hub.subscribe("lighting", maxsize=64, kinds=("session", "alarm"))
        try:
            self._reconcile()
            while True:
                await changes.get_batch()  # what changed is read from hub.state: only the latest matters
                self._reconcile()
        finally:
            changes.close()

    def _alarm_active(self) -> bool:
        until_ack = self.config.alarm_scene_until == "acknowledged"
        return any(
            a.priority is Priority.HIGH and a.active and not (until_ack and a.acknowledged_at is not None)
            for a in self._hub.state.alarms.values()
        )

    def _observe_phase(self) -> bool:
        """Take in a new session phase: its scene becomes the base and any override ends. True when it changed."""
        phase = self._hub.state.session.phase
        if phase is None or phase == self._last_phase:
            return False  # no session (or not loaded yet after a restart): keep what we have
        self._last_phase = phase
        self._override = None
        scene = self._phase_scenes.get(phase)
        if scene is not None:
            self._base = scene_look(self.config, scene, "phase")
        return True

    def _reconcile(self, fade_s: float | None = None, *, force: bool = False) -> None:
        alarm = self.config.alarm_scene is not None and self._alarm_active()
        on_break = self.config.break_scene is not None and self._hub.state.session.on_break
        key = (self._hub.state.session.phase, on_break, alarm)
        if key == self._last_key and not force:
            return  # most hub changes are readings: nothing for the lights
        self._last_key = key
        phase_changed = self._observe_phase()
        if alarm and self.config.alarm_scene is not None:
            look = scene_look(self.config, self.config.alarm_scene, "alarm")
        elif on_break and self.config.break_scene is not None:
            look = scene_look(self.config, self.config.break_scene, "break")
        else:
            look = self._override or self._base
        if look == self._current:
            if force or phase_changed:
                self._save()
            return
        if fade_s is None:
            if look.reason == "alarm":
                fade_s = self.config.alarm_fade_s
            elif phase_changed and look.reason == "phase":
                fade_s = self.config.phase_fade_s
            else:
                fade_s = self.config.default_fade_s
        self._transition(look, fade_s)

    def _held_note(self) -> str:
        if self._current is None or self._current.reason not in ("alarm", "break"):
            return ""
        why = "a high-priority alarm is active" if self._current.reason == "alarm" else "the break lasts"
        return f"; it shows once the {self._current.reason} light ends (held while {why})"

    # -- doing it -------------------------------------------------------------------------------------------------

    def _transition(self, look: Look, fade_s: float, *, save: bool = True) -> None:
        self._current = look
        if save:
            self._save()
        self._hub.publish(look.state(self.config.channels))
        tasks = [
            task
            for cid, fader in self._faders.items()
            if (task := fader.fade_to(look.targets[cid], fade_s)) is not None
        ]
        if self._end_task is not None:
            self._end_task.cancel()
        self._end_task = asyncio.get_running_loop().create_task(self._announce_end(look, tasks)) if tasks else None

    async def _announce_end(self, look: Look, tasks: list[asyncio.Task[None]]) -> None:
        await asyncio.wait(tasks)
        if self._current is look and not any(t.cancelled() for t in tasks):
            self._hub.publish(look.state(self.config.channels))

    def _save(self) -> None:
        if self._state_file is None:
            return
        data = {
            "version": 1,
            "base": self._base.to_json(),
            "override": self._override.to_json() if self._override else None,
            "last_phase": self._last_phase,
        }
        try:
            write_state(self._state_file, data)
        except OSError as e:
            log.error(
                "cannot save the lighting state to %s: %s (a restart would not restore this look)", self._state_file, e
            )

    def _restore(self) -> None:
        data = read_state(self._state_file) if self._state_file is not None else None
        if data is None:
            return
        self._base = look_from_json(self.config, data.get("base")) or self._base
        self._override = look_from_json(self.config, data.get("override"))
        phase = data.get("last_phase")
        self._last_phase = phase if isinstance(phase, str) else None
        log.info("lighting: restored '%s' from %s", (self._override or self._base).scene, self._state_file)
