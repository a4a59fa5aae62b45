"""A MockPWMPin timestamped by a FakeClock."""

from __future__ import annotations

from gpiozero.pins.mock import MockPWMPin, PinState

from roomctl.clock import FakeClock


class ClockedMockPWMPin(MockPWMPin):  # type: ignore[misc]
    """MockPWMPin whose history is timestamped by the test's FakeClock instead of the machine's (a loaded test machine
    delays event-loop wake-ups by tens of milliseconds; the burst's own schedule is what is tested here)."""

    clock = FakeClock()
    _state: float
    _last_change: float
    states: list[PinState]

    def _change_state(self, value: float) -> bool:
        if self._state != value:
            t = self.clock.monotonic()
            self._state = value
            self.states.append(PinState(t - self._last_change, value))
            self._last_change = t
            return True
        return False

    def clear_states(self) -> None:
        self._last_change = self.clock.monotonic()
        self.states = [PinState(0.0, self._state)]
