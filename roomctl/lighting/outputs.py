"""Light channels on GPIO through gpiozero: pin factories by name, one PWM output per pin, levels written as duty.

Each output knows its pin factory's duty resolution (:func:`duty_resolution`): the duty is rounded to what the pin can
show, a write that does not change it is skipped, and :meth:`ChannelOutput.next_level` tells a fade the next level at
which the light would actually change, so a fade sleeps until then instead of writing at a fixed rate.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

from roomctl.config.lighting import FACTORY_TRAITS, ChannelConfig, HardwareBoard, PinFactoryName
from roomctl.errors import RoomctlError
from roomctl.lighting.perceptual import duty_to_level, level_to_duty

log = logging.getLogger(__name__)

# Output names of the pins of grouped channels, in the order of `pins` in the configuration.
OUTPUT_SUFFIXES: dict[str, tuple[str, ...]] = {"dimmable": ("",), "warm_cool": ("warm", "cool"), "rgb": ("r", "g", "b")}

# gpiozero's pin factories by roomctl name: (module, class). Imported only when asked for.
# The library each one drives, which `config check` looks for (gpiozero imports it only when the factory starts).
FACTORY_LIBRARY = {"lgpio": "lgpio", "pigpio": "pigpio", "rpigpio": "RPi.GPIO"}
_FACTORIES: dict[str, tuple[str, str]] = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory"),
    "native": ("gpiozero.pins.native", "NativeFactory"),
}


LEVEL_RESOLUTION = 0.001
"""For factories with (practically) exact duty: a fade moves in steps of 0.1 L*, a tenth of the smallest difference in
lightness one can see, so it stays perceptually smooth while waking only when the light visibly could change."""


def duty_resolution(pin_factory: Any, frequency_hz: int) -> int | None:
    """Distinct duty steps between off and fully on that ``pin_factory`` gives at ``frequency_hz``; None: exact."""
    by_class = {class_name: name for name, (_module, class_name) in _FACTORIES.items()}
    name = by_class.get(type(pin_factory).__name__)
    if name is not None:
        return FACTORY_TRAITS[name].steps_at(name, frequency_hz)
    period_ns = getattr(pin_factory, "duty_steps_at", None)  # roomctl's own hardware factory: nanoseconds per period
    return int(period_ns(frequency_hz)) if callable(period_ns) else None


class LightingError(RoomctlError):
    """The lights cannot be driven: no GPIO on this machine, a pin in use, a factory that cannot do PWM."""


def output_keys(channel: ChannelConfig) -> tuple[str, ...]:
    """Names of a channel's outputs: ``lamp`` for a dimmable channel, ``ceiling.warm``/``ceiling.cool``, ``strip.r``..."""
    return tuple(f"{channel.id}.{s}" if s else channel.id for s in OUTPUT_SUFFIXES[channel.kind])


def make_pin_factory(name: PinFactoryName, *, board: HardwareBoard = "pi4", chip: int | None = None) -> Any:
    """A gpiozero pin factory by name. ``mock`` records every PWM change (MockPWMPin); the others need a Raspberry Pi.

    ``board`` and ``chip`` matter only for ``hardware`` (roomctl's own factory for /sys/class/pwm)."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory(pin_class=_bounded_mock_pwm_pin())
    if name == "hardware":
        from roomctl.lighting.sysfs_pwm import SysfsPWMFactory

        return SysfsPWMFactory(board=board, chip=chip)
    module_name, class_name = _FACTORIES[name]
    try:
        factory_class = getattr(importlib.import_module(module_name), class_name)
        return factory_class()
    except Exception as e:  # foreign library boundary: lgpio, pigpio and RPi.GPIO raise their own types
        raise LightingError(
            f"the '{name}' pin factory is not available on this machine ({e}). This needs a Raspberry Pi with "
            f"{PACKAGE_HINT.get(name, 'GPIO')}; use the 'mock' pin factory (or --mock) to try without one"
        ) from e


MOCK_HISTORY = 10_000
"""State changes a mock pin keeps: the demo runs for hours at 60 fade steps a second, so its history must be bounded."""


def _bounded_mock_pwm_pin() -> type:
    """gpiozero's MockPWMPin with a bounded state history (a deque instead of an ever-growing list)."""
    from collections import deque
    from time import monotonic

    from gpiozero.pins.mock import MockPWMPin, PinState

    class BoundedMockPWMPin(MockPWMPin):  # type: ignore[misc]
        def clear_states(self) -> None:
            self._last_change = monotonic()
            self.states = deque([PinState(0.0, self._state)], maxlen=MOCK_HISTORY)

    return BoundedMockPWMPin


