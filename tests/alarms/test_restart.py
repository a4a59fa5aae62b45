"""A restart within a session: latched and unacknowledged alarms come back with their ids, a condition that goes on stays
the same alarm, and a technical alarm says monitoring was interrupted and for how long (until acknowledged)."""

from __future__ import annotations

from datetime import timedelta

from roomctl.alarms.restore import shown_after
from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import Alarm, AlarmAction, AlarmCategory, Priority, Quantity

from .conftest import MakeRoom, Room, alarm_events

SPO2 = Quantity.SPO2
HR = Quantity.HEART_RATE


def first_run(make_room: MakeRoom) -> Room:
    room = make_room()
    room.session("s1")
    room.hold(SPO2, 80, 6)  # high
    room.hold(SPO2, 97, 2)  # latched, unacknowledged
    room.hold(HR, 130, 11, device="strap")  # active, unacknowledged
    room.health("mqtt", ok=False)  # technical: judged afresh after the restart
    return room


def test_latched_and_unacknowledged_alarms_come_back_with_their_ids(make_room: MakeRoom) -> None:
    before = first_run(make_room)
    latched, active = before.only("spo2_low"), before.only("heart_rate_high")
    shown = shown_after(alarm_events(before.events))
    assert {a.id for a in shown} == {latched.id, active.id}

    after = Room(Hub(), FakeClock())  # a new process: a new hub, time starting over
    after.session("s1")
    out = after.publish(after.engine.resume(shown, 200.0))
    assert [e.action for e in alarm_events(out)] == [AlarmAction.RESTORED, AlarmAction.RESTORED, AlarmAction.RAISED]
    assert after.hub.state.alarms[latched.id] == latched
    assert after.hub.state.alarms[active.id] == active
    notice = after.only("monitoring_interrupted")
    assert notice.category is AlarmCategory.TECHNICAL
    assert notice.priority is Priority.MEDIUM
    assert notice.message == "Monitoring was interrupted for 3 min 20 s: roomctl restarted during the session"
    assert notice.value == 200.0
    assert "broker_unreachable" not in after.conditions()

    # The heart rate is still high: the same alarm goes on; back to normal: it latches (it was never acknowledged).
    assert alarm_events(after.hold(HR, 130, 20, device="strap")) == []
    assert after.only("heart_rate_high").id == active.id
    (ended,) = alarm_events(after.hold(HR, 100, 2, device="strap"))
    assert (ended.action, ended.alarm.id) == (AlarmAction.LATCHED, active.id)

    # Acknowledging the notice takes note of the interruption: it goes; the others are untouched.
    out = after.acknowledge(notice.id)
    assert [(e.action, e.alarm.condition) for e in alarm_events(out)] == [
        (AlarmAction.ACKNOWLEDGED, "monitoring_interrupted"),
        (AlarmAction.CLEARED, "monitoring_interrupted"),
    ]
    assert after.conditions() == {"spo2_low", "heart_rate_high"}


def test_an_unknown_gap_is_said_in_words(make_room: MakeRoom) -> None:
    room = make_room()
    room.session("s1")
    room.publish(room.engine.resume([], None))
    assert room.only("monitoring_interrupted").message.startswith(
        "Monitoring was interrupted (for how long is unknown)"
    )


def acknowledged_first_run(make_room: MakeRoom, *, all_alarms: bool) -> tuple[Room, Alarm]:
    """SpO2 80 (high) acknowledged, then 100 s of it going on (audio_pause_s is 120)."""
    room = make_room()
    room.session("s1")
    room.hold(SPO2, 80, 6)
    alarm = room.only("spo2_low")
    room.acknowledge(None if all_alarms else alarm.id)
    room.hold(SPO2, 80, 100)
    return room, alarm


def test_an_alarm_acknowledged_alone_signals_again_audio_pause_s_after_its_acknowledgement(make_room: MakeRoom) -> None:
    before, alarm = acknowledged_first_run(make_room, all_alarms=False)
    after = Room(Hub(), FakeClock(start=before.clock.now() + timedelta(seconds=10)))  # the restart took 10 s
    after.session("s1")
    after.publish(after.engine.resume(shown_after(alarm_events(before.events)), 10.0))
    assert after.hub.state.audio_pause is None  # one alarm acknowledged: no room pause to go on with
    assert alarm_events(after.hold(SPO2, 80, 9)) == []  # 119 s after the acknowledgement
    (again,) = alarm_events(after.hold(SPO2, 80, 2))
    assert (again.action, again.alarm.id) == (AlarmAction.REANNUNCIATED, alarm.id)


def test_a_kept_pause_never_lasts_longer_than_audio_pause_s_whatever_the_wall_clock_did(make_room: MakeRoom) -> None:
    before, _ = acknowledged_first_run(make_room, all_alarms=True)
    pause_until = before.hub.state.audio_pause.until if before.hub.state.audio_pause else None
    assert pause_until is not None
    after = Room(Hub(), FakeClock(start=before.clock.now() - timedelta(hours=1)))  # came back an hour slow
    after.session("s1")
    after.publish(after.engine.resume(shown_after(alarm_events(before.events)), None, pause_until))
    assert after.engine.audio_paused_s() == 120  # not the 1 h 20 s the clock would give
    assert after.hub.state.audio_pause is not None
    ended = Room(Hub(), FakeClock(start=before.clock.now() + timedelta(seconds=30)))  # the pause ran out meanwhile
    ended.session("s1")
    ended.publish(ended.engine.resume(shown_after(alarm_events(before.events)), 30.0, pause_until))
    assert ended.hub.state.audio_pause is None
    ended.publish(ended.engine.tick())
    assert ended.only("spo2_low").acknowledged_at is None  # due already: announced again at the first tick
