"""Run N simulated rooms against a broker for a while, and say what was published."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from roomctl.clock import Clock, SystemClock
from roomctl.config.mqtt import MqttConfig
from roomctl.loadgen.room import Rates, SimRoom

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    rooms: int
    mqtt: MqttConfig
    site: str = "loadgen"
    duration_s: float | None = None
    seed: int = 1
    rates: Rates = field(default_factory=Rates)
    offline_s: tuple[float, float] = (10.0, 60.0)
    alarm_log: Path | None = None
    report_every_s: float = 10.0


class LoadGen:
    def __init__(self, options: LoadOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self.clock = clock or SystemClock()
        self.rng = random.Random(options.seed)
        self._alarm_file: TextIO | None = None
        self.rooms = [
            SimRoom(
                options.site,
                f"room-{i + 1:04d}",
                options.mqtt,
                self.clock,
                random.Random(self.rng.random()),
                options.rates,
                on_alarm=self._log_alarm,
            )
            for i in range(options.rooms)
        ]
        self.offline: set[str] = set()

    def _log_alarm(self, alarm_id: str, priority: str) -> None:
        if self._alarm_file is not None:
            self._alarm_file.write(f"{alarm_id} {priority} {time.time():.6f}\n")
            self._alarm_file.flush()

    async def run(self) -> None:
        if self.options.alarm_log is not None:
            self._alarm_file = self.options.alarm_log.open("a", encoding="utf-8")
        tasks = [asyncio.create_task(self._live(room), name=room.section.room) for room in self.rooms]
        tasks.append(asyncio.create_task(self._report(), name="report"))
        try:
            if self.options.duration_s is not None:
                await asyncio.wait(tasks, timeout=self.options.duration_s, return_when=asyncio.FIRST_EXCEPTION)
            else:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._alarm_file is not None:
                self._alarm_file.close()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _live(self, room: SimRoom) -> None:
        clock = self.clock
        room.start_session(clock.now())
        publisher = room.start_publisher()
        back_at = math.inf
        next_tick = clock.monotonic() + room.rng.random()  # rooms spread over the second
        try:
            while True:
                await clock.sleep(next_tick - clock.monotonic())
                next_tick += 1.0
                room.tick(clock.now())
                mono = clock.monotonic()
                if mono >= back_at:
                    back_at = math.inf
                    self.offline.discard(room.section.room)
                    publisher = room.start_publisher()
                elif mono >= room.next["offline"] and back_at == math.inf:
                    room.next["offline"] = room.later(room.rates.offline_every_s)
                    self.offline.add(room.section.room)
                    room.cut_network()
                    publisher.cancel()  # it says goodbye into a dead socket; the broker sent the last will
                    back_at = mono + room.rng.uniform(*self.options.offline_s)
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    async def _report(self) -> None:
        last = 0
        while True:
            await self.clock.sleep(self.options.report_every_s)
            published = self.published
            log.info(
                "loadgen: %d rooms (%d offline), %d records acknowledged by the broker (%.0f/s), %d alarms raised, %d unsent",
                len(self.rooms),
                len(self.offline),
                published,
                (published - last) / self.options.report_every_s,
                sum(r.alarms_raised for r in self.rooms),
                sum(r.outbox.unsent for r in self.rooms),
            )
            last = published

    @property
    def published(self) -> int:
        return sum(r.acknowledged_total for r in self.rooms)
