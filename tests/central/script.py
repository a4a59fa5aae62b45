"""Feed messages for the station's tests, made by the project's own encoder (the bytes a room's publisher sends)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from roomctl.central.state import Facility
from roomctl.central.subscriber import LinkStatus, OnChange
from roomctl.clock import FakeClock
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.models import (
    Alarm,
    AlarmAction,
    AlarmCategory,
    AlarmEvent,
    DeviceState,
    HubEvent,
    LinkState,
    Priority,
    Quantity,
    Reading,
    SessionKind,
    SessionState,
    iso_ms,
)
from roomctl.mqtt import payloads as p
from roomctl.mqtt.active_alarms import RetainedAlarmList
from roomctl.mqtt.feed import Topics, encode
from roomctl.storage.outbox import OutboxRecord

EXPIRY_S = 30.0
Message = tuple[str, bytes, float | None]


@dataclass
class RoomScript:
    """One room's publisher, as far as the station can tell: every message through :func:`roomctl.mqtt.feed.encode`."""

    site: str
    room: str
    name: str | None = None
    seq: int = 0
    session_id: str | None = None
    active: RetainedAlarmList = field(init=False)

    def __post_init__(self) -> None:
        self.topics = Topics(MqttConfig(enabled=True), RoomSection(site=self.site, room=self.room, name=self.name))
        self.active = RetainedAlarmList((), 0)

    def record(self, event: HubEvent) -> list[Message]:
        self.seq += 1
        message, decoded = encode(
            self.topics, OutboxRecord(self.seq, event.kind, self.session_id, event.model_dump_json())
        )
        out: list[Message] = [(message.topic, message.payload, EXPIRY_S if message.expires else None)]
        if event.kind == "alarm" and self.active.apply(decoded, self.seq):
            out.append((self.topics.alarms_active, self.active.payload(self.seq, decoded["ts"]), None))
        return out

    def status(self, text: str) -> list[Message]:
        return [(self.topics.status, text.encode(), None)]

    def info(self, started: datetime) -> list[Message]:
        info = p.Info(
            version="test", site=self.site, room=self.room, name=self.name, started_at=started, vitals_expiry_s=30,
            commands_enabled=False, ha_discovery=False, tls=False, config=None,
        )  # fmt: skip
        return [(self.topics.info, info.model_dump_json().encode(), None)]

    def online(self, now: datetime, *, dosed_min: float = 75.0) -> list[Message]:
        """Birth, info, a dosing session, two connected wearables, no alarms."""
        self.session_id = f"{self.room}-s1"
        started = now - timedelta(minutes=dosed_min + 20)
        out = self.status("online") + self.info(now)
        out += self.record(
            SessionState(
                id=self.session_id,
                session_kind=SessionKind.DOSING,
                phase="peak",
                started_at=started,
                dose_times=(now - timedelta(minutes=dosed_min),),
            )
        )
        out += self.record(DeviceState(device="chest-strap", profile="heart_rate", state=LinkState.CONNECTED))
        out += self.record(DeviceState(device="oximeter", profile="plx", state=LinkState.CONNECTED, battery=80))
        return out

    def vitals(self, now: datetime, hr: float | None = 82, spo2: float | None = 97) -> list[Message]:
        out: list[Message] = []
        for quantity, value, unit, device in (
            (Quantity.HEART_RATE, hr, "bpm", "chest-strap"),
            (Quantity.SPO2, spo2, "%", "oximeter"),
        ):
            out += self.record(Reading(quantity=quantity, value=value, unit=unit, device=device, ts=now))
        return out

    def alarm(
        self, action: AlarmAction, now: datetime, *, priority: Priority = Priority.MEDIUM, alarm_id: str = "a1",
        category: AlarmCategory = AlarmCategory.PHYSIOLOGICAL, message: str = "SpO2 low: 88 % (limit 90)",
        acknowledged: bool = False,
    ) -> list[Message]:  # fmt: skip
        alarm = Alarm(
            id=f"{self.room}-{alarm_id}",
            condition="spo2_low" if category is AlarmCategory.PHYSIOLOGICAL else "device_disconnected",
            category=category,
            priority=priority,
            message=message,
            raised_at=now,
            active=action is not AlarmAction.CLEARED,
            acknowledged_at=now if acknowledged else None,
            cleared_at=now if action is AlarmAction.CLEARED else None,
        )
        return self.record(AlarmEvent(action=action, alarm=alarm, ts=now))

    def device(self, name: str, state: LinkState) -> list[Message]:
        profile = "plx" if name == "oximeter" else "heart_rate"
        return self.record(DeviceState(device=name, profile=profile, state=state))


class ScriptedFeed:
    """The station's feed in tests: messages are handed over by the test (no broker), on the app's own loop."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.status = LinkStatus(connected=True, detail="scripted")
        self.facility: Facility | None = None
        self._on_change: OnChange | None = None
        self.ready = asyncio.Event()

    async def run(self, facility: Facility, on_change: OnChange) -> None:
        self.facility, self._on_change = facility, on_change
        self.ready.set()
        await asyncio.Event().wait()

    def send(self, messages: list[Message]) -> None:
        assert self.facility is not None, "the app has not started its feed"
        assert self._on_change is not None
        for topic, payload, expiry in messages:
            room = self.facility.apply(
                topic, payload, now=self.clock.now(), mono=self.clock.monotonic(), expiry_s=expiry
            )
            if room is not None:
                self._on_change(room.key, "/vitals/" not in topic)


def stamp(ts: datetime) -> str:
    return iso_ms(ts)
