"""Limit evaluation for one quantity of one wearable: condition delay, hysteresis, escalation, baseline-relative limits.

Each configured :class:`LimitRule` becomes one :class:`RuleState` per direction (low / high). Rules of the same quantity and
direction form one :class:`LimitGroup`, which is one alarm (``spo2_low``) whose priority is that of its most severe rule
whose condition exists: SpO2 < 90 for 10 s raises ``spo2_low`` at medium, < 85 for 5 s escalates the same alarm to high.
This is the hot path: plain floats and slots, no models, no allocation while nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from roomctl.config.alarms import LimitRule
from roomctl.models import PRIORITY_RANK, Priority, Quantity

LOW = -1.0
HIGH = 1.0
DIRECTION_NAMES = {LOW: "low", HIGH: "high"}


@dataclass(slots=True)
class RuleState:
    """One limit in one direction. ``sign * (value - limit) > 0`` means the limit is crossed."""

    sign: float
    hard_limit: float
    factor: float | None
    priority: Priority
    rank: int
    delay_s: float
    hysteresis: float
    inclusive: bool = False
    """The limit value itself counts as crossed ("85 % or below")."""
    limit: float = 0.0
    pending_since: float | None = None
    met: bool = False
    session: float | None = None
    """This session's own limit (set_limit): it replaces the configured or baseline-derived one."""

    def __post_init__(self) -> None:
        self.limit = self.hard_limit

    def use_baseline(self, baseline: float | None) -> None:
        """Limit relative to the patient's baseline, never beyond the hard limit (a ceiling for high, a floor for low);
        a session's own limit replaces both."""
        if self.session is not None:
            self.limit = self.session
        elif self.factor is None or baseline is None:
            self.limit = self.hard_limit
        elif self.sign == HIGH:
            self.limit = min(baseline * self.factor, self.hard_limit)
        else:
            self.limit = max(baseline * self.factor, self.hard_limit)


class LimitGroup:
    """All rules of one quantity and direction: one alarm condition that escalates."""

    __slots__ = ("baseline", "condition", "direction", "last_value", "quantity", "rules")

    def __init__(self, quantity: Quantity, sign: float, rules: list[RuleState]) -> None:
        self.quantity = quantity
        self.direction = DIRECTION_NAMES[sign]
        self.condition = f"{quantity.value}_{self.direction}"
        self.rules = sorted(rules, key=lambda r: -r.rank)
        self.last_value = 0.0
        self.baseline: float | None = None

    def update(self, value: float, now: float) -> bool:
        """Evaluate one valid value at monotonic time ``now``; True when a rule's condition began or ended.

        Rules run from the most severe: when a more severe rule's condition exists, a milder rule the value also
        crosses exists at once, without its own delay (SpO2 below 85 % is below 90 % too), so a recovery from 83 % to
        87 % stays the one ``spo2_low`` alarm instead of ending it and raising another one later.
        """
        self.last_value = value
        changed = False
        worse = False
        for r in self.rules:
            d = r.sign * (value - r.limit)
            if d > 0 or (d == 0 and r.inclusive):
                if not r.met:
                    if r.pending_since is None:
                        r.pending_since = now
                    if worse or now - r.pending_since >= r.delay_s:
                        r.met = changed = True
            else:
                r.pending_since = None
                if r.met and d <= -r.hysteresis:
                    r.met = False
                    changed = True
            worse = worse or r.met
        return changed

    def measure(self, value: float) -> bool:
        """Judge one spot measurement (a manual entry, a cuff): True when a rule's condition began or ended.

        A spot value is one deliberate measurement, not a stream: it is judged on its own and at once, with no condition
        delay (there is nothing to debounce) and no hysteresis (no chatter between measurements hours apart). A condition
        exists exactly while the last measurement crosses the limit.
        """
        self.last_value = value
        changed = False
        for r in self.rules:
            d = r.sign * (value - r.limit)
            met = d > 0 or (d == 0 and r.inclusive)
            r.pending_since = None
            if met != r.met:
                r.met = met
                changed = True
        return changed

    def end(self) -> bool:
        """The values this group judged no longer count (a spot measurement's session ended); True if a condition ended."""
        ended = any(r.met for r in self.rules)
        for r in self.rules:
            r.met = False
            r.pending_since = None
        return ended

    def tick(self, now: float) -> bool:
        """Condition delays that elapse between readings (the last valid value still stands)."""
        changed = False
        worse = False
        for r in self.rules:
            if not r.met and r.pending_since is not None and (worse or now - r.pending_since >= r.delay_s):
                r.met = changed = True
            worse = worse or r.met
        return changed

    def suspend(self) -> None:
        """No data: a pending delay restarts with the next valid value; a condition that exists stays (never calm)."""
        for r in self.rules:
            r.pending_since = None

    def use_baseline(self, baseline: float | None) -> None:
        self.baseline = baseline
        for r in self.rules:
            r.use_baseline(baseline)

    def restore(self, priority: Priority, value: float | None) -> None:
        """A previous run showed this condition at ``priority``: it exists (this rule and the milder ones) until a valid
        value says otherwise."""
        rank = PRIORITY_RANK[priority]
        for r in self.rules:
            if r.rank <= rank:
                r.met = True
                r.pending_since = None
        if value is not None:
            self.last_value = value

    def set_session_limit(self, priority: Priority, limit: float | None) -> None:
        """This session's own limit for the rule of ``priority`` (None: the configured or baseline-derived one again)."""
        for r in self.rules:
            if r.priority is priority:
                r.session = limit
                r.use_baseline(self.baseline)

    def top(self) -> RuleState | None:
        """The most severe rule whose condition exists, or None."""
        for r in self.rules:
            if r.met:
                return r
        return None


