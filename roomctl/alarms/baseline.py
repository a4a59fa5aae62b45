"""The patient's own baseline: the median of one quantity over the first minutes of a session."""

from __future__ import annotations

import statistics


class Baseline:
    """Collects valid values from session start for ``window_s`` (monotonic), then holds their median.

    Before a session starts, and during the window, :attr:`value` is None and rules use their hard limits.
    """

    def __init__(self, window_s: float, max_samples: int = 20_000) -> None:
        self.window_s = window_s
        self.max_samples = max_samples
        self.value: float | None = None
        self._samples: list[float] = []
        self._ends_at: float | None = None

    @property
    def collecting(self) -> bool:
        return self._ends_at is not None

    def start(self, now: float) -> None:
        """A new session: forget the old baseline and collect a new one."""
        self.value = None
        self._samples = []
        self._ends_at = now + self.window_s

    def stop(self) -> None:
        """No session: no baseline."""
        self.value = None
        self._samples = []
        self._ends_at = None

    def add(self, value: float, now: float) -> bool:
        """Offer one valid value; True when this completed the baseline (the limits should be recomputed)."""
        ends_at = self._ends_at
        if ends_at is None:
            return False
        if now < ends_at:
            if len(self._samples) < self.max_samples:
                self._samples.append(value)
            return False
        self._ends_at = None
        if self._samples:
            self.value = statistics.median(self._samples)
        self._samples = []
        return self.value is not None
