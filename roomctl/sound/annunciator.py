"""The sound service: the alarm bursts of the priority that sounds now, on every output, repeated, escalating.

What sounds is :func:`roomctl.alarms.signal.sounding` over the hub's live state: only the highest priority among the
unacknowledged alarms shown, nothing during the room's audio pause. So acknowledging silences (the pause), a new higher
alarm sounds at once (break-through), and an alarm whose pause ran out sounds again (re-annunciation) without this
module knowing those rules. An alarm that stays unacknowledged gets louder by ``escalate_step`` every
``escalate_after_s``, up to the cap of its priority (:meth:`SoundConfig.volume_cap`): a high alarm to ``max_volume``, a
medium one to ``max_volume_medium``, a low one (a broker unreachable) to ``max_volume_low``. A failing or missing output is reported as ``ServiceHealth("sound")``, which
the alarm engine shows as a technical alarm; the other outputs go on sounding.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from roomctl.alarms.signal import sounding
from roomctl.clock import Clock
from roomctl.config.alarms import SoundConfig
from roomctl.hub import Hub, Subscription
from roomctl.models import Priority, ServiceHealth
from roomctl.sound.bursts import BURSTS, SELF_TEST, Burst
from roomctl.sound.players import SoundError, SoundOutput

log = logging.getLogger(__name__)


class SoundService:
    def __init__(self, config: SoundConfig, hub: Hub, outputs: Sequence[SoundOutput], *, clock: Clock) -> None:
        self.config = config
        self.hub = hub
        self.outputs = list(outputs)
        self.clock = clock
        self.played: list[tuple[str, float]] = []
        """(burst name, volume) of every burst played, oldest first (bounded): for the log and the tests."""
        self.played_one = asyncio.Event()
        """Set after every burst (tests and tools clear it and wait)."""
        self._healthy: bool | None = None
        self._sounding_since: float | None = None
        self._self_tested = False

    def volume(self, now: float, priority: Priority) -> float:
        """The volume now: the configured one, one step louder for each ``escalate_after_s`` the room went unanswered,
        up to the cap of the priority that sounds."""
        cfg = self.config
        if self._sounding_since is None:
            return cfg.volume
        steps = int((now - self._sounding_since) // cfg.escalate_after_s)
        return min(cfg.volume_cap(priority), cfg.volume + steps * cfg.escalate_step)

    async def run(self) -> None:
        """Sound until cancelled (the supervisor's service)."""
        changes = self.hub.subscribe("sound", maxsize=64, kinds=("alarm", "audio_pause"))
        try:
            if self.config.self_test and not self._self_tested:
                self._self_tested = True
                await self.play(SELF_TEST, self.config.volume)
            while True:
                priority = self._now_sounding()
                if priority is None:
                    self._sounding_since = None
                    await changes.get_batch()
                    continue
                now = self.clock.monotonic()
                if self._sounding_since is None:
                    self._sounding_since = now
                burst = BURSTS[priority]
                await self.play(burst, self.volume(now, priority))
                await self._rest(changes, priority, burst.interval_s)
        finally:
            changes.close()

    def _now_sounding(self) -> Priority | None:
        state = self.hub.state
        return sounding(state.alarms.values(), state.audio_pause is not None)

    async def _rest(self, changes: Subscription, priority: Priority, interval_s: float) -> None:
        """Wait between bursts; stop waiting when what should sound changed (silenced, or a higher priority came)."""
        deadline = self.clock.monotonic() + interval_s
        while (left := deadline - self.clock.monotonic()) > 0:
            timer = asyncio.ensure_future(self.clock.sleep(left))
            change = asyncio.ensure_future(changes.get_batch())
            try:
                await asyncio.wait({timer, change}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (timer, change):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if self._now_sounding() != priority:
                return

    async def play(self, burst: Burst, volume: float) -> None:
        """One burst on every output at once; failures become ``ServiceHealth("sound")``, never an exception."""
        results = await asyncio.gather(*(o.play(burst, volume) for o in self.outputs), return_exceptions=True)
        problems = []
        for result in results:
            if isinstance(result, SoundError):
                problems.append(str(result))
            elif isinstance(result, BaseException):
                raise result
        self.played.append((burst.name, volume))
        del self.played[:-1000]
        self.played_one.set()
        if not self.outputs:
            problems.append("no alarm sound output is configured")
        self._health(not problems, "; ".join(problems) or "sounding")

    def _health(self, ok: bool, detail: str) -> None:
        if ok == self._healthy:
            return
        if ok:
            log.info("alarm sound works again")
        else:
            log.error("alarm sound: %s", detail)
        if self._healthy is None and ok:
            self._healthy = ok
            return  # a healthy start is no news
        self._healthy = ok
        self.hub.publish(ServiceHealth(service="sound", ok=ok, detail=detail, ts=self.clock.now()))


def build_outputs(config: SoundConfig, *, clock: Clock, pin_factory: object = None) -> list[SoundOutput]:
    """The configured outputs. One that cannot even be set up stays in the list as a :class:`BrokenOutput`, so every
    burst reports it (a technical alarm) instead of the daemon failing to start or the sound silently missing."""
    from roomctl.sound.players import AplayOutput, BuzzerOutput

    outputs: list[SoundOutput] = []
    for name in config.outputs:
        if name == "alsa":
            outputs.append(AplayOutput(config.alsa_device))
        elif name == "buzzer" and config.buzzer_pin is not None:
            try:
                outputs.append(BuzzerOutput(config.buzzer_pin, pin_factory=pin_factory, clock=clock))
            except SoundError as e:
                outputs.append(BrokenOutput(f"buzzer on GPIO{config.buzzer_pin}", e))
    return outputs


class BrokenOutput:
    """An output that could not be set up: every burst fails with the reason, so the failure stays visible."""

    def __init__(self, name: str, error: SoundError) -> None:
        self.name = name
        self.error = error

    async def play(self, burst: Burst, volume: float) -> None:
        raise self.error

    def close(self) -> None:
        pass
