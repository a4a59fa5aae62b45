"""What the nursing station knows about every room, built only from the feed. No Textual here.

A room is known from its first message. Its ``status`` (birth, clean stop, or the broker's last will) says whether it is
online; vitals are shown only while fresh (MQTT expiry not passed, ``ts`` not older than ``vitals_stale_s``, the
wearable connected, the value valid); the alarm list follows ``alarms`` events and the retained ``alarms/active``.

No room is trusted (docs/central.md, *The station trusts no room*): every string is made safe where it is parsed
(:mod:`roomctl.central.parse`); rooms not in ``[station] rooms`` sort after every expected room and are counted apart;
an alarm raised further in the future than the clock skew allows is suspect, sorted as the oldest; and what one station
keeps is bounded (``[limits]``): beyond a bound, messages are dropped unread and counted, and the screen says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from roomctl.central.config import LimitsSection
from roomctl.central.parse import ID, Address, FeedError, parse, split_topic
from roomctl.models import PRIORITY_RANK, AlarmAction, AlarmCategory, LinkState, Priority, Quality, Quantity
from roomctl.mqtt import payloads as p
from roomctl.quantities import STATION_VITALS
from roomctl.trends import Trend


class Urgency(IntEnum):
    """Tile order: physiological alarms by priority, then technical trouble (room offline first), then calm."""

    HIGH = 0
    MEDIUM = 1
    LOW = 2
    OFFLINE = 3
    TECHNICAL = 4
    CALM = 5


ALARMING = (Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW)
_BY_PRIORITY = {Priority.HIGH: Urgency.HIGH, Priority.MEDIUM: Urgency.MEDIUM, Priority.LOW: Urgency.LOW}


@dataclass(frozen=True, slots=True)
class Sample:
    value: float | None
    quality: Quality
    ts: datetime
    device: str
    expires_at: float | None  # monotonic; None when the message carried no expiry
    arrived: float  # monotonic: a reading is never shown longer than stale_s after it came, whatever its ts says


@dataclass(frozen=True, slots=True)
class VitalText:
    text: str  # the number, or "--"
    why: str  # "" when fine, otherwise why there is no number


SortKey = tuple[bool, int, float, tuple[str | int, ...]]
Order = tuple[Urgency, SortKey, p.AlarmBody | None]


@dataclass
class RoomState:
    site: str
    room: str
    name: str | None = None
    status: str | None = None  # "online" / "offline"; None until the retained status arrives
    status_since: datetime | None = None
    vitals: dict[Quantity, Sample] = field(default_factory=dict)
    devices: dict[str, p.DevicePayload] = field(default_factory=dict)
    alarms: dict[str, p.AlarmBody] = field(default_factory=dict)
    alarm_seq: int = 0  # the newest alarm record applied (events and the active list), for order and de-duplication
    session: p.SessionPayload | None = None
    started_at: datetime | None = None  # the room daemon's run, from info
    bridge_down: bool = False  # a per-Pi mosquitto's bridge notification said "0" (config/brokers/room-mosquitto.conf)
    recent: dict[Quantity, Trend] = field(default_factory=dict)
    whole: dict[Quantity, Trend] = field(default_factory=dict)
    version: int = 0  # grows on every change that the tile shows
    order_version: int = 0  # grows on every change of what the order depends on: alarms, status, name
    expected: bool = True  # in [station] rooms (or no list was given)
    suspect: set[str] = field(default_factory=set)  # alarms raised further in the future than the clock skew allows
    skew_s: float = 120.0
    max_alarms: int = 64
    drops: Counter[str] = field(default_factory=Counter)  # the facility's, shared
    _order_cache: tuple[int, Order] | None = None

    def __post_init__(self) -> None:
        for vital in STATION_VITALS:
            self.recent[vital.quantity] = Trend(10.0, span_s=15 * 60)
            self.whole[vital.quantity] = Trend(60.0, max_points=240)

    @property
    def key(self) -> tuple[str, str]:
        return (self.site, self.room)

    @property
    def label(self) -> str:
        return self.name or self.room

    @property
    def offline(self) -> bool:
        """The room said so (clean stop), the broker did (its last will), or its Pi's bridge went down."""
        return self.status == "offline" or self.bridge_down

    # --- reading the feed --------------------------------------------------------------------------------------

    def apply(self, rest: str, message: Any, *, now: datetime, mono: float, expiry_s: float | None) -> bool:
        """Apply one parsed message; False if it changed nothing the station shows."""
        match message:
            case str():
                if message == self.status:
                    return False
                self.status, self.status_since = message, now
            case p.Info():
                if message.started_at != self.started_at:
                    # a new run of the room's daemon: its retained alarm list is the truth again, whatever seq it
                    # carries (a room rebuilt from scratch starts its seq anew)
                    self.started_at, self.alarm_seq = message.started_at, 0
                elif message.name == self.name:
                    return False
                self.name = message.name
            case p.Vital():
                quantity = Quantity(rest.removeprefix("vitals/"))
                expires = mono + expiry_s if expiry_s is not None else None
                self.vitals[quantity] = Sample(
                    message.value, message.quality, message.ts, message.device, expires, mono
                )
                if quantity in self.recent and message.value is not None and message.quality is not Quality.INVALID:
                    t = message.ts.timestamp()
                    self.recent[quantity].add(t, message.value)
                    self.whole[quantity].add(t, message.value)
            case p.DevicePayload():
                self.devices[message.device] = message
            case p.AlarmEventPayload():
                if message.seq <= self.alarm_seq:
                    return False  # a duplicate, or older than the list already applied
                self.alarm_seq = message.seq
                self.suspect.discard(message.id)
                if message.action is AlarmAction.CLEARED:
                    self.alarms.pop(message.id, None)
                else:
                    self.alarms[message.id] = message
                    self._check_time(message, now)
                    self._bound_alarms()
            case p.ActiveAlarms():
                if message.seq is not None and message.seq < self.alarm_seq:
                    return False
                self.alarm_seq = max(self.alarm_seq, message.seq or 0)
                self.alarms = {a.id: a for a in message.alarms}
                self.suspect.clear()
                for alarm in message.alarms:
                    self._check_time(alarm, now)
                self._bound_alarms()
            case p.SessionPayload():
                self.session = message
                self.version += 1
                return True
            case _:
                return False
        self.version += 1
        if not isinstance(message, p.Vital | p.DevicePayload):
            self.order_version += 1
        return True

    def _check_time(self, alarm: p.AlarmBody, now: datetime) -> None:
        if (alarm.raised_at - now).total_seconds() > self.skew_s:
            self.suspect.add(alarm.id)

    def _bound_alarms(self) -> None:
        """At most ``max_alarms``: the least urgent go (and are counted)."""
        if len(self.alarms) > self.max_alarms:
            kept = self.alarms_in_order()[: self.max_alarms]
            self.drops[f"alarms beyond limits.alarms_per_room ({self.max_alarms})"] += len(self.alarms) - len(kept)
            self.alarms = {a.id: a for a in kept}
            self.suspect &= self.alarms.keys()

    # --- how it reads ------------------------------------------------------------------------------------------

    def vital(self, quantity: Quantity, decimals: int, *, now: datetime, mono: float, stale_s: float) -> VitalText:
        """The number to show, or "--" and why: never a frozen old number."""
        if self.offline:
            return VitalText("--", "room offline")
        sample = self.vitals.get(quantity)
        if sample is None:
            return VitalText("--", "no data")
        if sample.expires_at is not None and mono > sample.expires_at:
            return VitalText("--", "no data (expired)")
        age = (now - sample.ts).total_seconds()
        if age > stale_s or mono - sample.arrived > stale_s:
            return VitalText("--", "no data (old)")
        if -age > self.skew_s:  # "measured" in the future: the room's clock, or a lie
            return VitalText("--", "no data (time?)")
        device = self.devices.get(sample.device)
        if device is not None and device.state in (LinkState.DISCONNECTED, LinkState.CONNECTING):
            return VitalText("--", f"no data ({device.state.value})")
        if sample.value is None or sample.quality is Quality.INVALID:
            return VitalText("--", "no data (no valid value)")
        text = f"{sample.value:.{decimals}f}"
        return VitalText(text, "?" if sample.quality is Quality.QUESTIONABLE else "")

    def alarms_in_order(self) -> list[p.AlarmBody]:
        """Physiological before technical, then highest priority, unacknowledged first, newest first (an alarm whose
        time is suspect as the oldest)."""
        return sorted(
            self.alarms.values(),
            key=lambda a: (
                a.category is AlarmCategory.TECHNICAL,
                -PRIORITY_RANK[a.priority],
                a.acknowledged_at is not None,
                a.id in self.suspect,
                -a.raised_at.timestamp(),
            ),
        )

    def _order(self) -> Order:
        """Urgency, sort key and top alarm, computed once per change of the alarms, status or name (every redraw
        sorts every room)."""
        cached = self._order_cache
        if cached is not None and cached[0] == self.order_version:
            return cached[1]
        ordered = self.alarms_in_order()
        top = ordered[0] if ordered else None
        if top is not None and top.category is AlarmCategory.PHYSIOLOGICAL:
            urgency = _BY_PRIORITY[top.priority]
        elif self.offline or self.status is None:  # not heard from (an expected room that never said): never calm
            urgency = Urgency.OFFLINE
        else:
            urgency = Urgency.TECHNICAL if top is not None else Urgency.CALM
        newest = 0.0  # calm rooms, and a suspect time: after every real one (those are negative)
        if top is not None and urgency in ALARMING and top.id not in self.suspect:
            newest = -top.raised_at.timestamp()
        result = (urgency, (not self.expected, int(urgency), newest, natural(self.label)), top)
        self._order_cache = (self.order_version, result)
        return result

    def top_alarm(self) -> p.AlarmBody | None:
        return self._order()[2]

    def urgency(self) -> Urgency:
        return self._order()[0]

    def flashing(self) -> Priority | None:
        """The flash rate of the tile: an unacknowledged high or medium alarm flashes (as on the room's screen)."""
        waiting = {a.priority for a in self.alarms.values() if a.acknowledged_at is None}
        for priority in (Priority.HIGH, Priority.MEDIUM):
            if priority in waiting:
                return priority
        return None

    def sort_key(self) -> SortKey:
        """Expected rooms first; most urgent first; among alarming rooms the newest alarm first (never below older
        ones); calm by name."""
        return self._order()[1]


