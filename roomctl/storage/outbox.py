"""The durable outbox between storage and MQTT.

Storage writes every hub event it keeps (readings, RR intervals, device states, alarm events, session state and events,
lighting state) to SQLite and, in the same transaction, to the outbox with a per-room ``seq`` that is strictly increasing
across restarts. The MQTT publisher reads pending records, publishes them, and marks them sent only on PUBACK, so an
outage delays messages but loses none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol


class OutboxRecord(NamedTuple):
    """One outbox record (a named tuple: one is made for every stored event)."""

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


def pending_in(unsent: Mapping[int, OutboxRecord], after_seq: int, limit: int, last_seq: int) -> list[OutboxRecord]:
    """:meth:`Outbox.pending` over unsent records kept in memory by seq, oldest first (``last_seq``: the newest
    written). Seqs are consecutive as written, so the records after a lane's cursor are looked up by seq, not
    found by walking every unsent record from the oldest (both lanes ask after every write)."""
    found: list[OutboxRecord] = []
    if last_seq - after_seq <= 4 * limit:
        get = unsent.get
        for seq in range(after_seq + 1, last_seq + 1):
            record = get(seq)
            if record is not None:
                found.append(record)
                if len(found) >= limit:
                    break
        return found
    for seq, record in unsent.items():  # far behind: mostly sent records in between
        if seq > after_seq:
            found.append(record)
            if len(found) >= limit:
                break
    return found
