"""Hub events to database rows: one small function per event kind (a table, not a chain of branches)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from roomctl.models import (
    AlarmEvent,
    DeviceState,
    HubEvent,
    LightingState,
    Reading,
    RRIntervals,
    SessionEvent,
    SessionState,
)
from roomctl.storage.database import Row

STORED_KINDS = frozenset({"reading", "rr_intervals", "event", "alarm", "device", "lighting", "session"})
"""Hub event kinds the record keeps (and the outbox carries). Audio pauses and service health are live state only."""


def _reading(e: Reading, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.ts.timestamp(), session, e.device, e.quantity.value, e.value, e.unit, e.quality.value)


def _rr(e: RRIntervals, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.ts.timestamp(), session, e.device, json.dumps(e.intervals))


def _event(e: SessionEvent, session: str | None, now: float) -> tuple[Any, ...]:
    return (e.id, e.ts.timestamp(), e.session, e.event.value, e.text, json.dumps(e.data))


def _alarm(e: AlarmEvent, session: str | None, now: float) -> tuple[Any, ...]:
    a = e.alarm
    return (e.ts.timestamp(), session, e.action.value, a.id, a.condition, a.kind.value, a.priority.value)


def _device(e: DeviceState, session: str | None, now: float) -> tuple[Any, ...]:
    return (now, session, e.device, e.state.value)


def _lighting(e: LightingState, session: str | None, now: float) -> tuple[Any, ...]:
    return (now, session, e.scene)


_COLUMNS: dict[str, Callable[[Any, str | None, float], tuple[Any, ...]]] = {
    "reading": _reading,
    "rr_intervals": _rr,
    "event": _event,
    "alarm": _alarm,
    "device": _device,
    "lighting": _lighting,
}
_WITH_PAYLOAD = frozenset({"alarm", "device", "lighting"})  # these tables also keep the whole event as JSON


class RowMaker:
    """Turns events into rows in hub order, remembering the session current at each event."""

    def __init__(self, session: str | None) -> None:
        self.session = session

    def make(self, event: HubEvent, now: float) -> Row | None:
        kind = event.kind
        if kind not in STORED_KINDS:
            return None
        payload = event.model_dump_json()
        if isinstance(event, SessionState):
            self.session = event.id if event.ended_at is None else None
            return Row(kind, event.id, payload, None)
        session = event.session if isinstance(event, SessionEvent) else self.session
        columns = _COLUMNS[kind](event, self.session, now)
        if kind in _WITH_PAYLOAD:
            columns = (*columns, payload)
        return Row(kind, session, payload, columns)
