"""A wearable characteristic's notification rate, bounded before decoding: the latest kept, the rest counted.

A wearable cannot have more to say than its profile's ``max_notify_hz`` (a strap, one beat at 300 bpm; an oximeter's
stream, its packet rate). A firmware fault or a hostile device can send far more (a strap was seen at 1,760
notifications a second): :class:`RateBound` lets at most ``max_notify_hz`` notifications a second through to the decoder
(a token bucket holding one second's worth), holds the newest of the rest and hands it over when the next token comes,
and counts what it coalesced. Costs a clock read and a few comparisons per notification.

It also measures the arrival rate over one-second windows; the link uses that to pause a flooding subscription (see
:mod:`roomctl.sensors.link`) and raise the "sending too fast" technical alarm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WINDOW_S = 1.0


class RateBound:
    def __init__(
        self,
        max_hz: float,
        monotonic: Callable[[], float],
        release: Callable[[bytearray | bytes], None],
        on_window: Callable[[float], None] | None = None,
    ) -> None:
        if max_hz <= 0:
            raise ValueError("max_hz must be positive")
        self.max_hz = max_hz
        self._mono = monotonic
        self._release_to = release
        self._on_window = on_window
        now = monotonic()
        self._tokens = max(1.0, max_hz)
        self._at = now
        self._held: bytearray | bytes | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.received = 0
        """Notifications offered."""
        self.coalesced = 0
        """Notifications never decoded: a newer one replaced them."""
        self._window_start = now
        self._window_count = 0
        self.rate = 0.0
        """Arrivals per second in the last complete window."""

    def admit(self, data: bytearray | bytes) -> bool:
        """True: decode ``data`` now. False: it is held (the newest wins) and released when the bound allows."""
        now = self._mono()
        self.received += 1
        self._window_count += 1
        if now - self._window_start >= WINDOW_S:
            self.roll(now)
        tokens = min(max(1.0, self.max_hz), self._tokens + (now - self._at) * self.max_hz)
        self._at = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            if self._held is not None:  # older than this one: never decoded
                self._drop_held()
            return True
        self._tokens = tokens
        if self._held is not None:
            self.coalesced += 1
        self._held = data
        if self._timer is None:
            delay = (1.0 - tokens) / self.max_hz
            self._timer = asyncio.get_running_loop().call_later(delay, self._release)
        return False

    def roll(self, now: float) -> None:
        """Close the rate window if it is over (also called by the link's watchdog when nothing arrives)."""
        elapsed = now - self._window_start
        if elapsed < WINDOW_S:
            return
        self.rate = self._window_count / elapsed
        self._window_start, self._window_count = now, 0
        if self._on_window is not None:
            self._on_window(self.rate)

    def reset(self, tokens: float | None = None) -> None:
        """Forget what is held and the window (a paused or new subscription); ``tokens``: how many notifications may
        pass at once from now (default: a full second's worth)."""
        if self._held is not None:
            self._drop_held()
        now = self._mono()
        self._window_start, self._window_count = now, 0
        self._tokens = max(1.0, self.max_hz) if tokens is None else tokens
        self._at = now

    def _drop_held(self) -> None:
        self._held = None
        self.coalesced += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def release(self) -> None:
        """Decode what is held now (the subscription is about to pause: nothing is kept for later)."""
        if self._timer is not None:
            self._timer.cancel()
        self._release()

    def _release(self) -> None:
        self._timer = None
        held, self._held = self._held, None
        if held is None:
            return
        now = self._mono()
        self._tokens = min(max(1.0, self.max_hz), self._tokens + (now - self._at) * self.max_hz) - 1.0
        self._at = now
        self._release_to(held)
