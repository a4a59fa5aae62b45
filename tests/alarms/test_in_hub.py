"""The engine as a processor of a real Hub: alarm events follow their cause, live state shows every alarm."""

from __future__ import annotations

from roomctl.alarms import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.commands import Acknowledge
from roomctl.hub import Hub
from roomctl.models import (
    UNITS,
    AlarmAction,
    AlarmEvent,
    AudioPause,
    DeviceState,
    LinkState,
    Quantity,
    Reading,
    ServiceHealth,
)

from .conftest import OXIMETER, config


def spo2(clock: FakeClock, value: float | None) -> Reading:
    return Reading(quantity=Quantity.SPO2, value=value, unit=UNITS[Quantity.SPO2], device="oxi", ts=clock.now())


def oximeter(state: LinkState) -> DeviceState:
    return DeviceState(device="oxi", profile="plx", state=state)


async def test_alarms_flow_through_the_hub_into_live_state_and_subscribers() -> None:
    clock = FakeClock()
    hub = Hub()
    engine = AlarmEngine(config(), [OXIMETER], clock=clock)
    hub.add_processor(engine)
    sub = hub.subscribe("record", maxsize=10_000)
    hub.publish(oximeter(LinkState.CONNECTED))
    for _ in range(11):
        hub.publish(spo2(clock, 87))
        clock.advance(1)
        for event in engine.tick():
            hub.publish(event)
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
    hub.publish(ServiceHealth(service="storage", ok=False, detail="disk full", ts=clock.now()))
    assert hub.state.audio_pause is None
    assert {a.condition for a in hub.state.alarms.values()} == {"spo2_low", "storage_failure"}
    assert hub.state.alarms == engine.alarms


async def test_a_wearable_lost_mid_alarm_leaves_both_alarms_in_live_state() -> None:
    clock = FakeClock()
    hub = Hub()
    engine = AlarmEngine(config(latching=False), [OXIMETER], clock=clock)
    hub.add_processor(engine)
    hub.publish(oximeter(LinkState.CONNECTED))
    for _ in range(11):
        hub.publish(spo2(clock, 86))
        clock.advance(1)
        for event in engine.tick():
            hub.publish(event)
    hub.publish(spo2(clock, None))
    hub.publish(oximeter(LinkState.DISCONNECTED))
    for _ in range(40):
        clock.advance(1)
        for event in engine.tick():
            hub.publish(event)
    shown = {a.condition: a for a in hub.state.alarms.values()}
    assert set(shown) == {"spo2_low", "data_stale", "device_disconnected"}
    assert shown["spo2_low"].active
    assert hub.state.alarms == engine.alarms
