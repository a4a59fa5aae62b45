"""The hub: one owner of live state, processors run inline, bounded fan-out to consumers.

Producers (wearable links, the session, lighting) call :meth:`Hub.publish` on the event loop's thread. For each event the
hub, in order:

1. updates its :class:`LiveState` (latest reading per device and quantity, device states, active alarms, ...);
2. runs every processor inline (the alarm engine is one), so alarms can never lag or be dropped; events a processor
   returns are published next, after the current one, keeping a single total order;
3. hands the event to every subscription. A subscription is a bounded queue: a slow consumer loses its *oldest* events
   and counts them (``dropped``), and never slows the producer;
4. wakes latest-state watchers, which read :attr:`Hub.state` when they get round to it (the TUI, lighting).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from roomctl.models import (
    Alarm,
    AlarmAction,
    AlarmEvent,
    AlarmLimits,
    AudioPause,
    DeviceState,
    HubEvent,
    LightingState,
    MusicState,
    Quantity,
    Reading,
    ServiceHealth,
    SessionState,
)
from roomctl.trends import Trends

log = logging.getLogger(__name__)

Processor = Callable[[HubEvent], Iterable[HubEvent] | None]


@dataclass
class LiveState:
    """Latest state of the room. Read it; only the hub writes it."""

    readings: dict[tuple[str, Quantity], Reading] = field(default_factory=dict)
    latest: dict[Quantity, Reading] = field(default_factory=dict)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    audio_pause: AudioPause | None = None
    session: SessionState = field(default_factory=lambda: SessionState(id=None))
    lighting: LightingState | None = None
    health: dict[str, ServiceHealth] = field(default_factory=dict)
    limits: AlarmLimits | None = None
    """The alarm limits in force, once the engine announced them (before: the configured ones)."""
    trends: Trends = field(default_factory=Trends)
    music: MusicState | None = None

    def apply(self, event: HubEvent) -> None:
        match event:
            case Reading():
                self.readings[(event.device, event.quantity)] = event
                self.latest[event.quantity] = event
                self.trends.add(event)
            case DeviceState():
                self.devices[event.device] = event
            case AlarmEvent():
                if event.action is AlarmAction.CLEARED:
                    self.alarms.pop(event.alarm.id, None)
                else:
                    self.alarms[event.alarm.id] = event.alarm
            case AudioPause():
                self.audio_pause = event if event.until is not None else None
            case SessionState():
                if event.id != self.session.id:
                    self.trends.new_session()
                self.session = event
            case LightingState():
                self.lighting = event
            case ServiceHealth():
                self.health[event.service] = event
            case AlarmLimits():
                self.limits = event
            case MusicState():
                self.music = event
            case _:
                pass


class Subscription:
    """A bounded queue of hub events for one consumer. When full, the oldest event is dropped and counted."""

    def __init__(self, hub: Hub, name: str, maxsize: int, kinds: frozenset[str] | None) -> None:
        if maxsize < 1:
            raise ValueError("a subscription needs room for at least one event")
        self.name = name
        self.maxsize = maxsize
        self.kinds = kinds
        self.dropped = 0
        self.delivered = 0
        self._hub = hub
        self._items: deque[HubEvent] = deque()
        self._ready = asyncio.Event()

    def takes(self, kind: str) -> bool:
        """Whether events of this ``kind`` are for this subscription (the hub routes each kind once by it)."""
        return self.kinds is None or kind in self.kinds

    def put(self, event: HubEvent) -> None:
        """Queue an event (of a kind it :meth:`takes`: the hub's routing checks that)."""
        if len(self._items) >= self.maxsize:
            self._items.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("consumer %s is slow: %d events dropped so far", self.name, self.dropped)
        self._items.append(event)
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self) -> HubEvent:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        self.delivered += 1
        return self._items.popleft()

    async def get_batch(self, max_items: int = 500) -> list[HubEvent]:
        """Wait for at least one event, then take up to ``max_items`` at once: consumers work in batches."""
        await self.wait()
        return self.take(max_items)

    async def wait(self) -> None:
        """Return once an event is queued (at once if one is), taking nothing."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()

    def take(self, max_items: int | None = None) -> list[HubEvent]:
        """Take what is queued now (at most ``max_items``), oldest first; may be empty."""
        items = self._items
        if max_items is None or max_items >= len(items):
            batch = list(items)
            items.clear()
        else:
            batch = [items.popleft() for _ in range(max_items)]
        self.delivered += len(batch)
        return batch

    def close(self) -> None:
        self._hub.unsubscribe(self)


class Hub:
    def __init__(self) -> None:
        self.state = LiveState()
        self.version = 0
        self.published = 0
        self._processors: list[Processor] = []
        self._subscriptions: list[Subscription] = []
        self._routes: dict[str, tuple[Subscription, ...]] = {}  # event kind -> the subscriptions taking it
        self._pending: deque[HubEvent] = deque()
        self._dispatching = False
        self._changed = asyncio.Event()
        self.on_processor_error: Callable[[Processor, Exception], None] | None = None
        """Told when a processor raises (the daemon turns an alarm engine failure into a technical alarm)."""

    def add_processor(self, processor: Processor) -> None:
        """Run ``processor`` inline for every event, in the order processors were added."""
        self._processors.append(processor)

    def subscribe(self, name: str, maxsize: int = 1000, kinds: Iterable[str] | None = None) -> Subscription:
        """A bounded queue of events (optionally only the given ``kind`` values) for one consumer."""
        sub = Subscription(self, name, maxsize, frozenset(kinds) if kinds is not None else None)
        self._subscriptions.append(sub)
        self._routes.clear()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)
            self._routes.clear()

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    def publish(self, event: HubEvent) -> None:
        """Accept one event. Must be called on the event loop's thread (hop there with ``call_soon_threadsafe``)."""
        self._pending.append(event)
        if self._dispatching:
            return  # published by a processor: handled after the current event, keeping one total order
        self._dispatching = True
        try:
            while self._pending:
                self._dispatch(self._pending.popleft())
        finally:
            self._dispatching = False
        self._changed.set()

    def _dispatch(self, event: HubEvent) -> None:
        self.state.apply(event)
        self.version += 1
        self.published += 1
        for processor in self._processors:
            try:
                produced = processor(event)
            except Exception as e:
                log.exception("processor %r failed on a %s event", processor, event.kind)
                if self.on_processor_error is not None:
                    self.on_processor_error(processor, e)
                continue
            if produced:
                self._pending.extend(produced)
        kind = event.kind
        route = self._routes.get(kind)
        if route is None:
            route = self._routes[kind] = tuple(s for s in self._subscriptions if s.takes(kind))
        for sub in route:
            sub.put(event)

    async def wait_changed(self, since_version: int) -> int:
        """Wait until the state changed after ``since_version``; return the new version. For latest-state consumers."""
        while self.version <= since_version:
            self._changed.clear()
            await self._changed.wait()
        return self.version
