"""The vitals checks of a dosing session: a schedule by time since the last dose, due and overdue, each check recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.commands import EndSession, EnterBloodPressure, EnterDistress, EnterTemperature, MarkEvent, StartSession
from roomctl.config import ConfigError, parse_config
from roomctl.hub import Hub
from roomctl.models import SessionKind
from tests.session.conftest import ROOM, Room, make_room


async def check(room: Room, celsius: float = 37.0) -> None:
    assert (await room.manager.handle(EnterBloodPressure(systolic=130, diastolic=84))).ok
    assert (await room.manager.handle(EnterTemperature(celsius=celsius))).ok


def minutes_to_next(room: Room) -> float:
    due = room.manager.state.next_vitals_check
    assert due is not None
    return (due - room.clock.now()).total_seconds() / 60


async def test_every_15_min_for_2_h_after_the_dose_then_every_30(room: Room) -> None:
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    assert minutes_to_next(room) == 30  # before the dose: vitals_check_interval_min
    clock.advance(10 * 60)
    await m.handle(MarkEvent(event="dose", amount_mg=120))
    assert minutes_to_next(room) == 15  # the dose pulls the check in
    intervals = []
    for _ in range(10):
        clock.advance(minutes_to_next(room) * 60)
        await check(room)
        intervals.append(minutes_to_next(room))
    # checks done at 15, 30, ... 105 min after the dose: every 15; at 120 min and later: every 30
    assert intervals == [15, 15, 15, 15, 15, 15, 15, 30, 30, 30]
    records = room.events("vitals_check")
    assert len(records) == 10
    assert all(r.data["on_time"] and r.data["done"] for r in records)
    assert records[0].data["blood_pressure"] == [130, 84]
    assert records[0].data["temperature"] == 37.0
    assert records[0].text == "vitals check done on time"


async def test_a_supplemental_dose_makes_the_checks_dense_again(room: Room) -> None:
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    await m.handle(MarkEvent(event="dose"))
    clock.advance(150 * 60)
    await check(room)
    assert minutes_to_next(room) == 30
    clock.advance(5 * 60)
    await m.handle(MarkEvent(event="supplemental_dose", amount_mg=60))
    assert minutes_to_next(room) == 15
    clock.advance(15 * 60)
    await check(room)
    assert minutes_to_next(room) == 15  # 15 min after the supplemental dose


async def test_due_then_overdue_after_the_grace_each_reminded_once_and_the_late_check_recorded(room: Room) -> None:
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    await m.handle(MarkEvent(event="dose"))
    clock.advance(15 * 60)
    await m.tick()
    assert [e.text for e in room.events("vitals_check_due")] == ["vitals check due: blood pressure and temperature"]
    assert m.state.vitals_check_overdue_at is not None
    assert (m.state.vitals_check_overdue_at - clock.now()).total_seconds() == 10 * 60
    assert (await m.handle(EnterBloodPressure(systolic=150, diastolic=95))).ok
    clock.advance(10 * 60)
    await m.tick()
    await m.tick()
    (overdue,) = room.events("vitals_check_overdue")
    assert overdue.text == "vitals check overdue: temperature"  # the blood pressure was taken; its own part
    assert overdue.data["missing"] == ["temperature"]
    clock.advance(2 * 60)
    assert (await m.handle(EnterTemperature(celsius=37.9))).ok
    (record,) = room.events("vitals_check")
    assert record.data["on_time"] is False
    assert record.data["late_min"] == 12
    assert record.text == "vitals check done 12 min late"
    assert record.data["blood_pressure"] == [150, 95]
    assert len(room.events("vitals_check_due")) == 1


async def test_a_distress_rating_goes_with_the_check(room: Room) -> None:
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    clock.advance(29 * 60)
    assert (await m.handle(EnterDistress(rating=6))).ok
    (rated,) = room.events("distress")
    assert rated.data == {"rating": 6}
    assert room.events("vitals_check") == []  # a rating alone is no check
    await check(room)
    (record,) = room.events("vitals_check")
    assert record.data["distress"] == 6
    assert record.data["on_time"] is True  # a minute early is on time


async def test_a_check_due_and_not_done_at_the_end_is_recorded_as_not_done(room: Room) -> None:
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    clock.advance(31 * 60)
    await m.handle(EnterTemperature(celsius=37.2))
    await m.handle(EndSession())
    (record,) = room.events("vitals_check")
    assert record.data["done"] is False
    assert record.data["on_time"] is False
    assert record.data["temperature"] == 37.2
    assert record.text == "vitals check due 09:30 UTC not done"


async def test_an_end_before_the_check_was_due_records_no_check(room: Room) -> None:
    await room.manager.handle(StartSession())
    room.clock.advance(29 * 60)
    await room.manager.handle(EndSession())
    assert room.events("vitals_check") == []


async def test_sessions_other_than_dosing_have_no_schedule(room: Room) -> None:
    await room.manager.handle(StartSession(session_kind=SessionKind.INTEGRATION))
    await check(room)
    assert room.events("vitals_check") == []
    assert room.manager.state.vitals_check_missing == ()


async def test_the_parts_taken_survive_a_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    path = tmp_path / "room.db"
    first = await make_room(path, clock, hub)
    await first.manager.handle(StartSession())
    clock.advance(30 * 60)
    await first.manager.handle(EnterBloodPressure(systolic=140, diastolic=90))
    due = first.manager.state.next_vitals_check
    await first.writer.stop()
    await first.store.close()
    second = await make_room(path, clock, Hub())
    assert await second.manager.resume()
    assert second.manager.state.vitals_check_missing == ("temperature",)
    assert second.manager.state.next_vitals_check == due
    assert (await second.manager.handle(EnterTemperature(celsius=37.0))).ok
    (record,) = second.events("vitals_check")
    assert record.data["blood_pressure"] == [140, 90]
    await second.writer.stop()
    await second.store.close()


async def test_blood_pressure_alone_is_a_check_when_temperature_is_not_required(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    r = await make_room(tmp_path / "room.db", clock, hub, "\n[session.checks]\ntemperature_required = false\n")
    await r.manager.handle(StartSession())
    assert (await r.manager.handle(EnterTemperature(celsius=37.0))).ok
    assert r.events("vitals_check") == []  # a temperature never stands in for the blood pressure
    assert (await r.manager.handle(EnterBloodPressure(systolic=120, diastolic=80))).ok
    assert len(r.events("vitals_check")) == 1
    await r.writer.stop()
    await r.store.close()


async def test_a_configured_schedule(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    extra = """
[session.checks]
overdue_after_min = 5

