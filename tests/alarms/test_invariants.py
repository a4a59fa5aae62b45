"""Whatever happens, in whatever order: one alarm per condition, nothing shown that was cleared, the hub agrees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import (
    UNITS,
    AlarmAction,
    AlarmEvent,
    AudioPause,
    DeviceState,
    HubEvent,
    LinkState,
    Quality,
    Quantity,
    Reading,
    ServiceHealth,
)

from .conftest import OXIMETER, config

step = st.one_of(
    st.tuples(st.just("spo2"), st.one_of(st.none(), st.floats(70, 100))),
    st.tuples(st.just("hr"), st.one_of(st.none(), st.floats(30, 180))),
    st.tuples(st.just("link"), st.sampled_from(list(LinkState))),
    st.tuples(st.just("storage"), st.booleans()),
    st.tuples(st.just("ack"), st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 40)),
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(step, max_size=80), latching=st.booleans())
def test_alarm_state_stays_consistent(steps: list[tuple[str, object]], latching: bool) -> None:
    clock = FakeClock()
    hub = Hub()  # not the root fixture: hypothesis runs many examples in one test, each needs a fresh hub
    engine = AlarmEngine(config(latching=latching), [OXIMETER], clock=clock)
    hub.add_processor(engine)
    log: list[HubEvent] = []
    hub.add_processor(lambda e: log.append(e))

    def reading(quantity: Quantity, value: object) -> Reading:
        v = value if isinstance(value, float) else None
        quality = Quality.OK if v is not None else Quality.INVALID
        return Reading(quantity=quantity, value=v, unit=UNITS[quantity], device="oxi", ts=clock.now(), quality=quality)

    for what, arg in steps:
        if what == "spo2":
            hub.publish(reading(Quantity.SPO2, arg))
        elif what == "hr":
            hub.publish(reading(Quantity.HEART_RATE, arg))
        elif what == "link":
            assert isinstance(arg, LinkState)
            hub.publish(DeviceState(device="oxi", profile="plx", state=arg))
        elif what == "storage":
            hub.publish(ServiceHealth(service="storage", ok=bool(arg), ts=clock.now()))
        elif what == "ack":
            target = next(iter(engine.alarms), None) if arg else None
            for e in engine.acknowledge(target):
                hub.publish(e)
        else:
            assert isinstance(arg, int)
            for _ in range(arg):
                clock.advance(1)
                for e in engine.tick():
                    hub.publish(e)

        shown = list(engine.alarms.values())
        assert hub.state.alarms == engine.alarms
        keys = [(a.device, a.condition) for a in shown]
        assert len(keys) == len(set(keys)), "two alarms for one condition"
        for a in shown:
            assert a.cleared_at is None
            assert a.active != a.latched
            if a.latched:
                assert latching
                assert a.category == "physiological"
                assert a.acknowledged_at is None
        if engine.audio_paused_s() == 0:
            assert hub.state.audio_pause is None

    alarm_log = [e for e in log if isinstance(e, AlarmEvent)]
    assert alarm_log == list(engine.history)
    raised = [e.alarm.id for e in alarm_log if e.action is AlarmAction.RAISED]
    assert len(raised) == len(set(raised)), "alarm ids are unique per raise"
    cleared = {e.alarm.id for e in alarm_log if e.action is AlarmAction.CLEARED}
    assert cleared.isdisjoint(engine.alarms)
    assert all(p.until is None or p.remaining_s <= 120 for p in log if isinstance(p, AudioPause))
