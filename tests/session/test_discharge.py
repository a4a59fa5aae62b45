"""The discharge check: offered as effects taper, vitals near the patient's own baseline for long enough, no active
alarm, the team's two ticks; recorded with the session (and kept across a restart)."""

from __future__ import annotations

from pathlib import Path

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.commands import (
    DischargeCheck,
    EnterBloodPressure,
    EnterTemperature,
    MarkEvent,
    SetBaseline,
    SetPhase,
    StartSession,
)
from roomctl.hub import Hub
from roomctl.models import Alarm, AlarmAction, AlarmCategory, AlarmEvent, Priority, Quantity, Reading, SessionKind
from tests.session.conftest import Room, make_room

TICKS = DischargeCheck(oriented_and_grounded=True, support_person_present=True)
CONFIRM = SetBaseline(action="confirm")


def heart_rate(room: Room, value: float) -> None:
    room.hub.publish(
        Reading(quantity=Quantity.HEART_RATE, value=value, unit="bpm", device="chest-strap", ts=room.clock.now())
    )


async def minutes(room: Room, n: float, bpm: float | None, step_s: float = 1) -> None:
    """``n`` minutes of one reading (none: ``bpm`` None) and one session tick each ``step_s``."""
    for _ in range(int(n * 60 / step_s)):
        room.clock.advance(step_s)
        if bpm is not None:
            heart_rate(room, bpm)
        await room.manager.tick()


def findings(room: Room) -> list[str]:
    status = room.manager.state.discharge
    assert status is not None
    return list(status.findings)


