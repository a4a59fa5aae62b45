"""Missing data is never a calm patient: it suspends limit evaluation and never clears an alarm."""

from __future__ import annotations

from roomctl.models import AlarmAction, AlarmCategory, LinkState, Quality, Quantity

from .conftest import OXIMETER, MakeRoom, Room, alarm_events, config

SPO2 = Quantity.SPO2


def test_invalid_readings_restart_the_condition_delay_instead_of_counting_as_crossed(room: Room) -> None:
    room.hold(SPO2, 88, 8)
    room.hold(SPO2, None, 3)
    room.hold(SPO2, 88, 9)
    assert alarm_events(room.events) == []
    room.hold(SPO2, 88, 2)
    assert room.conditions() == {"spo2_low"}


def test_an_invalid_quality_reading_is_no_data_even_with_a_number(room: Room) -> None:
    room.hold(SPO2, 88, 8)
    for _ in range(5):
        room.reading(SPO2, 99, quality=Quality.INVALID)
        room.wait(1)
    room.hold(SPO2, 88, 9)
    assert alarm_events(room.events) == []


def test_missing_data_does_not_clear_an_active_alarm(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 88, 11)
    alarm_id = room.only("spo2_low").id
    room.hold(SPO2, None, 60)
    room.hold(SPO2, 99, 60, device="other-oximeter")  # another wearable's values say nothing about this one
    assert alarm_events(room.events) == alarm_events(room.events, AlarmAction.RAISED)
    assert room.engine.alarms[alarm_id].active
    out = room.reading(SPO2, 96)  # real data again: now it may clear
    assert [e.action for e in alarm_events(out)] == [AlarmAction.CLEARED]


def test_missing_data_does_not_clear_a_latched_alarm(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.hold(SPO2, 97, 2)
    alarm_id = room.only("spo2_low").id
    room.hold(SPO2, None, 30)
    room.device(LinkState.STALE)
    room.wait(60)
    assert room.engine.alarms[alarm_id].latched


def test_a_stale_wearable_suspends_a_pending_delay(room: Room) -> None:
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 88, 3)
    room.device(LinkState.STALE)
    room.wait(20)  # lost would follow 30 s after the last data
    assert room.conditions() == {"data_stale"}


def test_a_wearable_lost_while_a_physiological_alarm_is_active_shows_both(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False), [OXIMETER])
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 87, 11)  # the last reading 1 s before the link goes
    spo2 = room.only("spo2_low")
    room.device(LinkState.DISCONNECTED)
    room.wait(8)
    assert room.conditions() == {"spo2_low"}
    room.wait(1)  # stale_after_s (10) after the last data
    assert room.conditions() == {"spo2_low", "data_stale"}
    room.wait(19)
    assert room.conditions() == {"spo2_low", "data_stale"}
    room.wait(1)  # lost_after_s (30) after the last data, not after the link reported it
    assert room.conditions() == {"spo2_low", "data_stale", "device_disconnected"}
    lost = room.only("device_disconnected")
    assert lost.category is AlarmCategory.TECHNICAL
    assert lost.message == "Wearable lost: Finger oximeter is not connected"
    # The physiological alarm is neither cleared nor latched by the loss of data.
    assert room.engine.alarms[spo2.id] == spo2
    room.wait(120)
    assert room.engine.alarms[spo2.id].active
    # Back, and still low: the technical alarms clear, the physiological one stays.
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 87, 3)
    assert room.conditions() == {"spo2_low"}
    assert room.only("spo2_low").id == spo2.id
