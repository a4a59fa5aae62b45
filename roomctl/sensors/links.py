"""The daemon's sensor service: one shared scanner and one :class:`WearableLink` per configured wearable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from roomctl.clock import Clock
from roomctl.config.wearables import BleConfig, WearableConfig
from roomctl.hub import Hub
from roomctl.sensors.link import WearableLink
from roomctl.sensors.profiles import PROFILES
from roomctl.sensors.scanner import ScannerFactory, SharedScanner

log = logging.getLogger(__name__)


class SensorService:
    """``await service.run()`` until cancelled. Each part is supervised: an unexpected error restarts it after a pause."""

    def __init__(
        self,
        wearables: list[WearableConfig],
        ble: BleConfig,
        hub: Hub,
        *,
        clock: Clock,
        scanner_factory: ScannerFactory | None = None,
    ) -> None:
        self._clock = clock
        self.scanner = SharedScanner(clock=clock, ble=ble, hub=hub, scanner_factory=scanner_factory)
        self.links = [WearableLink(w, PROFILES[w.profile], hub, self.scanner, clock=clock, ble=ble) for w in wearables]

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._supervise("scanner", self.scanner.run))
            for link in self.links:
                group.create_task(self._supervise(f"wearable {link.id}", link.run))

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        delay = 1.0
        while True:
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed unexpectedly; restarting in %.0f s", name, delay)
                await self._clock.sleep(delay)
                delay = min(delay * 2, 60.0)
