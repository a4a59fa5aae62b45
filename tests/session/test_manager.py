"""The session manager: timeline, phase suggestions, reminders, refusals, resume after restart."""

from __future__ import annotations

import json
from pathlib import Path

from roomctl.clock import FakeClock
from roomctl.commands import EndSession, EnterBloodPressure, EnterTemperature, MarkEvent, SetPhase, StartSession
from roomctl.hub import Hub
from roomctl.models import SessionKind
from tests.session.conftest import Room, make_room


async def test_start_dose_and_phase_suggestions_follow_elapsed_time(room: Room) -> None:
    m, clock = room.manager, room.clock
    assert (await m.handle(StartSession())).ok
    sid = m.state.id
    assert sid is not None
    assert len(sid) == 12  # random hex, nothing about the patient
    assert m.state.phase == "arrival"
    await m.tick()
    assert m.state.suggested_phase is None  # no dose yet: time suggests nothing
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    assert m.state.suggested_phase == "dose"
    clock.advance(16 * 60)
    await m.tick()
    assert m.state.suggested_phase == "onset"
    assert (await m.handle(SetPhase(phase="onset"))).ok
    assert m.state.suggested_phase is None  # the team followed the suggestion
    clock.advance(45 * 60)  # 61 min after the dose
    await m.tick()
    assert m.state.suggested_phase == "active"
    assert room.hub.state.session.suggested_phase == "active"
    assert (await m.handle(SetPhase(phase="taper"))).ok  # the team may run ahead of the clock
    await m.tick()
    assert m.state.suggested_phase is None  # and is never pushed back


async def test_doses_breaks_and_notes_are_checked(room: Room) -> None:
    m = room.manager
    assert not (await m.handle(MarkEvent(event="dose"))).ok  # no session
    await m.handle(StartSession())
    result = await m.handle(MarkEvent(event="supplemental_dose"))
    assert not result.ok
    assert "initial dose first" in result.message
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    again = await m.handle(MarkEvent(event="dose"))
    assert not again.ok
    assert "supplemental" in again.message
    room.clock.advance(100 * 60)
    assert (await m.handle(MarkEvent(event="supplemental_dose", amount_mg=60))).ok
    assert len(m.state.dose_times) == 2
    assert (await m.handle(MarkEvent(event="break_start"))).ok
    assert m.state.on_break
    assert not (await m.handle(MarkEvent(event="break_start"))).ok
    assert (await m.handle(MarkEvent(event="break_end"))).ok
    assert not (await m.handle(MarkEvent(event="note", text="  "))).ok
    assert (await m.handle(MarkEvent(event="note", text="calm"))).ok
    assert not (await m.handle(SetPhase(phase="nonsense"))).ok
    stored = await room.store.call(lambda db: [e[3] for e in db.events(m.state.id or "")])
    assert stored == ["session_start", "dose", "supplemental_dose", "break_start", "break_end", "note"]
    assert (await m.handle(EndSession())).ok
    assert room.hub.state.session.id is None


async def test_preparation_session_has_no_doses_or_phases(room: Room) -> None:
    m = room.manager
    await m.handle(StartSession(session_kind=SessionKind.PREPARATION))
    assert m.state.phase is None
    assert m.state.next_vitals_check is None
    assert not (await m.handle(MarkEvent(event="dose"))).ok
    assert not (await m.handle(SetPhase(phase="onset"))).ok
    assert not (await m.handle(StartSession())).ok  # one session at a time


async def test_vitals_reminder_when_due_and_reset_by_the_whole_check(room: Room) -> None:
    """A temperature alone does not reset the blood-pressure reminder (before: any entry did); BP and temperature do."""
    m, clock = room.manager, room.clock
    await m.handle(StartSession())
    clock.advance(30 * 60 - 1)
    await m.tick()
    assert room.events("vitals_check_due") == []
    clock.advance(2)
    await m.tick()
    await m.tick()
    (due,) = room.events("vitals_check_due")  # once, not every tick
    assert due.text == "vitals check due: blood pressure and temperature"
    before = m.state.next_vitals_check
    assert (await m.handle(EnterTemperature(celsius=37.1))).ok
    assert m.state.next_vitals_check == before  # the blood pressure is still to take
    assert list(m.state.vitals_check_missing) == ["blood_pressure"]
    assert (await m.handle(EnterBloodPressure(systolic=128, diastolic=82))).ok
    assert m.state.next_vitals_check is not None
    assert before is not None
    assert (m.state.next_vitals_check - before).total_seconds() > 60
    assert list(m.state.vitals_check_missing) == ["blood_pressure", "temperature"]
    clock.advance(30 * 60 + 1)
    await m.tick()
    assert len(room.events("vitals_check_due")) == 2


