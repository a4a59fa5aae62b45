"""An outbox in memory for simulated rooms: the :class:`~roomctl.storage.outbox.Outbox` protocol, forgetting what was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from roomctl.models import HubEvent
from roomctl.storage.outbox import OutboxRecord, pending_in


class MemoryOutbox:
    """Unsent records in seq order; a record is dropped once the broker acknowledged it (memory stays bounded)."""

    def __init__(self, first_seq: int = 1) -> None:
        self._unsent: dict[int, OutboxRecord] = {}  # insertion order is seq order
        self._seq = first_seq - 1
        self._changed = asyncio.Event()

    def add(self, event: HubEvent, session: str | None) -> OutboxRecord:
        self._seq += 1
        record = OutboxRecord(self._seq, event.kind, session, event.model_dump_json())
        self._unsent[record.seq] = record
        self._changed.set()
        return record

    async def append(self, kind: str, payload: str) -> int:
        """An outbox-only record (the publisher's start-up ``alarms_active`` list)."""
        self._seq += 1
        self._unsent[self._seq] = OutboxRecord(self._seq, kind, None, payload)
        self._changed.set()
        return self._seq

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def unsent(self) -> int:
        return len(self._unsent)

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        return pending_in(self._unsent, after_seq, limit, self._seq)

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        for seq in seqs:
            self._unsent.pop(seq, None)

    async def wait_new(self, after_seq: int) -> None:
        while self._seq <= after_seq:
            self._changed.clear()
            await self._changed.wait()
