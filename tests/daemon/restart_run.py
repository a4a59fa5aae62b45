"""One run of the real Daemon on a fake clock over a state folder, stopped and started again as a restart (the
restart tests and the report's limits-in-force test): commands through its socket, readings on its hub, what its
record keeps and what its screen shows."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from roomctl.api.client import send_once
from roomctl.api.protocol import Snapshot
from roomctl.clock import FakeClock
from roomctl.commands import Command, CommandResult
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.daemon.room_info import room_info
from roomctl.models import UNITS, Alarm, LimitInForce, Priority, Quantity, Reading
from roomctl.tui.view import RoomView
from tests.builders import room_toml

ROOM = room_toml(
    rules=[
        {"quantity": "spo2", "low": 90, "condition_delay_s": 0},
        {"quantity": "spo2", "low": 85, "priority": "high", "condition_delay_s": 0},
        {
            "quantity": "heart_rate",
            "low": 40,
            "high": 140,
            "low_from_baseline": 0.8,
            "high_from_baseline": 1.4,
            "condition_delay_s": 0,
        },
    ],
    extra="[alarms]\nbaseline_window_s = 60",
)


class Run:
    """One run of the daemon on the state folder, on its own fake clock (a restart's monotonic clock starts anew)."""

    def __init__(self, tmp_path: Path, wall: datetime | None = None, monotonic_start: float = 1000.0) -> None:
        self.tmp_path = tmp_path
        self.clock = FakeClock(start=wall, monotonic_start=monotonic_start)
        self.daemon = Daemon(parse_config(ROOM), state_dir=tmp_path, clock=self.clock)
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> Run:
        self.task = asyncio.create_task(self.daemon.run())
        await asyncio.wait_for(self.daemon.ready.wait(), 30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.daemon.request_stop()
        assert await asyncio.wait_for(self.task, 30) == 0

    async def send(self, command: Command) -> CommandResult:
        result = await send_once(self.tmp_path / "api.sock", command)
        assert result.ok, result.message
        return result

    def reading(self, quantity: Quantity, value: float, device: str) -> None:
        ts = self.clock.now()
        self.daemon.hub.publish(Reading(quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=ts))

    async def hold(self, quantity: Quantity, value: float, seconds: float, device: str) -> None:
        """One reading a second for ``seconds``, the daemon's loops (alarm and session ticks) running in between."""
        for _ in range(int(seconds)):
            self.reading(quantity, value, device)
            await self.clock.run_for(1, step=0.25)

    async def until(self, done: Callable[[], object], within_s: float = 30.0) -> None:
        """Wait until ``done()``: the session's tick that records waits for the disk (real time) as well as for the fake
        clock, so both move until it has."""
        async with asyncio.timeout(within_s):
            while not done():
                await self.clock.run_for(0.25, step=0.25)
                await asyncio.sleep(0.01)

    def kept(self, key: str) -> object:
        """What the session's record on disk keeps under ``key``."""
        with sqlite3.connect(self.tmp_path / "roomctl.db") as db:
            (meta,) = db.execute("select meta from sessions").fetchone()
        return json.loads(meta).get(key)

    def alarms(self) -> dict[str, Alarm]:
        return {a.condition: a for a in self.daemon.hub.state.alarms.values()}

    def limit(self, quantity: Quantity, direction: str, priority: Priority, device: str | None = None) -> LimitInForce:
        limits = self.daemon.hub.state.limits
        assert limits is not None
        (found,) = [
            x
            for x in limits.limits
            if (x.quantity, x.direction, x.priority, x.device) == (quantity, direction, priority, device)
        ]
        return found

    def screen(self) -> RoomView:
        """What the room's screen shows: the API's snapshot of the daemon's live state."""
        view = RoomView(info=room_info(self.daemon.config))
        snapshot = Snapshot.from_state(self.daemon.hub.state, self.clock.now(), self.daemon.alarms.audio_paused_s())
        view.apply_update(snapshot, self.clock.monotonic())
        return view
