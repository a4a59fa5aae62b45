"""What waits in memory for the disk: every accepted row, in order, bounded by time and bytes.

Rows wait here between being accepted and being committed: half a second normally, as long as the disk is away when it
fails. The bound (:data:`MAX_AGE_S`, :data:`MAX_BYTES`, estimated from each row's payload) holds well over 30 minutes
of a normal room (``bench/bench_backlog.py``). Past it the oldest *readings* go first (heart rate, SpO2, RR intervals:
:data:`SHEDDABLE`); events, alarms, session, device and lighting states are kept longest and go, oldest first, only
when nothing sheddable is left. What went is counted as one :class:`Gap`: its span and the count of each kind.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from roomctl.storage.database import Row, Staged

MAX_AGE_S = 3600.0
"""Readings older than this (by when they were accepted) are shed while the disk is away."""
MAX_BYTES = 8 * 1024 * 1024
"""The backlog's estimated size bound (the payload plus :data:`ROW_OVERHEAD` a row)."""
ROW_OVERHEAD = 630
"""Bytes a waiting row costs beyond its payload text (row, columns, staged tuple, outbox record), measured by
``bench/bench_backlog.py``."""
SHED_TO = 0.9
"""Shedding takes the backlog to this share of a bound, so it happens once per 10 % of growth, not per row."""
SHEDDABLE = frozenset({"reading", "rr_intervals"})


@dataclass
class Gap:
    """Rows shed from the backlog: the span of their times (a reading's own) and how many of each kind."""

    first: float = float("inf")
    last: float = float("-inf")
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, item: Staged) -> None:
        row = item.row
        # a reading's own time (its first column) where it has one, else when it was accepted
        at = row.columns[0] if row.kind in SHEDDABLE and row.columns else item.created_at
        self.first = min(self.first, at)
        self.last = max(self.last, at)
        self.counts[row.kind] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def row_bytes(row: Row) -> int:
    return len(row.payload) + ROW_OVERHEAD


class Backlog:
    """Rows not yet on disk, oldest first, numbered (seq > 0) once the record's numbering is known."""

    def __init__(self, *, max_age_s: float = MAX_AGE_S, max_bytes: int = MAX_BYTES) -> None:
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self.items: list[Staged] = []
        self.bytes = 0
        self.gap = Gap()
        """Shed since the gap was last taken (:meth:`take_gap`)."""
        self.shed_total = 0
        self._oldest_sheddable = float("inf")

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Staged]:
        return iter(self.items)

    def add(self, items: Sequence[Staged]) -> None:
        """Rows accepted together (one batch: one acceptance time)."""
        if not items:
            return
        self.items.extend(items)
        self.bytes += sum([len(item.row.payload) for item in items]) + ROW_OVERHEAD * len(items)
        if self._oldest_sheddable == float("inf"):  # a first estimate; shedding finds the real one
            self._oldest_sheddable = items[0].created_at
        newest = items[-1].created_at
        if self.bytes > self.max_bytes or newest - self._oldest_sheddable > self.max_age_s:
            self._shed(newest)

    def renumber(self, after_seq: int) -> None:
        """Give every row its seq, in order, after the record's last (the record opened for the first time)."""
        self.items = [item._replace(seq=after_seq + i) for i, item in enumerate(self.items, 1)]

    def written(self, count: int) -> None:
        """The first ``count`` rows are on disk."""
        if count >= len(self.items):  # the usual case: every row of the batch
            self.items = []
            self.bytes = 0
            self._oldest_sheddable = float("inf")
            return
        self.bytes -= sum(row_bytes(item.row) for item in self.items[:count])
        del self.items[:count]

    def after(self, seq: int, limit: int) -> list[Staged]:
        """Numbered rows with a seq above ``seq``, oldest first (for the outbox while they are not on disk)."""
        start = bisect.bisect_right(self.items, seq, key=lambda item: item.seq)
        return self.items[start : start + limit]

    def take_gap(self) -> Gap | None:
        if not self.gap.counts:
            return None
        gap, self.gap = self.gap, Gap()
        return gap

    def _shed(self, newest: float) -> None:
        """Shed the oldest readings to below both bounds (with a margin), then, only if still over the bytes, the
        oldest of the rest."""
        too_old = newest - self.max_age_s * SHED_TO
        excess = self.bytes - int(self.max_bytes * SHED_TO)
        kept: list[Staged] = []
        oldest_kept = float("inf")
        for item in self.items:
            if item.row.kind in SHEDDABLE:
                if excess > 0 or item.created_at < too_old:
                    self._drop(item)
                    excess -= row_bytes(item.row)
                    continue
                oldest_kept = min(oldest_kept, item.created_at)
            kept.append(item)
        if excess > 0:
            cut = 0
            while cut < len(kept) and excess > 0:
                self._drop(kept[cut])
                excess -= row_bytes(kept[cut].row)
                cut += 1
            kept = kept[cut:]
        self.items = kept
        self._oldest_sheddable = oldest_kept

    def _drop(self, item: Staged) -> None:
        self.gap.add(item)
        self.shed_total += 1
        self.bytes -= row_bytes(item.row)
