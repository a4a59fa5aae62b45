"""Fixtures for lighting tests: a room with a warm/cool ceiling and a lamp on gpiozero's MockPWMPin, a FakeClock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from roomctl.config.lighting import LightingConfig
from roomctl.hub import Subscription
from roomctl.lighting.perceptual import duty_to_level
from roomctl.models import LightingState

ROOM: dict[str, Any] = {
    "pin_factory": "mock",
    "safe_level": 0.35,
    "break_scene": "break",
    "alarm_scene": "clinical",
    "default_fade_s": 2.0,
    "phase_fade_s": 600.0,
    "alarm_fade_s": 1.0,
    "channels": [
        {"id": "ceiling", "kind": "warm_cool", "pins": [12, 13]},
        {"id": "lamp", "pins": [18]},
    ],
    "scenes": {
        "arrival": {"ceiling": [0.55, 0.25], "lamp": 0.5},
        "journey": {"ceiling": [0.12, 0.0], "lamp": 0.2},
        "break": {"ceiling": [0.6, 0.3], "lamp": 0.6},
        "clinical": {"ceiling": [0.8, 0.7], "lamp": 0.8},
    },
}
PHASES = {"arrival": "arrival", "onset": "journey", "active": "journey"}
PINS = {"ceiling.warm": 12, "ceiling.cool": 13, "lamp": 18}


def lighting_config(**changes: Any) -> LightingConfig:
    return LightingConfig.model_validate({**ROOM, **changes})


@pytest.fixture
def config() -> LightingConfig:
    return lighting_config()


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory(pin_class=MockPWMPin)


def history(factory: MockFactory, gpio: int) -> list[float]:
    """Every level a pin went through, as perceived levels (MockPWMPin records each change of duty)."""
    return [duty_to_level(float(s.state)) for s in factory.pin(gpio).states]


def duty(factory: MockFactory, gpio: int) -> float:
    return float(factory.pin(gpio).state)


async def next_lighting(sub: Subscription, wait_s: float = 10.0) -> LightingState:
    event = await asyncio.wait_for(sub.get(), wait_s)
    assert isinstance(event, LightingState)
    return event


def lit_room(
    factory: str = "lgpio",
    pins: str = "23, 24",
    hz: int = 3000,
    *,
    calm: str = "ceiling = [0.4, 0.0], lamp = 0.5",
    settings: str = "",
) -> str:
    """A room file's text for the lights on a Pi: a warm/cool ceiling on ``pins`` at ``hz`` and a lamp on GPIO22 at
    3000 Hz, driven by the pin factory ``factory``, and the scene calm (``calm``: its levels); ``settings``: more lines of
    ``[lighting]``."""
    return f"""\
[room]
site = "clinic"
room = "room-1"

[lighting]
pin_factory = "{factory}"
{settings}
[[lighting.channels]]
id = "ceiling"
kind = "warm_cool"
pins = [{pins}]
pwm_frequency_hz = {hz}

[[lighting.channels]]
id = "lamp"
pins = [22]
pwm_frequency_hz = 3000

[lighting.scenes]
calm = {{ {calm} }}
"""
