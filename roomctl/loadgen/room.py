"""One simulated room: a plausible dosing session, told as the daemon's own hub events, published by the real publisher.

Per second: heart rate and RR intervals from a chest strap, SpO2, pulse rate and perfusion index from an oximeter
(5 messages/s). Now and then: an SpO2 alarm raised (medium), sometimes escalated (high), then cleared; the oximeter
dropping out for a while (device state, a technical alarm, a gap in its vitals); a phase change; the room's Pi
losing its network (the broker sends its last will), then coming back and replaying what it recorded meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt

from roomctl.alarms.texts import limit_message, technical_message
from roomctl.clock import Clock
from roomctl.config.mqtt import MqttConfig
from roomctl.config.room import RoomSection
from roomctl.hub import Hub
from roomctl.loadgen.memory_outbox import MemoryOutbox
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
    RRIntervals,
    SessionEvent,
    SessionEventKind,
    SessionKind,
    SessionState,
)
from roomctl.mqtt.connection import default_client_factory
from roomctl.mqtt.publisher import MqttPublisher
from roomctl.mqtt.room_client import RoomClient

log = logging.getLogger(__name__)

STRAP, OXIMETER = "chest-strap", "oximeter"
PHASES = ("arrival", "onset", "peak", "plateau", "return")


@dataclass(frozen=True)
class Rates:
    """Mean seconds between occasional happenings, per room (exponentially distributed)."""

    alarm_every_s: float = 600.0
    dropout_every_s: float = 900.0
    offline_every_s: float = 1800.0
    phase_every_s: float = 1200.0


AlarmLog = Callable[[str, str], None]
"""Told (alarm id, priority) when an alarm is raised or escalated (the benchmark's start of latency)."""


class SimRoom:
    def __init__(
        self,
        site: str,
        room: str,
        mqtt_config: MqttConfig,
        clock: Clock,
        rng: random.Random,
        rates: Rates,
        *,
        on_alarm: AlarmLog | None = None,
    ) -> None:
        self.section = RoomSection(site=site, room=room, name=f"Room {room.rsplit('-', 1)[-1].lstrip('0')}")
        self.config = mqtt_config.model_copy(update={"client_id": f"loadgen-{site}-{room}"})
        self.clock = clock
        self.rng = rng
        self.rates = rates
        self.on_alarm = on_alarm
        self.hub = Hub()
        # seq grows across restarts, as a room's SQLite outbox makes it: start from the wall clock (10 per second,
        # more than a simulated room records), so a restarted load generator never repeats a seq a broker still holds
        self.outbox = MemoryOutbox(first_seq=int(clock.now().timestamp() * 10))
        self.session = SessionState(id=None)
        self.publisher: MqttPublisher | None = None
        self._acknowledged_before = 0
        self.clients: list[mqtt.Client] = []
        self.hr_base = rng.uniform(65, 95)
        self.spo2_base = rng.uniform(96, 98.5)
        self.alarm: Alarm | None = None
        self.alarm_step_at = math.inf
        self.oximeter_back_at = math.inf
        self.alarms_raised = 0
        self.offline_periods = 0
        self.next = {
            "alarm": self.later(rates.alarm_every_s),
            "dropout": self.later(rates.dropout_every_s),
            "offline": self.later(rates.offline_every_s),
            "phase": self.later(rates.phase_every_s),
        }

    def later(self, mean_s: float) -> float:
        return self.clock.monotonic() + self.rng.expovariate(1.0 / mean_s) if 0 < mean_s < math.inf else math.inf

    # --- what the room records ---------------------------------------------------------------------------------

    def record(self, event: HubEvent) -> None:
        """As the daemon does: the hub, then the outbox (storage) that the publisher reads."""
        self.hub.publish(event)
        self.outbox.add(event, self.session.id)

    def start_session(self, now: datetime) -> None:
        started = now - timedelta(seconds=self.rng.uniform(0, 3 * 3600))
        session_id = f"{self.section.room}-{int(started.timestamp())}"
        phase = self.rng.choice(PHASES[1:4])
        self.session = SessionState(
            id=session_id,
            session_kind=SessionKind.DOSING,
            phase=phase,
            started_at=started,
            dose_times=(started + timedelta(minutes=20),),
        )
        self.record(self.session)
        self.record(SessionEvent(id=f"{session_id}-dose", session=session_id, event=SessionEventKind.DOSE, ts=now))
        for device, profile in ((STRAP, "heart_rate"), (OXIMETER, "plx")):
            self.record(self._device(device, profile, LinkState.CONNECTED, now))

    def _device(self, device: str, profile: str, state: LinkState, now: datetime) -> DeviceState:
        return DeviceState(
            device=device,
            profile=profile,
            state=state,
            battery=round(self.rng.uniform(40, 100)),
            rssi=-self.rng.randint(45, 80),
            last_seen=now,
        )

    def tick(self, now: datetime) -> None:
        """One second of the room."""
        mono = self.clock.monotonic()
        t = now.timestamp()
        hr = self.hr_base + 8 * math.sin(t / 300) + self.rng.gauss(0, 1.5)
        rr = round(60 / hr, 3)
        self.record(Reading(quantity=Quantity.HEART_RATE, value=round(hr), unit="bpm", device=STRAP, ts=now))
        self.record(RRIntervals(device=STRAP, ts=now, intervals=(rr,)))
        if mono >= self.oximeter_back_at:
            self.oximeter_back_at = math.inf
            self.record(self._device(OXIMETER, "plx", LinkState.CONNECTED, now))
            self._technical(now, cleared=True)
        if self.oximeter_back_at == math.inf:
            spo2 = self.spo2_base + self.rng.gauss(0, 0.4)
            if self.alarm is not None and self.alarm.category is AlarmCategory.PHYSIOLOGICAL:
                spo2 = self.alarm.value or spo2
            for quantity, value, unit in (
                (Quantity.SPO2, round(min(100.0, spo2)), "%"),
                (Quantity.PULSE_RATE, round(hr + self.rng.gauss(0, 1)), "bpm"),
                (Quantity.PERFUSION_INDEX, round(self.rng.uniform(1.5, 4.0), 1), "%"),
            ):
                self.record(Reading(quantity=quantity, value=value, unit=unit, device=OXIMETER, ts=now))
        self._happenings(now, mono)

    def _happenings(self, now: datetime, mono: float) -> None:
        if mono >= self.alarm_step_at and self.alarm is not None:
            self._alarm_step(now)
        elif mono >= self.next["alarm"] and self.alarm is None:
            self.next["alarm"] = self.later(self.rates.alarm_every_s)
            self.raise_alarm(now)
        if mono >= self.next["dropout"] and self.oximeter_back_at == math.inf and self.alarm is None:
            self.next["dropout"] = self.later(self.rates.dropout_every_s)
            self.oximeter_back_at = mono + self.rng.uniform(10, 40)
            self.record(self._device(OXIMETER, "plx", LinkState.DISCONNECTED, now))
            self._technical(now, cleared=False)
        if mono >= self.next["phase"] and self.session.id is not None:
            self.next["phase"] = self.later(self.rates.phase_every_s)
            phase = PHASES[min(len(PHASES) - 1, PHASES.index(self.session.phase or "onset") + 1)]
            self.session = self.session.model_copy(update={"phase": phase})
            self.record(self.session)
            self.record(
                SessionEvent(
                    id=f"{self.session.id}-{phase}",
                    session=self.session.id,
                    event=SessionEventKind.PHASE_CHANGE,
                    ts=now,
                    data={"phase": phase},
                )
            )

    def raise_alarm(self, now: datetime, *, hold: bool = False) -> Alarm:
        """A medium SpO2 alarm; later escalated or cleared by itself, unless ``hold`` (tests step it themselves)."""
        self.alarms_raised += 1
        value = round(self.rng.uniform(86, 89))
        self.alarm = Alarm(
            id=f"{self.section.room}-a{self.alarms_raised}",
            condition="spo2_low",
            category=AlarmCategory.PHYSIOLOGICAL,
            priority=Priority.MEDIUM,
            message=limit_message(Quantity.SPO2, "low", value, 90),
            quantity=Quantity.SPO2,
            value=value,
            limit=90,
            raised_at=now,
        )
        self._alarm_event(AlarmAction.RAISED, now)
        self.alarm_step_at = math.inf if hold else self.clock.monotonic() + self.rng.uniform(5, 20)
        return self.alarm

    def step_alarm(self, now: datetime) -> None:
        """Move the current alarm on now: escalate a medium one to high (a third of them), otherwise clear it."""
        if self.alarm is not None:
            self._alarm_step(now)

    def _alarm_step(self, now: datetime) -> None:
        """Escalate a medium alarm to high (a third of them), otherwise clear it."""
        alarm = self.alarm
        assert alarm is not None
        if alarm.priority is Priority.MEDIUM and self.rng.random() < 1 / 3:
            value = round(self.rng.uniform(80, 84))
            self.alarm = alarm.model_copy(
                update={
                    "priority": Priority.HIGH,
                    "value": value,
                    "limit": 85,
                    "message": limit_message(Quantity.SPO2, "low", value, 85),
                }
            )
            self._alarm_event(AlarmAction.ESCALATED, now)
            self.alarm_step_at = self.clock.monotonic() + self.rng.uniform(5, 20)
            return
        self.alarm = alarm.model_copy(update={"active": False, "cleared_at": now})
        self._alarm_event(AlarmAction.CLEARED, now)
        self.alarm, self.alarm_step_at = None, math.inf

    def _alarm_event(self, action: AlarmAction, now: datetime) -> None:
        assert self.alarm is not None
        self.record(AlarmEvent(action=action, alarm=self.alarm, ts=now))
        if self.on_alarm is not None and action in (AlarmAction.RAISED, AlarmAction.ESCALATED):
            self.on_alarm(self.alarm.id, self.alarm.priority.value)

    def _technical(self, now: datetime, *, cleared: bool) -> None:
        alarm = Alarm(
            id=f"{self.section.room}-lost-{OXIMETER}",
            condition="device_disconnected",
            category=AlarmCategory.TECHNICAL,
            priority=Priority.LOW,
            message=technical_message("device_disconnected", label=OXIMETER),
            device=OXIMETER,
            raised_at=now,
            active=not cleared,
            cleared_at=now if cleared else None,
        )
        self.record(AlarmEvent(action=AlarmAction.CLEARED if cleared else AlarmAction.RAISED, alarm=alarm, ts=now))

    # --- the room's link to the broker -------------------------------------------------------------------------

    def _client(self, client_id: str) -> RoomClient:
        client = default_client_factory(client_id)
        self.clients.append(client)
        del self.clients[:-2]
        return client

    @property
    def acknowledged_total(self) -> int:
        """Records the broker acknowledged, over every connection (a record sent into a cut network is not)."""
        return self._acknowledged_before + (self.publisher.stats.acknowledged if self.publisher else 0)

    def start_publisher(self) -> asyncio.Task[None]:
        if self.publisher is not None:
            self._acknowledged_before += self.publisher.stats.acknowledged
        self.publisher = MqttPublisher(self.config, self.section, self.outbox, self.hub, client_factory=self._client)
        return asyncio.create_task(self.publisher.run(), name=f"publish-{self.section.room}")

    def cut_network(self) -> None:
        """The Pi's network goes: the broker notices the socket close with no DISCONNECT and sends the last will."""
        self.offline_periods += 1
        for client in self.clients:
            sock = client.socket()
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
