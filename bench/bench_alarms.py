"""Cost of the alarm engine per reading (it runs inline in the hub for every event) and per tick.

Run: .venv/bin/python bench/bench_alarms.py
Each figure is the CPU time of one call, measured over batches of calls (the timer is too coarse for one call).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _budget import cpu_seconds, describe_us

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.config.alarms import AlarmsConfig, LimitRule
from roomctl.config.wearables import WearableConfig
from roomctl.models import UNITS, DeviceState, LinkState, Quality, Quantity, Reading, SessionState

BATCH = 1000
BATCHES = 300


def make_engine() -> tuple[AlarmEngine, FakeClock]:
    clock = FakeClock()
    rules = [
        *AlarmsConfig().rules,
        LimitRule(quantity=Quantity.PULSE_RATE_FAST, low=40, high=140, high_from_baseline=1.3, condition_delay_s=10),
    ]
    wearables = [
        WearableConfig(id="oxi", profile="plx", address="AA:BB:CC:DD:EE:01"),
        WearableConfig(id="strap", profile="heart_rate", address="AA:BB:CC:DD:EE:02"),
    ]
    engine = AlarmEngine(AlarmsConfig(rules=rules), wearables, clock=clock, id_prefix="A")
    for w in ("oxi", "strap"):
        engine(DeviceState(device=w, profile="plx", state=LinkState.CONNECTED))
    return engine, clock


def reading(quantity: Quantity, value: float | None, device: str, clock: FakeClock) -> Reading:
    quality = Quality.OK if value is not None else Quality.INVALID
    return Reading(quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=clock.now(), quality=quality)


def measure(name: str, call: Callable[[], object]) -> None:
    samples = []
    for _ in range(BATCHES):
        start = cpu_seconds()
        for _ in range(BATCH):
            call()
        samples.append((cpu_seconds() - start) / BATCH)
    print(describe_us(name, samples))


def main() -> None:
    engine, clock = make_engine()
    spo2 = reading(Quantity.SPO2, 97, "oxi", clock)
    hr = reading(Quantity.HEART_RATE, 72, "strap", clock)
    pi = reading(Quantity.PERFUSION_INDEX, 3.1, "oxi", clock)
    missing = reading(Quantity.SPO2, None, "oxi", clock)
    print(f"alarm engine, CPU time per call ({BATCHES} batches of {BATCH}); python {sys.version.split()[0]}")
    measure("reading inside limits, SpO2 (2 rules, 1 group)", lambda: engine(spo2))
    measure("reading inside limits, heart rate (1 rule, low+high)", lambda: engine(hr))
    measure("reading of a quantity without rules", lambda: engine(pi))
    measure("reading with no value (invalid)", lambda: engine(missing))

    engine(SessionState(id="bench"))
    prf = reading(Quantity.PULSE_RATE_FAST, 72, "oxi", clock)
    measure("reading during the baseline window", lambda: engine(prf))

    low = reading(Quantity.SPO2, 87, "oxi", clock)
    for _ in range(12):
        engine(low)
        clock.advance(1)
    assert engine.alarms, "the bench expected an active alarm"
    measure("reading while its alarm is active (no change)", lambda: engine(low))
    measure("tick() with 2 wearables and 5 watched quantities", engine.tick)

    engine2, clock2 = make_engine()
    desaturated = reading(Quantity.SPO2, 80, "oxi", clock2)
    recovered = reading(Quantity.SPO2, 97, "oxi", clock2)

    def one_alarm_lifetime() -> None:
        engine2(desaturated)
        clock2.advance(6)
        engine2(desaturated)  # raised (high)
        engine2(recovered)  # latched
        engine2.acknowledge()  # cleared, audio paused

    measure("one alarm's lifetime: raise, latch, acknowledge (4 calls, models built)", one_alarm_lifetime)
    assert sum(1 for e in engine2.history if e.action == "raised") > 0, "the bench expected alarms to be raised"


if __name__ == "__main__":
    main()
