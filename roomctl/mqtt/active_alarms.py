"""The retained ``alarms/active`` list, kept from the alarm events in ``seq`` order (seeded from the hub's live state).

Which events belong to this run is decided by ``seq`` (the outbox's order), never by wall time: NTP stepping the clock
back an hour must not make a new alarm look older than the start and drop it from the list.

Each list carries the ``seq`` of the record it follows: the alarm event that changed it, or, right after a start, the
``alarms_active`` record the publisher appends to the outbox for it. So ``seq`` grows along the topic, across restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roomctl.models import Alarm
from roomctl.mqtt.feed import dumps


class RetainedAlarmList:
    """The alarms the retained ``alarms/active`` message lists (its payload model is ``payloads.ActiveAlarms``)."""

    def __init__(self, seed: Iterable[Alarm], after_seq: int) -> None:
        self._alarms: dict[str, dict[str, Any]] = {a.id: a.model_dump(mode="json") for a in seed}
        self._after_seq = after_seq

    def apply(self, event: dict[str, Any], seq: int) -> bool:
        """Follow one alarm event (as the outbox holds it); False if it is from before this run and changes nothing."""
        if seq <= self._after_seq:
            return False  # published on alarms, but stored before this run started: the seed already says what is shown
        alarm = event["alarm"]
        if event["action"] == "cleared":
            self._alarms.pop(alarm["id"], None)
        else:
            self._alarms[alarm["id"]] = alarm
        return True

    def payload(self, seq: int, ts: str) -> bytes:
        return dumps({"ts": ts, "seq": seq, "alarms": list(self._alarms.values())})
