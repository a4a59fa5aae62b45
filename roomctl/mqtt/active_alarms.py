"""The retained ``alarms/active`` list, kept from the alarm events in ``seq`` order (seeded from the hub's live state)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roomctl.models import Alarm
from roomctl.mqtt.topics import alarm_body, dumps


class ActiveAlarms:
    def __init__(self, seed: Iterable[Alarm], started_at: str) -> None:
        self._alarms = {a.id: alarm_body(a.model_dump(mode="json")) for a in seed}
        self._started_at = started_at

    def apply(self, event: dict[str, Any]) -> bool:
        """Follow one alarm event (as the outbox holds it); False if it is from before this run and changes nothing."""
        if event["ts"] < self._started_at:
            return False  # published on alarms, but a previous run's alarm engine raised it: not active in this one
        alarm = event["alarm"]
        if event["action"] == "cleared":
            self._alarms.pop(alarm["id"], None)
        else:
            self._alarms[alarm["id"]] = alarm_body(alarm)
        return True

    def payload(self, seq: int | None, ts: str) -> bytes:
        return dumps({"ts": ts, "seq": seq, "alarms": list(self._alarms.values())})
