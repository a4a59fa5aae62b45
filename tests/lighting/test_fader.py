"""Fades over MockPWMPin state histories: monotonic, exact ends, uniform in L*, retargeting continuous, long fades on time."""

from __future__ import annotations

import asyncio
import itertools

from gpiozero.pins.mock import MockFactory, MockPWMPin

from roomctl.clock import FakeClock
from roomctl.config.lighting import ChannelConfig
from roomctl.lighting.fader import ChannelFader, fade_steps
from roomctl.lighting.outputs import LEVEL_RESOLUTION, ChannelOutput
from roomctl.lighting.perceptual import level_to_duty
from tests.lighting.conftest import duty, history

RATE = 60


def lamp(factory: MockFactory, gpio: int = 18) -> ChannelOutput:
    return ChannelOutput(ChannelConfig(id="lamp", pins=[gpio]), factory)


def ceiling(factory: MockFactory) -> ChannelOutput:
    return ChannelOutput(ChannelConfig(id="ceiling", kind="warm_cool", pins=[12, 13]), factory)


async def run(clock: FakeClock, fader: ChannelFader, seconds: float, step: float = 0.5 / RATE) -> None:
    await clock.run_for(seconds + 0.001, step=step)  # a hair over: float deadlines
    assert not fader.fading


async def test_fade_up_is_monotonic_uniform_in_lightness_with_exact_ends(
    factory: MockFactory, clock: FakeClock
) -> None:
    fader = ChannelFader(lamp(factory), clock, RATE)
    fader.fade_to([0.8], 2.0)
    await run(clock, fader, 2.0)
    levels = history(factory, 18)
    assert levels[0] == 0.0
    assert duty(factory, 18) == level_to_duty(0.8)  # the exact endpoint, no residue
    assert len(levels) == 1 + fade_steps(2.0, RATE)  # one change per step: 120 steps at 60 Hz
    steps = [b - a for a, b in itertools.pairwise(levels)]
    assert all(s > 0 for s in steps)
    assert max(steps) - min(steps) < 1e-9  # equal steps in perceived lightness
    assert abs(steps[0] - 0.8 / 120) < 1e-9


async def test_fade_down_of_a_group_moves_each_pin_uniformly(factory: MockFactory, clock: FakeClock) -> None:
    out = ceiling(factory)
    out.write([0.9, 0.3])
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([0.1, 0.0], 1.0)
    await run(clock, fader, 1.0)
    for gpio, (start, end) in {12: (0.9, 0.1), 13: (0.3, 0.0)}.items():
        levels = history(factory, gpio)[1:]  # after the initial 0
        assert abs(levels[0] - start) < 1e-9
        assert abs(levels[-1] - end) < 1e-9
        steps = [b - a for a, b in itertools.pairwise(levels)]
        assert all(s < 0 for s in steps)
        assert max(steps) - min(steps) < 1e-9
    assert duty(factory, 12) == level_to_duty(0.1)
    assert duty(factory, 13) == 0.0


async def test_retarget_takes_over_from_where_the_light_is(factory: MockFactory, clock: FakeClock) -> None:
    out = lamp(factory)
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([1.0], 4.0)
    await clock.run_for(1.5, step=0.5 / RATE)
    assert fader.fading
    midway = out.levels[0]
    assert 0.3 < midway < 0.45
    fader.fade_to([0.1], 1.0)  # the new target takes over mid-fade
    await run(clock, fader, 1.0)
    levels = history(factory, 18)
    turn = levels.index(max(levels))
    assert abs(levels[turn] - midway) < 1e-12
    up, down = levels[: turn + 1], levels[turn:]
    assert all(b > a for a, b in itertools.pairwise(up))
    assert all(b < a for a, b in itertools.pairwise(down))
    largest_up = max(b - a for a, b in itertools.pairwise(up))
    largest_down = max(a - b for a, b in itertools.pairwise(down))
    assert largest_up < 1.0 / 240 + 1e-9
    assert largest_down < (midway - 0.1) / 60 + 1e-9
    assert duty(factory, 18) == level_to_duty(0.1)