# What each factory needs, in words for its error messages (roomctl.daemon.preflight checks for them before `run`).
PACKAGE_HINT = {
    "lgpio": "the lgpio library (Raspberry Pi OS: apt install python3-lgpio; Debian 12: /opt/roomctl/venv/bin/pip install lgpio)",
    "pigpio": "the pigpio daemon running (apt install pigpio python3-pigpio; systemctl enable --now pigpiod)",
    "rpigpio": "RPi.GPIO (apt install python3-rpi.gpio; not on a Pi 5)",
    "native": "GPIO memory access",
    "hardware": "hardware PWM enabled in config.txt",
}


class ChannelOutput:
    """One configured channel: a gpiozero PWMOutputDevice per pin. Remembers the level it last wrote to each pin."""

    def __init__(self, config: ChannelConfig, pin_factory: Any) -> None:
        from gpiozero import GPIOZeroError, PWMOutputDevice

        self.config = config
        self.keys = output_keys(config)
        self._devices: list[Any] = []
        try:
            for pin in config.pins:
                self._devices.append(
                    PWMOutputDevice(pin, frequency=config.pwm_frequency_hz, initial_value=0, pin_factory=pin_factory)
                )
        except (GPIOZeroError, OSError, ValueError) as e:
            self.close()
            pins = ", ".join(f"GPIO{p}" for p in config.pins)
            raise LightingError(f"light channel '{config.id}' ({pins}) cannot be driven: {e}") from e
        self._levels = [0.0] * len(config.pins)
        self._duties = [0.0] * len(config.pins)
        self.duty_steps = duty_resolution(pin_factory, config.pwm_frequency_hz)
        """The pins' duty resolution (None: exact, then :data:`LEVEL_RESOLUTION` in level is the step)."""

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def levels(self) -> tuple[float, ...]:
        """The perceived level last written to each pin."""
        return tuple(self._levels)

    def duty(self, level: float) -> float:
        """The duty a pin shows for a perceived level: rounded to the factory's resolution."""
        duty = level_to_duty(level)
        steps = self.duty_steps
        return duty if steps is None else round(duty * steps) / steps

    def next_level(self, level: float, goal: float) -> float:
        """Moving from ``level`` towards ``goal``: the first level at which the pin's output differs (``goal`` at most)."""
        rising = goal > level
        steps = self.duty_steps
        if steps is None:
            nxt = level + LEVEL_RESOLUTION if rising else level - LEVEL_RESOLUTION
        else:  # the level where rounding to the next duty step flips
            index = round(level_to_duty(level) * steps)
            nxt = duty_to_level((index + 0.5 if rising else index - 0.5) / steps)
        return min(nxt, goal) if rising else max(nxt, goal)

    def write(self, levels: Sequence[float]) -> None:
        """Set each pin to a perceived level 0.0-1.0; pins whose duty does not change are not touched."""
        for i, level in enumerate(levels):
            duty = self.duty(level)
            if duty != self._duties[i]:
                self._devices[i].value = duty
                self._duties[i] = duty
            self._levels[i] = level

    def close(self) -> None:
        """Release the pins (software PWM stops: the light goes off)."""
        for device in self._devices:
            device.close()
        self._devices.clear()
