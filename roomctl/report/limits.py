"""The alarm limits in force over a session, from its record: what the report draws and counts "outside limits" against.

At each moment, per quantity, the first limit in each direction (the highest low, the lowest high) of the rules saved with
the session, each rule's limit being the one the alarm engine applied then: the one set for the session (a ``limit_set``
event) from the moment it was set; otherwise the one derived from the patient's baseline (a ``baseline`` event) from the
moment it was known, never beyond the rule's hard limit; otherwise the configured one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from roomctl.alarms.baseline import BaselineRecord
from roomctl.config.alarms import LimitRule, default_rules
from roomctl.models import Priority, Quantity

Slot = tuple[Quantity, str, Priority]
"""(quantity, "low" / "high", the rule's priority)."""


@dataclass(frozen=True)
class LimitStep:
    """From ``start`` (Unix seconds) on, until the next step: the first low and high limit (None: no such limit)."""

    start: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class LimitsOverTime:
    steps: tuple[LimitStep, ...]
    """Oldest first; the first one starts before the session (the configured limits)."""

    def at(self, ts: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The low and high limits in force at each time in ``ts`` (NaN where there is none)."""
        starts = np.asarray([s.start for s in self.steps], dtype=np.float64)
        lows = np.asarray([np.nan if s.low is None else s.low for s in self.steps], dtype=np.float64)
        highs = np.asarray([np.nan if s.high is None else s.high for s in self.steps], dtype=np.float64)
        index = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
        return lows[index], highs[index]


@dataclass(frozen=True)
class SessionLimitSet:
    ts: float
    quantity: Quantity
    direction: str
    priority: Priority
    limit: float


def rules_of(meta: dict[str, Any]) -> list[LimitRule]:
    """The rules saved with the session (the adult defaults for a record without them); one that does not parse is left
    out (the record is data)."""
    saved = meta.get("alarm_rules")
    if not saved:
        return default_rules()
    rules = []
    for item in saved if isinstance(saved, list) else ():
        try:
            rules.append(LimitRule.model_validate(item))
        except ValidationError:
            continue
    return rules


def baselines_of(events: Sequence[tuple[float, str, dict[str, Any]]]) -> list[BaselineRecord]:
    """The baselines the session recorded (``baseline`` events), oldest first."""
    return BaselineRecord.parse_all([data for _ts, kind, data in events if kind == "baseline"])


def first_baselines(baselines: Sequence[BaselineRecord]) -> dict[Quantity, BaselineRecord]:
    """The baseline the report uses per quantity: the first one known (with several wearables of one quantity)."""
    out: dict[Quantity, BaselineRecord] = {}
    for b in sorted(baselines, key=lambda b: b.taken_at):
        out.setdefault(b.quantity, b)
    return out


def limits_set_of(events: Sequence[tuple[float, str, dict[str, Any]]]) -> list[SessionLimitSet]:
    """Every limit set for the session (``limit_set`` events), oldest first."""
    out = []
    for ts, kind, data in events:
        if kind != "limit_set":
            continue
        try:
            quantity = Quantity(data["quantity"])
            for item in data["limits"]:
                limit = float(item["limit"])
                direction = str(item["direction"])
                if math.isfinite(limit) and direction in ("low", "high"):
                    out.append(SessionLimitSet(ts, quantity, direction, Priority(item["priority"]), limit))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def limits_over_time(
    rules: Sequence[LimitRule], baselines: Sequence[BaselineRecord], limits_set: Sequence[SessionLimitSet]
) -> dict[Quantity, LimitsOverTime]:
    """Per quantity with rules, the limits in force from the session's start, stepping when a baseline became known or
    a limit was set. With baselines of one quantity from several wearables, the first one known is used (the report's
    charts show the quantity, not each wearable)."""
    out: dict[Quantity, LimitsOverTime] = {}
    for quantity in dict.fromkeys(r.quantity for r in rules):
        mine = [r for r in rules if r.quantity is quantity]
        baseline = first_baselines(baselines).get(quantity)
        sets = [s for s in limits_set if s.quantity is quantity]
        times = sorted({*(s.ts for s in sets), *((baseline.taken_at.timestamp(),) if baseline else ())})
        steps = [_step(-math.inf, mine, None, {})]
        for t in times:
            base = baseline.value if baseline is not None and baseline.taken_at.timestamp() <= t else None
            overrides = {(s.quantity, s.direction, s.priority): s.limit for s in sets if s.ts <= t}
            steps.append(_step(t, mine, base, overrides))
        out[quantity] = LimitsOverTime(tuple(steps))
    return out


def _step(start: float, rules: Sequence[LimitRule], baseline: float | None, overrides: dict[Slot, float]) -> LimitStep:
    lows: list[float] = []
    highs: list[float] = []
    for r in rules:
        for direction, hard, factor, into in (
            ("low", r.low, r.low_from_baseline, lows),
            ("high", r.high, r.high_from_baseline, highs),
        ):
            if hard is None:
                continue
            limit = overrides.get((r.quantity, direction, r.priority))
            if limit is None and factor is not None and baseline is not None:
                limit = max(baseline * factor, hard) if direction == "low" else min(baseline * factor, hard)
            into.append(hard if limit is None else limit)
    return LimitStep(start, max(lows, default=None), min(highs, default=None))
