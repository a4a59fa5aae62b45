"""Alarm limits set for one session (``set_limit``): checked, applied, announced, and forgotten when the session ends.

A clinician adjusts a limit for this patient today (heart rate high 140 instead of 120 during the dosing peak). The change
applies to one rule: the rule of the given priority, or the mildest rule in that direction (the first alarm, e.g. SpO2 low
90 rather than the desaturation limit 85). It replaces the rule's limit, a baseline-derived one too (then within the rule's
hard ceiling or floor). No limit can be set outside the quantity's settable range (``[alarms.settable]``): a session limit
can tighten or widen an alarm, never switch it off. The room's configuration is never changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from roomctl.alarms.rules import DIRECTION_NAMES, HIGH, LOW
from roomctl.alarms.texts import QUANTITY_NAMES, number, with_unit
from roomctl.config.alarms import LimitRule, SettableRange
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
    def __init__(self, rules: Sequence[LimitRule], settable: Mapping[Quantity, SettableRange]) -> None:
        self._configured: dict[Slot, float] = {}
        self._derived: dict[Slot, float] = {}
        """Slots whose limit follows the baseline: the factor."""
        for rule in rules:
            for sign, limit, factor in (
                (LOW, rule.low, rule.low_from_baseline),
                (HIGH, rule.high, rule.high_from_baseline),
            ):
                if limit is not None:
                    self._configured[(rule.quantity, sign, rule.priority)] = limit
                    if factor is not None:
                        self._derived[(rule.quantity, sign, rule.priority)] = factor
        self._settable = settable
        self.overrides: dict[Slot, float] = {}

    def in_force(self, slot: Slot) -> float:
        return self.overrides.get(slot, self._configured[slot])

    def slots(self) -> list[Slot]:
        return list(self._configured)

    def plan(
        self,
        quantity: Quantity,
        low: float | None,
        high: float | None,
        priority: Priority | None,
        shown: Mapping[Slot, float] | None = None,
    ) -> LimitChange | str:
        """The change ``set_limit`` asks for, or why it cannot be made (in words). ``shown``: limits in force now that
        differ from :meth:`in_force` (derived from a baseline), for the "was" and the order checks."""
        name = QUANTITY_NAMES.get(quantity, quantity.value)
        mine = [s for s in self._configured if s[0] is quantity]
        if not mine:
            return f"this room has no alarm limits on {name}; add them to [alarms] in the configuration"
        changes: list[tuple[float, Priority, float, float]] = []
        proposed = {s: (shown or {}).get(s, self.in_force(s)) for s in mine}
        for sign, value in ((LOW, low), (HIGH, high)):
            if value is None:
                continue
            direction = DIRECTION_NAMES[sign]
            candidates = [s for s in mine if s[1] == sign and (priority is None or s[2] is priority)]
            if not candidates:
                which = f" {priority.value}-priority" if priority is not None else ""
                return f"{name} has no{which} {direction} limit to change in this room's configuration"
            slot = min(candidates, key=lambda s: PRIORITY_RANK[s[2]])  # the mildest: the first alarm
            problem = self._outside(slot, value)
            if problem is not None:
                return f"{name} {direction} limit {number(value)} refused: {problem}"
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

    def _outside(self, slot: Slot, value: float) -> str | None:
        """Why ``value`` cannot be this slot's session limit (in words), or None."""
        quantity, sign, _ = slot
        settable = self._settable.get(quantity)
        if settable is None:
            return f"this room sets no range for it ([alarms.settable.{quantity.value}]), so it cannot be changed here"
        if sign == LOW and settable.low_min is not None and value < settable.low_min:
            return (
                f"a low limit may not be set below {with_unit(settable.low_min, quantity)} in this room "
                "(it would all but switch the alarm off)"
            )
        if sign == HIGH and settable.high_max is not None and value > settable.high_max:
            return (
                f"a high limit may not be set above {with_unit(settable.high_max, quantity)} in this room "
                "(it would all but switch the alarm off)"
            )
        factor = self._derived.get(slot)
        hard = self._configured[slot]
        if factor is not None and sign * (value - hard) > 0:
            bound = "ceiling" if sign == HIGH else "floor"
            return (
                f"this limit follows {factor:g} × the patient's baseline with a {bound} of {number(hard)}; "
                f"a session limit can replace it within that {bound}"
            )
        return None

    def restore(self, saved: Mapping[Slot, float]) -> list[str]:
        """A restarted daemon takes up this session's limits again; what no longer fits the room is left out and said."""
        left_out = []
        for slot, value in saved.items():
            if slot not in self._configured:
                left_out.append(f"{slot[0].value} {DIRECTION_NAMES[slot[1]]} ({slot[2].value}): no such rule now")
                continue
            problem = self._outside(slot, value)
            if problem is not None:
                left_out.append(f"{slot[0].value} {DIRECTION_NAMES[slot[1]]} {number(value)}: {problem}")
                continue
            self.overrides[slot] = value
        return left_out

    def record(self, change: LimitChange | None = None) -> list[dict[str, object]]:
        """This session's limits (with ``change`` made), as the session's record keeps them for a restart."""
        overrides = dict(self.overrides)
        if change is not None:
            for sign, prio, new, _ in change.changes:
                overrides[(change.quantity, sign, prio)] = new
        return [
            {"quantity": q.value, "direction": DIRECTION_NAMES[sign], "priority": p.value, "limit": limit}
            for (q, sign, p), limit in overrides.items()
        ]

    def apply(self, change: LimitChange) -> None:
        for sign, prio, new, _ in change.changes:
            self.overrides[(change.quantity, sign, prio)] = new

    def clear(self) -> bool:
        """The session ended: back to the configured limits. True when some limit changes back."""
        had = bool(self.overrides)
        self.overrides.clear()
        return had


def parse_record(saved: object) -> dict[Slot, float]:
    """:meth:`SessionLimits.record` read back; entries that do not parse are left out (the record is data, not trusted)."""
    out: dict[Slot, float] = {}
    signs = {name: sign for sign, name in DIRECTION_NAMES.items()}
    for item in saved if isinstance(saved, list) else ():
        try:
            slot = (Quantity(item["quantity"]), signs[item["direction"]], Priority(item["priority"]))
            limit = float(item["limit"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(limit):
            out[slot] = limit
    return out