[[session.checks.schedule]]
until_min_after_dose = 60
every_min = 10

[[session.checks.schedule]]
until_min_after_dose = 180
every_min = 20
"""
    r = await make_room(tmp_path / "room.db", clock, hub, extra)
    await r.manager.handle(StartSession())
    await r.manager.handle(MarkEvent(event="dose"))
    assert minutes_to_next(r) == 10
    clock.advance(70 * 60)
    await check(r)
    assert minutes_to_next(r) == 20
    clock.advance(120 * 60)
    await check(r)
    assert minutes_to_next(r) == 30  # past the last row: vitals_check_interval_min
    await r.writer.stop()
    await r.store.close()


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(ROOM + text, "room.toml")
    return e.value.problems


def test_config_check_explains_a_bad_schedule() -> None:
    out = problems(
        "\n[session.checks]\n[[session.checks.schedule]]\nuntil_min_after_dose = 120\nevery_min = 15\n"
        "[[session.checks.schedule]]\nuntil_min_after_dose = 60\nevery_min = 30\n"
    )
    assert any("increasing until_min_after_dose" in p and "120, 60" in p for p in out), out
    out = problems("\n[session.checks]\noverdue_after_min = 0\n")
    assert any("overdue_after_min" in p for p in out), out
    out = problems("\n[[session.checks.schedule]]\nuntil_min_after_dose = 60\nevery = 10\n")
    assert any("every" in p for p in out), out


def test_the_strict_parse_refuses_a_bad_distress_rating() -> None:
    from roomctl.commands import CommandRejected, parse_command

    assert parse_command({"command": "distress", "rating": 0}) == EnterDistress(rating=0)
    for bad in ("5", 11, -1, 5.5, True, None):
        with pytest.raises(CommandRejected) as e:
            parse_command({"command": "distress", "rating": bad})
        assert "rating" in str(e.value)