async def test_offered_as_effects_taper_and_ready_when_vitals_are_back(room: Room) -> None:
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await minutes(room, 6, 70)  # the proposal: the last 5 minutes ([alarms] baseline_window_s)
    assert (await m.handle(CONFIRM)).ok
    assert m.state.discharge is None  # not offered before the taper
    refused = await m.handle(TICKS)
    assert not refused.ok
    assert refused.message == "the discharge check is offered from the phase 'Taper' on"
    assert (await m.handle(MarkEvent(event="dose"))).ok
    await minutes(room, 150, 115, step_s=10)  # effects
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
    assert findings(room) == [
        "ok: heart rate vs baseline 70 (within 15 bpm): near for 30 min",
        "ok: last dose 3 h 12 min ago (at least 3 h)",
        "ok: no active alarm",
    ]

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
    assert (await m.handle(CONFIRM)).ok
    assert (await m.handle(SetPhase(phase="taper"))).ok
    await minutes(room, 31, 72)
    assert findings(room) == [
        "ok: heart rate vs baseline 70 (within 15 bpm): near for 30 min",  # since the baseline was confirmed
        "ok: no dose recorded",
        "not yet: blood pressure 118/76, baseline 118/76: measure it again before discharge",
        "not yet: temperature 36.6 °C, baseline 36.6 °C: measure it again before discharge",
        "ok: no active alarm",
    ]
    assert (await m.handle(EnterBloodPressure(systolic=150, diastolic=95))).ok
    assert (await m.handle(EnterTemperature(celsius=37.0))).ok
    await m.tick()
    assert findings(room)[2:4] == [
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
    assert findings(room)[2] == "ok: blood pressure 126/80, baseline 118/76: near baseline"
    assert findings(room)[4] == "not yet: active alarm: SpO2 low (88)"
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
    assert (await first.manager.handle(CONFIRM)).ok
    assert first.manager._discharge.baseline == 64
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


def worn(room: Room, quantity: Quantity, value: float, device: str) -> None:
    room.hub.publish(Reading(quantity=quantity, value=value, unit="bpm", device=device, ts=room.clock.now()))


async def taper_with_baseline(room: Room, bpm: float = 75) -> None:
    """A dosing session, its baseline taken (6 minutes at ``bpm``), the team in the taper (no dose: see the dose test)."""
    assert (await room.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await minutes(room, 6, bpm)
    assert (await room.manager.handle(CONFIRM)).ok
    assert (await room.manager.handle(SetPhase(phase="taper"))).ok


async def test_steady_counts_only_minutes_with_data_a_gap_restarts_it(room: Room) -> None:
    """4 minutes near the baseline, 25 minutes with the strap off, 90 s back: near for 1 minute, not 30 (before:
    "ready: near for 30 min")."""
    await taper_with_baseline(room)  # near from the first reading after the baseline was confirmed
    await minutes(room, 3, 75)
    assert findings(room)[0] == "not yet: heart rate vs baseline 75 (within 15 bpm): near for 2 of 30 min"
    await minutes(room, 25, None)  # the strap is off: no readings, the session ticks on
    assert findings(room)[0] == "not yet: heart rate: no current reading (baseline 75)"
    await minutes(room, 1.5, 75)
    assert findings(room)[0] == "not yet: heart rate vs baseline 75 (within 15 bpm): near for 1 of 30 min"
    status = room.manager.state.discharge
    assert status is not None
    assert not status.vitals_ready
    await minutes(room, 29, 75)
    assert findings(room)[0] == "ok: heart rate vs baseline 75 (within 15 bpm): near for 30 min"


async def test_a_short_pause_between_readings_does_not_restart_the_count(room: Room) -> None:
    await taper_with_baseline(room)
    await minutes(room, 2, 75, step_s=20)  # a reading every 20 s is data all along
    assert findings(room)[0].endswith("near for 1 of 30 min")  # since the first reading after the confirmation


async def test_a_latched_unacknowledged_alarm_blocks_ready_until_acknowledged(room: Room) -> None:
    """The real alarm engine: heart rate 150 for 15 s raises heart_rate_high; back at 72 it latches. Until it is
    acknowledged the check is not ready (before: only active alarms counted)."""
    engine = AlarmEngine(room.config.alarms, [], clock=room.clock)
    room.hub.add_processor(engine)
    await taper_with_baseline(room, 72)
    await minutes(room, 0.25, 150)
    (alarm,) = engine.alarms.values()
    assert alarm.condition == "heart_rate_high"
    await minutes(room, 31, 72)
    alarm = engine.alarms[alarm.id]
    assert alarm.latched
    assert not alarm.active
    assert findings(room)[0].startswith("ok: heart rate")
    assert findings(room)[-1] == f"not yet: alarm to acknowledge: {alarm.message}"
    status = room.manager.state.discharge
    assert status is not None
    assert not status.vitals_ready
    for event in engine.acknowledge():
        room.hub.publish(event)
    await room.manager.tick()
    assert findings(room)[-1] == "ok: no active alarm"
    assert (await room.manager.handle(TICKS)).ok


async def test_ready_only_long_enough_after_the_last_dose_supplemental_too(room: Room) -> None:
    """Effects peak 1-2 h after a dose: 92 minutes after a supplemental dose the check is not ready whatever the
    heart rate says; 3 h after it, it is (the default [session.discharge] min_since_last_dose_min = 180)."""
    m = room.manager
    await taper_with_baseline(room, 70)
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    await minutes(room, 100, 72, step_s=10)
    assert (await m.handle(MarkEvent(event="supplemental_dose", amount_mg=60))).ok
    await minutes(room, 92, 72, step_s=10)
    assert findings(room)[0].startswith("ok: heart rate")
    assert findings(room)[1] == (
        "not yet: last supplemental dose 1 h 32 min ago: at least 3 h after the last dose"
        " (effects peak 1-2 h after a dose)"
    )
    refused = await m.handle(TICKS)
    assert not refused.ok
    assert "last supplemental dose 1 h 32 min ago" in refused.message
    await minutes(room, 88, 72, step_s=10)
    assert findings(room)[1] == "ok: last supplemental dose 3 h ago (at least 3 h)"
    assert (await m.handle(TICKS)).ok


async def test_the_minimum_time_since_the_dose_is_a_room_setting(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    room = await make_room(
        tmp_path / "room.db", clock, hub, extra="[session.discharge]\nmin_since_last_dose_min = 240\n"
    )
    await taper_with_baseline(room, 70)
    assert (await room.manager.handle(MarkEvent(event="dose"))).ok
    await minutes(room, 200, 72, step_s=10)
    assert findings(room)[1].startswith("not yet: last dose 3 h 20 min ago: at least 4 h after the last dose")
    await room.writer.stop()
    await room.store.close()


async def test_blood_pressure_for_discharge_is_taken_after_the_last_dose_and_recently(room: Room) -> None:
    """Two pressures at arrival do not make "near baseline" hours after the dose (before: "ok: near baseline")."""
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    assert (await m.handle(EnterBloodPressure(systolic=118, diastolic=76))).ok
    assert (await m.handle(EnterBloodPressure(systolic=120, diastolic=78))).ok
    await minutes(room, 6, 70)
    assert (await m.handle(CONFIRM)).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    await minutes(room, 185, 72, step_s=10)
    assert (await m.handle(SetPhase(phase="taper"))).ok
    assert findings(room)[2] == (
        "not yet: blood pressure 120/78, baseline 120/78: taken before the last dose; measure it again before discharge"
    )  # the baseline confirmed: the last pressure before the dose
    assert (await m.handle(EnterBloodPressure(systolic=124, diastolic=80))).ok
    await minutes(room, 30, 72, step_s=10)
    assert findings(room)[2] == "ok: blood pressure 124/80, baseline 120/78: near baseline"
    await minutes(room, 1, 72, step_s=10)
    assert findings(room)[2] == (
        "not yet: blood pressure 124/80, baseline 120/78: taken 31 min ago; measure it again (within 30 min of discharge)"
    )
    status = m.state.discharge
    assert status is not None
    assert not status.vitals_ready


async def test_an_oximeter_only_room_can_pass_on_its_pulse_rate(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    """No strap: the oximeter's pulse rate is the baseline, the steady count and the words (before: "heart rate: no
    baseline" for ever). A pulse entered by hand with a blood pressure is not the oximeter's; the source is kept
    across a restart."""
    room = await make_room(tmp_path / "room.db", clock, hub)
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    for _ in range(6 * 60):
        clock.advance(1)
        worn(room, Quantity.PULSE_RATE, 66, "oximeter")
        await m.tick()
    assert (await m.handle(CONFIRM)).ok
    assert (await m.handle(EnterBloodPressure(systolic=118, diastolic=76, pulse_rate=100))).ok
    assert (await m.handle(SetPhase(phase="taper"))).ok
    for _ in range(31 * 60):
        clock.advance(1)
        worn(room, Quantity.PULSE_RATE, 70, "oximeter")
        await m.tick()
    assert (await m.handle(EnterBloodPressure(systolic=119, diastolic=77, pulse_rate=100))).ok  # the newest pulse
    await m.tick()
    assert findings(room)[0] == "ok: pulse rate (oximeter) vs baseline 66 (within 15 bpm): near for 30 min"
    assert room.hub.state.session.discharge is not None
    assert room.hub.state.session.discharge.vitals_ready  # the screen shows READY
    await room.writer.stop()
    await room.store.close()

    again = await make_room(tmp_path / "room.db", clock, Hub())
    assert await again.manager.resume()
    for _ in range(60):
        clock.advance(1)
        worn(again, Quantity.PULSE_RATE, 68, "oximeter")
        await again.manager.tick()
    assert findings(again)[0] == "not yet: pulse rate (oximeter) vs baseline 66 (within 15 bpm): near for 0 of 30 min"
    await again.writer.stop()
    await again.store.close()


async def test_a_damaged_baseline_in_the_record_is_left_out_and_unconfirmed_data_never_count(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    """The first minutes of data are no baseline unless confirmed, before a restart and after; a baseline record
    that does not parse is left out (the check says there is no confirmed baseline), the resume goes on."""
    first = await make_room(tmp_path / "room.db", clock, hub)
    assert (await first.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await minutes(first, 6, 64)
    assert first.manager._discharge.baseline is None  # proposed, not confirmed
    first.manager.meta["baselines"] = [{"quantity": "heart_rate", "value": "sixty-four"}]
    await first.store.save_session(first.manager._row())
    await first.writer.stop()
    await first.store.close()
    again = await make_room(tmp_path / "room.db", clock, Hub())
    assert await again.manager.resume()  # resumes; does not raise
    assert (await again.manager.handle(SetPhase(phase="taper"))).ok
    await minutes(again, 1, 66)
    assert findings(again)[0] == (
        "not yet: heart rate: no confirmed baseline (B: confirm one before the dose, or enter it by hand)"
    )
    await again.writer.stop()
    await again.store.close()