async def test_manual_vitals_become_readings_from_device_manual(room: Room) -> None:
    m = room.manager
    await m.handle(StartSession())
    result = await m.handle(EnterBloodPressure(systolic=142, diastolic=91, pulse_rate=88))
    assert result.ok
    assert result.message == "blood pressure 142/91 mmHg, pulse 88 bpm recorded"
    latest = room.hub.state.readings
    assert latest[("manual", "systolic")].value == 142  # type: ignore[index]
    sid = m.state.id or ""
    rows = await room.store.call(lambda db: [(r[2], r[3], r[4]) for r in db.readings(sid)])
    assert sorted(rows) == [
        ("manual", "diastolic", 91.0),
        ("manual", "pulse_rate", 88.0),
        ("manual", "systolic", 142.0),
    ]


async def test_implausible_entries_are_refused_and_never_stored(room: Room) -> None:
    m = room.manager
    await m.handle(StartSession())
    # model_construct skips validation, as a buggy client might: the manager checks again
    bp = await m.handle(EnterBloodPressure.model_construct(systolic=400, diastolic=20, pulse_rate=None))
    assert not bp.ok
    assert bp.message.startswith("blood pressure 400/20 mmHg refused: systolic 400 mmHg is outside")
    temp = await m.handle(EnterTemperature.model_construct(celsius=3.0))
    assert not temp.ok
    assert "temperature refused: celsius 3 °C is outside the plausible range 30-45 °C" in temp.message
    sid = m.state.id or ""
    assert await room.store.call(lambda db: list(db.readings(sid))) == []
    assert room.events("blood_pressure") == []
    assert room.events("temperature") == []


async def test_session_resumes_after_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    path = tmp_path / "room.db"
    first = await make_room(path, clock, hub)
    await first.manager.handle(StartSession())
    await first.manager.handle(MarkEvent(event="dose", amount_mg=120))
    await first.manager.handle(SetPhase(phase="onset"))
    await first.manager.handle(MarkEvent(event="break_start"))
    before = first.manager.state
    await first.store.close()  # as if the daemon died: no end of session

    clock.advance(70 * 60)
    second = await make_room(path, clock, Hub())  # the restarted daemon
    assert await second.manager.resume()
    after = second.manager.state
    assert after.id == before.id
    assert after.phase == "onset"
    assert after.dose_times == before.dose_times
    assert after.on_break
    assert second.hub.state.session.id == before.id
    await second.manager.tick()
    assert second.manager.state.suggested_phase == "active"  # 70 min after the dose, counted across the restart
    assert [e.text for e in second.events("note")] == ["roomctl restarted; session resumed"]
    assert (await second.manager.handle(MarkEvent(event="break_end"))).ok
    await second.writer.stop()
    await second.store.close()
    third = await make_room(path, clock, Hub())
    assert await third.manager.resume()
    assert not third.manager.state.on_break
    await third.store.close()


async def test_after_an_ntp_step_the_timeline_follows_elapsed_time(room: Room) -> None:
    """The wall clock was an hour slow when the dose was marked; NTP corrects it: "since dose", "since start", the next
    vitals check and the phase suggestion follow the time that really passed; the record keeps the stamps as taken."""
    m, clock = room.manager, room.clock
    assert (await m.handle(StartSession())).ok
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    dosed = clock.now()
    clock.advance(20 * 60)
    await m.tick()
    clock.jump_wall(3600)  # NTP steps the wall clock forward an hour
    await m.tick()
    now = clock.now()
    state = room.hub.state.session  # what the screen and MQTT see
    assert (now - state.dose_times[-1]).total_seconds() == 20 * 60  # before: 1:20 h
    assert state.started_at is not None
    assert (now - state.started_at).total_seconds() == 20 * 60
    assert state.next_vitals_check is not None
    assert (state.next_vitals_check - now).total_seconds() == -5 * 60  # 15 min after the dose (before: 1:05 h away)
    assert state.suggested_phase == "onset"  # 20 min after the dose, not 80
    (dose,) = room.events("dose")
    assert dose.ts == dosed  # the record keeps the dose as it was stamped
    (note,) = [e for e in room.events("note") if "wall clock" in (e.text or "")]
    assert note.text == (
        "the wall clock was corrected by +1 h 0 min; the session's timeline follows the time that really passed"
        " (times recorded before stay as they were stamped)"
    )
    assert note.data["wall_step_s"] == 3600
    clock.advance(41 * 60)
    await m.tick()
    assert m.state.suggested_phase == "active"  # 61 min after the dose
    await m.tick()
    assert len([e for e in room.events("note") if "wall clock" in (e.text or "")]) == 1  # one step, one note


