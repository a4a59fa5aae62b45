"""How an alarm and a clock read on a terminal, the same on the room's screen and the station."""

from __future__ import annotations

from roomctl.models import Priority

PREFIX = {Priority.HIGH: "***", Priority.MEDIUM: "**", Priority.LOW: "*"}
FLASH_HALF_PERIOD_S = {Priority.HIGH: 0.25, Priority.MEDIUM: 0.83}  # ~2 Hz and ~0.6 Hz; low priority is steady


def format_clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
