"""Each test gets its own private dbus-daemon and BlueZ emulator, and the real bleak pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import pytest

from roomctl.clock import SystemClock
from roomctl.config.wearables import BleConfig, WearableConfig
from roomctl.emulator import Emulator, Scenario, make_devices
from roomctl.hub import Hub
from roomctl.models import DeviceState, HubEvent, LinkState
from roomctl.sensors.link import WearableLink
from roomctl.sensors.profiles import PROFILES
from roomctl.sensors.scanner import SharedScanner

ADDRESSES = {
    "heart_rate": "C0:FF:EE:00:00:01",
    "plx": "C0:FF:EE:00:00:02",
    "berrymed": "C0:FF:EE:00:00:03",
    "viatom": "C0:FF:EE:00:00:04",
}
WAIT_S = 30.0  # generous: two cores shared by many test runs


StartEmulator = Callable[..., Awaitable[Emulator]]


@pytest.fixture
async def start_emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartEmulator]:
    """``await start_emulator(profiles)``: a private bus and emulator (all profiles by default), bleak pointed at it."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(profiles: list[str] | None = None, interval_s: float = 0.25) -> Emulator:
            scenario = Scenario(seed=7, speed=60.0, artefact_chance=0.0)
            devices = make_devices(scenario, profiles)
            for d in devices:
                if d.interval_s == 1.0:  # continuous devices: notify faster to keep the tests short
                    d.interval_s = interval_s
            emu = await stack.enter_async_context(Emulator(devices, scenario))
            monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", emu.bus_address)
            return emu

        yield start


class Room:
    """The test's hub (the root fixture), a shared scanner and links, running as tasks; stopped at teardown."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.events: list[HubEvent] = []
        self.hub.add_processor(self._record)
        self.clock = SystemClock()
        self.ble = BleConfig(connect_timeout_s=10, max_connect_attempts=3, scanner_restart_s=30)
        self.scanner = SharedScanner(clock=self.clock, ble=self.ble, hub=self.hub)
        self.links: dict[str, WearableLink] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def _record(self, event: HubEvent) -> None:
        self.events.append(event)

    def add(self, profile: str, **overrides: float) -> WearableLink:
        config = WearableConfig(id=profile.replace("_", "-"), profile=profile, address=ADDRESSES[profile], **overrides)
        link = WearableLink(config, PROFILES[profile], self.hub, self.scanner, clock=self.clock, ble=self.ble)
        self.links[profile] = link
        return link

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.scanner.run()))
        self._tasks += [asyncio.create_task(link.run()) for link in self.links.values()]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_for(self, predicate: Callable[[], bool], what: str, within: float = WAIT_S) -> None:
        version = self.hub.version
        async with asyncio.timeout(within):
            while not predicate():
                version = await self.hub.wait_changed(version)
        assert predicate(), what

    def device(self, device_id: str) -> DeviceState | None:
        return self.hub.state.devices.get(device_id)

    def states(self, device_id: str) -> list[LinkState]:
        """The link states the device went through, in order (a DeviceState that changed only its battery or
        conditions repeats the state: those repeats are collapsed)."""
        out: list[LinkState] = []
        for e in self.events:
            if isinstance(e, DeviceState) and e.device == device_id and (not out or out[-1] is not e.state):
                out.append(e.state)
        return out

    def count(self, kinds: Iterable[str]) -> int:
        wanted = set(kinds)
        return sum(1 for e in self.events if e.kind in wanted)


@pytest.fixture
async def room(start_emulator: StartEmulator, hub: Hub) -> AsyncIterator[Room]:
    """Depends on the emulator fixture so the links stop before the emulator does."""
    r = Room(hub)
    yield r
    await r.stop()