async def test_long_fade_keeps_its_duration_on_the_injected_clock(factory: MockFactory, clock: FakeClock) -> None:
    out = lamp(factory)
    out.write([0.6])
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([0.1], 20 * 60)  # a 20-minute phase fade
    for minute in range(1, 20):
        await clock.run_for(60, step=10)  # coarse ticks: the fader catches up instead of stretching the fade
        expected = 0.6 - 0.5 * minute / 20
        assert abs(out.levels[0] - expected) < 0.5 / (20 * 60 * RATE) * 10 * RATE + 1e-9, minute
        assert fader.fading
    await clock.run_for(60.001, step=10)
    assert not fader.fading
    assert duty(factory, 18) == level_to_duty(0.1)
    levels = history(factory, 18)
    assert all(b < a for a, b in itertools.pairwise(levels[1:]))


async def test_cancel_stops_where_it_is_and_writes_nothing_more(factory: MockFactory, clock: FakeClock) -> None:
    out = lamp(factory)
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([1.0], 2.0)
    await clock.run_for(0.5, step=0.5 / RATE)
    fader.cancel()
    held = len(history(factory, 18))
    await clock.run_for(2.0, step=0.5 / RATE)
    await asyncio.sleep(0)
    assert len(history(factory, 18)) == held
    assert 0.2 < out.levels[0] < 0.3


async def test_zero_duration_sets_at_once(factory: MockFactory, clock: FakeClock) -> None:
    out = lamp(factory)
    fader = ChannelFader(out, clock, RATE)
    assert fader.fade_to([0.42], 0.0) is None
    assert duty(factory, 18) == level_to_duty(0.42)
    assert history(factory, 18) == [0.0, history(factory, 18)[1]]


class CoarseFactory(MockFactory):  # type: ignore[misc]
    """A mock whose pins, like lgpio's, show only whole-percent duties."""

    def duty_steps_at(self, frequency_hz: int) -> int:
        return 100


async def test_a_long_fade_wakes_only_when_the_pins_duty_changes(clock: FakeClock) -> None:
    factory = CoarseFactory(pin_class=MockPWMPin)
    out = lamp(factory)
    out.write([0.6])
    assert out.duty_steps == 100
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([0.1], 20 * 60)
    await run(clock, fader, 20 * 60, step=0.5)
    duties = [float(s.state) for s in factory.pin(18).states][1:]  # after the initial 0
    expected = sorted({round(level_to_duty(0.6 - 0.5 * i / 72_000) * 100) for i in range(72_001)}, reverse=True)
    assert [round(d * 100) for d in duties] == expected  # every duty step once, in order, none skipped
    assert fader.steps_written == len(expected)  # a wake per change (27) and the exact endpoint, not 72,000
    assert duty(factory, 18) == round(level_to_duty(0.1) * 100) / 100


async def test_an_exact_pin_fades_in_imperceptible_steps_without_waking_at_the_full_rate(
    factory: MockFactory, clock: FakeClock
) -> None:
    out = lamp(factory)
    out.write([0.6])
    fader = ChannelFader(out, clock, RATE)
    fader.fade_to([0.1], 20 * 60)
    tick = 0.05
    await run(clock, fader, 20 * 60, step=tick)
    levels = history(factory, 18)[2:]  # after the initial 0 and the start
    steps = [a - b for a, b in itertools.pairwise([0.6, *levels])]
    per_s = 0.5 / (20 * 60)
    assert all(0 < s <= LEVEL_RESOLUTION + per_s * (tick + 1 / RATE) + 1e-12 for s in steps)  # never a visible jump
    assert fader.steps_written <= 0.5 / LEVEL_RESOLUTION + 1  # about 500 wakes instead of 72,000
    assert duty(factory, 18) == level_to_duty(0.1)
