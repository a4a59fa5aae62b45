"""One hub event of every kind the outbox carries, for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roomctl.models import (
    AlarmAction,
    AlarmEvent,
    DeviceState,
    HubEvent,
    LightingState,
    LinkState,
    MusicPlay,
    MusicState,
    Quality,
    Quantity,
    Reading,
    RRIntervals,
    SessionEvent,
    SessionEventKind,
    SessionKind,
    SessionState,
)
from tests import builders


def reading(i: int, quantity: Quantity = Quantity.HEART_RATE, value: float | None = 70.0) -> Reading:
    """A reading taken now (+ ``i`` ms, so a series keeps its order): live, with its whole life left (a publisher
    does not publish a vital past its life, and T0 is long past)."""
    return builders.reading(value, quantity, ts=datetime.now(UTC) + timedelta(milliseconds=i))


def alarm(action: AlarmAction, ts: datetime) -> AlarmEvent:
    """The feed tests' SpO2 alarm, with every detail a payload carries."""
    return builders.alarm_event(action, ts=ts, quantity=Quantity.SPO2, device="oxi", value=88.0, limit=90.0)


def one_of_each(now: datetime) -> list[HubEvent]:
    """Readings (one missing value), RR, a device, an alarm raised and cleared, session, event, lighting, music."""
    return [
        SessionState(id="s1", session_kind=SessionKind.DOSING, phase="onset", started_at=now, dose_times=(now,)),
        DeviceState(
            device="oxi", profile="plx_continuous", state=LinkState.CONNECTED, battery=80, rssi=-60, last_seen=now
        ),
        Reading(quantity=Quantity.SPO2, value=97.0, unit="%", device="oxi", ts=now),
        Reading(quantity=Quantity.PULSE_RATE, value=None, unit="bpm", device="oxi", ts=now, quality=Quality.INVALID),
        RRIntervals(device="strap", ts=now, intervals=(0.8, 0.81)),
        alarm(AlarmAction.RAISED, now),
        SessionEvent(
            id="e1", session="s1", event=SessionEventKind.DOSE, ts=now, text="120 mg", data={"amount_mg": 120}
        ),
        LightingState(scene="calm", levels={"ceiling": 0.3, "lamp": 0.5}, reason="phase"),
        alarm(AlarmAction.CLEARED, now + timedelta(seconds=1)),
        DeviceState(device="oxi", profile="plx_continuous", state=LinkState.STALE, last_seen=now),
        MusicState(state=MusicPlay.PLAY, playlist="Onset", title="Slow Water", artist="Ensemble", volume=0.4, ts=now),
    ]