async def test_a_late_tick_is_not_a_wall_clock_step(room: Room) -> None:
    m, clock = room.manager, room.clock
    assert (await m.handle(StartSession())).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    before = m.state.dose_times
    clock.advance(90)  # a tick 90 s late: both clocks moved together
    clock.jump_wall(1.5)  # and NTP slewed a little
    await m.tick()
    assert m.state.dose_times == before
    assert not [e for e in room.events("note") if "wall clock" in (e.text or "")]


async def test_after_a_power_cut_with_a_slow_clock_the_timeline_follows_once_the_clock_is_corrected(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    """The Pi has no real-time clock: after a power cut its clock comes back 50 minutes slow, and NTP corrects it later.
    From then the suggested phase and the next vitals check follow the real time since the dose (before: both stayed
    50 minutes off for the rest of the session)."""
    path = tmp_path / "room.db"
    first = await make_room(path, clock, hub)
    await first.manager.handle(StartSession())
    await first.manager.handle(MarkEvent(event="dose", amount_mg=120))
    await first.manager.handle(SetPhase(phase="dose"))
    before = first.manager.state
    await first.store.close()  # the power goes

    clock.advance(60 * 60)  # an hour later the Pi is back,
    clock.jump_wall(-50 * 60)  # its clock 50 minutes slow
    second = await make_room(path, clock, Hub())
    assert await second.manager.resume()
    await second.manager.tick()
    assert second.manager.state.suggested_phase is None  # 10 min by the slow clock (still "dose"): nothing better known
    assert not second.events("vitals_check_due")
    clock.advance(5 * 60)
    clock.jump_wall(50 * 60)  # NTP corrects the clock: 65 min since the dose
    await second.manager.tick()
    state = second.manager.state
    assert state.suggested_phase == "active"  # before: "onset" (15 min)
    assert state.dose_times == before.dose_times  # stamped by a right clock before the cut: kept
    assert (clock.now() - state.dose_times[0]).total_seconds() == 65 * 60
    assert second.events("vitals_check_overdue")  # due 15 min after the dose: 50 min ago (before: 25 min away)
    assert state.next_vitals_check == before.next_vitals_check
    await second.writer.stop()
    await second.store.close()


async def test_a_session_left_open_beside_a_later_one_is_closed_at_start_and_says_so(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    """Two open sessions in the record (an older roomctl's end/start race left one): the newer is resumed, the older
    is closed at its last record with a session_end that says why; only one session is open afterwards."""
    path = tmp_path / "room.db"
    first = await make_room(path, clock, hub)
    assert (await first.manager.handle(StartSession())).ok
    orphan = first.manager.state.id
    clock.advance(60)
    assert (await first.manager.handle(MarkEvent(event="note", text="last thing recorded"))).ok
    last = clock.now()
    await first.store.close()  # stopped without an end
    clock.advance(600)
    second = await make_room(path, clock, Hub())  # started a session without resuming (the old race did this)
    assert (await second.manager.handle(StartSession(session_kind=SessionKind.INTEGRATION))).ok
    newer = second.manager.state.id
    await second.store.close()

    clock.advance(600)
    third = await make_room(path, clock, Hub())
    assert await third.manager.resume()
    assert third.manager.state.id == newer
    rows = await third.store.call(lambda db: db.open_sessions())
    assert [r.id for r in rows] == [newer]
    assert orphan is not None
    closed = await third.store.call(lambda db: db.session(orphan))
    assert closed is not None
    assert closed.ended_at == last.timestamp()  # at its last record, not at this start
    (end,) = [e for e in await third.store.call(lambda db: db.events(orphan)) if e[3] == "session_end"]
    assert end[2] == last.timestamp()
    assert end[4] == "closed when roomctl started: it was left open, and a later session was open too"
    assert json.loads(end[5])["closed_by"] == "roomctl"
    assert [e.text for e in third.events("note")] == ["roomctl restarted; session resumed"]
    await third.writer.stop()
    await third.store.close()


async def test_a_wall_clock_stepped_back_moves_the_running_timeline_back(room: Room) -> None:
    m, clock = room.manager, room.clock
    assert (await m.handle(StartSession())).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    clock.advance(10 * 60)
    clock.jump_wall(-2 * 3600)  # the clock was two hours fast
    await m.tick()
    now = clock.now()
    assert (now - m.state.dose_times[0]).total_seconds() == 10 * 60
    assert m.state.started_at is not None
    assert (now - m.state.started_at).total_seconds() == 10 * 60
    (note,) = [e for e in room.events("note") if "wall clock" in (e.text or "")]
    assert (note.text or "").startswith("the wall clock was corrected by -2 h 0 min;")
