"""The bursts on a GPIO buzzer (gpiozero PWMOutputDevice), read back from MockPWMPin's timed state history."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from roomctl.clock import FakeClock
from roomctl.models import Priority
from roomctl.sound import BURSTS, SoundError
from roomctl.sound.players import BUZZER_MAX_DUTY, BuzzerOutput

from .analysis import EXPECTED
from .pins import ClockedMockPWMPin

PIN = 18
STEP_S = 0.0005
TOLERANCE_S = 0.0011  # the fake clock moves in 0.5 ms steps


@pytest.fixture
def clock(clock: FakeClock) -> FakeClock:
    """The root clock, which also stamps the mock pins' history."""
    ClockedMockPWMPin.clock = clock
    return clock


@pytest.fixture
def factory(clock: FakeClock) -> Iterator[Any]:
    f = MockFactory(pin_class=ClockedMockPWMPin)
    yield f
    f.reset()


async def play(buzzer: BuzzerOutput, clock: FakeClock, priority: Priority, volume: float) -> None:
    task = asyncio.create_task(buzzer.play(BURSTS[priority], volume))
    await clock.run_for(BURSTS[priority].duration_s + 0.01, step=STEP_S)
    await task


def pulses_from_history(pin: Any) -> tuple[list[float], list[float], set[float]]:
    """(pulse lengths, gaps, duties) from the pin's history; each state records the time since the previous change."""
    states = list(pin.states)[1:]  # the first is the initial state
    lengths, gaps, duties = [], [], set()
    for state, following in itertools.pairwise(states):
        if state.state > 0:
            lengths.append(following.timestamp)
            duties.add(state.state)
        else:
            gaps.append(following.timestamp)
    return lengths, gaps, duties


@pytest.mark.parametrize("priority", list(Priority))
async def test_each_priority_on_the_buzzer(factory: Any, clock: FakeClock, priority: Priority) -> None:
    count, length, gaps, f0 = EXPECTED[priority]
    buzzer = BuzzerOutput(PIN, pin_factory=factory, clock=clock)
    pin = factory.pin(PIN)
    pin.clear_states()
    await play(buzzer, clock, priority, 0.6)
    lengths, measured_gaps, duties = pulses_from_history(pin)
    assert len(lengths) == count
    assert lengths == pytest.approx([length] * count, abs=TOLERANCE_S)
    assert measured_gaps == pytest.approx(gaps, abs=TOLERANCE_S)
    (duty,) = duties
    assert duty == pytest.approx(BUZZER_MAX_DUTY * 0.6)  # the volume is the duty cycle
    assert pin.frequency == f0
    assert pin.state == 0  # silent after the burst
    buzzer.close()


async def test_a_pin_that_cannot_be_driven_is_a_sound_error(factory: Any, clock: FakeClock) -> None:
    first = BuzzerOutput(PIN, pin_factory=factory, clock=clock)
    with pytest.raises(SoundError, match="buzzer on GPIO18 cannot be driven"):
        BuzzerOutput(PIN, pin_factory=factory, clock=clock)  # the pin is in use
    first.close()
