"""A small in-memory Outbox (the protocol of roomctl.storage.outbox) for unit tests and the child publisher."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from roomctl.models import HubEvent
from roomctl.storage.outbox import OutboxRecord


class MemoryOutbox:
    def __init__(self) -> None:
        self.records: dict[int, OutboxRecord] = {}
        self.sent: set[int] = set()
        self.mark_calls = 0
        self._seq = 0
        self._changed = asyncio.Event()

    def add(self, event: HubEvent, session: str | None = None) -> OutboxRecord:
        self._seq += 1
        record = OutboxRecord(self._seq, event.kind, session, event.model_dump_json())
        self.records[record.seq] = record
        self._changed.set()
        return record

    def add_raw(self, kind: str, payload: str) -> OutboxRecord:
        self._seq += 1
        record = OutboxRecord(self._seq, kind, None, payload)
        self.records[record.seq] = record
        self._changed.set()
        return record

    async def append(self, kind: str, payload: str) -> int:
        return self.add_raw(kind, payload).seq

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def unsent(self) -> list[int]:
        return sorted(set(self.records) - self.sent)

    async def pending(self, after_seq: int, limit: int) -> list[OutboxRecord]:
        return [self.records[s] for s in self.unsent if s > after_seq][:limit]

    async def mark_sent(self, seqs: Sequence[int]) -> None:
        self.mark_calls += 1
        self.sent.update(seqs)
        self._changed.set()

    async def wait_new(self, after_seq: int) -> None:
        # Any record, sent or not: the loosest reading of the protocol (the publisher must not spin on it).
        while self._seq <= after_seq:
            self._changed.clear()
            await self._changed.wait()

    async def wait_all_sent(self) -> None:
        while self.unsent:
            self._changed.clear()
            await self._changed.wait()
