"""The demo's mock pins keep a bounded history: hours of 60 Hz fades must not grow memory without end."""

from __future__ import annotations

from gpiozero import PWMOutputDevice

from roomctl.lighting.outputs import MOCK_HISTORY, make_pin_factory


def test_mock_factory_pins_keep_a_bounded_history_of_real_states() -> None:
    device = PWMOutputDevice(18, frequency=3000, pin_factory=make_pin_factory("mock"))
    try:
        for i in range(MOCK_HISTORY + 500):
            device.value = (i % 100) / 100
        states = device.pin.states
        assert len(states) == MOCK_HISTORY
        assert states[-1].state == device.value
        device.pin.clear_states()
        assert len(device.pin.states) == 1
    finally:
        device.close()
