"""A fake-clock harness around the alarm engine: feed events, move time, look at what came out."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from roomctl.alarms.baseline import BaselineRecord
from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.config.alarms import AlarmsConfig, LimitRule
from roomctl.config.wearables import WearableConfig
from roomctl.hub import Hub
from roomctl.models import (
    UNITS,
    Alarm,
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
    SessionEvent,
    SessionEventKind,
    SessionState,
    TechnicalCondition,
)

OXIMETER = WearableConfig(
    id="oxi", profile="plx", address="AA:BB:CC:DD:EE:01", label="Finger oximeter", stale_after_s=10, lost_after_s=30
)
STRAP = WearableConfig(id="strap", profile="heart_rate", address="AA:BB:CC:DD:EE:02", stale_after_s=10, lost_after_s=30)
CUFF = WearableConfig(id="cuff", profile="blood_pressure", address="AA:BB:CC:DD:EE:03", lost_after_s=30)


def config(*rules: LimitRule, latching: bool = True, **kw: object) -> AlarmsConfig:
    """[alarms] with the given rules (the adult defaults when none are given)."""
    data: dict[str, object] = {"latching": latching, **kw}
    if rules:
        data["rules"] = list(rules)
    return AlarmsConfig.model_validate(data)


class Room:
    """The engine inside a real :class:`Hub`, with a FakeClock; every event it causes is kept in :attr:`events`.

    Tests get theirs from :func:`make_room` (on the root ``hub`` and ``clock`` fixtures); a second process in the same
    test (a restart, a room to compare with) is ``Room(Hub(), FakeClock(), ...)``."""

    def __init__(
        self, hub: Hub, clock: FakeClock, cfg: AlarmsConfig | None = None, wearables: Iterable[WearableConfig] = ()
    ) -> None:
        self.clock = clock
        self.engine = AlarmEngine(cfg or config(), list(wearables), clock=self.clock, id_prefix="A")
        self.hub = hub
        self.hub.add_processor(self.engine)
        self._seen: list[HubEvent] = []
        self.hub.add_processor(self._seen.append)
        self.events: list[HubEvent] = []

    def publish(self, events: Iterable[HubEvent], *, caused_only: bool = False) -> list[HubEvent]:
        """Publish into the hub; what went through it in the hub's order (``caused_only``: without the inputs)."""
        out: list[HubEvent] = []
        for event in events:
            start = len(self._seen)
            self.hub.publish(event)
            out += self._seen[start + caused_only :]
        return out

    def feed(self, event: HubEvent) -> list[HubEvent]:
        out = self.publish([event], caused_only=True)
        self.events += out
        return out

    def reading(
        self, quantity: Quantity, value: float | None, device: str = "oxi", quality: Quality = Quality.OK
    ) -> list[HubEvent]:
        r = Reading(
            quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=self.clock.now(), quality=quality
        )
        return self.feed(r)

    def wait(self, seconds: float, step: float = 1.0) -> list[HubEvent]:
        """Move time in steps, calling tick() after each, as the daemon does."""
        out: list[HubEvent] = []
        for _ in range(round(seconds / step)):
            self.clock.advance(step)
            out += self.publish(self.engine.tick())
        self.events += out
        return out

    def hold(self, quantity: Quantity, value: float | None, seconds: float, device: str = "oxi") -> list[HubEvent]:
        """One reading a second for ``seconds``, ticking in between; the clock ends ``seconds`` later."""
        out: list[HubEvent] = []
        for _ in range(round(seconds)):
            out += self.reading(quantity, value, device)
            out += self.wait(1)
        return out

    def device(
        self,
        state: LinkState,
        device: str = "oxi",
        conditions: tuple[TechnicalCondition, ...] = (),
        battery: float | None = None,
        profile: str = "plx",
    ) -> list[HubEvent]:
        return self.feed(
            DeviceState(device=device, profile=profile, state=state, conditions=conditions, battery=battery)
        )

    def health(self, service: str, ok: bool, detail: str = "") -> list[HubEvent]:
        return self.feed(ServiceHealth(service=service, ok=ok, detail=detail, ts=self.clock.now()))

    def baseline(
        self, quantity: Quantity, value: float, session: str = "s1", source: str = "confirmed"
    ) -> list[HubEvent]:
        """The session manager's record of a baseline the team confirmed (or entered) for the patient, on the hub."""
        record = BaselineRecord.model_validate(
            {"quantity": quantity, "value": value, "device": None, "source": source, "taken_at": self.clock.now()}
        )
        data = record.model_dump(mode="json")
        event = SessionEvent(
            id=f"b-{quantity.value}-{value:g}",
            session=session,
            event=SessionEventKind.BASELINE,
            ts=self.clock.now(),
            data=data,
        )
        return self.feed(event)

    def session(self, session_id: str | None) -> list[HubEvent]:
        return self.feed(SessionState(id=session_id, started_at=self.clock.now() if session_id else None))

    def acknowledge(self, alarm_id: str | None = None) -> list[HubEvent]:
        out = self.publish(self.engine.acknowledge(alarm_id))
        self.events += out
        return out

    def only(self, condition: str) -> Alarm:
        """The one alarm shown for ``condition``."""
        found = [a for a in self.engine.alarms.values() if a.condition == condition]
        assert len(found) == 1, f"expected one {condition} alarm, found {self.engine.alarms}"
        return found[0]

    def conditions(self) -> set[str]:
        return {a.condition for a in self.engine.alarms.values()}


def alarm_events(events: Iterable[HubEvent], action: AlarmAction | None = None) -> list[AlarmEvent]:
    return [e for e in events if isinstance(e, AlarmEvent) and (action is None or e.action is action)]


def pauses(events: Iterable[HubEvent]) -> list[AudioPause]:
    return [e for e in events if isinstance(e, AudioPause)]


MakeRoom = Callable[..., Room]


@pytest.fixture
def make_room(hub: Hub, clock: FakeClock) -> MakeRoom:
    """``make_room(cfg=None, wearables=())``: the test's room, on the root ``hub`` and ``clock`` fixtures."""
    made: list[Room] = []

    def make(cfg: AlarmsConfig | None = None, wearables: Iterable[WearableConfig] = ()) -> Room:
        assert not made, "one room per hub: a second process is Room(Hub(), FakeClock(), ...)"
        made.append(Room(hub, clock, cfg, wearables))
        return made[0]

    return make


@pytest.fixture
def room(make_room: MakeRoom) -> Room:
    """Adult default limits, latching on, no wearables configured."""
    return make_room()