def natural(text: str) -> tuple[str | int, ...]:
    """Sort key that puts "Room 2" before "Room 10"."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text.lower()) if part)


_DIGITS = re.compile(r"(\d+)")


@dataclass
class Facility:
    """Every room heard of (up to the limits), keyed by (site, room); ``expected``: the rooms of ``[station] rooms``
    (empty: every room is expected)."""

    prefix: str = "roomctl"
    limits: LimitsSection = field(default_factory=LimitsSection)
    expected: frozenset[tuple[str, str]] = frozenset()
    skew_s: float = 120.0
    rooms: dict[tuple[str, str], RoomState] = field(default_factory=dict)
    unreadable: int = 0
    last_problem: str = ""
    dropped: Counter[str] = field(default_factory=Counter)  # messages dropped unread, by reason (in words)
    _per_site: Counter[str] = field(default_factory=Counter)  # rooms kept per site

    def __post_init__(self) -> None:
        for key in sorted(self.expected):  # shown from the start: a room that never reports is seen not to
            self._admit(key)

    def apply(
        self, topic: str, payload: bytes, *, now: datetime, mono: float, expiry_s: float | None = None
    ) -> RoomState | None:
        """One MQTT message; returns the room if what it shows changed."""
        address: Address | None = split_topic(topic, self.prefix)
        if address is None:
            return self._bridge(topic, payload)
        if len(payload) > self.limits.payload_bytes:
            self.dropped[f"messages over limits.payload_bytes ({self.limits.payload_bytes})"] += 1
            return None
        room = self.rooms.get((address.site, address.room)) or self._admit((address.site, address.room))
        if room is None:
            return None
        try:
            message = parse(address.rest, payload)
        except FeedError as e:
            self.unreadable += 1
            self.last_problem = f"{address.site}/{address.room}: {e}"
            return None
        if (
            isinstance(message, p.DevicePayload)
            and message.device not in room.devices
            and len(room.devices) >= self.limits.devices_per_room
        ):
            self.dropped[f"devices beyond limits.devices_per_room ({self.limits.devices_per_room})"] += 1
            return None
        changed = room.apply(address.rest, message, now=now, mono=mono, expiry_s=expiry_s)
        return room if changed else None

    def _admit(self, key: tuple[str, str]) -> RoomState | None:
        """A new room, unless a limit says no (an expected room always comes in); the refusal is counted."""
        site, room_id = key
        listed = key in self.expected
        if not listed:
            limits = self.limits
            reason = None
            if ID.fullmatch(site) is None or ID.fullmatch(room_id) is None:
                reason = "topics whose site or room is not an id"
            elif site not in self._per_site and len(self._per_site) >= limits.sites:
                reason = f"sites beyond limits.sites ({limits.sites})"
            elif self._per_site[site] >= limits.rooms_per_site:
                reason = f"rooms beyond limits.rooms_per_site ({limits.rooms_per_site})"
            elif len(self.rooms) >= limits.rooms + len(self.expected):
                reason = f"rooms beyond limits.rooms ({limits.rooms})"
            if reason is not None:
                self.dropped[reason] += 1
                return None
        room = self.rooms[key] = RoomState(
            site,
            room_id,
            expected=listed or not self.expected,
            skew_s=self.skew_s,
            max_alarms=self.limits.alarms_per_room,
            drops=self.dropped,
        )
        self._per_site[site] += 1
        return room

    def _bridge(self, topic: str, payload: bytes) -> RoomState | None:
        """``<prefix>-bridge/<site>/<room>``: a room Pi's mosquitto bridge up ("1") or down ("0", also its last will on
        the facility broker): with a broker on each Pi, the room's own last will never reaches the facility."""
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != f"{self.prefix}-bridge" or payload.strip() not in (b"0", b"1"):
            return None
        key = (parts[1], parts[2])
        room = self.rooms.get(key) or self._admit(key)
        if room is None:
            return None
        down = payload.strip() == b"0"
        if down == room.bridge_down:
            return None
        room.bridge_down = down
        room.version += 1
        room.order_version += 1
        return room

    def in_order(self, text_filter: str = "", alarming_only: bool = False) -> list[RoomState]:
        needle = text_filter.lower()
        rooms = [
            r
            for r in self.rooms.values()
            if (not needle or needle in f"{r.site}/{r.room} {r.label}".lower())
            and (not alarming_only or r.urgency() is not Urgency.CALM)
        ]
        return sorted(rooms, key=RoomState.sort_key)

    def counts(self) -> dict[Urgency, int]:
        """Expected rooms by urgency (unexpected ones: :meth:`unexpected`)."""
        out = dict.fromkeys(Urgency, 0)
        for room in self.rooms.values():
            if room.expected:
                out[room.urgency()] += 1
        return out

    def unexpected(self) -> list[RoomState]:
        """Rooms heard of that ``[station] rooms`` does not name, most urgent first."""
        if not self.expected:
            return []
        return sorted((r for r in self.rooms.values() if not r.expected), key=RoomState.sort_key)
