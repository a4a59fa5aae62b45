"""One BleakScanner shared by every wearable link (and ``roomctl scan``).

Links ask :meth:`SharedScanner.find` for their wearable by address or name pattern; the detection callback hands each
advertisement to whoever waits for it. A scanner that has seen nothing for ``ble.scanner_restart_s`` is restarted
(BlueZ discovery sometimes goes quiet), and failures to scan are retried with backoff, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from roomctl.clock import Clock
from roomctl.config.wearables import BleConfig
from roomctl.hub import Hub
from roomctl.models import ServiceHealth
from roomctl.sensors.errors import BluetoothError, translate

if TYPE_CHECKING:
    from bleak import BleakScanner
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData

log = logging.getLogger(__name__)

FRESH_S = 5.0  # a sighting older than this may be of a device that has since left


@dataclass
class Sighting:
    device: BLEDevice
    name: str | None
    rssi: int
    service_uuids: list[str]
    seen_at: float  # clock.monotonic()

    @property
    def address(self) -> str:
        return self.device.address.upper()


@dataclass(frozen=True)
class Target:
    """What a link looks for: an exact address, or a regular expression on the advertised name."""

    address: str | None = None
    name_pattern: str | None = None

    def matches(self, s: Sighting) -> bool:
        if self.address is not None:
            return s.address == self.address.upper()
        return self.name_pattern is not None and s.name is not None and re.search(self.name_pattern, s.name) is not None


ScannerFactory = Callable[[Callable[["BLEDevice", "AdvertisementData"], None]], "BleakScanner"]


class SharedScanner:
    def __init__(
        self,
        *,
        clock: Clock,
        ble: BleConfig,
        hub: Hub | None = None,
        scanner_factory: ScannerFactory | None = None,
    ) -> None:
        self._clock = clock
        self._ble = ble
        self._hub = hub
        self._factory = scanner_factory or self._default_factory
        self.seen: dict[str, Sighting] = {}
        self._waiters: list[tuple[Target, asyncio.Future[Sighting]]] = []
        self._listeners: list[Callable[[Sighting], None]] = []
        self._last_advert = clock.monotonic()
        self.running = asyncio.Event()
        self.restarts = 0
        self._health: tuple[bool, str] | None = None

    def _default_factory(self, callback: Callable[[BLEDevice, AdvertisementData], None]) -> BleakScanner:
        from bleak import BleakScanner

        return BleakScanner(callback, bluez={"adapter": self._ble.adapter})

    def add_listener(self, listener: Callable[[Sighting], None]) -> None:
        """Call ``listener`` for every advertisement (``roomctl scan`` uses this)."""
        self._listeners.append(listener)

    async def find(self, target: Target, since: float | None = None) -> Sighting:
        """A sighting of ``target`` from the last few seconds (and after ``since``, a monotonic time), or the next one."""
        now = self._clock.monotonic()
        oldest = now - FRESH_S if since is None else max(now - FRESH_S, since)
        for s in self.seen.values():
            if target.matches(s) and s.seen_at > oldest:
                return s
        fut: asyncio.Future[Sighting] = asyncio.get_running_loop().create_future()
        entry = (target, fut)
        self._waiters.append(entry)
        try:
            return await fut
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _on_advert(self, device: BLEDevice, adv: AdvertisementData) -> None:
        now = self._clock.monotonic()
        self._last_advert = now
        s = Sighting(device, adv.local_name or device.name, adv.rssi, list(adv.service_uuids), now)
        self.seen[s.address] = s
        for target, fut in self._waiters:
            if not fut.done() and target.matches(s):
                fut.set_result(s)
        for listener in self._listeners:
            try:
                listener(s)
            except Exception:
                log.exception("scan listener failed")

    def _report(self, ok: bool, detail: str) -> None:
        if self._hub is None or self._health == (ok, detail):
            return
        self._health = (ok, detail)
        self._hub.publish(ServiceHealth(service="bluetooth", ok=ok, detail=detail, ts=self._clock.now()))

    async def run(self) -> None:
        """Scan until cancelled: restart when quiet, back off on errors."""
        backoff = 1.0
        while True:
            try:
                await self.scan_once()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as e:
                error: BluetoothError = translate(e, "scanning for wearables")
                log.warning("%s", error)
                self._report(False, str(error))
                await self._clock.sleep(max(backoff, error.retry_after_s))
                backoff = min(backoff * 2, 30.0)

    async def scan_once(self) -> None:
        """One scanner run: until cancelled, or until it has been quiet for ``scanner_restart_s``."""
        scanner = self._factory(self._on_advert)
        await scanner.start()
        try:
            self.running.set()
            self._report(True, "scanning")
            self._last_advert = self._clock.monotonic()
            while self._clock.monotonic() - self._last_advert < self._ble.scanner_restart_s:
                await self._clock.sleep(min(1.0, self._ble.scanner_restart_s / 4))
            log.info("no advertisement for %.0f s: restarting the Bluetooth scan", self._ble.scanner_restart_s)
            self.restarts += 1
        finally:
            self.running.clear()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await scanner.stop()
