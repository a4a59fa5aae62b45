"""Which priority the room's attention signals (sound, flashing, alarm light) announce now: one definition for all of them."""

from __future__ import annotations

from collections.abc import Iterable

from roomctl.models import PRIORITY_RANK, Alarm, Priority


def sounding(alarms: Iterable[Alarm], paused: bool) -> Priority | None:
    """The highest priority among the unacknowledged alarms shown; None while the room's audio pause runs or when all is quiet.

    Acknowledged alarms are silent until they re-annunciate (their ``acknowledged_at`` goes back to None); a lower priority
    never masks a higher one because only the highest sounds.
    """
    if paused:
        return None
    waiting = [a.priority for a in alarms if a.acknowledged_at is None]
    return max(waiting, key=PRIORITY_RANK.__getitem__, default=None)
