"""Pacing: a token bucket, so a replay after an outage does not flood the broker or the dashboards."""

from __future__ import annotations

from roomctl.clock import Clock


class TokenBucket:
    """``rate`` messages per second on average, bursts of up to one second's worth."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock.monotonic()

    def take(self) -> float:
        """Take one token; returns 0, or how many seconds to wait before sending."""
        now = self._clock.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate
