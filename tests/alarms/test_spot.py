"""Spot measurements (blood pressure and temperature entered by hand, a cuff): each one judged on its own, as a monitor
judges NIBP. A crossing raises at once; the next measurement inside the limit ends the condition (latched if nobody
acknowledged it, else cleared); an acknowledged alarm stays silent until the next measurement however long that takes;
the end of the session ends the conditions of its spot measurements."""

from __future__ import annotations

from roomctl.alarms.restore import shown_after
from roomctl.alarms.signal import sounding
from roomctl.clock import FakeClock
from roomctl.config.alarms import LimitRule
from roomctl.hub import Hub
from roomctl.models import MANUAL_DEVICE, AlarmAction, LinkState, Priority, Quantity, SessionState

from .conftest import CUFF, MakeRoom, Room, alarm_events, config

SYS = Quantity.SYSTOLIC
HR = Quantity.HEART_RATE


def entered(room: Room, value: float, quantity: Quantity = SYS) -> list[AlarmAction]:
    """The team enters one value by hand; the alarm actions it causes."""
    return [e.action for e in alarm_events(room.reading(quantity, value, device=MANUAL_DEVICE))]


def end_session(room: Room, session_id: str = "s1") -> list[tuple[AlarmAction, str]]:
    """The session manager's end: the state with ``ended_at``, then no session."""
    ended = SessionState(id=session_id, started_at=room.clock.now(), ended_at=room.clock.now())
    out = room.feed(ended) + room.session(None)
    return [(e.action, e.alarm.condition) for e in alarm_events(out)]


def test_a_high_manual_systolic_raises_at_once(room: Room) -> None:
    room.session("s1")
    assert entered(room, 172) == [AlarmAction.RAISED]
    alarm = room.only("systolic_high")
    assert alarm.message == "Systolic BP high: 172 mmHg (limit 160)"
    assert (alarm.device, alarm.value, alarm.limit, alarm.priority) == (MANUAL_DEVICE, 172, 160, Priority.MEDIUM)
    assert sounding(room.engine.alarms.values(), paused=False) is Priority.MEDIUM


def test_a_condition_delay_does_not_hold_back_a_spot_measurement(make_room: MakeRoom) -> None:
    # A delay debounces a stream; one deliberate measurement has nothing to debounce.
    room = make_room(config(LimitRule(quantity=SYS, high=160, condition_delay_s=30)))
    room.session("s1")
    assert entered(room, 165) == [AlarmAction.RAISED]


