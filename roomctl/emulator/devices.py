"""Emulated wearables, one class per profile: their GATT layout and what they send, driven by a :class:`Scenario`.

UUIDs, the poll protocol and the payload encoders come from the vendor modules (:mod:`roomctl.sensors.vendors`), so a
device cannot drift from the profile the link uses; :data:`DEVICE_CLASSES` is keyed by each class's ``PROFILE``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from roomctl.emulator.scenario import Scenario
from roomctl.sensors.codec.crc import crc8_smbus
from roomctl.sensors.vendor import WearableProfile
from roomctl.sensors.vendors import berrymed, jumper, nonin, pc60fw, sig_health, sig_heart_rate, sig_plx, viatom

Notification = tuple[str, bytes]  # (characteristic UUID, value)
BATTERY_SERVICE, BATTERY_LEVEL = sig_heart_rate.BATTERY_SERVICE, sig_heart_rate.BATTERY_LEVEL.uuid


@dataclass(frozen=True)
class CharSpec:
    uuid: str
    flags: tuple[str, ...]
    read: Callable[[], bytes] | None = None


@dataclass
class EmulatedDevice:
    """Base: subclasses set :attr:`PROFILE`, the GATT layout and :meth:`tick` (and :meth:`on_write` when polled)."""

    PROFILE: ClassVar[WearableProfile]

    address: str
    name: str
    scenario: Scenario
    interval_s: float = 1.0
    battery_start: float = 100.0
    profile: str = field(default="", init=False)
    services: dict[str, list[CharSpec]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.address = self.address.upper()
        self.profile = self.PROFILE.name
        self.setup()

    def setup(self) -> None:
        """Fill :attr:`services`."""

    def add_battery_service(self) -> None:
        self.services[BATTERY_SERVICE] = [CharSpec(BATTERY_LEVEL, ("read", "notify"), read=self.battery_value)]

    @property
    def advertised_uuids(self) -> list[str]:
        return list(self.services)

    def battery(self) -> int:
        return self.scenario.battery(self.address, self.battery_start)

    def battery_value(self) -> bytes:
        return sig_heart_rate.encode_battery_level(self.battery())

    @property
    def finger_off(self) -> bool:
        return self.scenario.finger_off(self.address)

    def tick(self) -> list[Notification]:
        """What the device sends every :attr:`interval_s` while connected."""
        return []

    def on_write(self, uuid: str, data: bytes) -> list[Notification]:
        """Answer a write (request/response protocols)."""
        return []

    def on_connect(self) -> None:
        """Reset per-connection state."""

    def pulse(self) -> int:
        return round(self.scenario.heart_rate() + self.scenario.rng.gauss(0.0, 1.0))


class HeartRateStrap(EmulatedDevice):
    PROFILE = sig_heart_rate.PROFILES[0]
    HR_SERVICE = sig_heart_rate.SERVICE
    HR_MEASUREMENT = sig_heart_rate.HEART_RATE_MEASUREMENT.uuid
    BODY_LOCATION = sig_heart_rate.BODY_SENSOR_LOCATION.uuid

    def setup(self) -> None:
        self.services[self.HR_SERVICE] = [
            CharSpec(self.HR_MEASUREMENT, ("notify",)),
            CharSpec(self.BODY_LOCATION, ("read",), read=lambda: b"\x01"),
        ]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        if self.finger_off:  # strap lifted from the skin: contact lost, no RR
            return [(self.HR_MEASUREMENT, sig_heart_rate.encode_heart_rate(0, (), contact=False))]
        rr = self.scenario.rr_intervals(self.interval_s)
        bpm = round(60.0 / (sum(rr) / len(rr)))
        return [(self.HR_MEASUREMENT, sig_heart_rate.encode_heart_rate(bpm, rr, contact=True))]


class PlxOximeter(EmulatedDevice):
    PROFILE = sig_plx.PROFILES[0]
    PLX_SERVICE, SPOT = sig_plx.SERVICE, sig_plx.SPOT_CHECK.uuid
    CONTINUOUS, FEATURES = sig_plx.CONTINUOUS.uuid, sig_plx.FEATURES.uuid

    def setup(self) -> None:
        self.services[self.PLX_SERVICE] = [
            CharSpec(self.SPOT, ("indicate",)),
            CharSpec(self.CONTINUOUS, ("notify",)),
            CharSpec(self.FEATURES, ("read",), read=sig_plx.encode_features),
        ]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        if self.finger_off:  # D&S bit 11: sensor unconnected to user
            return [(self.CONTINUOUS, sig_plx.encode_continuous(None, None, None, (11,)))]
        spo2, artefact = self.scenario.spo2()
        bits = (4,) if artefact else ()  # poor signal
        return [(self.CONTINUOUS, sig_plx.encode_continuous(spo2, self.pulse(), self.scenario.perfusion_index(), bits))]


class BerryMed(EmulatedDevice):
    """BCI stream: 5-byte packets at ``packet_hz``, cut into notifications of varying size (split and merged)."""

    PROFILE = berrymed.PROFILES[0]
    SERVICE, DATA, WRITE = berrymed.SERVICE, berrymed.DATA.uuid, berrymed.WRITE
    packet_hz: int = 10

    def setup(self) -> None:
        self.interval_s = 0.2
        self.services[self.SERVICE] = [
            CharSpec(self.DATA, ("notify",)),
            CharSpec(self.WRITE, ("write-without-response", "write")),
        ]
        self._pending = bytearray()
        self._phase = 0.0

    def on_connect(self) -> None:
        self._pending.clear()

    def tick(self) -> list[Notification]:
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        pr = self.pulse()
        for _ in range(max(1, round(self.packet_hz * self.interval_s))):
            self._phase += pr / 60.0 / self.packet_hz
            pleth = round(50 + 45 * math.sin(2 * math.pi * self._phase))
            self._pending += berrymed.encode_packet(None if off else spo2, None if off else pr, pleth, off)
        out: list[Notification] = []
        while self._pending:  # chunks of 3..12 bytes: packets split across and merged into notifications
            size = self.scenario.rng.randint(3, 12)
            if size > len(self._pending) and len(out) > 0:
                break  # keep the tail for the next tick, as a real stream would
            out.append((self.DATA, bytes(self._pending[:size])))
            del self._pending[:size]
        return out


class Nonin(EmulatedDevice):
    PROFILE = nonin.PROFILES[0]
    SERVICE, OXIMETRY, CONTROL = nonin.SERVICE, nonin.OXIMETRY.uuid, nonin.CONTROL

    def setup(self) -> None:
        self.services[self.SERVICE] = [CharSpec(self.OXIMETRY, ("notify",)), CharSpec(self.CONTROL, ("write",))]
        self._counter = 0

    def tick(self) -> list[Notification]:
        self._counter += 1
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        battery = self.battery()
        payload = nonin.encode_packet(
            None if off else spo2,
            None if off else self.pulse(),
            0.0 if off else self.scenario.perfusion_index(),
            self._counter,
            battery_dv=24 + battery // 10,
            finger_ok=not off,
            low_battery=battery < 15,
        )
        return [(self.OXIMETRY, payload)]


class Viatom(EmulatedDevice):
    """Request/response: answers READ_SENSORS (0x17) written to the write characteristic, with a CRC-8 checked frame."""

    PROFILE = viatom.PROFILES[0]
    SERVICE, WRITE, NOTIFY = viatom.SERVICE, viatom.WRITE, viatom.NOTIFY.uuid

    def setup(self) -> None:
        self.services[self.SERVICE] = [
            CharSpec(self.WRITE, ("write", "write-without-response")),
            CharSpec(self.NOTIFY, ("notify",)),
        ]
        self.requests = 0

    def on_write(self, uuid: str, data: bytes) -> list[Notification]:
        if uuid != self.WRITE or len(data) < 8 or data[0] != 0xAA or crc8_smbus(data[:-1]) != data[-1]:
            return []
        self.requests += 1
        if data[1] != viatom.CMD_READ_SENSORS:
            return [(self.NOTIFY, viatom.encode_response(b"", status=0x01))]
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        sensors = viatom.encode_sensors(
            None if off else spo2, None if off else self.pulse(), self.battery(), finger=not off
        )
        return [(self.NOTIFY, viatom.encode_response(sensors))]


class Jumper(EmulatedDevice):
    PROFILE = jumper.PROFILES[0]
    SERVICE, NOTIFY = jumper.SERVICE, jumper.DATA.uuid

    def setup(self) -> None:
        self.services[self.SERVICE] = [CharSpec(self.NOTIFY, ("notify",))]

    def tick(self) -> list[Notification]:
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        return [
            (
                self.NOTIFY,
                jumper.encode_frame(
                    None if off else self.pulse(), None if off else spo2, self.scenario.perfusion_index()
                ),
            )
        ]


class PC60FW(EmulatedDevice):
    PROFILE = pc60fw.PROFILES[0]
    SERVICE, WRITE, NOTIFY = pc60fw.SERVICE, pc60fw.WRITE, pc60fw.NOTIFY.uuid

    def setup(self) -> None:
        self.services[self.SERVICE] = [
            CharSpec(self.WRITE, ("write-without-response",)),
            CharSpec(self.NOTIFY, ("notify",)),
        ]

    def tick(self) -> list[Notification]:
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        return [
            (
                self.NOTIFY,
                pc60fw.encode_numbers(
                    None if off else spo2, None if off else self.pulse(), self.scenario.perfusion_index()
                ),
            )
        ]


class Thermometer(EmulatedDevice):
    PROFILE = sig_health.PROFILES[0]
    SERVICE, MEASUREMENT = sig_health.THERMOMETER_SERVICE, sig_health.TEMPERATURE_MEASUREMENT.uuid

    def setup(self) -> None:
        self.interval_s = 5.0
        self.services[self.SERVICE] = [CharSpec(self.MEASUREMENT, ("indicate",))]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        return [(self.MEASUREMENT, sig_health.encode_temperature(self.scenario.temperature()))]


class BloodPressureCuff(EmulatedDevice):
    PROFILE = sig_health.PROFILES[1]
    SERVICE, MEASUREMENT = sig_health.BLOOD_PRESSURE_SERVICE, sig_health.BLOOD_PRESSURE_MEASUREMENT.uuid

    def setup(self) -> None:
        self.interval_s = 10.0
        self.services[self.SERVICE] = [CharSpec(self.MEASUREMENT, ("indicate",))]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        sys_, dia = self.scenario.blood_pressure()
        return [
            (self.MEASUREMENT, sig_health.encode_blood_pressure(sys_, dia, round((sys_ + 2 * dia) / 3), self.pulse()))
        ]


DEVICE_CLASSES: dict[str, type[EmulatedDevice]] = {cls.PROFILE.name: cls for cls in EmulatedDevice.__subclasses__()}

# One of each, at fixed addresses; the first two match roomctl/defaults/demo.toml.
CATALOGUE: list[tuple[str, str, str]] = [
    ("heart_rate", "C0:FF:EE:00:00:01", "HRM-Strap 0001"),
    ("plx", "C0:FF:EE:00:00:02", "PLX-Oximeter 0002"),
    ("berrymed", "C0:FF:EE:00:00:03", "BerryMed"),
    ("viatom", "C0:FF:EE:00:00:04", "O2Ring 0004"),
    ("nonin", "C0:FF:EE:00:00:05", "Nonin3230_500000005"),
    ("jumper", "C0:FF:EE:00:00:06", "JPD-500F"),
    ("pc60fw", "C0:FF:EE:00:00:07", "PC-60F_SN000007"),
    ("thermometer", "C0:FF:EE:00:00:08", "Thermo 0008"),
    ("blood_pressure", "C0:FF:EE:00:00:09", "BP-Cuff 0009"),
]


def make_devices(scenario: Scenario, profiles: list[str] | None = None) -> list[EmulatedDevice]:
    """The catalogue's devices for ``profiles`` (all when None), sharing one scenario."""
    return [
        DEVICE_CLASSES[profile](address, name, scenario)
        for profile, address, name in CATALOGUE
        if profiles is None or profile in profiles
    ]


DEMO_PROFILES = ["heart_rate", "plx", "berrymed", "viatom"]
