"""A few snapshots at 80x24 (review them in tests/tui/__snapshots__/; update with --snapshot-update)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from textual.pilot import Pilot

from roomctl.api.client import Disconnected, Update
from roomctl.api.protocol import Hello, History, Snapshot
from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import AudioPause, Priority, Quantity, SessionState
from roomctl.tui.app import RoomApp
from tests.tui.conftest import T0, ScriptedLink, alarm_event, demo_info, reading, room_state

SnapCompare = Callable[..., bool]


def script(extra: list[Any] | None = None, *, hr: float = 80) -> list[Update]:
    """Hello, the snapshot of a dosing session and the trends of its last 15 minutes (as the daemon sends them on
    connect), then ``extra`` events. ``hr`` sets the heart rate's level."""
    hub = Hub()
    hub.publish(SessionState(id="s1"))  # the session of room_state: its trend holds the readings below
    for i in range(90, 0, -1):  # every 10 s over the last 15 minutes
        ts = T0 - timedelta(seconds=10 * i)
        for quantity, value in (
            (Quantity.HEART_RATE, hr + 15 * math.sin(i / 15)),
            (Quantity.SPO2, 97 + (i % 9 == 0)),
            (Quantity.PULSE_RATE, hr + 1 + 15 * math.sin(i / 15)),
            (Quantity.PERFUSION_INDEX, 2.0 + (i % 7) / 10),
        ):
            if not 40 <= i < 43:  # a 30 s gap: blank in the trend
                hub.publish(reading(quantity, round(value, 1), ts))
    room_state(hub, T0, heart_rate=hr + 4)
    for event in extra or []:
        hub.publish(event)
    return [Hello(room=demo_info()), Snapshot.from_state(hub.state, T0), History.from_trends(hub.state.trends)]


async def settled(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, RoomApp)
    while not app.view.connected and not app.view.link_problem:
        await pilot.pause(0.02)
    await pilot.pause(0.1)
    app.refresh_view()
    await pilot.pause()


def test_screen_calm(snap_compare: SnapCompare) -> None:
    app = RoomApp(ScriptedLink(script()), clock=FakeClock(start=T0))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_screen_acknowledged_high_alarm_with_pause(snap_compare: SnapCompare) -> None:
    extra = [
        alarm_event(Priority.HIGH, acknowledged=True),
        alarm_event(Priority.LOW, alarm_id="a2"),
        AudioPause(until=T0 + timedelta(seconds=75), remaining_s=75),
    ]
    app = RoomApp(ScriptedLink(script(extra)), clock=FakeClock(start=T0))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_screen_daemon_not_reachable(snap_compare: SnapCompare) -> None:
    link = ScriptedLink([Disconnected("daemon not reachable (/run/roomctl/api.sock does not exist)", 1.0)])
    app = RoomApp(link, clock=FakeClock(start=T0))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_blood_pressure_dialog_with_error(snap_compare: SnapCompare) -> None:
    app = RoomApp(ScriptedLink(script()), clock=FakeClock(start=T0))

    async def enter_bad_pressure(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("p", *"120/130", "enter")

    assert snap_compare(app, terminal_size=(80, 24), run_before=enter_bad_pressure)
