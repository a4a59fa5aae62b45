"""The emulated BlueZ: owns ``org.bluez`` on a (private) bus, exports an adapter and the devices, plays the scenario.

``async with Emulator(devices=..., scenario=...) as emu:`` then point bleak at ``emu.bus_address``
(``DBUS_SYSTEM_BUS_ADDRESS``). Control methods let tests cause trouble on purpose: :meth:`drop_out`,
:meth:`finger_off`, :meth:`set_battery`, :meth:`leave_stale_connection`, :meth:`fail_next_connect`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Sequence
from types import TracebackType

from dbus_fast import BusType, DBusError, Message
from dbus_fast.aio import MessageBus

from roomctl.emulator.bluez import Adapter, Device, GattCharacteristic, GattDescriptor, GattService
from roomctl.emulator.bus import PrivateBus
from roomctl.emulator.devices import DEMO_PROFILES, EmulatedDevice, Notification, make_devices
from roomctl.emulator.scenario import Scenario, demo_scenario

log = logging.getLogger(__name__)

ADAPTER_PATH = "/org/bluez/hci0"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
RADIO_TICK_S = 0.5  # RSSI updates while discovering (bleak needs them to re-report known devices)


class _Slot:
    """One emulated device on the bus: its D-Bus objects and connection state."""

    def __init__(self, device: EmulatedDevice, emulator: Emulator) -> None:
        self.device = device
        self.path = f"{ADAPTER_PATH}/dev_{device.address.replace(':', '_')}"
        self.dbus = Device(
            device.address,
            device.name,
            device.advertised_uuids,
            on_connect=lambda: emulator.connect(self),
            on_disconnect=lambda: emulator.disconnect(self, "Disconnect"),
        )
        self.chars: dict[str, GattCharacteristic] = {}
        self.gatt_paths: list[str] = []
        self.exported = False
        self.task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.dbus.connected


class Emulator:
    def __init__(
        self,
        devices: Sequence[EmulatedDevice] | None = None,
        scenario: Scenario | None = None,
        *,
        bus_address: str | None = None,
    ) -> None:
        self.scenario = scenario or demo_scenario()
        devices = list(devices) if devices is not None else make_devices(self.scenario, DEMO_PROFILES)
        self._slots = {d.address: _Slot(d, self) for d in devices}
        self._own_bus = PrivateBus() if bus_address is None else None
        self.bus_address = bus_address or ""
        self._bus: MessageBus | None = None
        self._adapter = Adapter("00:1A:7D:DA:71:13", self._on_discovering)
        self._tasks: list[asyncio.Task[None]] = []
        self._failures: dict[str, list[str]] = {}
        self.calls: list[tuple[str, str]] = []  # (address, "Connect" | "Disconnect" | ...), for tests
        self.sent: Counter[str] = Counter()  # notifications sent per address

    # -- lifecycle
    async def start(self) -> Emulator:
        if self._own_bus is not None:
            self.bus_address = self._own_bus.start()
        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM)
        await bus.connect()
        self._bus = bus
        bus.export(ADAPTER_PATH, self._adapter)
        await bus.request_name("org.bluez")
        self._tasks.append(asyncio.create_task(self._radio(), name="emulator-radio"))
        for slot in self._slots.values():
            slot.task = asyncio.create_task(self._play(slot), name=f"emulator-{slot.device.address}")
            self._tasks.append(slot.task)
        return self

    async def stop(self) -> None:
        for slot in self._slots.values():  # bleak does not notice the emulator dying: say goodbye first
            if slot.connected:
                self.disconnect(slot, "shutdown")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._bus is not None:
            with contextlib.suppress(Exception):  # a round trip flushes the goodbyes before the socket closes
                ping = Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="GetId",
                )
                async with asyncio.timeout(2):
                    await self._bus.call(ping)
            self._bus.disconnect()
            self._bus = None
        if self._own_bus is not None:
            self._own_bus.stop()

    async def __aenter__(self) -> Emulator:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- control, for tests and the demo
    def device(self, address: str) -> EmulatedDevice:
        return self._slots[address.upper()].device

    def is_connected(self, address: str) -> bool:
        return self._slots[address.upper()].connected

    def drop_out(self, address: str, seconds: float) -> None:
        """The wearable leaves radio range now for ``seconds``: the link drops and BlueZ forgets the device."""
        self.scenario.force("drop_out", address.upper(), seconds)
        self._radio_tick()

    def finger_off(self, address: str, seconds: float) -> None:
        """Finger off (oximeters) or no skin contact (straps) for ``seconds``."""
        self.scenario.force("finger_off", address.upper(), seconds)

    def set_battery(self, address: str, percent: float | None) -> None:
        self.scenario.set_battery(address.upper(), percent)

    def subscribed(self, address: str, uuid: str) -> bool:
        char = self._slots[address.upper()].chars.get(uuid)
        return char is not None and char.notifying

    def send(self, address: str, uuid: str, value: bytes) -> bool:
        """Notify one value now (benchmarks drive their own payloads); ``False`` if nobody subscribed."""
        slot = self._slots[address.upper()]
        return self._send(slot, [(uuid, value)]) == 1

    def forget_subscriptions(self, address: str) -> None:
        """The device silently stops notifying (it forgot the subscription) while the link stays up."""
        for char in self._slots[address.upper()].chars.values():
            char.reset()

    def leave_stale_connection(self, address: str) -> None:
        """As if a previous roomctl run left the link up: the device is known and connected, nobody subscribed."""
        slot = self._slots[address.upper()]
        self._export_device(slot)
        self._export_gatt(slot)
        slot.dbus.set_connection(True, True)

    def fail_next_connect(self, address: str, kind: str = "in_progress") -> None:
        """Make the next Connect fail: ``in_progress`` (org.bluez.Error.InProgress) or ``abort`` (le-connection-abort-by-local)."""
        if kind not in ("in_progress", "abort"):
            raise ValueError(f"unknown failure {kind!r}")
        self._failures.setdefault(address.upper(), []).append(kind)

    # -- D-Bus behaviour
    def _on_discovering(self, on: bool) -> None:
        if on:
            self._radio_tick()

    def connect(self, slot: _Slot) -> None:
        address = slot.device.address
        self.calls.append((address, "Connect"))
        failures = self._failures.get(address)
        if failures:
            kind = failures.pop(0)
            if kind == "in_progress":
                raise DBusError("org.bluez.Error.InProgress", "Operation already in progress")
            slot.dbus.set_connection(True, False)  # BlueZ briefly connects, then the link is aborted
            slot.dbus.set_connection(False, False)
            raise DBusError("org.bluez.Error.Failed", "le-connection-abort-by-local")
        if self.scenario.dropped_out(address):
            raise DBusError("org.bluez.Error.Failed", "Page Timeout")
        if slot.connected:
            raise DBusError("org.bluez.Error.AlreadyConnected", "Already Connected")
        self._export_gatt(slot)
        slot.device.on_connect()
        slot.dbus.set_connection(True, True)

    def disconnect(self, slot: _Slot, why: str) -> None:
        self.calls.append((slot.device.address, why))
        for char in slot.chars.values():
            char.reset()
        if slot.connected:
            slot.dbus.set_connection(False, False)

    def _export_device(self, slot: _Slot) -> None:
        if not slot.exported and self._bus is not None:
            slot.dbus.rssi = self.scenario.rssi()
            self._bus.export(slot.path, slot.dbus)
            slot.exported = True

    def _export_gatt(self, slot: _Slot) -> None:
        if slot.gatt_paths or self._bus is None:
            return
        handle = 0x0010
        for service_uuid, chars in slot.device.services.items():
            service_path = f"{slot.path}/service{handle:04x}"
            self._bus.export(service_path, GattService(service_uuid, slot.path))
            slot.gatt_paths.append(service_path)
            handle += 1
            for spec in chars:
                char_path = f"{service_path}/char{handle:04x}"
                char = GattCharacteristic(
                    spec.uuid,
                    service_path,
                    list(spec.flags),
                    read=spec.read,
                    write=functools.partial(self._on_write, slot, spec.uuid),
                    is_connected=lambda: slot.connected,
                )
                self._bus.export(char_path, char)
                slot.chars[spec.uuid] = char
                slot.gatt_paths.append(char_path)
                handle += 1
                if "notify" in spec.flags or "indicate" in spec.flags:
                    desc_path = f"{char_path}/desc{handle:04x}"
                    self._bus.export(desc_path, GattDescriptor(CCCD, char_path))
                    slot.gatt_paths.append(desc_path)
                    handle += 1

    def _vanish(self, slot: _Slot) -> None:
        """BlueZ forgets the device: its GATT objects and then the device object are removed."""
        if slot.connected:
            self.disconnect(slot, "link lost")
        if self._bus is None:
            return
        for path in reversed(slot.gatt_paths):
            self._bus.unexport(path)
        slot.gatt_paths.clear()
        slot.chars.clear()
        if slot.exported:
            self._bus.unexport(slot.path)
            slot.exported = False

    def _on_write(self, slot: _Slot, uuid: str, data: bytes) -> None:
        replies = slot.device.on_write(uuid, data)
        if replies:  # after the write's reply, as a device answers over the air
            asyncio.get_running_loop().call_soon(self._send, slot, replies)

    def _send(self, slot: _Slot, notifications: list[Notification]) -> int:
        sent = 0
        for uuid, value in notifications:
            char = slot.chars.get(uuid)
            if char is not None and slot.connected and char.notify(value):
                sent += 1
        self.sent[slot.device.address] += sent
        return sent

    # -- time
    def _radio_tick(self) -> None:
        for slot in self._slots.values():
            if self.scenario.dropped_out(slot.device.address):
                self._vanish(slot)
            elif self._adapter.discovering:
                if slot.exported:
                    slot.dbus.set_rssi(self.scenario.rssi())
                else:
                    self._export_device(slot)

    async def _radio(self) -> None:
        while True:
            await self.scenario.clock.sleep(RADIO_TICK_S)
            try:
                self._radio_tick()
            except Exception:
                log.exception("emulator radio tick failed")

    async def _play(self, slot: _Slot) -> None:
        while True:
            await self.scenario.clock.sleep(slot.device.interval_s)
            if slot.connected:
                try:
                    self._send(slot, slot.device.tick())
                except Exception:
                    log.exception("emulated %s failed to produce a notification", slot.device.name)
