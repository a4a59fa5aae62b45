"""The durable outbox between storage and MQTT.

Storage writes every hub event it keeps (readings, RR intervals, device states, alarm events, session state and events,
lighting state) to SQLite and, in the same transaction, to the outbox with a per-room ``seq`` that is strictly increasing
across restarts. The MQTT publisher reads pending records, publishes them, and marks them sent only on PUBACK, so an
outage delays messages but loses none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    seq: int
    kind: str  # the hub event's ``kind``: reading, rr_intervals, device, alarm, event, session, lighting
    session: str | None  # the session current when the event was stored
    payload: str  # the event model's JSON (``model_dump_json()``)


class Outbox(Protocol):
    @property
    def last_seq(self) -> int:
        """The newest seq written so far, sent or not (0 when the outbox is empty)."""
        ...

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        """Unsent records with ``seq > after_seq``, oldest first."""
        ...

    async def mark_sent(self, seqs: Sequence[int]) -> None: ...

    async def append(self, kind: str, payload: str) -> int:
        """Add an outbox-only record (no table row), e.g. the publisher's start-up ``alarms_active`` list; its seq."""
        ...

    async def wait_new(self, after_seq: int) -> None:
        """Return once a record with ``seq > after_seq`` exists, sent or not (at once if one does)."""
        ...


def pending_in(unsent: Mapping[int, OutboxRecord], after_seq: int, limit: int) -> list[OutboxRecord]:
    """:meth:`Outbox.pending` over unsent records kept in memory by seq, oldest first."""
    found: list[OutboxRecord] = []
    for seq, record in unsent.items():
        if seq > after_seq:
            found.append(record)
            if len(found) >= limit:
                break
    return found
