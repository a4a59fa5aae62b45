"""After a daemon restart within a session: which alarms were still shown, from the stored alarm log."""

from __future__ import annotations

from collections.abc import Iterable

from roomctl.models import Alarm, AlarmAction, AlarmCategory, AlarmEvent


def shown_after(events: Iterable[AlarmEvent]) -> list[Alarm]:
    """The physiological alarms still shown at the end of ``events`` (the session's alarm log, oldest first).

    Technical alarms are not carried over: they describe the previous run (a wearable lost, a broker down) and are judged
    afresh from what this run sees.
    """
    last: dict[str, Alarm] = {}
    for event in events:
        if event.action is AlarmAction.CLEARED:
            last.pop(event.alarm.id, None)
        else:
            last[event.alarm.id] = event.alarm
    return [a for a in last.values() if a.category is AlarmCategory.PHYSIOLOGICAL]
