"""Latching (a room setting) and acknowledgement: nothing is ever hidden, latched alarms wait for a person."""

from __future__ import annotations

from roomctl.models import AlarmAction, LinkState, Quantity

from .conftest import MakeRoom, Room, alarm_events, config

SPO2 = Quantity.SPO2


def test_a_latching_alarm_stays_shown_after_its_condition_ends_until_acknowledged(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    alarm_id = room.only("spo2_low").id
    out = room.hold(SPO2, 97, 60)
    assert [e.action for e in alarm_events(out)] == [AlarmAction.LATCHED]
    latched = room.engine.alarms[alarm_id]
    assert (latched.active, latched.latched, latched.acknowledged_at) == (False, True, None)
    out = room.acknowledge()
    cleared = alarm_events(out, AlarmAction.CLEARED)
    assert [e.alarm.id for e in cleared] == [alarm_id]
    assert cleared[0].alarm.acknowledged_at is not None
    assert cleared[0].alarm.cleared_at is not None
    assert room.engine.alarms == {}


def test_a_non_latching_alarm_clears_itself(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 88, 11)
    out = room.reading(SPO2, 97)
    assert [e.action for e in alarm_events(out)] == [AlarmAction.CLEARED]
    assert room.engine.alarms == {}


def test_technical_alarms_never_latch_even_when_the_room_latches(room: Room) -> None:
    room.device(LinkState.CONNECTED)
    room.device(LinkState.STALE)
    assert room.conditions() == {"data_stale"}
    out = room.device(LinkState.CONNECTED)
    assert [e.action for e in alarm_events(out)] == [AlarmAction.CLEARED]
    assert room.engine.alarms == {}


def test_acknowledging_an_active_alarm_keeps_it_shown_until_the_condition_ends(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    alarm_id = room.only("spo2_low").id
    out = room.acknowledge(alarm_id)
    acked = alarm_events(out, AlarmAction.ACKNOWLEDGED)
    assert len(acked) == 1
    assert acked[0].alarm.acknowledged_at == room.clock.now()
    assert acked[0].alarm.active
    room.hold(SPO2, 88, 30)
    assert room.engine.alarms[alarm_id].acknowledged_at is not None  # silenced, never hidden
    out = room.reading(SPO2, 95)
    # Already acknowledged: when the condition ends it clears instead of latching.
    assert [e.action for e in alarm_events(out)] == [AlarmAction.CLEARED]
    assert room.engine.alarms == {}


def test_acknowledging_again_changes_nothing_but_the_pause(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.acknowledge()
    out = room.acknowledge()
    assert alarm_events(out) == []


def test_a_condition_that_returns_while_latched_raises_a_new_alarm(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    old = room.only("spo2_low").id
    room.hold(SPO2, 97, 5)
    assert room.engine.alarms[old].latched
    out = room.hold(SPO2, 88, 11)
    events = alarm_events(out)
    assert [e.action for e in events] == [AlarmAction.CLEARED, AlarmAction.RAISED]
    assert events[0].alarm.id == old
    new = room.only("spo2_low")
    assert new.id != old
    assert new.active
    assert not new.latched


def test_acknowledging_an_unknown_or_cleared_alarm_does_nothing(room: Room) -> None:
    assert room.acknowledge() == []  # nothing shown
    room.hold(SPO2, 88, 11)
    assert room.acknowledge("A9999-spo2_low") == []
    assert room.only("spo2_low").acknowledged_at is None


def test_the_alarm_log_keeps_every_event_in_order(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.hold(SPO2, 83, 6)
    room.hold(SPO2, 97, 2)
    room.acknowledge()
    actions = [e.action for e in room.engine.history]
    assert actions == [AlarmAction.RAISED, AlarmAction.ESCALATED, AlarmAction.LATCHED, AlarmAction.CLEARED]
    assert list(room.engine.history) == alarm_events(room.events)
    assert len({e.alarm.id for e in room.engine.history}) == 1


def test_the_in_memory_history_is_bounded(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.engine.history.clear()
    for _ in range(700):
        room.hold(SPO2, 88, 11)
        room.reading(SPO2, 97)
    assert len(room.engine.history) == 1000
    assert len(room.engine.alarms) == 0
