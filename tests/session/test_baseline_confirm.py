"""The baseline as a clinical act (issue 23 §1): proposed from the most recent resting data before the dose, confirmed,
re-taken or entered by hand by the team; only then used by the alarm engine, the discharge check, a restart."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.commands import CommandRejected, EnterBloodPressure, MarkEvent, SetBaseline, StartSession, parse_command
from roomctl.hub import Hub
from roomctl.models import Quality, Quantity, Reading, SessionKind
from roomctl.mqtt.command_topic import parse_command as parse_mqtt
from tests.session.conftest import Room, make_room

RELATIVE = """
[alarms]
baseline_window_s = 60

[[alarms.rules]]
quantity = "heart_rate"
low = 40
high = 140
high_from_baseline = 1.25
condition_delay_s = 5
"""
CONFIRM = SetBaseline(action="confirm")
RETAKE = SetBaseline(action="retake")


async def with_engine(path: Path, clock: FakeClock, hub: Hub) -> tuple[Room, AlarmEngine]:
    room = await make_room(path, clock, hub, RELATIVE)
    engine = AlarmEngine(room.config.alarms, [], clock=clock)
    hub.add_processor(engine)
    return room, engine


def worn(room: Room, quantity: Quantity, value: float, quality: Quality = Quality.OK) -> None:
    device = "strap" if quantity is Quantity.HEART_RATE else "oximeter"
    unit = "%" if quantity is Quantity.SPO2 else "bpm"
    reading = Reading(quantity=quantity, value=value, unit=unit, device=device, ts=room.clock.now(), quality=quality)
    room.hub.publish(reading)


async def seconds(room: Room, n: int, hr: float | None, spo2: float | None = None) -> None:
    for _ in range(n):
        room.clock.advance(1)
        if hr is not None:
            worn(room, Quantity.HEART_RATE, hr)
        if spo2 is not None:
            worn(room, Quantity.SPO2, spo2)
        await room.manager.tick()


def baseline_limits(room: Room) -> list[float]:
    limits = room.hub.state.limits
    return [x.limit for x in limits.limits if x.source == "baseline"] if limits is not None else []


@pytest.fixture
async def relative(tmp_path: Path, clock: FakeClock, hub: Hub) -> AsyncIterator[tuple[Room, AlarmEngine]]:
    room, engine = await with_engine(tmp_path / "room.db", clock, hub)
    yield room, engine
    await room.writer.stop()
    await room.store.close()


async def test_the_proposal_is_the_most_recent_window_an_anxious_arrival_drops_out(
    relative: tuple[Room, AlarmEngine],
) -> None:
    room, engine = relative
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    shown = m.state.baseline
    assert shown is not None
    assert shown.source is None
    assert shown.values == {}
    assert shown.open
    assert shown.full_at == room.clock.now() + timedelta(seconds=60)
    await seconds(room, 30, 110, 97)  # walking in, anxious
    refused = await m.handle(CONFIRM)
    assert not refused.ok
    assert refused.message == "the proposal needs 1 min of resting data, 30 s to go; or enter the baseline by hand"
    await seconds(room, 90, 72, 98)  # settled on the couch: the window holds only this
    shown = m.state.baseline
    assert shown is not None
    assert shown.values == {Quantity.HEART_RATE: 72, Quantity.SPO2: 98}
    assert room.hub.state.session.baseline == shown  # the screen sees it
    assert baseline_limits(room) == []  # proposed is not confirmed: the room's absolute limits
    result = await m.handle(CONFIRM)
    assert result.ok, result.message
    assert result.message == "baseline confirmed: HR 72, SpO2 98; the limits follow it"
    assert baseline_limits(room) == [90]  # 72 x 1.25
    shown = m.state.baseline
    assert shown is not None
    assert shown.source == "confirmed"
    assert shown.values[Quantity.HEART_RATE] == 72
    recorded = room.events("baseline")
    assert [(e.data["quantity"], e.data["value"], e.data["source"], e.data["device"]) for e in recorded] == [
        ("heart_rate", 72.0, "confirmed", None),
        ("spo2", 98.0, "confirmed", None),
    ]
    assert recorded[0].text == "Heart rate baseline 72 bpm (confirmed by the team)"
    await seconds(room, 10, 95)
    assert {a.condition for a in engine.alarms.values()} == {"heart_rate_high"}  # 95 > 90, below the 140 ceiling
    again = await m.handle(CONFIRM)
    assert again.message == "the baseline is confirmed already; enter one by hand to replace it"


async def test_without_a_confirmation_the_absolute_limits_hold_all_session(relative: tuple[Room, AlarmEngine]) -> None:
    room, engine = relative
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await seconds(room, 120, 64)
    assert (await m.handle(MarkEvent(event="dose"))).ok
    shown = m.state.baseline
    assert shown is not None
    assert shown.source is None
    assert not shown.open
    assert shown.values == {}
    await seconds(room, 30, 120)  # 1.25 x 64 = 80 would have alarmed
    assert engine.alarms == {}
    assert baseline_limits(room) == []
    refused = await m.handle(CONFIRM)
    assert refused.message.startswith("the dose was given: a baseline from now on would measure its effects")
    assert not (await m.handle(RETAKE)).ok
    entered = await m.handle(SetBaseline(action="enter", heart_rate=70, spo2=97))  # known from the screening visit
    assert entered.ok, entered.message
    assert entered.message == "baseline entered by hand: HR 70, SpO2 97; the limits follow it"
    assert baseline_limits(room) == [87.5]
    assert {e.data["quantity"] for e in room.events("baseline")} == {"heart_rate", "pulse_rate", "spo2"}


async def test_a_retake_starts_the_window_again(relative: tuple[Room, AlarmEngine]) -> None:
    room, _engine = relative
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await seconds(room, 70, 90)
    result = await m.handle(RETAKE)
    assert result.ok
    assert result.message == "baseline re-taken: a new window of 1 min starts now"
    assert [e.event for e in room.events("baseline_retake")] == ["baseline_retake"]
    shown = m.state.baseline
    assert shown is not None
    assert shown.values == {}
    await seconds(room, 30, 70)
    assert not (await m.handle(CONFIRM)).ok  # half a new window
    await seconds(room, 31, 70)
    assert (await m.handle(CONFIRM)).message == "baseline confirmed: HR 70; the limits follow it"


async def test_only_ok_readings_make_the_proposal_and_bp_temperature_come_from_the_last_entered(
    relative: tuple[Room, AlarmEngine],
) -> None:
    room, _engine = relative
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    assert (await m.handle(EnterBloodPressure(systolic=130, diastolic=85))).ok
    assert (await m.handle(EnterBloodPressure(systolic=118, diastolic=76))).ok
    for _ in range(61):
        room.clock.advance(1)
        worn(room, Quantity.HEART_RATE, 70)
        await m.tick()
        room.clock.advance(1)
        worn(room, Quantity.HEART_RATE, 130, Quality.QUESTIONABLE)  # poor signal
        await m.tick()
        room.clock.advance(1)
        worn(room, Quantity.HEART_RATE, math.nan, Quality.INVALID)
        await m.tick()
    shown = m.state.baseline
    assert shown is not None
    assert shown.values == {Quantity.HEART_RATE: 70, Quantity.SYSTOLIC: 118, Quantity.DIASTOLIC: 76}
    assert (await m.handle(CONFIRM)).message == "baseline confirmed: HR 70, BP 118/76; the limits follow it"


async def test_no_heart_rate_in_the_window_cannot_be_confirmed(relative: tuple[Room, AlarmEngine]) -> None:
    room, _engine = relative
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await seconds(room, 61, None, 98)  # the strap went on late
    assert (await m.handle(CONFIRM)).message == (
        "no heart rate or pulse rate in the window to propose; check the wearables, or enter it by hand"
    )


async def test_only_dosing_sessions_have_a_baseline(relative: tuple[Room, AlarmEngine]) -> None:
    room, _engine = relative
    m = room.manager
    assert (await m.handle(CONFIRM)).message == "no session is running; start one first"
    assert (await m.handle(StartSession(session_kind=SessionKind.PREPARATION))).ok
    assert m.state.baseline is None
    assert (await m.handle(CONFIRM)).message == "the baseline belongs to dosing sessions"


async def test_the_confirmed_baseline_is_used_again_after_a_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    first, _engine = await with_engine(tmp_path / "room.db", clock, hub)
    assert (await first.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await seconds(first, 61, 72)
    assert (await first.manager.handle(CONFIRM)).ok
    await first.writer.stop()
    await first.store.close()
    again, engine = await with_engine(tmp_path / "room.db", clock, Hub())
    assert await again.manager.resume()
    kept = again.manager.baselines()
    assert [(b.quantity, b.value, b.source) for b in kept] == [(Quantity.HEART_RATE, 72, "confirmed")]
    shown = again.manager.state.baseline
    assert shown is not None
    assert shown.source == "confirmed"
    again.hub.publish(engine.use_baselines(kept))  # what the daemon does on a resume (tests/daemon: the real one)
    await seconds(again, 2, 72)  # the strap is heard again: its limits follow the patient's baseline
    assert baseline_limits(again) == [90]
    assert again.manager._discharge.baseline == 72
    await again.writer.stop()
    await again.store.close()


async def test_an_unconfirmed_proposal_starts_again_after_a_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    first, _engine = await with_engine(tmp_path / "room.db", clock, hub)
    assert (await first.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await seconds(first, 61, 72)
    await first.writer.stop()
    await first.store.close()
    again, _engine = await with_engine(tmp_path / "room.db", clock, Hub())
    assert await again.manager.resume()
    assert again.manager.baselines() == []
    assert not (await again.manager.handle(CONFIRM)).ok  # the window starts again: a minute to go
    await seconds(again, 61, 71)
    assert (await again.manager.handle(CONFIRM)).ok
    await again.writer.stop()
    await again.store.close()


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"command": "baseline", "action": "enter"}', "needs at least the heart rate"),
        ('{"command": "baseline", "action": "confirm", "heart_rate": 70}', "'confirm' takes no values (heart_rate)"),
        ('{"command": "baseline", "action": "enter", "heart_rate": "70"}', "heart_rate"),
        (
            '{"command": "baseline", "action": "enter", "heart_rate": 70, "systolic": 120}',
            "both systolic and diastolic",
        ),
        ('{"command": "baseline", "action": "enter", "heart_rate": 300}', "heart_rate must be at most 250"),
        ('{"command": "baseline", "action": "enter", "heart_rate": 70, "spo2": 101}', "spo2 must be at most 100"),
        ('{"command": "baseline", "action": "guess"}', "action"),
        ('{"command": "baseline", "action": "confirm", "by": "Dr X"}', "by"),
    ],
)
def test_the_command_is_parsed_strictly(raw: str, why: str) -> None:
    with pytest.raises(CommandRejected) as refused:
        parse_command(raw)
    assert why in str(refused.value)


def test_mqtt_may_not_set_the_baseline() -> None:
    with pytest.raises(CommandRejected) as refused:
        parse_mqtt(b'{"command": "baseline", "action": "confirm"}', retained=False)
    assert "'baseline' is not allowed over MQTT" in str(refused.value)
