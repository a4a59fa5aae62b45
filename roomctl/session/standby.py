"""Monitoring standby for a break: the wearables taken off, how long their technical alarms are held silent.

A break (restroom, snacks, stretching) takes the oximeter off and often the strap too. Without standby, the team would
hear "finger off", "no data" and "wearable lost" for every break and learn to ignore them. Standby exists only inside
a break and never silently: it names its wearables, lasts at most ``break_standby_min``, and when the break ends the
wearables have :data:`REATTACH_S` to come back. The alarm engine holds those wearables' technical conditions while the
session's state lists them (:attr:`roomctl.models.SessionState.standby`); physiological alarms are never held.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from roomctl.models import Standby
from roomctl.session.timeline import Moment

REATTACH_S = 60.0
"""After a break ends, a wearable still in standby has this long to be back before its technical alarms return."""


@dataclass(frozen=True)
class BreakStandby:
    devices: tuple[str, ...]
    ends: Moment
    break_over: bool = False

    @classmethod
    def begin(cls, devices: tuple[str, ...], minutes: float, now: datetime, mono: float) -> BreakStandby:
        return cls(devices, Moment(now + timedelta(minutes=minutes), mono + minutes * 60))

    def after_break(self, now: datetime, mono: float) -> BreakStandby:
        """The break ended: a minute to reattach the wearables, never longer than standby had left."""
        if mono + REATTACH_S < self.ends.mono:
            return BreakStandby(self.devices, Moment(now + timedelta(seconds=REATTACH_S), mono + REATTACH_S), True)
        return replace(self, break_over=True)

    def over(self, mono: float) -> bool:
        return mono >= self.ends.mono

    def corrected(self, step_s: float, now: datetime, mono: float) -> BreakStandby:
        return replace(self, ends=self.ends.corrected(step_s, now, mono))

    def state(self, mono: float) -> Standby:
        remaining = round(max(0.0, self.ends.mono - mono), 1)
        return Standby(devices=self.devices, until=self.ends.stamp, remaining_s=remaining, break_over=self.break_over)

    def meta(self) -> dict[str, Any]:
        """Kept with the session, so a restarted daemon keeps standby to its end, not longer."""
        return {"devices": list(self.devices), "until": self.ends.stamp.timestamp(), "break_over": self.break_over}

    @classmethod
    def from_meta(cls, data: Any, now: datetime, mono: float) -> BreakStandby | None:
        if not isinstance(data, dict):
            return None
        try:
            devices = tuple(str(d) for d in data["devices"])
            until = datetime.fromtimestamp(float(data["until"]), UTC)
        except (KeyError, TypeError, ValueError):
            return None
        return cls(devices, Moment.at(until, now, mono), bool(data.get("break_over")))
