"""CPU cost of fading: 3 channels (a warm/cool ceiling, two lamps: 4 pins) at 60 Hz on gpiozero's MockPWMPin.

Runs a real ~10 s fade through the LightingController on the real SystemClock and measures CPU time with
time.process_time: CPU seconds per second of fading, and per update step. Then the cost of one step in a tight loop.
Usage: .venv/bin/python bench/bench_lighting.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _budget import cpu_seconds, describe_us
from gpiozero.pins.mock import MockFactory, MockPWMPin

from roomctl.clock import SystemClock
from roomctl.commands import SetScene
from roomctl.config.lighting import LightingConfig
from roomctl.hub import Hub
from roomctl.lighting.controller import LightingController
from roomctl.lighting.outputs import ChannelOutput

CONFIG = LightingConfig.model_validate(
    {
        "pin_factory": "mock",
        "fade_rate_hz": 60,
        "channels": [
            {"id": "ceiling", "kind": "warm_cool", "pins": [12, 13]},
            {"id": "lamp", "pins": [18]},
            {"id": "reading", "pins": [19]},
        ],
        "scenes": {
            "bright": {"ceiling": [1.0, 0.9], "lamp": 1.0, "reading": 0.8},
            "dim": {"ceiling": [0.05, 0.0], "lamp": 0.1, "reading": 0.0},
        },
    }
)


async def fade_cost(seconds: float) -> tuple[float, float, int]:
    hub = Hub()
    controller = LightingController(CONFIG, hub, pin_factory=MockFactory(pin_class=MockPWMPin), clock=SystemClock())
    async with controller:
        await controller.handle(SetScene(scene="dim", fade_s=0))
        steps_before = sum(f.steps_written for f in controller._faders.values())
        wall0, cpu0 = time.monotonic(), cpu_seconds()
        await controller.handle(SetScene(scene="bright", fade_s=seconds))
        await controller.wait_idle()
        wall, cpu = time.monotonic() - wall0, cpu_seconds() - cpu0
        steps = sum(f.steps_written for f in controller._faders.values()) - steps_before
    return wall, cpu, steps


async def idle_cost(seconds: float) -> float:
    cpu0 = cpu_seconds()
    await asyncio.sleep(seconds)
    return cpu_seconds() - cpu0


def step_cost(n: int = 20_000) -> list[float]:
    factory = MockFactory(pin_class=MockPWMPin)
    outputs = [ChannelOutput(ch, factory) for ch in CONFIG.channels]
    samples = []
    for i in range(n):
        level = (i % 1000) / 1000
        t0 = time.perf_counter()
        for out in outputs:
            out.write([level] * len(out.config.pins))
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    idle = asyncio.run(idle_cost(2.0)) / 2.0
    wall, cpu, steps = asyncio.run(fade_cost(args.seconds))
    print(f"fade: {wall:.2f} s wall, {cpu:.3f} s CPU, {steps} channel steps ({steps / wall:.0f}/s, 3 channels x 60 Hz)")
    print(
        f"CPU while fading: {cpu / wall * 100:.2f} % of one core ({cpu / wall * 1000:.1f} ms CPU per s); idle loop {idle * 100:.2f} %"
    )
    print(f"per channel step (event loop, sleep, duty, gpiozero write): {cpu / steps * 1e6:.1f} µs")
    print(describe_us("one update of all 4 pins, tight loop (duty + gpiozero MockPWMPin write)", step_cost()))
    print("Measured on MockPWMPin. On a Pi an lgpio write is a library call, a pigpio write round trips to pigpiod.")


if __name__ == "__main__":
    main()
