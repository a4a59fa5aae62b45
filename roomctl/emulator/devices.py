"""Emulated wearables, one class per profile: their GATT layout and what they send, driven by a :class:`Scenario`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from roomctl.emulator import encoders as enc
from roomctl.emulator.scenario import Scenario
from roomctl.sensors.decoders.crc import crc8_smbus
from roomctl.sensors.decoders.viatom import CMD_READ_SENSORS, encode_response

Notification = tuple[str, bytes]  # (characteristic UUID, value)


def sig(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


BATTERY_SERVICE, BATTERY_LEVEL = sig(0x180F), sig(0x2A19)


@dataclass(frozen=True)
class CharSpec:
    uuid: str
    flags: tuple[str, ...]
    read: Callable[[], bytes] | None = None


@dataclass
class EmulatedDevice:
    """Base: subclasses set the profile, GATT layout and :meth:`tick` (and :meth:`on_write` for polled protocols)."""

    address: str
    name: str
    scenario: Scenario
    interval_s: float = 1.0
    battery_start: float = 100.0
    profile: str = field(default="", init=False)
    services: dict[str, list[CharSpec]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.address = self.address.upper()
        self.setup()

    def setup(self) -> None:
        """Fill :attr:`services` and :attr:`profile`."""

    def add_battery_service(self) -> None:
        self.services[BATTERY_SERVICE] = [CharSpec(BATTERY_LEVEL, ("read", "notify"), read=self.battery_value)]

    @property
    def advertised_uuids(self) -> list[str]:
        return list(self.services)

    def battery(self) -> int:
        return self.scenario.battery(self.address, self.battery_start)

    def battery_value(self) -> bytes:
        return enc.battery_level(self.battery())

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
    HR_SERVICE, HR_MEASUREMENT, BODY_LOCATION = sig(0x180D), sig(0x2A37), sig(0x2A38)

    def setup(self) -> None:
        self.profile = "heart_rate"
        self.services[self.HR_SERVICE] = [
            CharSpec(self.HR_MEASUREMENT, ("notify",)),
            CharSpec(self.BODY_LOCATION, ("read",), read=lambda: b"\x01"),
        ]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        if self.finger_off:  # strap lifted from the skin: contact lost, no RR
            return [(self.HR_MEASUREMENT, enc.heart_rate(0, (), contact=False))]
        rr = self.scenario.rr_intervals(self.interval_s)
        bpm = round(60.0 / (sum(rr) / len(rr)))
        return [(self.HR_MEASUREMENT, enc.heart_rate(bpm, rr, contact=True))]


class PlxOximeter(EmulatedDevice):
    PLX_SERVICE, SPOT, CONTINUOUS, FEATURES = sig(0x1822), sig(0x2A5E), sig(0x2A5F), sig(0x2A60)

    def setup(self) -> None:
        self.profile = "plx"
        self.services[self.PLX_SERVICE] = [
            CharSpec(self.SPOT, ("indicate",)),
            CharSpec(self.CONTINUOUS, ("notify",)),
            CharSpec(self.FEATURES, ("read",), read=enc.plx_features),
        ]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        if self.finger_off:  # D&S bit 11: sensor unconnected to user
            return [(self.CONTINUOUS, enc.plx_continuous(None, None, None, (11,)))]
        spo2, artefact = self.scenario.spo2()
        bits = (4,) if artefact else ()  # poor signal
        return [(self.CONTINUOUS, enc.plx_continuous(spo2, self.pulse(), self.scenario.perfusion_index(), bits))]


class BerryMed(EmulatedDevice):
    """BCI stream: 5-byte packets at ``packet_hz``, cut into notifications of varying size (split and merged)."""

    SERVICE = "49535343-fe7d-4ae5-8fa9-9fafd205e455"
    DATA = "49535343-1e4d-4bd9-ba61-23c647249616"
    WRITE = "49535343-8841-43f4-a8d4-ecbe34729bb3"
    packet_hz: int = 10

    def setup(self) -> None:
        self.profile = "berrymed"
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
            self._pending += enc.berrymed(None if off else spo2, None if off else pr, pleth, off)
        out: list[Notification] = []
        while self._pending:  # chunks of 3..12 bytes: packets split across and merged into notifications
            size = self.scenario.rng.randint(3, 12)
            if size > len(self._pending) and len(out) > 0:
                break  # keep the tail for the next tick, as a real stream would
            out.append((self.DATA, bytes(self._pending[:size])))
            del self._pending[:size]
        return out


class Nonin(EmulatedDevice):
    SERVICE = "46a970e0-0d5f-11e2-8b5e-0002a5d5c51b"
    OXIMETRY = "0aad7ea0-0d60-11e2-8e3c-0002a5d5c51b"
    CONTROL = "1447af80-0d60-11e2-88b6-0002a5d5c51b"

    def setup(self) -> None:
        self.profile = "nonin"
        self.services[self.SERVICE] = [CharSpec(self.OXIMETRY, ("notify",)), CharSpec(self.CONTROL, ("write",))]
        self._counter = 0

    def tick(self) -> list[Notification]:
        self._counter += 1
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        battery = self.battery()
        payload = enc.nonin(
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

    SERVICE = "14839ac4-7d7e-415c-9a42-167340cf2339"
    WRITE = "8b00ace7-eb0b-49b0-bbe9-9aee0a26e1a3"
    NOTIFY = "0734594a-a8e7-4b1a-a6b1-cd5243059a57"

    def setup(self) -> None:
        self.profile = "viatom"
        self.services[self.SERVICE] = [
            CharSpec(self.WRITE, ("write", "write-without-response")),
            CharSpec(self.NOTIFY, ("notify",)),
        ]
        self.requests = 0

    def on_write(self, uuid: str, data: bytes) -> list[Notification]:
        if uuid != self.WRITE or len(data) < 8 or data[0] != 0xAA or crc8_smbus(data[:-1]) != data[-1]:
            return []
        self.requests += 1
        if data[1] != CMD_READ_SENSORS:
            return [(self.NOTIFY, encode_response(b"", status=0x01))]
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        sensors = enc.viatom_sensors(
            None if off else spo2, None if off else self.pulse(), self.battery(), finger=not off
        )
        return [(self.NOTIFY, encode_response(sensors))]


class Jumper(EmulatedDevice):
    SERVICE, NOTIFY = "cdeacb80-5235-4c07-8846-93a37ee6b86d", "cdeacb81-5235-4c07-8846-93a37ee6b86d"

    def setup(self) -> None:
        self.profile = "jumper"
        self.services[self.SERVICE] = [CharSpec(self.NOTIFY, ("notify",))]

    def tick(self) -> list[Notification]:
        off = self.finger_off
        spo2, _ = self.scenario.spo2()
        return [
            (
                self.NOTIFY,
                enc.jumper(None if off else self.pulse(), None if off else spo2, self.scenario.perfusion_index()),
            )
        ]


class PC60FW(EmulatedDevice):
    SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
    WRITE = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
    NOTIFY = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

    def setup(self) -> None:
        self.profile = "pc60fw"
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
                enc.pc60fw(None if off else spo2, None if off else self.pulse(), self.scenario.perfusion_index()),
            )
        ]


class Thermometer(EmulatedDevice):
    SERVICE, MEASUREMENT = sig(0x1809), sig(0x2A1C)

    def setup(self) -> None:
        self.profile = "thermometer"
        self.interval_s = 5.0
        self.services[self.SERVICE] = [CharSpec(self.MEASUREMENT, ("indicate",))]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        return [(self.MEASUREMENT, enc.temperature(self.scenario.temperature()))]


class BloodPressureCuff(EmulatedDevice):
    SERVICE, MEASUREMENT = sig(0x1810), sig(0x2A35)

    def setup(self) -> None:
        self.profile = "blood_pressure"
        self.interval_s = 10.0
        self.services[self.SERVICE] = [CharSpec(self.MEASUREMENT, ("indicate",))]
        self.add_battery_service()

    def tick(self) -> list[Notification]:
        sys_, dia = self.scenario.blood_pressure()
        return [(self.MEASUREMENT, enc.blood_pressure(sys_, dia, round((sys_ + 2 * dia) / 3), self.pulse()))]


DEVICE_CLASSES: dict[str, type[EmulatedDevice]] = {
    "heart_rate": HeartRateStrap,
    "plx": PlxOximeter,
    "berrymed": BerryMed,
    "viatom": Viatom,
    "nonin": Nonin,
    "jumper": Jumper,
    "pc60fw": PC60FW,
    "thermometer": Thermometer,
    "blood_pressure": BloodPressureCuff,
}

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
