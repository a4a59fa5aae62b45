"""Fades in perceived lightness: uniform in L* on a fixed grid, waking only when a pin's output would change.

One task per channel. A fade's positions lie on a grid of ``rate_hz`` steps a second (so steps are equal and a long
fade keeps its duration), but the task sleeps over grid steps at which no pin would show a different duty: the output
says, from its factory's duty resolution, the next level at which the light changes (:meth:`Output.next_level`). A
20-minute fade on a pin with 1 % duty steps is then a few dozen writes, not 72,000. A new target cancels the running
fade and starts from where the light *is* (the level last written), so a retarget never jumps. Time comes from the
injected clock: a FakeClock drives hour-long fades in tests.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Protocol

from roomctl.clock import Clock


class Output(Protocol):
    @property
    def levels(self) -> tuple[float, ...]: ...

    def write(self, levels: Sequence[float]) -> None: ...

    def next_level(self, level: float, goal: float) -> float:
        """Moving from ``level`` towards ``goal``: the first level at which the output differs."""
        ...


def fade_steps(duration_s: float, rate_hz: float) -> int:
    """Number of grid steps of a fade (at least one)."""
    return max(1, math.ceil(duration_s * rate_hz - 1e-9))


class ChannelFader:
    def __init__(self, output: Output, clock: Clock, rate_hz: float) -> None:
        self.output = output
        self._clock = clock
        self._rate = rate_hz
        self._task: asyncio.Task[None] | None = None
        self.steps_written = 0

    @property
    def fading(self) -> bool:
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        """Stop a running fade where it is."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def fade_to(self, targets: Sequence[float], duration_s: float) -> asyncio.Task[None] | None:
        """Start fading to ``targets`` (one level per pin). Returns the fade's task, or None when it was done at once."""
        self.cancel()
        start = self.output.levels
        goal = tuple(targets)
        if duration_s <= 0 or start == goal:
            self.output.write(goal)
            self.steps_written += 1
            return None
        t0 = self._clock.monotonic()  # now, not when the task first runs
        self._task = asyncio.get_running_loop().create_task(
            self._run(start, goal, fade_steps(duration_s, self._rate), t0)
        )
        return self._task

    def _next_change(self, start: tuple[float, ...], goal: tuple[float, ...], step: int, steps: int) -> int:
        """The first grid step after ``step`` at which some pin's output differs from what it shows at ``step``."""
        first = steps
        frac = step / steps
        for s, g in zip(start, goal, strict=True):
            if s == g:
                continue
            level = s + (g - s) * frac
            changed_at = (self.output.next_level(level, g) - s) / (g - s)  # as a fraction of the fade
            first = min(first, math.ceil(changed_at * steps - 1e-9))
        return max(step + 1, first)

    async def _run(self, start: tuple[float, ...], goal: tuple[float, ...], steps: int, t0: float) -> None:
        clock, rate = self._clock, self._rate
        step = 0
        while step < steps:
            target = self._next_change(start, goal, step, steps)
            delay = t0 + target / rate - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
            # Late by more than a period (a busy loop): skip ahead so a long fade keeps its duration.
            due = int((clock.monotonic() - t0) * rate + 1e-6)
            step = min(steps, max(target, due))
            if step == steps:
                self.output.write(goal)  # exact endpoint, no rounding residue
            else:
                frac = step / steps
                self.output.write([s + (g - s) * frac for s, g in zip(start, goal, strict=True)])
            self.steps_written += 1
