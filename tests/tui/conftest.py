"""The screen against a real API server (real hub, real socket, a recording command handler), and a scripted link
for snapshot tests (which run the app in their own event loop)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from roomctl.api.client import ApiClient, Update
from roomctl.api.protocol import Hello, History, RoomInfo, Snapshot
from roomctl.api.server import ApiServer
from roomctl.clock import FakeClock
from roomctl.commands import Command, CommandResult
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.room_info import room_info
from roomctl.hub import Hub
from roomctl.models import (
    AlarmAction,
    AlarmEvent,
    DeviceState,
    LightingState,
    LinkState,
    Priority,
    Quantity,
    Reading,
    SessionKind,
    SessionState,
)
from roomctl.tui.app import RoomApp
from roomctl.tui.widgets import Vitals
from tests import builders
from tests.api.conftest import RecordingHandler

DEVICE = {
    Quantity.HEART_RATE: "chest-strap",
    Quantity.SPO2: "oximeter",
    Quantity.PULSE_RATE: "oximeter",
    Quantity.PERFUSION_INDEX: "oximeter",
}


def vital(app: RoomApp, quantity: Quantity | str, part: str) -> str:
    """What a vital's panel shows in ``part`` (label, value, recent, whole, range)."""
    return app._main.query_one(Vitals).block(Quantity(quantity)).shown(part)


def demo_info() -> RoomInfo:
    return room_info(parse_config(demo_config_text()))


def reading(quantity: Quantity, value: float | None, ts: datetime) -> Reading:
    """A reading from the demo room's wearable for ``quantity``."""
    return builders.reading(value, quantity, device=DEVICE[quantity], ts=ts)


def alarm_event(priority: Priority, *, acknowledged: bool = False, alarm_id: str = "a1") -> AlarmEvent:
    """The screen tests' SpO2 alarm at ``priority`` (acknowledged: the acknowledging event)."""
    return builders.alarm_event(
        AlarmAction.ACKNOWLEDGED if acknowledged else AlarmAction.RAISED,
        alarm_id=alarm_id,
        priority=priority,
        message=f"SpO2 low ({priority.value})",
        acknowledged=acknowledged,
        quantity=Quantity.SPO2,
        value=84,
        limit=85,
    )


def dosing_session(now: datetime, *, phase: str = "dose", on_break: bool = False) -> SessionState:
    """A dosing session 1 h in, dose 30 min ago."""
    return SessionState(
        id="s1",
        session_kind=SessionKind.DOSING,
        phase=phase,
        started_at=now - timedelta(hours=1),
        dose_times=(now - timedelta(minutes=30),),
        on_break=on_break,
        next_vitals_check=now + timedelta(minutes=12),
        suggested_phase="onset",
    )


def room_state(hub: Hub, now: datetime, *, phase: str = "dose", on_break: bool = False, heart_rate: float = 84) -> None:
    """:func:`dosing_session`, connected wearables, a lighting scene, current readings."""
    hub.publish(dosing_session(now, phase=phase, on_break=on_break))
    hub.publish(LightingState(scene="arrival", levels={"ceiling": 0.4, "lamp": 0.5}, reason="phase"))
    for device, profile in (("chest-strap", "heart_rate"), ("oximeter", "plx")):
        hub.publish(DeviceState(device=device, profile=profile, state=LinkState.CONNECTED, battery=80, rssi=-61))
    for quantity, value in (
        (Quantity.HEART_RATE, heart_rate),
        (Quantity.SPO2, 97),
        (Quantity.PULSE_RATE, heart_rate + 1),
    ):
        hub.publish(reading(quantity, value, now))
    hub.publish(reading(Quantity.PERFUSION_INDEX, 2.4, now))


def script(hub: Hub, extra: list[Any] | None = None, *, hr: float = 80) -> list[Update]:
    """Hello, the snapshot of a dosing session and the trends of its last 15 minutes (as the daemon sends them on
    connect; the state made on ``hub``), then ``extra`` events. ``hr`` sets the heart rate's level."""
    hub.publish(SessionState(id="s1"))  # the session of room_state: its trend holds the readings below
    for i in range(90, 0, -1):  # every 10 s over the last 15 minutes
        ts = builders.T0 - timedelta(seconds=10 * i)
        for quantity, value in (
            (Quantity.HEART_RATE, hr + 15 * math.sin(i / 15)),
            (Quantity.SPO2, 97 + (i % 9 == 0)),
            (Quantity.PULSE_RATE, hr + 1 + 15 * math.sin(i / 15)),
            (Quantity.PERFUSION_INDEX, 2.0 + (i % 7) / 10),
        ):
            if not 40 <= i < 43:  # a 30 s gap: blank in the trend
                hub.publish(reading(quantity, round(value, 1), ts))
    room_state(hub, builders.T0, heart_rate=hr + 4)
    for event in extra or []:
        hub.publish(event)
    return [Hello(room=demo_info()), Snapshot.from_state(hub.state, builders.T0), History.from_trends(hub.state.trends)]


class Served:
    """An API server for the test's hub and clock (the root fixtures) on a socket in tmp_path; ``restart`` stops and
    starts the server like a daemon restart."""

    def __init__(self, tmp_path: Path, hub: Hub, clock: FakeClock, info: RoomInfo | None = None) -> None:
        self.hub = hub
        self.info = info or demo_info()
        self.handler = RecordingHandler()
        self.socket_path = tmp_path / "api.sock"
        self.clock = clock
        self.server: ApiServer | None = None

    async def start(self) -> None:
        self.server = ApiServer(self.hub, self.handler, self.info, self.socket_path, clock=self.clock)
        await self.server.__aenter__()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.__aexit__(None, None, None)
            self.server = None

    def app(self) -> RoomApp:
        return RoomApp(ApiClient(self.socket_path, min_backoff_s=0.05, max_backoff_s=0.2), clock=self.clock)


@pytest.fixture
async def served(tmp_path: Path, hub: Hub, clock: FakeClock) -> AsyncIterator[Served]:
    s = Served(tmp_path, hub, clock)
    room_state(s.hub, s.clock.now())
    await s.start()
    yield s
    await s.stop()


async def until(pilot: Pilot[None], condition: Callable[[], bool], within_s: float = 15.0) -> None:
    """Let the app run until ``condition`` holds (the app talks to a real socket)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


async def flashing(pilot: Pilot[None], served: Served) -> None:
    """A high-priority alarm raised on the served hub, until the screen flashes it."""
    app = pilot.app
    assert isinstance(app, RoomApp)
    served.hub.publish(alarm_event(Priority.HIGH))
    await until(pilot, lambda: app.flash_timer_running)


async def connected(pilot: Pilot[None]) -> RoomApp:
    app = pilot.app
    assert isinstance(app, RoomApp)
    await until(pilot, lambda: app.view.connected and app.view.lighting is not None)
    app.refresh_view()
    await pilot.pause()
    return app


class ScriptedLink:
    """A link that plays fixed updates and then stays quiet; records what the screen sends."""

    def __init__(self, script: Sequence[Update]) -> None:
        self.script = script
        self.sent: list[Command] = []

    async def updates(self) -> AsyncIterator[Update]:
        for update in self.script:
            yield update
        await asyncio.Event().wait()

    async def send(self, command: Command) -> CommandResult:
        self.sent.append(command)
        return CommandResult(ok=True, message="done")
