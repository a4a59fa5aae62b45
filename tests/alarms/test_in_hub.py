"""The engine as a processor of a real Hub: alarm events follow their cause, live state shows every alarm."""

from __future__ import annotations

from roomctl.commands import Acknowledge
from roomctl.models import AlarmAction, AlarmEvent, AudioPause, LinkState, Quantity, Reading

from .conftest import OXIMETER, MakeRoom, config

SPO2 = Quantity.SPO2


async def test_alarms_flow_through_the_hub_into_live_state_and_subscribers(make_room: MakeRoom) -> None:
    room = make_room(config(), [OXIMETER])
    hub, engine = room.hub, room.engine
    sub = hub.subscribe("record", maxsize=10_000)
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 87, 11)  # a reading a second, the engine ticked after each
    events = await sub.get_batch(10_000)
    alarms = [e for e in events if isinstance(e, AlarmEvent)]
    assert [(e.action, e.alarm.condition) for e in alarms] == [(AlarmAction.RAISED, "spo2_low")]
    alarm = alarms[0].alarm
    assert hub.state.alarms == {alarm.id: alarm}
    # The reading that completed the delay comes first, its alarm right after it.
    cause = events.index(alarms[0]) - 1
    assert isinstance(events[cause], Reading)

    result = engine.acknowledge_command(Acknowledge(), hub.publish)
    assert result.ok
    assert hub.state.alarms[alarm.id].acknowledged_at is not None  # silenced, still shown
    assert isinstance(hub.state.audio_pause, AudioPause)

    # A storage failure (high) breaks through the pause; the hub forgets the pause, keeps both alarms.
    room.health("storage", ok=False, detail="disk full")
    assert hub.state.audio_pause is None
    assert {a.condition for a in hub.state.alarms.values()} == {"spo2_low", "storage_failure"}
    assert hub.state.alarms == engine.alarms


async def test_a_wearable_lost_mid_alarm_leaves_both_alarms_in_live_state(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False), [OXIMETER])
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 86, 11)
    room.reading(SPO2, None)
    room.device(LinkState.DISCONNECTED)
    room.wait(40)
    shown = {a.condition: a for a in room.hub.state.alarms.values()}
    assert set(shown) == {"spo2_low", "data_stale", "device_disconnected"}
    assert shown["spo2_low"].active
    assert room.hub.state.alarms == room.engine.alarms
