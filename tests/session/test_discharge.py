"""The discharge check: offered as effects taper, vitals near the patient's own baseline for long enough, no active
alarm, the team's two ticks; recorded with the session (and kept across a restart)."""

from __future__ import annotations

from pathlib import Path

from roomctl.clock import FakeClock
from roomctl.commands import DischargeCheck, EnterBloodPressure, EnterTemperature, MarkEvent, SetPhase, StartSession
from roomctl.hub import Hub
from roomctl.models import Alarm, AlarmAction, AlarmCategory, AlarmEvent, Priority, Quantity, Reading, SessionKind
from tests.session.conftest import Room, make_room

TICKS = DischargeCheck(oriented_and_grounded=True, support_person_present=True)


def heart_rate(room: Room, value: float) -> None:
    room.hub.publish(
        Reading(quantity=Quantity.HEART_RATE, value=value, unit="bpm", device="chest-strap", ts=room.clock.now())
    )


async def minutes(room: Room, n: float, bpm: float) -> None:
    """``n`` minutes of one reading and one session tick per second."""
    for _ in range(int(n * 60)):
        room.clock.advance(1)
        heart_rate(room, bpm)
        await room.manager.tick()


def findings(room: Room) -> list[str]:
    status = room.manager.state.discharge
    assert status is not None
    return list(status.findings)


async def test_offered_as_effects_taper_and_ready_when_vitals_are_back(room: Room) -> None:
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await minutes(room, 6, 70)  # the baseline: the first 5 minutes (alarm engine's baseline_window_s)
    assert m.state.discharge is None  # not offered before the taper
    refused = await m.handle(TICKS)
    assert not refused.ok
    assert refused.message == "the discharge check is offered from the phase 'Taper' on"
    assert (await m.handle(MarkEvent(event="dose"))).ok
    await minutes(room, 5, 115)  # effects
    assert (await m.handle(SetPhase(phase="taper"))).ok
    await minutes(room, 1, 110)
    assert findings(room)[0] == "not yet: heart rate vs baseline 70 (within 15 bpm): not near"
    assert room.hub.state.session.discharge == m.state.discharge  # the screen sees it
    await minutes(room, 10, 80)
    assert findings(room)[0] == "not yet: heart rate vs baseline 70 (within 15 bpm): near for 9 of 30 min"
    refused = await m.handle(TICKS)
    assert not refused.ok
    assert "near for 9 of 30 min" in refused.message
    await minutes(room, 1, 90)  # one minute away from baseline starts the count again
    await minutes(room, 29, 78)
    assert m.state.discharge is not None
    assert not m.state.discharge.vitals_ready
    await minutes(room, 1.1, 78)
    assert m.state.discharge is not None
    assert m.state.discharge.vitals_ready
    assert findings(room) == ["ok: heart rate vs baseline 70 (within 15 bpm): near for 30 min", "ok: no active alarm"]

    no_ticks = await m.handle(DischargeCheck(oriented_and_grounded=True, support_person_present=False))
    assert not no_ticks.ok
    assert no_ticks.message == "the team confirms both: oriented and grounded, and a support person present"
    assert not room.events("discharge_check")
    done = await m.handle(TICKS)
    assert done.ok, done.message
    assert done.message.startswith("discharge check passed and recorded at ")
    (event,) = room.events("discharge_check")
    assert event.data["oriented_and_grounded"] is True
    assert event.data["support_person_present"] is True
    assert event.data["findings"][0].startswith("ok: heart rate")
    assert m.state.discharge is not None
    assert m.state.discharge.checked_at == room.clock.now()


async def test_blood_pressure_temperature_and_alarms_count_when_entered(room: Room) -> None:
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    assert (await m.handle(EnterBloodPressure(systolic=118, diastolic=76))).ok
    assert (await m.handle(EnterTemperature(celsius=36.6))).ok
    await minutes(room, 6, 70)
    assert (await m.handle(SetPhase(phase="taper"))).ok
    await minutes(room, 31, 72)
    assert findings(room) == [
        "ok: heart rate vs baseline 70 (within 15 bpm): near for 32 min",  # since the baseline was taken
        "not yet: blood pressure 118/76, baseline 118/76: measure it again before discharge",
        "not yet: temperature 36.6 °C, baseline 36.6 °C: measure it again before discharge",
        "ok: no active alarm",
    ]
    assert (await m.handle(EnterBloodPressure(systolic=150, diastolic=95))).ok
    assert (await m.handle(EnterTemperature(celsius=37.0))).ok
    await m.tick()
    assert findings(room)[1:3] == [
        "not yet: blood pressure 150/95, baseline 118/76: not near baseline",
        "ok: temperature 37.0 °C, baseline 36.6 °C: near baseline",
    ]
    assert (await m.handle(EnterBloodPressure(systolic=126, diastolic=80))).ok
    alarm = Alarm(
        id="a1", condition="spo2_low", category=AlarmCategory.PHYSIOLOGICAL, priority=Priority.MEDIUM, message="SpO2 low (88)",
        quantity=Quantity.SPO2, value=88, limit=90, raised_at=room.clock.now(),
    )  # fmt: skip
    room.hub.publish(AlarmEvent(action=AlarmAction.RAISED, alarm=alarm, ts=room.clock.now()))
    await m.tick()
    assert findings(room)[1] == "ok: blood pressure 126/80, baseline 118/76: near baseline"
    assert findings(room)[3] == "not yet: active alarm: SpO2 low (88)"
    refused = await m.handle(TICKS)
    assert refused.message == "not yet: active alarm: SpO2 low (88)"
    cleared = alarm.model_copy(update={"active": False, "cleared_at": room.clock.now()})
    room.hub.publish(AlarmEvent(action=AlarmAction.CLEARED, alarm=cleared, ts=room.clock.now()))
    await m.tick()
    assert (await m.handle(TICKS)).ok


async def test_only_in_dosing_sessions_and_without_current_heart_rate_not_ready(room: Room) -> None:
    m = room.manager
    assert (await m.handle(TICKS)).message == "no session is running; start one first"
    assert (await m.handle(StartSession(session_kind=SessionKind.INTEGRATION))).ok
    await m.tick()
    assert m.state.discharge is None
    assert (await m.handle(TICKS)).message == "the discharge check belongs to dosing sessions"
    assert (await m.handle(MarkEvent(event="note", text="x"))).ok
    await m.end() if False else None


async def test_baseline_survives_a_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    first = await make_room(tmp_path / "room.db", clock, hub)
    assert (await first.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await minutes(first, 6, 64)
    assert first.manager._discharge.baseline.value == 64
    await first.writer.stop()
    await first.store.close()

    again = await make_room(tmp_path / "room.db", clock, Hub())  # the restarted daemon
    assert await again.manager.resume()
    assert (await again.manager.handle(SetPhase(phase="taper"))).ok
    clock.advance(60)
    await minutes(again, 0.1, 90)  # no reading yet at the first tick: the heart rate has no current value
    assert findings(again)[0] == "not yet: heart rate vs baseline 64 (within 15 bpm): not near"
    heart_rate(again, 64)
    clock.advance(40)  # the last reading gets old
    await again.manager.tick()
    assert findings(again)[0] == "not yet: heart rate: no current reading (baseline 64)"
    await again.writer.stop()
    await again.store.close()
