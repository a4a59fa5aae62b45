"""Breaks without false alarms (issue 23 §2): a break's monitoring standby, with the real session manager and alarm
engine on one hub and a fake clock. Standby holds the technical alarms of the wearables taken off, never the
physiological ones; it ends when it runs out or a minute after the break, and then what is still wrong raises again,
saying to reattach the wearables. Start, end and expiry are on the session's record; a restart keeps standby to its end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.commands import MarkEvent, StartSession
from roomctl.hub import Hub
from roomctl.models import AlarmAction, AlarmEvent, LinkState, Priority, Quantity, SessionKind
from tests.alarms.conftest import Room as EngineRoom
from tests.alarms.conftest import config
from tests.session.conftest import Room, make_room

WEARABLES = """
[[wearables]]
id = "oxi"
profile = "plx"
address = "AA:BB:CC:DD:EE:01"
lost_after_s = 30

[[wearables]]
id = "strap"
profile = "heart_rate"
address = "AA:BB:CC:DD:EE:02"
"""


class Day:
    """The room's session manager and alarm engine on one hub and clock, as the daemon composes them."""

    def __init__(self, session: Room, engine: EngineRoom) -> None:
        self.session, self.engine, self.clock = session, engine, session.clock

    async def send(self, command: MarkEvent | StartSession) -> str:
        result = await self.session.manager.handle(command)
        assert result.ok, result.message
        return result.message

    async def wait(self, seconds: float) -> None:
        """Time passes a second at a time; the engine and the session tick, as the daemon's loops do."""
        for _ in range(round(seconds)):
            self.engine.wait(1)
            await self.session.manager.tick()

    def alarms(self) -> dict[str, str]:
        return {a.condition: a.message for a in self.engine.engine.alarms.values()}

    def raised(self) -> list[AlarmEvent]:
        return [e for e in self.engine.events if isinstance(e, AlarmEvent) and e.action is AlarmAction.RAISED]


@pytest.fixture
async def day(tmp_path: Path, clock: FakeClock, hub: Hub) -> AsyncIterator[Day]:
    session = await make_room(tmp_path / "room.db", clock, hub, WEARABLES)
    engine = EngineRoom(hub, clock, config(), session.config.wearables)
    d = Day(session, engine)
    await d.send(StartSession(session_kind=SessionKind.DOSING))
    for device, profile in (("oxi", "plx"), ("strap", "heart_rate")):
        engine.device(LinkState.CONNECTED, device=device, profile=profile)
    engine.reading(Quantity.SPO2, 97, device="oxi")
    engine.reading(Quantity.HEART_RATE, 80, device="strap")
    yield d
    await session.writer.stop()
    await session.store.close()


async def take_the_oximeter_off(day: Day) -> None:
    day.engine.device(LinkState.DISCONNECTED, device="oxi")


async def test_standby_holds_the_oximeters_technical_alarms_for_the_break(day: Day) -> None:
    said = await day.send(MarkEvent(event="break_start", standby=("oxi",)))
    assert said == "break started; standby for oxi (at most 10 min)"
    standby = day.session.manager.state.standby
    assert standby is not None
    assert (standby.devices, standby.remaining_s, standby.break_over) == (("oxi",), 600.0, False)
    await take_the_oximeter_off(day)
    for _ in range(8):  # eight minutes of break: the strap keeps sending
        day.engine.hold(Quantity.HEART_RATE, 82, 60, device="strap")
        await day.session.manager.tick()
    assert day.alarms() == {}  # no "no data", no "lost", nothing to acknowledge every two minutes
    assert day.raised() == []
    assert day.session.manager.state.standby is not None


async def test_a_physiological_alarm_raises_at_once_during_standby(day: Day) -> None:
    await day.send(MarkEvent(event="break_start", standby=("oxi", "strap")))
    await take_the_oximeter_off(day)
    day.engine.hold(Quantity.HEART_RATE, 160, 8, device="strap")  # the strap is still on: tachycardia
    (alarm,) = day.engine.engine.alarms.values()
    assert (alarm.condition, alarm.priority) == ("heart_rate_high", Priority.HIGH)


