"""The dosing timeline as pure functions: which phase elapsed time since the first dose suggests; the moments of a
running session on the monotonic clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from roomctl.config.session import PhaseConfig


def time_phase(phases: Sequence[PhaseConfig], minutes_since_dose: float) -> str | None:
    """The last phase whose ``suggest_after_dose_min`` has passed, or None when none has."""
    found = None
    for phase in phases:
        after = phase.suggest_after_dose_min
        if after is not None and minutes_since_dose >= after:
            found = phase.id
    return found


def suggest(phases: Sequence[PhaseConfig], current: str | None, minutes_since_dose: float | None) -> str | None:
    """The phase time suggests, when it lies *ahead* of the current one; the team decides, time only suggests."""
    if minutes_since_dose is None:
        return None
    target = time_phase(phases, minutes_since_dose)
    ids = [p.id for p in phases]
    if target is None or target == current:
        return None
    if current in ids and ids.index(target) <= ids.index(current):
        return None  # never suggest going back
    return target


@dataclass(frozen=True)
class Moment:
    """One moment of the running session's timeline (its start, a dose, a blood pressure, the next vitals check): its
    wall ``stamp`` and its ``mono`` time. One ``measured`` in this run has an exact monotonic time, and its stamp moves
    with a correction of the wall clock; one that came with a resumed session (stamped by the run before, the only
    record of it) keeps its stamp as right, and its monotonic time follows the stamp."""

    stamp: datetime
    mono: float
    measured: bool = True

    @classmethod
    def at(cls, stamp: datetime, now: datetime, mono: float) -> Moment:
        """A moment a resumed session brought, placed on this run's monotonic clock by the wall clock."""
        return cls(stamp, mono + (stamp - now).total_seconds(), measured=False)

    def corrected(self, step_s: float, now: datetime, mono: float) -> Moment:
        """The same moment after the wall clock moved by ``step_s`` (now ``now`` at monotonic ``mono``)."""
        if self.measured:
            return Moment(self.stamp + timedelta(seconds=step_s), self.mono)
        return Moment.at(self.stamp, now, mono)
