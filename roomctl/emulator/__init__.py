"""A BlueZ emulator on a private D-Bus: the real bleak path, with wearables that follow a session's physiology.

Used by the tests, the benchmarks and ``roomctl demo``. See docs/wearables.md ("The emulator").
"""

from roomctl.emulator.bus import PrivateBus
from roomctl.emulator.devices import CATALOGUE, DEMO_PROFILES, EmulatedDevice, make_devices
from roomctl.emulator.runner import Emulator
from roomctl.emulator.scenario import Episode, Scenario, demo_scenario

__all__ = [
    "CATALOGUE",
    "DEMO_PROFILES",
    "EmulatedDevice",
    "Emulator",
    "Episode",
    "PrivateBus",
    "Scenario",
    "demo_scenario",
    "make_devices",
]
