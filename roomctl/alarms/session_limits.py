"""Alarm limits set for one session (``set_limit``): checked, applied, announced, and forgotten when the session ends.

A clinician adjusts a limit for this patient today (heart rate high 140 instead of 120 during the dosing peak). The change
applies to the hard limit of one rule: the rule of the given priority, or the mildest rule in that direction (the first
alarm, e.g. SpO2 low 90 rather than the desaturation limit 85). A baseline-relative rule keeps following the baseline
under the new ceiling or floor. The room's configuration is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roomctl.alarms.rules import DIRECTION_NAMES, HIGH, LOW
from roomctl.alarms.texts import QUANTITY_NAMES, number
from roomctl.config.alarms import LimitRule
from roomctl.models import PRIORITY_RANK, Priority, Quantity

Slot = tuple[Quantity, float, Priority]
"""(quantity, direction sign, priority of the rule)."""


@dataclass(frozen=True)
class LimitChange:
    """A checked change: each (direction sign, rule priority, new limit, limit before)."""

    quantity: Quantity
    changes: tuple[tuple[float, Priority, float, float], ...]

    def describe(self) -> str:
        name = QUANTITY_NAMES.get(self.quantity, self.quantity.value)
        parts = [
            f"{DIRECTION_NAMES[sign]} ({priority.value}) {number(new)} (was {number(old)})"
            for sign, priority, new, old in self.changes
        ]
        return f"{name} limits for this session: " + ", ".join(parts)

    def record(self) -> dict[str, object]:
        """The session event's data."""
        return {
            "quantity": self.quantity.value,
            "limits": [
                {"direction": DIRECTION_NAMES[s], "priority": p.value, "limit": new, "previous": old}
                for s, p, new, old in self.changes
            ],
        }


class SessionLimits:
    def __init__(self, rules: Sequence[LimitRule]) -> None:
        self._configured: dict[Slot, float] = {}
        for rule in rules:
            for sign, limit in ((LOW, rule.low), (HIGH, rule.high)):
                if limit is not None:
                    self._configured[(rule.quantity, sign, rule.priority)] = limit
        self.overrides: dict[Slot, float] = {}

    def in_force(self, slot: Slot) -> float:
        return self.overrides.get(slot, self._configured[slot])

    def slots(self) -> list[Slot]:
        return list(self._configured)

    def plan(
        self, quantity: Quantity, low: float | None, high: float | None, priority: Priority | None
    ) -> LimitChange | str:
        """The change ``set_limit`` asks for, or why it cannot be made (in words)."""
        name = QUANTITY_NAMES.get(quantity, quantity.value)
        mine = [s for s in self._configured if s[0] is quantity]
        if not mine:
            return f"this room has no alarm limits on {name}; add them to [alarms] in the configuration"
        changes: list[tuple[float, Priority, float, float]] = []
        proposed = {s: self.in_force(s) for s in mine}
        for sign, value in ((LOW, low), (HIGH, high)):
            if value is None:
                continue
            direction = DIRECTION_NAMES[sign]
            candidates = [s for s in mine if s[1] == sign and (priority is None or s[2] is priority)]
            if not candidates:
                which = f" {priority.value}-priority" if priority is not None else ""
                return f"{name} has no{which} {direction} limit to change in this room's configuration"
            slot = min(candidates, key=lambda s: PRIORITY_RANK[s[2]])  # the mildest: the first alarm
            changes.append((sign, slot[2], value, proposed[slot]))
            proposed[slot] = value
        for (_, sign, prio), limit in proposed.items():
            for (_, other_sign, other_prio), other in proposed.items():
                if (
                    other_sign == sign
                    and PRIORITY_RANK[other_prio] > PRIORITY_RANK[prio]
                    and sign * (other - limit) < 0
                ):
                    return (
                        f"{name} {DIRECTION_NAMES[sign]} ({prio.value}) {number(limit)} would be beyond the "
                        f"{other_prio.value}-priority limit {number(other)}"
                    )
                if sign == LOW and other_sign == HIGH and limit >= other:
                    return f"{name} low limit {number(limit)} must be below the high limit {number(other)}"
        return LimitChange(quantity, tuple(changes))

    def apply(self, change: LimitChange) -> None:
        for sign, prio, new, _ in change.changes:
            self.overrides[(change.quantity, sign, prio)] = new

    def clear(self) -> bool:
        """The session ended: back to the configured limits. True when some limit changes back."""
        had = bool(self.overrides)
        self.overrides.clear()
        return had
