"""The alarm book: every alarm the room currently shows, and the only place :class:`Alarm` models are made.

Sources (limit rules, wearable watches, service health) only say whether a condition is present now; the book turns that
into raise / escalate / latch / clear events, applies latching and acknowledgement, and keeps a short history.
Pydantic models are built only when something changes, so a calm reading costs nothing here.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from roomctl.clock import Clock
from roomctl.models import PRIORITY_RANK, Alarm, AlarmAction, AlarmCategory, AlarmEvent, Priority, Quantity

Key = tuple[str, str]
"""(scope, condition): scope is a wearable id or ``service:<name>``; one open alarm per key."""


@dataclass(frozen=True, slots=True)
class Condition:
    """An alarm condition that exists now, as a source sees it."""

    condition: str
    category: AlarmCategory
    priority: Priority
    message: str
    quantity: Quantity | None = None
    device: str | None = None
    value: float | None = None
    limit: float | None = None


class AlarmBook:
    def __init__(self, clock: Clock, *, latching: bool, id_prefix: str | None = None, history_size: int = 1000) -> None:
        self._clock = clock
        self.latching = latching
        self.id_prefix = id_prefix if id_prefix is not None else f"A{secrets.token_hex(3)}-"
        self._seq = 0
        self._open: dict[Key, Alarm] = {}
        self._keys: dict[str, Key] = {}
        self.history: deque[AlarmEvent] = deque(maxlen=history_size)

    @property
    def alarms(self) -> dict[str, Alarm]:
        """Every alarm shown now (active, acknowledged or latched), by id."""
        return {a.id: a for a in self._open.values()}

    def get(self, alarm_id: str) -> Alarm | None:
        key = self._keys.get(alarm_id)
        return self._open.get(key) if key is not None else None

    def open_alarm(self, key: Key) -> Alarm | None:
        return self._open.get(key)

    def highest_rank(self) -> int:
        return max((PRIORITY_RANK[a.priority] for a in self._open.values()), default=0)

    def acknowledged_rank(self) -> int:
        """The highest priority among the acknowledged alarms still shown: what an audio pause is silencing now."""
        return max((PRIORITY_RANK[a.priority] for a in self._open.values() if a.acknowledged_at is not None), default=0)

    def restore(self, key: Key, alarm: Alarm) -> AlarmEvent:
        """Show again an alarm a previous run of the daemon showed (same id); a new raise never reuses its id."""
        self._keys[alarm.id] = key
        return self._record(key, AlarmAction.RESTORED, alarm)

    def reannunciate(self, alarm_id: str) -> list[AlarmEvent]:
        """The acknowledge pause of an alarm whose condition still exists ran out: it signals again (unacknowledged)."""
        key = self._keys.get(alarm_id)
        alarm = self._open.get(key) if key is not None else None
        if key is None or alarm is None or not alarm.active or alarm.acknowledged_at is None:
            return []
        return [self._record(key, AlarmAction.REANNUNCIATED, alarm.model_copy(update={"acknowledged_at": None}))]

    def present(self, key: Key, c: Condition, *, remeasured: bool = False) -> list[AlarmEvent]:
        """The condition exists: raise it, escalate it, or (if only latched) replace the latched alarm with a new one.

        ``remeasured``: a new spot measurement still crosses the limit; an acknowledged alarm signals again
        (``reannunciated``) with the new value, since the team silenced the old one.
        """
        alarm = self._open.get(key)
        if alarm is None:
            return [self._raise(key, c)]
        if not alarm.active:
            # The condition came back while the old alarm was latched: close that record and raise afresh.
            return [self._clear(key, alarm), self._raise(key, c)]
        if PRIORITY_RANK[c.priority] > PRIORITY_RANK[alarm.priority]:
            # A new, worse situation: it needs a fresh acknowledgement.
            update = {"priority": c.priority, "message": c.message, "value": c.value, "limit": c.limit}
            return [
                self._record(key, AlarmAction.ESCALATED, alarm.model_copy(update=update | {"acknowledged_at": None}))
            ]
        if remeasured and alarm.acknowledged_at is not None:
            renewed: dict[str, object] = {"acknowledged_at": None}
            if c.priority is alarm.priority:  # (a milder value leaves the alarm saying the worst it reached)
                renewed |= {"message": c.message, "value": c.value, "limit": c.limit}
            return [self._record(key, AlarmAction.REANNUNCIATED, alarm.model_copy(update=renewed))]
        return []  # same or lower priority: the alarm keeps the highest priority it reached

    def absent(self, key: Key) -> list[AlarmEvent]:
        """The condition ended: a physiological alarm latches (if the room says so) until acknowledged; others clear."""
        alarm = self._open.get(key)
        if alarm is None or not alarm.active:
            return []
        if alarm.category is AlarmCategory.PHYSIOLOGICAL and self.latching and alarm.acknowledged_at is None:
            return [self._record(key, AlarmAction.LATCHED, alarm.model_copy(update={"active": False, "latched": True}))]
        return [self._clear(key, alarm)]

    def acknowledge(self, alarm_id: str | None) -> list[AlarmEvent]:
        """Acknowledge one alarm or all: latched ones clear, active ones stay shown with ``acknowledged_at`` set."""
        if alarm_id is None:
            keys = list(self._open)
        else:
            key = self._keys.get(alarm_id)
            keys = [key] if key is not None else []
        now = self._now()
        events = []
        for key in keys:
            alarm = self._open[key]
            if not alarm.active:
                events.append(self._clear(key, alarm.model_copy(update={"acknowledged_at": now})))
            elif alarm.acknowledged_at is None:
                acked = alarm.model_copy(update={"acknowledged_at": now})
                events.append(self._record(key, AlarmAction.ACKNOWLEDGED, acked))
        return events

    def _raise(self, key: Key, c: Condition) -> AlarmEvent:
        self._seq += 1
        alarm = Alarm(
            id=f"{self.id_prefix}{self._seq:04d}-{c.condition}",
            condition=c.condition,
            category=c.category,
            priority=c.priority,
            message=c.message,
            quantity=c.quantity,
            device=c.device,
            value=c.value,
            limit=c.limit,
            raised_at=self._now(),
        )
        self._keys[alarm.id] = key
        return self._record(key, AlarmAction.RAISED, alarm)

    def _clear(self, key: Key, alarm: Alarm) -> AlarmEvent:
        cleared = alarm.model_copy(update={"active": False, "latched": False, "cleared_at": self._now()})
        return self._record(key, AlarmAction.CLEARED, cleared)

    def _record(self, key: Key, action: AlarmAction, alarm: Alarm) -> AlarmEvent:
        if action is AlarmAction.CLEARED:
            del self._open[key]
            del self._keys[alarm.id]
        else:
            self._open[key] = alarm
        event = AlarmEvent(action=action, alarm=alarm, ts=self._now())
        self.history.append(event)
        return event

    def _now(self) -> datetime:
        return self._clock.now()