def rule_states(rule: LimitRule) -> list[RuleState]:
    out = []
    rank = PRIORITY_RANK[rule.priority]
    for sign, limit, factor in ((LOW, rule.low, rule.low_from_baseline), (HIGH, rule.high, rule.high_from_baseline)):
        if limit is not None:
            out.append(
                RuleState(
                    sign, limit, factor, rule.priority, rank, rule.condition_delay_s, rule.hysteresis, rule.inclusive
                )
            )
    return out


class QuantityWatch:
    """The limit groups (low, high) and baseline of one quantity from one wearable.

    The baseline is one the team confirmed or entered (roomctl/session/baseline.py); nothing is taken from the data
    here: until one is given, the limits are the configured (absolute) ones."""

    __slots__ = ("device", "groups", "quantity", "relative")

    def __init__(self, device: str, quantity: Quantity, rules: list[LimitRule]) -> None:
        self.device = device
        self.quantity = quantity
        states = [s for rule in rules if rule.quantity is quantity for s in rule_states(rule)]
        self.groups = [LimitGroup(quantity, sign, [s for s in states if s.sign == sign]) for sign in (LOW, HIGH)]
        self.groups = [g for g in self.groups if g.rules]
        self.relative = any(s.factor is not None for s in states)
        """Some limit of this quantity follows the patient's baseline."""

    def update(self, value: float, now: float, spot: bool = False) -> list[LimitGroup] | None:
        """Evaluate one valid value; the groups whose condition changed, or None (the common case).

        ``spot``: the value is a spot measurement (:meth:`LimitGroup.measure`), not part of a stream."""
        changed: list[LimitGroup] | None = None
        for g in self.groups:
            if g.measure(value) if spot else g.update(value, now):
                if changed is None:
                    changed = []
                changed.append(g)
        return changed

    @property
    def baseline(self) -> float | None:
        """The baseline the limits use now (None: the configured limits)."""
        return self.groups[0].baseline if self.groups and self.relative else None

    def use_baseline(self, value: float | None) -> None:
        """The confirmed (or entered) baseline: the baseline-relative limits follow it; None: the configured limits."""
        if not self.relative:
            return
        for g in self.groups:
            g.use_baseline(value)
