"""Technical alarms: wearables stale, lost, off the finger, out of contact, low on battery; storage and broker failures."""

from __future__ import annotations

import pytest

from roomctl.models import AlarmAction, AlarmCategory, LinkState, Priority, Quality, Quantity, TechnicalCondition

from .conftest import CUFF, OXIMETER, STRAP, MakeRoom, Room, alarm_events, config

FINGER_OFF = TechnicalCondition.FINGER_OFF


def test_a_stale_wearable_raises_data_stale_at_once_and_clears_when_data_returns(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED)
    (raised,) = alarm_events(room.device(LinkState.STALE))
    assert raised.alarm.condition == "data_stale"
    assert raised.alarm.category is AlarmCategory.TECHNICAL
    assert raised.alarm.priority is Priority.MEDIUM
    assert raised.alarm.message == "No data from Finger oximeter"
    assert raised.alarm.device == "oxi"
    out = room.device(LinkState.CONNECTED)
    assert [e.action for e in alarm_events(out)] == [AlarmAction.CLEARED]


def test_a_stale_wearable_that_then_disconnects_stays_stale_without_a_gap(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED)
    room.device(LinkState.STALE)
    room.device(LinkState.DISCONNECTED)
    room.wait(1)
    assert room.conditions() == {"data_stale"}
    assert len(alarm_events(room.events, AlarmAction.RAISED)) == 1


def test_a_wearable_disconnected_for_lost_after_s_is_lost(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED)
    room.device(LinkState.DISCONNECTED)
    room.wait(10)
    room.device(LinkState.CONNECTING)  # reconnect attempts do not restart the timer
    room.wait(10)
    room.device(LinkState.DISCONNECTED)
    room.wait(9)
    assert "device_disconnected" not in room.conditions()
    room.wait(1)
    assert room.conditions() == {"data_stale", "device_disconnected"}
    room.device(LinkState.CONNECTED)
    assert room.conditions() == set()


def test_a_short_disconnection_raises_no_lost_alarm(make_room: MakeRoom) -> None:
    room = make_room(wearables=[STRAP])
    room.device(LinkState.CONNECTED, device="strap", profile="heart_rate")
    room.device(LinkState.DISCONNECTED, device="strap", profile="heart_rate")
    room.wait(5)
    room.device(LinkState.CONNECTED, device="strap", profile="heart_rate")
    room.wait(120)
    assert alarm_events(room.events) == []


def test_a_configured_wearable_that_never_connects_is_reported_lost(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTING)
    room.wait(29)
    assert room.conditions() == set()
    room.wait(1)
    assert room.conditions() == {"device_disconnected"}  # no "stale": it never sent data


def test_intermittent_wearables_are_never_stale_or_lost(make_room: MakeRoom) -> None:
    room = make_room(wearables=[CUFF])
    room.device(LinkState.CONNECTED, device="cuff", profile="blood_pressure")
    room.device(LinkState.DISCONNECTED, device="cuff", profile="blood_pressure")
    room.wait(600)
    assert alarm_events(room.events) == []


@pytest.mark.parametrize(
    ("condition", "name", "priority"),
    [
        (TechnicalCondition.FINGER_OFF, "finger_off", Priority.MEDIUM),
        (TechnicalCondition.SENSOR_DISPLACED, "sensor_displaced", Priority.MEDIUM),
        (TechnicalCondition.NO_CONTACT, "no_contact", Priority.LOW),
    ],
)
def test_a_sensor_condition_must_last_the_technical_delay(
    condition: TechnicalCondition,
    name: str,
    priority: Priority,
    make_room: MakeRoom,
) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED, conditions=(condition,))
    room.wait(4)
    room.device(LinkState.CONNECTED)  # 4 s: shorter than the 5 s delay
    room.device(LinkState.CONNECTED, conditions=(condition,))
    room.wait(4)
    assert room.conditions() == set()
    room.wait(1)
    alarm = room.only(name)
    assert alarm.priority is priority
    assert "Finger oximeter" in alarm.message
    room.device(LinkState.CONNECTED)
    assert room.conditions() == set()


def test_the_technical_delay_is_configurable(make_room: MakeRoom) -> None:
    room = make_room(config(technical={"condition_delay_s": 0}), wearables=[OXIMETER])
    out = room.device(LinkState.CONNECTED, conditions=(FINGER_OFF,))
    assert [e.alarm.condition for e in alarm_events(out)] == ["finger_off"]


