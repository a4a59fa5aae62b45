"""Limit rules: condition delay on the monotonic clock, hysteresis, one alarm per quantity and direction that escalates."""

from __future__ import annotations

from roomctl.config.alarms import LimitRule
from roomctl.models import AlarmAction, AlarmCategory, Priority, Quantity

from .conftest import MakeRoom, Room, alarm_events, config

SPO2 = Quantity.SPO2


def test_a_dip_shorter_than_the_condition_delay_raises_nothing(room: Room) -> None:
    room.hold(SPO2, 97, 3)
    room.hold(SPO2, 87, 5)  # 5 s under 90 with a 10 s delay
    room.hold(SPO2, 97, 30)
    assert alarm_events(room.events) == []
    assert room.engine.alarms == {}


def test_a_dip_that_lasts_the_condition_delay_raises_once_with_a_message_in_words(room: Room) -> None:
    room.hold(SPO2, 87, 9)
    assert alarm_events(room.events) == []
    out = room.hold(SPO2, 87, 5)
    raised = alarm_events(out, AlarmAction.RAISED)
    assert len(raised) == 1
    alarm = raised[0].alarm
    assert alarm.condition == "spo2_low"
    assert alarm.category is AlarmCategory.PHYSIOLOGICAL
    assert alarm.priority is Priority.MEDIUM
    assert alarm.message == "SpO2 low: 87 % (limit 90)"
    assert (alarm.value, alarm.limit, alarm.device, alarm.quantity) == (87, 90, "oxi", SPO2)
    assert alarm.id.startswith("A")
    assert alarm.id.endswith("-spo2_low")
    assert len(alarm_events(room.events)) == 1  # held for 14 s: still one alarm


def test_the_delay_elapses_on_tick_without_a_new_reading(room: Room) -> None:
    room.reading(SPO2, 88)
    assert room.wait(9) == []
    out = room.wait(1)
    assert [e.alarm.condition for e in alarm_events(out, AlarmAction.RAISED)] == ["spo2_low"]


def test_a_wall_clock_jump_does_not_shorten_or_lengthen_a_condition_delay(room: Room) -> None:
    room.reading(SPO2, 88)
    room.clock.jump_wall(3600)  # NTP sync on a Pi without RTC
    room.hold(SPO2, 88, 5)
    room.clock.jump_wall(-7200)
    room.hold(SPO2, 88, 4)
    assert alarm_events(room.events) == []
    out = room.wait(1)
    assert len(alarm_events(out, AlarmAction.RAISED)) == 1


def test_hysteresis_the_value_must_come_back_past_the_band_to_clear(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 88, 11)
    assert room.conditions() == {"spo2_low"}
    room.hold(SPO2, 90, 5)  # at the limit: inside, but not past the 1 % band
    room.hold(SPO2, 90.5, 5)
    assert room.conditions() == {"spo2_low"}
    out = room.reading(SPO2, 91)
    assert [e.alarm.condition for e in alarm_events(out, AlarmAction.CLEARED)] == ["spo2_low"]
    assert room.engine.alarms == {}


def test_several_rules_on_one_quantity_escalate_one_alarm(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 88, 11)
    first = room.only("spo2_low")
    assert first.priority is Priority.MEDIUM
    out = room.hold(SPO2, 83, 6)
    escalated = alarm_events(out, AlarmAction.ESCALATED)
    assert len(escalated) == 1
    alarm = escalated[0].alarm
    assert alarm.id == first.id
    assert alarm.priority is Priority.HIGH
    assert alarm.message == "SpO2 low: 83 % (limit 85)"
    assert len(room.engine.alarms) == 1
    # Recovering above 85 (+ hysteresis) but still under 90: the alarm keeps the highest priority it reached.
    assert alarm_events(room.hold(SPO2, 87, 5)) == []
    assert room.only("spo2_low").priority is Priority.HIGH
    cleared = alarm_events(room.hold(SPO2, 95, 2), AlarmAction.CLEARED)
    assert [e.alarm.id for e in cleared] == [first.id]


def test_a_steep_fall_raises_straight_at_the_highest_priority(room: Room) -> None:
    out = room.hold(SPO2, 80, 20)
    events = alarm_events(out)
    assert [(e.action, e.alarm.priority) for e in events] == [(AlarmAction.RAISED, Priority.HIGH)]
    assert events[0].alarm.limit == 85


def test_high_and_low_limits_of_one_rule_are_separate_conditions(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(Quantity.HEART_RATE, 130, 11, device="strap")
    assert room.conditions() == {"heart_rate_high"}
    assert room.only("heart_rate_high").message == "Heart rate high: 130 bpm (limit 120)"
    room.hold(Quantity.HEART_RATE, 45, 11, device="strap")
    assert room.conditions() == {"heart_rate_low"}


def test_a_zero_delay_rule_raises_on_the_first_reading(make_room: MakeRoom) -> None:
    room = make_room(config(LimitRule(quantity=Quantity.TEMPERATURE, high=38.0, condition_delay_s=0)))
    out = room.reading(Quantity.TEMPERATURE, 38.4, device="manual")
    alarms = alarm_events(out, AlarmAction.RAISED)
    assert [a.alarm.message for a in alarms] == ["Temperature high: 38.4 °C (limit 38)"]


def test_quantities_without_rules_never_alarm(room: Room) -> None:
    room.hold(Quantity.PERFUSION_INDEX, 0.1, 30)
    room.hold(Quantity.BATTERY, 1, 30)
    assert room.events == []
