"""What the record keeps of each hub event kind: one frozen description per kind (a table, not parallel lists).

Every stored kind goes to the outbox (the MQTT feed's durable queue). Most also land in a table of their own for
reports and exports: :attr:`StoredKind.table`, its columns after ``seq``, and the function that makes those columns
from the event. ``with_payload`` tables keep the whole event JSON as their last column too. Audio pauses and service
health are live state only: not described here, so not stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from roomctl.models import AlarmEvent, DeviceState, LightingState, MusicState, Reading, RRIntervals, SessionEvent

Columns = Callable[[Any, str | None, float], tuple[Any, ...]]
"""(event, the session current at the event, storage time) -> the table's columns after seq (without the payload)."""


@dataclass(frozen=True)
class StoredKind:
    kind: str
    """The hub event's ``kind`` tag."""
    table: str | None = None
    """Its table; None: kept only in the outbox (the session state, whose record is the ``sessions`` table)."""
    columns: tuple[str, ...] = ()
    row: Columns | None = None
    with_payload: bool = False
    insert_sql: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        if self.table is not None:
            names = ("seq", *self.columns, *(("payload",) if self.with_payload else ()))
            sql = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            object.__setattr__(self, "insert_sql", sql)


def _reading(e: Reading, session: str | None, now: float) -> tuple[Any, ...]:
    # the quantity and quality as they are: SQLite stores a StrEnum member as its text (``.value`` is a slower call)
    return (e.ts.timestamp(), session, e.device, e.quantity, e.value, e.unit, e.quality)


def _rr(e: RRIntervals, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.ts.timestamp(), session, e.device, json.dumps(e.intervals))


def _event(e: SessionEvent, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.id, e.ts.timestamp(), e.session, e.event.value, e.text, json.dumps(e.data))


def _alarm(e: AlarmEvent, session: str | None, now: float) -> tuple[Any, ...]:
    a = e.alarm
    return (e.ts.timestamp(), session, e.action.value, a.id, a.condition, a.category.value, a.priority.value)


def _device(e: DeviceState, session: str | None, now: float) -> tuple[Any, ...]:
    return (now, session, e.device, e.state.value)


def _lighting(e: LightingState, session: str | None, now: float) -> tuple[Any, ...]:
    return (now, session, e.scene)


def _music(e: MusicState, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.ts.timestamp(), session, e.state.value, e.phase, e.playlist, e.title, e.artist, e.file)


STORED: dict[str, StoredKind] = {
    k.kind: k
    for k in (
        StoredKind(
            "reading", "readings", ("ts", "session", "device", "quantity", "value", "unit", "quality"), _reading
        ),
        StoredKind("rr_intervals", "rr_intervals", ("ts", "session", "device", "intervals"), _rr),
        StoredKind("event", "events", ("id", "ts", "session", "event", "text", "data"), _event),
        StoredKind(
            "alarm",
            "alarms",
            ("ts", "session", "action", "alarm_id", "condition", "alarm_kind", "priority"),
            _alarm,
            with_payload=True,
        ),
        StoredKind("device", "device_states", ("ts", "session", "device", "state"), _device, with_payload=True),
        StoredKind("lighting", "lighting", ("ts", "session", "scene"), _lighting, with_payload=True),
        StoredKind(
            "music",
            "music",
            ("ts", "session", "state", "phase", "playlist", "title", "artist", "file"),
            _music,
            with_payload=True,
        ),
        StoredKind("session"),
    )
}
STORED_KINDS = frozenset(STORED)
"""Hub event kinds the record keeps (and the outbox carries)."""
EVENT_TABLES = tuple(k.table for k in STORED.values() if k.table is not None)
"""The tables of stored events (each has ``seq``, ``ts`` and ``session``): retention and counts go over these."""
