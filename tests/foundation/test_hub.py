"""The hub: ordering, inline processors, bounded fan-out with drops counted, latest-state consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from roomctl.hub import Hub
from roomctl.models import (
    AlarmAction,
    DeviceState,
    HubEvent,
    LinkState,
    Quantity,
    Reading,
)
from tests.builders import alarm_event, reading


async def test_subscribers_see_events_in_publish_order(hub: Hub) -> None:
    sub = hub.subscribe("order", maxsize=100)
    for i in range(50):
        hub.publish(reading(60 + i, at_s=i))
    got = await sub.get_batch(100)
    assert [e.value for e in got if isinstance(e, Reading)] == [60 + i for i in range(50)]
    assert sub.dropped == 0


async def test_processors_run_inline_and_their_events_follow_the_cause(hub: Hub) -> None:
    seen_by_processor: list[float | None] = []

    def high_hr(event: HubEvent) -> Iterable[HubEvent] | None:
        if isinstance(event, Reading):
            seen_by_processor.append(event.value)
            if event.value is not None and event.value > 120:
                return [alarm_event(AlarmAction.RAISED, alarm_id="A1")]
        return None

    hub.add_processor(high_hr)
    sub = hub.subscribe("all")
    hub.publish(reading(80, at_s=0))
    assert seen_by_processor == [80]  # inline: done before publish() returns
    hub.publish(reading(130, at_s=1))
    hub.publish(reading(90, at_s=2))
    kinds = [(e.kind, getattr(e, "value", None)) for e in await sub.get_batch()]
    assert kinds == [("reading", 80), ("reading", 130), ("alarm", None), ("reading", 90)]
    assert "A1" in hub.state.alarms


async def test_processors_run_in_the_order_added_and_a_failing_one_does_not_stop_the_rest(hub: Hub) -> None:
    calls: list[str] = []

    def broken(event: HubEvent) -> None:
        calls.append("broken")
        raise RuntimeError("bug")

    def second(event: HubEvent) -> None:
        calls.append("second")

    hub.add_processor(broken)
    hub.add_processor(second)
    hub.publish(reading(70))
    assert calls == ["broken", "second"]
    assert hub.state.latest[Quantity.HEART_RATE].value == 70


async def test_slow_consumer_is_bounded_drops_oldest_and_counts(hub: Hub) -> None:
    slow = hub.subscribe("slow", maxsize=10)
    fast = hub.subscribe("fast", maxsize=1000)
    for i in range(25):
        hub.publish(reading(i, at_s=i))
    assert len(slow) == 10
    assert slow.dropped == 15
    kept = await slow.get_batch(100)
    assert [e.value for e in kept if isinstance(e, Reading)] == list(range(15, 25))
    assert fast.dropped == 0
    assert len(await fast.get_batch(1000)) == 25


async def test_kind_filter_delivers_only_requested_kinds(hub: Hub) -> None:
    devices = hub.subscribe("devices", kinds=["device"])
    hub.publish(reading(70))
    hub.publish(DeviceState(device="strap", profile="heart_rate", state=LinkState.CONNECTED))
    event = await asyncio.wait_for(devices.get(), 5)
    assert isinstance(event, DeviceState)
    assert len(devices) == 0


async def test_subscribing_or_leaving_after_events_flowed_changes_who_gets_the_next(hub: Hub) -> None:
    """The hub routes each kind to its subscriptions once; a subscription made or closed later is routed too."""
    everything = hub.subscribe("everything")
    hub.publish(reading(70))
    readings = hub.subscribe("readings", kinds=["reading"])
    devices = hub.subscribe("devices", kinds=["device"])
    hub.publish(reading(71, at_s=1))
    hub.publish(DeviceState(device="strap", profile="heart_rate", state=LinkState.CONNECTED))
    assert [e.kind for e in await readings.get_batch()] == ["reading"]
    assert [e.kind for e in await devices.get_batch()] == ["device"]
    readings.close()
    hub.publish(reading(72, at_s=2))
    assert len(readings) == 0
    assert [e.kind for e in await everything.get_batch()] == ["reading", "reading", "device", "reading"]


async def test_latest_state_consumer_sees_only_the_newest_state(hub: Hub) -> None:
    version = hub.version
    waiter = asyncio.create_task(hub.wait_changed(version))
    await asyncio.sleep(0)
    assert not waiter.done()
    for i in range(100):
        hub.publish(reading(60 + i, at_s=i))
    new_version = await asyncio.wait_for(waiter, 5)
    assert new_version == version + 100
    assert hub.state.latest[Quantity.HEART_RATE].value == 159
    assert hub.state.readings[("strap", Quantity.HEART_RATE)].value == 159


async def test_missing_values_replace_old_ones_never_freeze_them(hub: Hub) -> None:
    hub.publish(reading(72))
    hub.publish(reading(None, at_s=1))
    assert hub.state.latest[Quantity.HEART_RATE].value is None


async def test_cleared_alarm_leaves_the_active_set(hub: Hub) -> None:
    hub.publish(alarm_event(AlarmAction.RAISED, alarm_id="A1"))
    assert list(hub.state.alarms) == ["A1"]
    hub.publish(alarm_event(AlarmAction.CLEARED, alarm_id="A1"))
    assert hub.state.alarms == {}


async def test_unsubscribed_consumer_gets_nothing_more(hub: Hub) -> None:
    sub = hub.subscribe("gone")
    sub.close()
    hub.publish(reading(70))
    assert len(sub) == 0
    assert sub not in hub.subscriptions


def test_subscription_needs_room(hub: Hub) -> None:
    with pytest.raises(ValueError, match="at least one"):
        hub.subscribe("none", maxsize=0)