def test_the_next_measurement_inside_the_limit_ends_it_latched_when_unacknowledged(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    room.wait(30 * 60, step=10)
    assert entered(room, 150) == [AlarmAction.LATCHED]
    alarm = room.only("systolic_high")
    assert (alarm.active, alarm.latched) == (False, True)
    assert [e.action for e in alarm_events(room.acknowledge())] == [AlarmAction.CLEARED]
    assert room.engine.alarms == {}


def test_the_next_measurement_inside_the_limit_clears_an_acknowledged_alarm(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    room.wait(30 * 60, step=10)
    assert entered(room, 150) == [AlarmAction.CLEARED]
    assert room.engine.alarms == {}


def test_without_latching_the_next_measurement_inside_the_limit_clears_it(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.session("s1")
    entered(room, 172)
    assert entered(room, 150) == [AlarmAction.CLEARED]


def test_hysteresis_does_not_keep_a_spot_condition(make_room: MakeRoom) -> None:
    # Hysteresis keeps a stream from chattering at the limit; a new measurement half an hour later stands on its own.
    room = make_room(config(LimitRule(quantity=SYS, high=160, condition_delay_s=0, hysteresis=10)))
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    assert entered(room, 158) == [AlarmAction.CLEARED]


def test_hours_without_a_new_measurement_keep_the_condition_and_an_acknowledged_alarm_stays_silent(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    (ack,) = alarm_events(room.acknowledge(), AlarmAction.ACKNOWLEDGED)
    out = room.wait(3 * 3600, step=10)
    # Nothing about a spot value can change until the next measurement: no reminder every 2 minutes, no ending by time
    # (an old value is no data, and no data never ends an alarm); the session's vitals check asks for a new one.
    assert alarm_events(out) == []
    alarm = room.only("systolic_high")
    assert (alarm.active, alarm.acknowledged_at) == (True, ack.alarm.acknowledged_at)
    assert sounding(room.engine.alarms.values(), paused=False) is None


def test_a_continuous_alarm_acknowledged_still_signals_again_after_the_pause(room: Room) -> None:
    # The contrast: a heart rate that stays high is re-announced when the audio pause runs out.
    room.session("s1")
    room.hold(HR, 130, 11, device="strap")
    room.acknowledge()
    out = room.hold(HR, 130, 121, device="strap")
    assert [e.action for e in alarm_events(out)] == [AlarmAction.REANNUNCIATED]


def test_an_unacknowledged_spot_alarm_keeps_sounding(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    assert alarm_events(room.wait(3600, step=10)) == []
    assert sounding(room.engine.alarms.values(), paused=False) is Priority.MEDIUM


def test_a_new_measurement_still_high_signals_again_with_its_value(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    room.wait(30 * 60, step=10)
    first = room.only("systolic_high")
    assert entered(room, 168) == [AlarmAction.REANNUNCIATED]
    again = room.only("systolic_high")
    assert again.id == first.id
    assert again.acknowledged_at is None
    assert (again.value, again.message) == (168, "Systolic BP high: 168 mmHg (limit 160)")
    # Not yet acknowledged, a third value changes nothing: it is sounding already.
    assert entered(room, 170) == []


def test_a_worse_measurement_escalates(make_room: MakeRoom) -> None:
    room = make_room(
        config(
            LimitRule(quantity=SYS, high=160, priority=Priority.MEDIUM, condition_delay_s=0),
            LimitRule(quantity=SYS, high=180, priority=Priority.HIGH, condition_delay_s=0),
        )
    )
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    assert entered(room, 185) == [AlarmAction.ESCALATED]
    assert room.only("systolic_high").priority is Priority.HIGH
    room.acknowledge()
    # Milder but still high: signals again and keeps saying the worst it reached.
    assert entered(room, 170) == [AlarmAction.REANNUNCIATED]
    alarm = room.only("systolic_high")
    assert (alarm.priority, alarm.value) == (Priority.HIGH, 185)


def test_session_end_clears_an_acknowledged_spot_alarm(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    entered(room, 39.0, Quantity.TEMPERATURE)
    room.acknowledge()
    assert end_session(room) == [
        (AlarmAction.CLEARED, "systolic_high"),
        (AlarmAction.CLEARED, "temperature_high"),
    ]
    assert room.engine.alarms == {}
    assert room.hub.state.alarms == {}


def test_session_end_latches_an_unacknowledged_spot_alarm_until_acknowledged(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    assert end_session(room) == [(AlarmAction.LATCHED, "systolic_high")]
    alarm = room.only("systolic_high")
    assert (alarm.active, alarm.latched) == (False, True)
    assert alarm_events(room.wait(3600, step=10)) == []
    room.acknowledge()
    assert room.engine.alarms == {}


def test_the_next_session_starts_without_the_previous_sessions_spot_conditions(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    end_session(room)
    room.session("s2")
    assert entered(room, 150) == []  # nothing left to end
    assert entered(room, 175) == [AlarmAction.RAISED]  # a new alarm for the new session
    assert room.only("systolic_high").value == 175


def test_session_end_leaves_conditions_of_continuous_wearables_to_their_readings(room: Room) -> None:
    room.session("s1")
    room.hold(HR, 130, 11, device="strap")
    entered(room, 172)
    room.acknowledge()
    assert end_session(room) == [(AlarmAction.CLEARED, "systolic_high")]
    assert room.only("heart_rate_high").active


def test_a_cuffs_measurement_is_a_spot_measurement_too(make_room: MakeRoom) -> None:
    room = make_room(wearables=[CUFF])
    room.session("s1")
    room.device(LinkState.CONNECTED, device="cuff", profile="blood_pressure")
    assert [e.action for e in alarm_events(room.reading(SYS, 172, device="cuff"))] == [AlarmAction.RAISED]
    room.acknowledge()
    # Disconnected is its normal state between measurements: no technical alarm, no re-announcement.
    room.device(LinkState.DISCONNECTED, device="cuff", profile="blood_pressure")
    assert alarm_events(room.wait(600, step=10)) == []
    assert [e.action for e in alarm_events(room.reading(SYS, 140, device="cuff"))] == [AlarmAction.CLEARED]


def test_the_cuffs_technical_alarms_still_signal_again_after_the_pause(make_room: MakeRoom) -> None:
    room = make_room(wearables=[CUFF])
    room.device(LinkState.CONNECTED, device="cuff", profile="blood_pressure", battery=5)
    assert room.conditions() == {"low_battery"}
    room.acknowledge()
    room.device(LinkState.CONNECTED, device="cuff", profile="blood_pressure", battery=5)
    assert [e.action for e in alarm_events(room.wait(121))] == [AlarmAction.REANNUNCIATED]


def test_after_a_restart_an_acknowledged_spot_alarm_stays_silent_until_the_next_measurement(room: Room) -> None:
    room.session("s1")
    entered(room, 172)
    room.acknowledge()
    shown = shown_after(alarm_events(room.events))

    after = Room(Hub(), FakeClock())  # a new process
    after.session("s1")
    after.publish(after.engine.resume(shown, 60.0))
    after.acknowledge(after.only("monitoring_interrupted").id)
    assert alarm_events(after.wait(600, step=10)) == []
    assert after.only("systolic_high").acknowledged_at is not None
    assert entered(after, 150) == [AlarmAction.CLEARED]
