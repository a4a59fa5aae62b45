"""Blood pressure entered by hand, through the real session manager, hub, alarm engine and record: a high value raises an
alarm, the next value inside the limit ends it, and ending the session leaves no condition active from its entries."""

from __future__ import annotations

from roomctl.alarms.engine import AlarmEngine
from roomctl.commands import EndSession, EnterBloodPressure, StartSession
from roomctl.models import AlarmAction, AlarmEvent

from .conftest import Room


def engine_on(room: Room) -> AlarmEngine:
    engine = AlarmEngine(room.config.alarms, room.config.wearables, clock=room.clock, id_prefix="A")
    room.hub.add_processor(engine)
    return engine


def actions(room: Room, since: int) -> list[tuple[AlarmAction, str]]:
    return [(e.action, e.alarm.condition) for e in room.seen[since:] if isinstance(e, AlarmEvent)]


async def test_entered_blood_pressure_alarms_and_the_session_end_leaves_nothing_active(room: Room) -> None:
    engine = engine_on(room)
    m = room.manager
    assert (await m.handle(StartSession())).ok
    sid = m.state.id or ""

    mark = len(room.seen)
    assert (await m.handle(EnterBloodPressure(systolic=172, diastolic=96, pulse_rate=None))).ok
    assert actions(room, mark) == [(AlarmAction.RAISED, "systolic_high")]
    (alarm,) = room.hub.state.alarms.values()
    assert alarm.message == "Systolic BP high: 172 mmHg (limit 160)"
    for event in engine.acknowledge():
        room.hub.publish(event)

    # Half an hour with nothing new: the acknowledged alarm stays shown and silent (no reminder every two minutes).
    mark = len(room.seen)
    for _ in range(30 * 6):
        room.clock.advance(10)
        for event in engine.tick():
            room.hub.publish(event)
        await m.tick()
    assert actions(room, mark) == []
    assert room.hub.state.alarms[alarm.id].active

    mark = len(room.seen)
    assert (await m.handle(EnterBloodPressure(systolic=148, diastolic=90, pulse_rate=None))).ok
    assert actions(room, mark) == [(AlarmAction.CLEARED, "systolic_high")]
    assert room.hub.state.alarms == {}

    # High again, not acknowledged when the session ends: it latches for acknowledgement, it is not active.
    assert (await m.handle(EnterBloodPressure(systolic=175, diastolic=98, pulse_rate=None))).ok
    mark = len(room.seen)
    assert (await m.handle(EndSession())).ok
    assert actions(room, mark) == [(AlarmAction.LATCHED, "systolic_high")]
    assert [(a.active, a.latched) for a in room.hub.state.alarms.values()] == [(False, True)]

    # The record has the whole story, in order.
    stored = await room.store.call(lambda db: [AlarmEvent.model_validate_json(p) for *_x, p in db.alarm_events(sid)])
    assert [e.action for e in stored] == [
        AlarmAction.RAISED,
        AlarmAction.ACKNOWLEDGED,
        AlarmAction.CLEARED,
        AlarmAction.RAISED,
        AlarmAction.LATCHED,
    ]
