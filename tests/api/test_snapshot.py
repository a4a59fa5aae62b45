"""The snapshot is the hub's live state and back: one mapping, used by the daemon (from_state) and the screen (load_into)."""

from __future__ import annotations

from roomctl.api.protocol import Snapshot
from roomctl.hub import Hub, LiveState
from roomctl.models import (
    AlarmAction,
    AudioPause,
    DeviceState,
    LightingState,
    LinkState,
    Quantity,
    ServiceHealth,
    SessionState,
)
from tests.builders import T0, alarm_event, reading


def test_a_screen_built_from_the_snapshot_holds_the_hubs_state(hub: Hub) -> None:
    for event in (
        SessionState(id="s1", started_at=T0),
        reading(70, at_s=1),
        reading(72, at_s=3, device="other"),
        reading(97, Quantity.SPO2, device="oxi", at_s=2),
        DeviceState(device="strap", profile="heart_rate", state=LinkState.CONNECTED),
        alarm_event(AlarmAction.RAISED, alarm_id="a1"),
        alarm_event(AlarmAction.RAISED, alarm_id="a2"),
        alarm_event(AlarmAction.CLEARED, alarm_id="a2"),
        AudioPause(until=T0, remaining_s=60.0),
        LightingState(scene="arrival", levels={"lamp": 0.5}),
        ServiceHealth(service="storage", ok=True, ts=T0),
    ):
        hub.publish(event)
    screen = LiveState()
    screen.apply(reading(50, device="gone"))  # what the screen had before: replaced, not merged
    Snapshot.from_state(hub.state, T0).load_into(screen)
    live = hub.state
    assert screen.readings == live.readings
    assert screen.latest == live.latest
    assert screen.latest[Quantity.HEART_RATE].device == "other"  # the newest per quantity
    assert (screen.devices, screen.alarms, screen.health) == (live.devices, live.alarms, live.health)
    assert list(screen.alarms) == ["a1"]
    assert (screen.session, screen.audio_pause, screen.lighting, screen.limits) == (
        live.session,
        live.audio_pause,
        live.lighting,
        live.limits,
    )


def test_an_empty_snapshot_clears_what_the_screen_showed() -> None:
    screen = LiveState()
    screen.apply(reading(70))
    screen.apply(AudioPause(until=T0, remaining_s=30.0))
    Snapshot(ts=T0).load_into(screen)
    assert screen.readings == {}
    assert screen.latest == {}
    assert screen.audio_pause is None
    assert screen.session == SessionState(id=None)
