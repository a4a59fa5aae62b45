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
from roomctl.sensors.ratebound import RateBound
from roomctl.sensors.scanner import SharedScanner, Sighting, Target
from roomctl.sensors.vendor import Characteristic, WearableProfile

if TYPE_CHECKING:
    from bleak import BleakClient

    from roomctl.sensors.measurement import Measurement
    from roomctl.sensors.vendors import StreamDecoder

log = logging.getLogger(__name__)

_RR = Quantity.RR_INTERVALS
_BATTERY = Quantity.BATTERY


FLOOD_WINDOWS = 3
"""One-second windows in a row above the profile's rate that make a flood: the subscription is paced and the "sending too
fast" technical alarm raised."""
PACE_S = 1.0
"""While flooding, the subscription is off this long between two looks (one reading each: a room's normal rate)."""
LOOK_S = 0.05
"""How long a look stays subscribed after its first measurement, to see whether the flood is over."""
CALM_S = 10.0
"""The alarm clears once the wearable has kept within its rate this long."""


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
        self._bounds: dict[str, RateBound] = {}
        self._handlers: dict[str, Callable[[Any, bytearray], None]] = {}
        self.max_notify_hz = config.max_notify_hz or profile.max_notify_hz
        self._fast_windows: dict[str, int] = {}
        self._flooding: set[str] = set()  # characteristics being paced
        self._flood = asyncio.Event()
        self._arrived = asyncio.Event()  # a notification came (a look can end)
        self._framed: dict[str, bool] = {n.uuid: n.characteristic.stream is not None for n in profile.notify}
        self._too_fast = False
        self._calm_since = clock.monotonic()
        self._coalesced_before = 0
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

    @property
    def coalesced(self) -> int:
        """Notifications never decoded because the wearable sent faster than its rate bound (since the link began)."""
        return self._coalesced_before + sum(b.coalesced for b in self._bounds.values())

    @property
    def received(self) -> int:
        """Notifications that arrived on this connection's subscriptions."""
        return sum(b.received for b in self._bounds.values())

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
            self._coalesced_before = self.coalesced
            self._bounds, self._handlers, self._fast_windows = {}, {}, {}
            self._flooding.clear()
            self._flood.clear()
            async with asyncio.timeout(self._ble.connect_timeout_s):
                await self._subscribe(client)
            self._connected = True
            self._connected_at = self._clock.monotonic()
            self._refresh()
            log.info("%s: connected to %s (%s), subscribed", self.id, self._address, self.profile.name)
            await self._serve(client)
        finally:
            self._connected = False
            for bound in self._bounds.values():
                bound.reset()  # nothing held from this connection is decoded after it
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
        """The notification callback: the rate bound first (a flood costs a clock read each), then the decoder."""
        if uuid in self._handlers:
            return self._handlers[uuid]
        decoder = self._decoders[uuid]

        framed = self._framed[uuid]
        dropped = [0]  # the bound's coalesced count at the last decode

        def decode(data: bytearray | bytes) -> None:
            if framed and bound.coalesced != dropped[0]:  # a notification of the stream was skipped: no splicing
                dropped[0] = bound.coalesced
                decoder.reset()
            rejected = decoder.rejected
            self._on_measurements(decoder.feed(data))
            if decoder.rejected != rejected:
                self.rejected += 1
                if self.rejected == 1 or self.rejected % 100 == 0:
                    log.warning(
                        "%s: %d value(s) could not be decoded, last: %s", self.id, self.rejected, decoder.last_error
                    )

        bound = RateBound(
            self.max_notify_hz, self._clock.monotonic, decode, on_window=lambda rate: self._on_window(uuid, rate)
        )
        self._bounds[uuid] = bound
        admit = bound.admit

        arrived = self._arrived.set

        def on_notify(_char: Any, data: bytearray) -> None:
            arrived()
            if admit(data):
                decode(data)

        self._handlers[uuid] = on_notify
        return on_notify

    def _on_window(self, uuid: str, rate: float) -> None:
        """A second of one characteristic's arrivals: a flood once it has been too fast for FLOOD_WINDOWS in a row."""
        if rate <= self.max_notify_hz:
            self._fast_windows[uuid] = 0
            return
        windows = self._fast_windows[uuid] = self._fast_windows.get(uuid, 0) + 1
        if windows < FLOOD_WINDOWS or uuid in self._flooding:
            return
        self._flooding.add(uuid)
        self._flood.set()
        log.warning(
            "%s: sending too fast: %.0f notifications/s on %s (at most %g expected); the excess is coalesced and the "
            "subscription paused (one look a second) until it calms down",
            self.id,
            rate,
            uuid,
            self.max_notify_hz,
        )
        if not self._too_fast:
            self._too_fast = True
            self._refresh()

    async def _pace(self, client: BleakClient) -> None:
        """While a characteristic floods: unsubscribe, wait PACE_S, subscribe for one look (its first notification, then
        LOOK_S to see the rate), and again, until a look finds it within its rate. The device stops sending while
        unsubscribed, so a flood costs a look a second instead of every notification."""
        while True:
            await self._flood.wait()
            flooding = sorted(self._flooding)
            for uuid in flooding:
                await client.stop_notify(uuid)
                self._bounds[uuid].release()  # the newest that came is decoded; none is kept for later
            while flooding:
                await self._clock.sleep(PACE_S)
                flooding = [uuid for uuid in flooding if not await self._look(client, uuid)]
            self._flooding.clear()
            self._flood.clear()
            self._calm_since = self._clock.monotonic()
            log.info("%s: back within its rate; %d notifications coalesced so far", self.id, self.coalesced)

    async def _look(self, client: BleakClient, uuid: str) -> bool:
        """Subscribe again for a short look; True (and left subscribed) when the rate is back within the bound, else
        unsubscribed again with the newest value of the look decoded: one reading a look, a room's normal rate."""
        bound, decoder = self._bounds[uuid], self._decoders[uuid]
        framed = self._framed[uuid]
        bound.reset(tokens=None if framed else 0.0)  # a framed stream needs its consecutive notifications whole
        decoder.reset()  # a partial frame from before the pause would be joined to a later one
        self._arrived.clear()
        before, start = bound.received, self._clock.monotonic()
        await client.start_notify(uuid, self._handlers[uuid])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PACE_S):
                await self._arrived.wait()
        await self._clock.sleep(LOOK_S)
        elapsed = max(self._clock.monotonic() - start, 1e-3)
        if (bound.received - before) / elapsed <= self.max_notify_hz:
            return True
        await client.stop_notify(uuid)
        bound.release()
        return False

    async def _serve(self, client: BleakClient) -> None:
        """Wait for the link to end; poll and read the battery meanwhile."""
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(self._disconnected.wait()),
            asyncio.create_task(self._silence.wait()),
        ]
        if self.profile.poll is not None:
            tasks.append(asyncio.create_task(self._poll(client)))
        tasks.append(asyncio.create_task(self._pace(client)))
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
        if self._too_fast and state in (LinkState.CONNECTED, LinkState.STALE):
            conditions.add(TechnicalCondition.SENDING_TOO_FAST)
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
            now = self._clock.monotonic()
            for bound in self._bounds.values():
                bound.roll(now)  # a window ends even when nothing more arrives
            if self._too_fast and not self._flood.is_set() and now - self._calm_since >= CALM_S:
                self._too_fast = False
                log.info(
                    "%s: within its rate for %.0f s; %d notifications coalesced in all", self.id, CALM_S, self.coalesced
                )
            self._refresh()
            heard = max(self._last_data, self._connected_at)
            silent = self._clock.monotonic() - heard >= self.config.lost_after_s
            if self._connected and self.profile.continuous and silent:
                self._silence.set()