def test_low_battery_is_a_low_priority_alarm_from_the_flag_or_the_level(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED, battery=50)
    assert room.conditions() == set()
    out = room.device(LinkState.CONNECTED, battery=15)
    (raised,) = alarm_events(out)
    assert raised.alarm.condition == "low_battery"
    assert raised.alarm.priority is Priority.LOW
    assert raised.alarm.value == 15
    assert raised.alarm.message == "Battery low: Finger oximeter (15 %)"
    room.device(LinkState.CONNECTED, battery=90)
    assert room.conditions() == set()
    room.device(LinkState.CONNECTED, conditions=(TechnicalCondition.LOW_BATTERY,))
    assert room.conditions() == {"low_battery"}


def test_storage_failure_is_high_and_clears_when_storage_recovers(room: Room) -> None:
    (raised,) = alarm_events(room.health("storage", ok=False, detail="database is locked"))
    assert raised.alarm.condition == "storage_failure"
    assert raised.alarm.priority is Priority.HIGH
    assert raised.alarm.category is AlarmCategory.TECHNICAL
    assert raised.alarm.message == "Storage failure: the record is not being written (database is locked)"
    assert alarm_events(room.health("storage", ok=False, detail="still locked")) == []
    assert [e.action for e in alarm_events(room.health("storage", ok=True))] == [AlarmAction.CLEARED]


def test_an_unreachable_broker_is_a_low_priority_alarm_shown_locally(room: Room) -> None:
    (raised,) = alarm_events(room.health("mqtt", ok=False))
    assert raised.alarm.condition == "broker_unreachable"
    assert raised.alarm.priority is Priority.LOW
    assert raised.alarm.message == "MQTT broker unreachable: dashboards are not updated"
    assert [e.action for e in alarm_events(room.health("mqtt", ok=True))] == [AlarmAction.CLEARED]


def test_other_services_raise_nothing(room: Room) -> None:
    assert room.health("lighting", ok=False) == []
    assert room.health("mqtt", ok=True) == []


def test_an_unconfigured_wearable_uses_default_timings(room: Room) -> None:
    room.device(LinkState.CONNECTED, device="stranger")
    room.device(LinkState.DISCONNECTED, device="stranger")
    room.wait(29)
    assert room.conditions() == {"data_stale"}
    room.wait(1)
    assert room.conditions() == {"data_stale", "device_disconnected"}
    assert room.only("device_disconnected").message == "Wearable lost: stranger is not connected"


def test_a_battery_level_does_not_count_as_data_from_a_silent_wearable(make_room: MakeRoom) -> None:
    room = make_room(wearables=[STRAP])
    room.device(LinkState.CONNECTED, device="strap", profile="heart_rate")
    room.reading(Quantity.HEART_RATE, 72, device="strap")
    room.device(LinkState.STALE, device="strap", profile="heart_rate")
    room.wait(20)
    room.reading(Quantity.BATTERY, 80, device="strap")  # read while the heart rate is silent
    room.wait(10)  # 30 s since the last heart rate: lost, although the battery was read 10 s ago
    assert room.conditions() == {"data_stale", "device_disconnected"}


def test_a_wearable_sending_only_invalid_values_is_its_own_technical_alarm(make_room: MakeRoom) -> None:
    """An oximeter that stays connected and sends only invalid values, without saying why (no finger-off bit), raises
    no_valid_data after stale_after_s: missing data is never calm, even while the link is fine."""
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED)
    room.hold(Quantity.SPO2, 97, 3)
    for _ in range(9):
        room.reading(Quantity.SPO2, None, quality=Quality.INVALID)
        room.wait(1)
    assert "no_valid_data" not in room.conditions()
    room.reading(Quantity.SPO2, None, quality=Quality.INVALID)  # 10 s of nothing valid
    room.wait(1)
    alarm = room.only("no_valid_data")
    assert alarm.message == "No valid data from Finger oximeter: check the sensor"
    assert alarm.category is AlarmCategory.TECHNICAL
    assert alarm.priority is Priority.MEDIUM  # [alarms.technical] stale
    room.reading(Quantity.SPO2, 96)
    room.wait(1)
    assert "no_valid_data" not in room.conditions()


def test_a_wearable_that_says_finger_off_raises_finger_off_not_no_valid_data(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])
    room.device(LinkState.CONNECTED)
    room.hold(Quantity.SPO2, 97, 2)
    room.device(LinkState.CONNECTED, conditions=(FINGER_OFF,))
    for _ in range(15):
        room.reading(Quantity.SPO2, None, quality=Quality.INVALID)
        room.wait(1)
    assert room.conditions() == {"finger_off"}
