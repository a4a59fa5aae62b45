"""Log lines that an outsider can provoke (rejected input, dropped commands) are rate-limited: one per period, with a count."""

from __future__ import annotations

import time
from collections.abc import Callable


class Every:
    """Allows something at most once per ``period_s``; counts what it held back since the last time it allowed it."""

    def __init__(self, period_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.period_s = period_s
        self._monotonic = monotonic
        self._last: float | None = None
        self.held = 0

    def ready(self) -> bool:
        """True when allowed now; then :attr:`held` says how many were held back before (reset it after reporting)."""
        now = self._monotonic()
        if self._last is None or now - self._last >= self.period_s:
            self._last = now
            return True
        self.held += 1
        return False

    def take_held(self) -> int:
        held, self.held = self.held, 0
        return held


def excerpt(text: str, limit: int = 160) -> str:
    """``text`` cut to ``limit`` characters (with the length when cut): what a log line may quote of outside input."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
