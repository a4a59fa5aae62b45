"""The time seam: monotonic time for durations and delays, wall time only for records.

The Pi has no real-time clock and its wall time jumps when NTP syncs, so nothing that measures a delay may use wall time.
Everything that needs time takes a :class:`Clock`; tests pass a :class:`FakeClock` and move time by hand.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps; only differences mean anything."""
        ...

    def now(self) -> datetime:
        """Wall time, timezone-aware UTC, for records."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep on this clock's time."""
        ...


class SystemClock:
    """The real clocks: ``time.monotonic`` and the system's UTC wall time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to. ``sleep`` waits until :meth:`advance` passes its deadline."""

    def __init__(self, start: datetime | None = None, monotonic_start: float = 1000.0) -> None:
        self._mono = monotonic_start
        self._wall = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()
        self._sleep_watchers: list[asyncio.Future[None]] = []

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._wall

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + seconds, next(self._ids), fut))
        watchers, self._sleep_watchers = self._sleep_watchers, []
        for watcher in watchers:
            if not watcher.done():
                watcher.set_result(None)
        await fut

    async def wait_sleeping(self, count: int = 1) -> None:
        """Return once ``count`` sleeps are waiting: the tasks under test have reached their next timed wait."""
        while self.sleepers < count:
            watcher: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._sleep_watchers.append(watcher)
            await watcher

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting (cancelled ones included until time passes them)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def advance(self, seconds: float) -> None:
        """Move both clocks forward and wake every sleeper whose deadline has passed."""
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= self._mono:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock, as NTP does on a Pi without an RTC."""
        self._wall += timedelta(seconds=seconds)

    async def run_for(self, seconds: float, step: float = 0.01) -> None:
        """Advance in small steps, letting the event loop run between them."""
        end = self._mono + seconds
        while self._mono < end - 1e-9:
            self.advance(min(step, end - self._mono))
            for _ in range(3):
                await asyncio.sleep(0)