async def test_standby_runs_out_and_the_alarms_return_saying_to_reattach(day: Day) -> None:
    await day.send(MarkEvent(event="break_start", standby=("oxi",)))
    await take_the_oximeter_off(day)
    await day.wait(9 * 60 + 50)
    assert day.alarms() == {}
    await day.wait(15)  # past 10 minutes
    assert day.session.manager.state.standby is None
    alarms = day.alarms()
    assert set(alarms) == {"data_stale", "device_disconnected"}
    assert all(m.endswith("reattach the wearables after the break") for m in alarms.values())
    (ended,) = day.session.events("standby_end")
    assert (ended.data["reason"], ended.data["not_back"]) == ("ran out", ["oxi"])
    assert ended.text == "standby over for oxi: reattach the wearables (oxi)"
    # back on the finger: the alarms clear, and later ones read as usual
    day.engine.device(LinkState.CONNECTED, device="oxi")
    day.engine.hold(Quantity.SPO2, 97, 3, device="oxi")
    assert day.alarms() == {}


async def test_after_the_break_a_wearable_not_back_within_a_minute_alarms(day: Day) -> None:
    await day.send(MarkEvent(event="break_start", standby=("oxi",)))
    await take_the_oximeter_off(day)
    await day.wait(120)
    await day.send(MarkEvent(event="break_end"))
    standby = day.session.manager.state.standby
    assert standby is not None
    assert (standby.break_over, standby.remaining_s) == (True, 60.0)
    await day.wait(50)
    assert day.alarms() == {}
    await day.wait(15)
    assert "device_disconnected" in day.alarms()
    (ended,) = day.session.events("standby_end")
    assert ended.data["reason"] == "break over"


async def test_standby_ends_quietly_when_the_wearables_are_back_after_the_break(day: Day) -> None:
    await day.send(MarkEvent(event="break_start", standby=("oxi",)))
    await take_the_oximeter_off(day)
    await day.wait(60)
    day.engine.device(LinkState.CONNECTED, device="oxi")
    day.engine.reading(Quantity.SPO2, 97, device="oxi")
    await day.send(MarkEvent(event="break_end"))
    await day.wait(2)
    assert day.session.manager.state.standby is None
    (ended,) = day.session.events("standby_end")
    assert (ended.data["reason"], ended.data["not_back"]) == ("wearables back", [])
    assert day.alarms() == {}


async def test_a_break_without_standby_alarms_as_before(day: Day) -> None:
    await day.send(MarkEvent(event="break_start"))
    assert day.session.manager.state.standby is None
    await take_the_oximeter_off(day)
    await day.wait(35)
    assert {"data_stale", "device_disconnected"} <= set(day.alarms())
    assert day.session.events("standby_start") == []


async def test_standby_is_only_for_the_rooms_wearables_and_only_inside_a_break(day: Day) -> None:
    result = await day.session.manager.handle(MarkEvent(event="break_start", standby=("toaster",)))
    assert not result.ok
    assert result.message == "no wearable toaster in this room; its wearables: oxi, strap"
    with pytest.raises(ValueError, match="standby is for the wearables taken off at the start of a break"):
        MarkEvent(event="note", text="x", standby=("oxi",))
    assert day.session.manager.state.on_break is False  # nothing started


async def test_the_record_has_standbys_start_and_end(day: Day) -> None:
    await day.send(MarkEvent(event="break_start", standby=("oxi",)))
    (start,) = day.session.events("standby_start")
    assert (start.data["devices"], start.data["minutes"]) == (["oxi"], 10.0)
    (brk,) = day.session.events("break_start")
    assert brk.data["standby"] == ["oxi"]
    await day.wait(601)
    assert [e.event for e in day.session.events() if e.event.startswith("standby")] == ["standby_start", "standby_end"]


async def test_a_restart_keeps_standby_to_its_end_not_longer(tmp_path: Path) -> None:
    clock, hub = FakeClock(), Hub()
    first = await make_room(tmp_path / "room.db", clock, hub, WEARABLES)
    await first.manager.handle(StartSession(session_kind=SessionKind.DOSING))
    await first.manager.handle(MarkEvent(event="break_start", standby=("oxi",)))
    clock.advance(240)
    await first.writer.stop()
    await first.store.close()
    # the restarted daemon: a new hub, a monotonic clock that starts anew, the wall clock 20 s later
    later = FakeClock(start=clock.now(), monotonic_start=5.0)
    later.advance(20)
    second = await make_room(tmp_path / "room.db", later, Hub(), WEARABLES)
    assert await second.manager.resume()
    standby = second.manager.state.standby
    assert standby is not None
    assert standby.devices == ("oxi",)
    assert standby.remaining_s == pytest.approx(600 - 260, abs=0.5)
    later.advance(345)
    await second.manager.tick()
    assert second.manager.state.standby is None
    await second.writer.stop()
    await second.store.close()
