"""Bounded trend buffers: mean per time bucket; the whole-session buffer halves its resolution when full.

The hub keeps :class:`Trends` in its live state, so the daemon has the recent and the session trend of each vital and
the local API sends them to a screen when it connects (a restarted screen does not start with empty trends); the
screen keeps its copy up to date by the same rules, from the events that follow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from roomctl.models import Quality, Reading
from roomctl.quantities import TREND_QUANTITIES

RECENT_BUCKET_S, RECENT_SPAN_S = 10.0, 15 * 60.0
WHOLE_BUCKET_S, WHOLE_MAX_POINTS = 30.0, 720

Bucket = tuple[int, float, int]
"""(bucket index = time // bucket_s, sum of values, count)"""


class Trend:
    """Means per ``bucket_s`` bucket. With ``span_s`` the buffer keeps only that long; without, it keeps at most
    ``max_points`` buckets by merging neighbours (doubling the bucket) when full: memory stays bounded for any session."""

    def __init__(self, bucket_s: float, *, span_s: float | None = None, max_points: int = 720) -> None:
        self.bucket_s = bucket_s
        self.span_s = span_s
        self.max_points = max_points
        self._buckets: deque[tuple[int, float, int]] = deque()  # (bucket index, sum, count)
        self.resets = 0
        """Counts changes to finished buckets (load, clear, coarsening): a drawing of the finished buckets stays valid
        while this and the time bucket stay the same."""

    def add(self, t: float, value: float) -> None:
        index = int(t // self.bucket_s)
        buckets = self._buckets
        if buckets:
            last, total, count = buckets[-1]
            if last == index:  # most readings: the current bucket grows
                buckets[-1] = (index, total + value, count + 1)
                return
            if index < last:
                return  # out of order (a clock jump backwards): the trend is a glance, not the record
        buckets.append((index, value, 1))
        if self.span_s is not None:
            oldest = index - int(self.span_s // self.bucket_s)
            while buckets and buckets[0][0] <= oldest:
                buckets.popleft()
        elif len(buckets) > self.max_points:
            self._coarsen()

    def _coarsen(self) -> None:
        self.resets += 1
        self.bucket_s *= 2
        merged: dict[int, tuple[float, int]] = {}
        for index, total, count in self._buckets:
            t, c = merged.get(index // 2, (0.0, 0))
            merged[index // 2] = (t + total, c + count)
        self._buckets = deque((i, t, c) for i, (t, c) in merged.items())

    def clear(self) -> None:
        self.resets += 1
        self._buckets.clear()

    def buckets(self) -> list[Bucket]:
        return list(self._buckets)

    def load(self, bucket_s: float, buckets: Iterable[Bucket]) -> None:
        """Take over another trend's buckets (as :meth:`buckets` gave them, with its bucket size)."""
        self.resets += 1
        self.bucket_s = bucket_s
        self._buckets = deque(buckets)

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def newest(self) -> int | None:
        """The newest bucket's index: it changes when a bucket begins (a drawing made before that reading arrived,
        at the same clock time, is out of date)."""
        return self._buckets[-1][0] if self._buckets else None

    def series(self, until: float | None = None) -> list[float | None]:
        """Bucket means from the oldest bucket (or ``span_s`` back from ``until``) to ``until``; gaps are None."""
        if not self._buckets:
            return []
        last = int(until // self.bucket_s) if until is not None else self._buckets[-1][0]
        first = self._buckets[0][0]
        if self.span_s is not None and until is not None:
            first = last - int(self.span_s // self.bucket_s) + 1
        by_index = {i: total / count for i, total, count in self._buckets}
        return [by_index.get(i) for i in range(first, last + 1)]

    def range(self, until: float | None = None) -> tuple[float, float] | None:
        values = [v for v in self.series(until) if v is not None]
        return (min(values), max(values)) if values else None


class Trends:
    """The recent (15 min of 10 s means) and the session trend (30 s means, coarsening) of each vital on the screen."""

    def __init__(self) -> None:
        self.recent = {q: Trend(RECENT_BUCKET_S, span_s=RECENT_SPAN_S) for q in TREND_QUANTITIES}
        self.whole = {q: Trend(WHOLE_BUCKET_S, max_points=WHOLE_MAX_POINTS) for q in TREND_QUANTITIES}

    def add(self, reading: Reading) -> None:
        recent = self.recent.get(reading.quantity)
        if recent is None or reading.value is None or reading.quality is Quality.INVALID:
            return  # a missing value is a gap in the trend, never a point
        t, value = reading.ts.timestamp(), reading.value
        recent.add(t, value)
        self.whole[reading.quantity].add(t, value)

    def new_session(self) -> None:
        """A session started or ended: the session trend starts again."""
        for whole in self.whole.values():
            whole.clear()
