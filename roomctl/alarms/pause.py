"""The timed audio pause that acknowledging all starts: at most 2 minutes, broken through by a higher priority.

Only the audible / attention-grabbing part pauses; the alarms themselves stay on the screen. Timing is monotonic; the
wall-clock ``until`` is for records only (the screen counts down ``remaining_s`` on its own monotonic clock).
"""

from __future__ import annotations

from datetime import timedelta

from roomctl.clock import Clock
from roomctl.models import AudioPause

MAX_PAUSE_S = 120.0

ENDED = AudioPause(until=None, remaining_s=0.0)


class AudioPauseTimer:
    def __init__(self, clock: Clock, duration_s: float) -> None:
        if not 0 < duration_s <= MAX_PAUSE_S:
            raise ValueError(f"the audio pause must last between 0 and {MAX_PAUSE_S:g} s, not {duration_s:g} s")
        self._clock = clock
        self.duration_s = duration_s
        self._deadline: float | None = None

    @property
    def active(self) -> bool:
        return self._deadline is not None

    def remaining_s(self) -> float:
        if self._deadline is None:
            return 0.0
        return max(0.0, self._deadline - self._clock.monotonic())

    def start(self, remaining_s: float | None = None) -> AudioPause:
        """(Re)start the pause for the configured time, or for what is left of one (``remaining_s``, after a restart)."""
        left = self.duration_s if remaining_s is None else min(self.duration_s, max(0.0, remaining_s))
        self._deadline = self._clock.monotonic() + left
        return AudioPause(until=self._clock.now() + timedelta(seconds=left), remaining_s=left)

    def break_through(self, rank: int, ceiling: int) -> AudioPause | None:
        """An alarm of priority ``rank`` was raised or escalated; above ``ceiling`` (the highest acknowledged alarm still
        shown, i.e. what the pause silences) it ends the pause."""
        if self._deadline is not None and rank > ceiling:
            return self._end()
        return None

    def tick(self) -> AudioPause | None:
        if self._deadline is not None and self._clock.monotonic() >= self._deadline:
            return self._end()
        return None

    def _end(self) -> AudioPause:
        self._deadline = None
        return ENDED
