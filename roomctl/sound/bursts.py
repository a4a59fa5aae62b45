"""The priority-encoded bursts, as data (reference/alarm-signals.md, IEC 60601-1-8 Tables 3 and 4 as widely cited).

| | pulses | pulse (td) | spacing (ts) | burst repeats after | f0 |
|---|---|---|---|---|---|
| high | 10: 3 + 2, 0.5 s, 3 + 2 (3rd→4th and 8th→9th: 2·ts + td) | 150 ms | 100 ms | 5 s | 660 Hz |
| medium | 3 | 200 ms | 200 ms | 10 s | 523 Hz |
| low | 2 | 200 ms | 200 ms | 20 s | 440 Hz |

Spacing is from the end of one pulse to the start of the next; "repeats after" is from the end of a burst to the start of
the next. Each pulse rises and falls over 15 % of its length.
"""

from __future__ import annotations

from dataclasses import dataclass

from roomctl.models import Priority

RISE_FRACTION = 0.15
"""Rise (and fall) time as a fraction of the pulse: 10-20 % in the standard."""


@dataclass(frozen=True)
class Burst:
    name: str
    f0: float
    pulses: tuple[tuple[float, float], ...]
    """(start, duration) of each pulse in seconds from the start of the burst."""
    interval_s: float
    """From the end of this burst to the start of the next one while the alarm sounds."""

    @property
    def duration_s(self) -> float:
        start, length = self.pulses[-1]
        return start + length


def _train(td: float, gaps: list[float]) -> tuple[tuple[float, float], ...]:
    """Pulses of length ``td`` separated by ``gaps`` (end of one to start of the next)."""
    pulses, t = [(0.0, td)], td
    for gap in gaps:
        t += gap
        pulses.append((round(t, 6), td))
        t += td
    return tuple(pulses)


_TD_HIGH, _TS_HIGH, _PAUSE_HIGH = 0.15, 0.10, 0.5
_SPECIAL = 2 * _TS_HIGH + _TD_HIGH  # 3rd -> 4th and 8th -> 9th
_HIGH_GAPS = [_TS_HIGH, _TS_HIGH, _SPECIAL, _TS_HIGH, _PAUSE_HIGH, _TS_HIGH, _TS_HIGH, _SPECIAL, _TS_HIGH]

BURSTS: dict[Priority, Burst] = {
    Priority.HIGH: Burst("high", 660.0, _train(_TD_HIGH, _HIGH_GAPS), 5.0),
    Priority.MEDIUM: Burst("medium", 523.0, _train(0.2, [0.2, 0.2]), 10.0),
    Priority.LOW: Burst("low", 440.0, _train(0.2, [0.2]), 20.0),
}

SELF_TEST = Burst("self-test", 440.0, ((0.0, 0.3),), 0.0)
"""One short tone at start-up, so staff hear that the alarm sound works."""
