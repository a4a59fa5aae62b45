"""One configured wearable's link: find it, connect, subscribe, decode into the hub, notice silence, reconnect.

States published to the hub (a :class:`DeviceState`, only when something in it changes):

* ``connecting`` — looking for the wearable or connecting, before any data arrived;
* ``connected`` — linked, and a reading arrived within ``stale_after_s``;
* ``stale`` — no reading for ``stale_after_s`` (linked but silent, or the link just dropped);
* ``disconnected`` — no link and no reading for ``lost_after_s``.

A link that stays silent for ``lost_after_s`` although BlueZ calls it connected is torn down and rebuilt, and every
(re)connect subscribes again: notifications are never assumed to survive a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from roomctl.clock import Clock
from roomctl.config.wearables import BleConfig, WearableConfig
from roomctl.hub import Hub
from roomctl.models import DeviceState, LinkState, Quantity, Reading, RRIntervals, TechnicalCondition
from roomctl.sensors.errors import ConnectFailed, translate
from roomctl.sensors.scanner import SharedScanner, Sighting, Target
from roomctl.sensors.vendor import Characteristic, WearableProfile

if TYPE_CHECKING:
    from bleak import BleakClient

    from roomctl.sensors.decoders import StreamDecoder
    from roomctl.sensors.measurement import Measurement

log = logging.getLogger(__name__)

_RR = Quantity.RR_INTERVALS
_BATTERY = Quantity.BATTERY


class _ConnectionEnded(Exception):
    """The current BLE connection is over (disconnect seen, or silence); the run loop reconnects."""


class WearableLink:
    def __init__(
        self,
        config: WearableConfig,
        profile: WearableProfile,
        hub: Hub,
        scanner: SharedScanner,
        *,
        clock: Clock,
        ble: BleConfig,
        client_class: type[BleakClient] | None = None,
    ) -> None:
        self.config = config
        self.id = config.id
        self.profile = profile
        self._hub = hub
        self._scanner = scanner
        self._clock = clock
        self._ble = ble
        self._client_class = client_class
        self._target = Target(config.address, config.name_pattern)
        self._client: BleakClient | None = None
        self._decoders: dict[str, StreamDecoder] = {}
        self._connected = False
        self._ever_data = False
        self._started = clock.monotonic()
        self._last_data = self._started
        self._last_published: dict[Quantity, float] = {}
        self._battery: float | None = None
        self._rssi: int | None = None
        self._address = config.address
        self._sensor_conditions: frozenset[TechnicalCondition] = frozenset()
        self._sensor_seen: dict[str, object] = {}
        self._last_status: dict[str, object] = {}
        self.conditions: frozenset[TechnicalCondition] = frozenset()
        self._connected_at = self._started
        self._lost_at: float | None = None  # when the last link ended: only advertisements after it count
        self._published: tuple[object, ...] | None = None
        self._silence = asyncio.Event()
        self._disconnected = asyncio.Event()
        self.state = LinkState.CONNECTING
        self.connections = 0
        self.readings = 0
        self.rejected = 0

    # -- the loop
    async def run(self) -> None:
        """Run until cancelled. Never raises for Bluetooth trouble: logs it in words and tries again."""
        watchdog = asyncio.create_task(self._watch(), name=f"watchdog-{self.id}")
        backoff = 1.0
        try:
            self._refresh()
            while True:
                try:
                    sighting = await self._scanner.find(self._target, since=self._lost_at)
                    await self._connection(sighting)
                except asyncio.CancelledError:
                    raise
                except _ConnectionEnded as e:  # a connection was made: start the backoff afresh
                    log.info("%s: %s; reconnecting once it advertises again", self.id, e)
                    delay, backoff = 0.25, 1.0
                    self._lost_at = self._clock.monotonic()
                except Exception as e:
                    error = translate(e, f"{self.id} ({self.profile.name})")
                    log.warning("%s", error)
                    delay = max(backoff, error.retry_after_s) * random.uniform(0.8, 1.2)
                    backoff = min(backoff * 2, 30.0)
                await self._clock.sleep(delay)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            await self._close()

    async def _connection(self, sighting: Sighting) -> None:
        from bleak_retry_connector import BleakClientWithServiceCache, close_stale_connections, establish_connection

        self._address = sighting.address
        self._rssi = sighting.rssi
        await close_stale_connections(sighting.device)  # a link left up by a previous run, or by a crash
        self._disconnected.clear()
        self._silence.clear()
        client_class = self._client_class or BleakClientWithServiceCache
        async with asyncio.timeout(self._ble.connect_timeout_s * self._ble.max_connect_attempts + 5):
            client = await establish_connection(
                client_class,
                sighting.device,
                self.id,
                disconnected_callback=lambda _c: self._disconnected.set(),
                max_attempts=self._ble.max_connect_attempts,
            )
        self._client = client
        self.connections += 1
        try:
            self._decoders = {n.uuid: n.characteristic.new_stream() for n in self.profile.notify}
            async with asyncio.timeout(self._ble.connect_timeout_s):
                await self._subscribe(client)
            self._connected = True
            self._connected_at = self._clock.monotonic()
            self._refresh()
            log.info("%s: connected to %s (%s), subscribed", self.id, self._address, self.profile.name)
            await self._serve(client)
        finally:
            self._connected = False
            task = asyncio.current_task()
            if task is None or not task.cancelling():  # shutting down is not a stale wearable
                self._refresh()
            await self._close()

    async def _subscribe(self, client: BleakClient) -> None:
        for notify in self.profile.notify:
            char = client.services.get_characteristic(notify.uuid)
            if char is None:
                if notify.required:
                    raise ConnectFailed(
                        f"{self.id}: the wearable at {self._address} has no characteristic {notify.uuid}; "
                        f"is profile '{self.profile.name}' right for it?"
                    )
                continue
            await client.start_notify(char, self._handler(notify.uuid))

    def _handler(self, uuid: str) -> Callable[[Any, bytearray], None]:
        decoder = self._decoders[uuid]

        def on_notify(_char: Any, data: bytearray) -> None:
            rejected = decoder.rejected
            self._on_measurements(decoder.feed(data))
            if decoder.rejected != rejected:
                self.rejected += 1
                if self.rejected == 1 or self.rejected % 100 == 0:
                    log.warning(
                        "%s: %d value(s) could not be decoded, last: %s", self.id, self.rejected, decoder.last_error
                    )

        return on_notify

    async def _serve(self, client: BleakClient) -> None:
        """Wait for the link to end; poll and read the battery meanwhile."""
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(self._disconnected.wait()),
            asyncio.create_task(self._silence.wait()),
        ]
        if self.profile.poll is not None:
            tasks.append(asyncio.create_task(self._poll(client)))
        battery = self.profile.battery
        if battery is not None and client.services.get_characteristic(battery.uuid):
            tasks.append(asyncio.create_task(self._read_battery(client, battery)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            if (exc := t.exception()) is not None:
                raise exc
        if self._silence.is_set():
            raise _ConnectionEnded(f"no data for {self.config.lost_after_s:.0f} s although connected")
        raise _ConnectionEnded("the wearable disconnected")

    async def _poll(self, client: BleakClient) -> None:
        assert self.profile.poll is not None
        poll = self.profile.poll
        while True:
            await client.write_gatt_char(poll.write_uuid, poll.request, response=True)
            await self._clock.sleep(self.config.poll_interval_s)

    async def _read_battery(self, client: BleakClient, battery: Characteristic) -> None:
        while True:
            self._on_measurements(battery.decode(bytes(await client.read_gatt_char(battery.uuid))))
            await self._clock.sleep(self.config.battery_read_interval_s)

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await client.disconnect()

    # -- the hot path: one notification's measurements into the hub. ``Reading.of`` skips validating what the decoder
    # typed already (half the time of ``Reading(...)``; ``model_construct`` is slower than either).
    def _on_measurements(self, measurements: list[Measurement]) -> None:
        if not measurements:
            return
        now = self._clock.now()
        mono = self._clock.monotonic()
        device = self.id
        publish = self._hub.publish
        throttle = self.profile.publish_interval_s
        sensor_keys = self.profile.sensor_keys
        changed = False  # in what the wearable's state is made of (its sensor's status, its battery)
        vital = False  # a vital sign came (a battery level alone is not data about the patient)
        for m in measurements:
            status = m.status
            quality = m.quality
            if status != self._last_status and sensor_keys.intersection(status):  # it says what the sensor sees now
                self._last_status = status  # (most notifications repeat the last one's status exactly)
                seen = {k: status[k] for k in sensor_keys if k in status}
                if seen != self._sensor_seen:  # what the sensor sees changed
                    self._sensor_seen = seen
                    self._sensor_conditions = self.profile.conditions_in(status)
                    changed = True
            for quantity, value in m.values.items():
                if isinstance(value, list):
                    if quantity is _RR and value:
                        publish(RRIntervals(device=device, ts=now, intervals=tuple(value)))
                    vital = True
                    continue
                if quantity is not _BATTERY:
                    vital = True
                elif value != self._battery:
                    self._battery = value
                    changed = True
                if throttle and mono - self._last_published.get(quantity, -1e9) < throttle:
                    continue
                self._last_published[quantity] = mono
                publish(Reading.of(quantity, value, device, now, quality))
                self.readings += 1
        if vital:  # freshness counts the vitals only: a battery read never makes a silent wearable look fresh
            self._last_data = mono
            self._ever_data = True
        if changed or (vital and self.state is not LinkState.CONNECTED):
            self._refresh()  # else the state it would publish is the one already published

    @property
    def last_data_at(self) -> float | None:
        """``clock.monotonic()`` of the last notification with vital data (not a battery level); None before the first
        (the watchdog asks)."""
        return self._last_data if self._ever_data else None

    # -- state
    def _compute_state(self) -> LinkState:
        now = self._clock.monotonic()
        stale, lost = self.config.stale_after_s, self.config.lost_after_s
        if not self.profile.continuous:  # spot-check devices: only the link matters
            return LinkState.CONNECTED if self._connected else LinkState.DISCONNECTED
        if self._connected:
            if self._ever_data and now - self._last_data < stale:
                return LinkState.CONNECTED
            if not self._ever_data and now - self._connected_at < stale:
                return LinkState.CONNECTING
            return LinkState.STALE
        since = now - (self._last_data if self._ever_data else self._started)
        if since >= lost:
            return LinkState.DISCONNECTED
        return LinkState.STALE if self._ever_data else LinkState.CONNECTING

    def _refresh(self) -> None:
        state = self.state = self._compute_state()
        conditions = set(self._sensor_conditions) if state in (LinkState.CONNECTED, LinkState.STALE) else set()
        if self._battery is not None and self._battery <= self.config.battery_low_percent:
            conditions.add(TechnicalCondition.LOW_BATTERY)
        key = (state, self._battery, frozenset(conditions), self._address)
        if key == self._published:
            return
        self._published = key
        self.conditions = frozenset(conditions)
        last_seen = None
        if self._ever_data:
            last_seen = self._clock.now() - timedelta(seconds=max(0.0, self._clock.monotonic() - self._last_data))
        self._hub.publish(
            DeviceState(
                device=self.id,
                profile=self.profile.name,
                state=state,
                address=self._address,
                battery=self._battery,
                rssi=self._rssi,
                last_seen=last_seen,
                conditions=tuple(sorted(conditions)),
            )
        )

    async def _watch(self) -> None:
        tick = min(1.0, self.config.stale_after_s / 4)
        while True:
            await self._clock.sleep(tick)
            self._refresh()
            heard = max(self._last_data, self._connected_at)
            silent = self._clock.monotonic() - heard >= self.config.lost_after_s
            if self._connected and self.profile.continuous and silent:
                self._silence.set()
