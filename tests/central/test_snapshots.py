"""The station at 80x24 and 160x48 (review in tests/central/__snapshots__/; update with --snapshot-update)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from textual.pilot import Pilot

from roomctl.clock import FakeClock
from roomctl.models import AlarmAction, AlarmCategory, LinkState, Priority
from tests.central.conftest import drawn, make_app, started
from tests.central.script import RoomScript, ScriptedFeed

SnapCompare = Callable[..., bool]
NAMES = (
    "Ash",
    "Birch",
    "Cedar",
    "Elm",
    "Fir",
    "Hazel",
    "Juniper",
    "Larch",
    "Maple",
    "Oak",
    "Pine",
    "Rowan",
    "Willow",
    "Yew",
)


def facility(feed: ScriptedFeed, clock: FakeClock) -> None:
    now = clock.now()
    rooms = [RoomScript("harbor", name.lower(), name=name) for name in NAMES]
    willow = rooms[NAMES.index("Willow")]
    for seconds in range(900, 0, -10):  # Willow's last 15 minutes, for the detail's trends
        ts = now - timedelta(seconds=seconds)
        feed.send(willow.vitals(ts, hr=round(95 + 10 * math.sin(seconds / 120)), spo2=95 - seconds // 300))
    for i, script in enumerate(rooms):
        feed.send(script.online(now, dosed_min=30 + 7 * i) + script.vitals(now, hr=70 + 3 * i, spo2=99 - i % 4))
    by = {s.room: s for s in rooms}
    feed.send(by["willow"].vitals(now, hr=106, spo2=86))
    feed.send(by["willow"].alarm(AlarmAction.RAISED, now, priority=Priority.HIGH, message="SpO2 low: 83 % (limit 85)"))
    feed.send(
        by["elm"].alarm(
            AlarmAction.RAISED, now, priority=Priority.MEDIUM, message="Heart rate high: 131 bpm (limit 120)"
        )
    )
    feed.send(
        by["fir"].alarm(AlarmAction.RAISED, now, priority=Priority.LOW, message="Heart rate high: 112 bpm (limit 110)")
    )
    feed.send(
        by["cedar"].device("oximeter", LinkState.DISCONNECTED)
        + by["cedar"].alarm(
            AlarmAction.RAISED, now, category=AlarmCategory.TECHNICAL, priority=Priority.LOW,
            message="Wearable lost: oximeter is not connected",
        )
    )  # fmt: skip
    feed.send(by["pine"].status("offline"))


def setup(clock: FakeClock) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        feed = pilot.app.feed  # type: ignore[attr-defined]
        await started(pilot, feed)
        facility(feed, clock)
        await drawn(pilot)

    return run_before


def test_station_80x24(snap_compare: SnapCompare, clock: FakeClock) -> None:
    app, _ = make_app(clock, flash=False)  # the flash's timing is real time: a steady picture
    assert snap_compare(app, terminal_size=(80, 24), run_before=setup(clock))


def test_station_160x48(snap_compare: SnapCompare, clock: FakeClock) -> None:
    app, _ = make_app(clock, flash=False)  # the flash's timing is real time: a steady picture
    assert snap_compare(app, terminal_size=(160, 48), run_before=setup(clock))


def test_room_detail_160x48(snap_compare: SnapCompare, clock: FakeClock) -> None:
    app, _ = make_app(clock, flash=False)  # the flash's timing is real time: a steady picture

    async def open_willow(pilot: Pilot[None]) -> None:
        await setup(clock)(pilot)  # type: ignore[misc]
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=open_willow)
