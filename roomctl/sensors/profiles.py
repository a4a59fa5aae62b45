"""Wearable profiles as data: which service and characteristics, which decoder, notify or poll, battery, recognition,
and what "finger off" or "no contact" looks like in a decoded measurement's status.

One :class:`WearableProfile` per config ``profile`` name (roomctl.config.wearables.ProfileName). The link driver
(:mod:`roomctl.sensors.link`) is the same for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from roomctl.models import TechnicalCondition


def sig(short: int) -> str:
    """The 128-bit UUID of a 16-bit Bluetooth SIG UUID, as bleak writes it."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


BATTERY_LEVEL = sig(0x2A19)


@dataclass(frozen=True)
class Notify:
    """A characteristic to subscribe to and the decoder (a key of roomctl.sensors.decoders.DECODERS) for its values."""

    uuid: str
    decoder: str
    required: bool = True


@dataclass(frozen=True)
class Poll:
    """A request/response protocol: write ``request`` to ``write_uuid`` every ``poll_interval_s`` (from the config)."""

    write_uuid: str
    request: bytes


@dataclass(frozen=True)
class ConditionRule:
    """``status[key]`` equal to ``value`` (or, for a list, containing it) means ``condition``."""

    key: str
    value: object
    condition: TechnicalCondition

    def matches(self, status: Mapping[str, object]) -> bool:
        found = status.get(self.key)
        if isinstance(found, list | tuple | set | frozenset):
            return self.value in found
        return found is not None and found == self.value


OXIMETER_RULES = (
    ConditionRule("finger_present", False, TechnicalCondition.FINGER_OFF),
    ConditionRule("device_sensor_status", "sensor_unconnected_to_user", TechnicalCondition.FINGER_OFF),
    ConditionRule("device_sensor_status", "sensor_displaced", TechnicalCondition.SENSOR_DISPLACED),
    ConditionRule("device_sensor_status", "poor_signal_detected", TechnicalCondition.POOR_SIGNAL),
    ConditionRule("device_sensor_status", "inadequate_signal_detected", TechnicalCondition.POOR_SIGNAL),
    ConditionRule("probe_unplugged", True, TechnicalCondition.SENSOR_DISPLACED),
    ConditionRule("weak_signal", True, TechnicalCondition.POOR_SIGNAL),
    ConditionRule("low_battery", True, TechnicalCondition.LOW_BATTERY),
)
STRAP_RULES = (ConditionRule("sensor_contact", "not_detected", TechnicalCondition.NO_CONTACT),)


@dataclass(frozen=True)
class WearableProfile:
    name: str
    description: str
    service_uuid: str
    notify: tuple[Notify, ...]
    poll: Poll | None = None
    battery_uuid: str | None = None
    name_patterns: tuple[str, ...] = ()
    advertised_uuids: tuple[str, ...] = ()
    conditions: tuple[ConditionRule, ...] = ()
    publish_interval_s: float = 0.0
    continuous: bool = True
    """False for spot-check devices (thermometer, cuff): silence between measurements is normal, never "stale"."""
    """Streams that send many packets a second publish at most one reading per quantity per this many seconds."""
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(re.compile(p, re.IGNORECASE) for p in self.name_patterns))

    def recognises(self, name: str | None, service_uuids: Iterable[str]) -> bool:
        """Does an advertisement (name, service UUIDs) look like this kind of wearable?"""
        if name and any(p.search(name) for p in self._compiled):
            return True
        uuids = {u.lower() for u in service_uuids}
        return any(u in uuids for u in self.advertised_uuids)

    def conditions_in(self, status: Mapping[str, object]) -> set[TechnicalCondition]:
        return {rule.condition for rule in self.conditions if rule.matches(status)}


def _viatom_request() -> bytes:
    from roomctl.sensors.decoders import READ_SENSORS_REQUEST

    return READ_SENSORS_REQUEST


PROFILES: dict[str, WearableProfile] = {
    p.name: p
    for p in (
        WearableProfile(
            "heart_rate",
            "Heart-rate strap (Bluetooth Heart Rate service): heart rate, RR intervals, skin contact",
            sig(0x180D),
            (Notify(sig(0x2A37), "heart_rate"),),
            battery_uuid=BATTERY_LEVEL,
            advertised_uuids=(sig(0x180D),),
            conditions=STRAP_RULES,
        ),
        WearableProfile(
            "plx",
            "Pulse oximeter (Bluetooth Pulse Oximeter service, continuous measurement)",
            sig(0x1822),
            (Notify(sig(0x2A5F), "plx_continuous"), Notify(sig(0x2A5E), "plx_spot_check", required=False)),
            battery_uuid=BATTERY_LEVEL,
            advertised_uuids=(sig(0x1822),),
            conditions=OXIMETER_RULES,
        ),
        WearableProfile(
            "berrymed",
            "BerryMed BM1000 family oximeter (BCI 5-byte stream)",
            "49535343-fe7d-4ae5-8fa9-9fafd205e455",
            (Notify("49535343-1e4d-4bd9-ba61-23c647249616", "berrymed"),),
            name_patterns=(r"^BerryMed",),
            conditions=OXIMETER_RULES,
            publish_interval_s=1.0,
        ),
        WearableProfile(
            "nonin",
            "Nonin 3230 / WristOx2 / Onyx BLE oximeter (Nonin Oximetry service)",
            "46a970e0-0d5f-11e2-8b5e-0002a5d5c51b",
            (Notify("0aad7ea0-0d60-11e2-8e3c-0002a5d5c51b", "nonin"),),
            name_patterns=(r"^Nonin",),
            advertised_uuids=("46a970e0-0d5f-11e2-8b5e-0002a5d5c51b",),
            conditions=OXIMETER_RULES,
        ),
        WearableProfile(
            "viatom",
            "Viatom / Wellue O2Ring, Checkme O2, SleepU (polled every poll_interval_s)",
            "14839ac4-7d7e-415c-9a42-167340cf2339",
            (Notify("0734594a-a8e7-4b1a-a6b1-cd5243059a57", "viatom"),),
            poll=Poll("8b00ace7-eb0b-49b0-bbe9-9aee0a26e1a3", _viatom_request()),
            name_patterns=(r"^O2Ring", r"^Checkme", r"^SleepU", r"^O2M", r"^BabyO2", r"^Oxylink", r"^PO[0-9]"),
            advertised_uuids=("14839ac4-7d7e-415c-9a42-167340cf2339",),
            conditions=OXIMETER_RULES,
        ),
        WearableProfile(
            "jumper",
            "Jumper JPD-500F and similar 'My Oximeter' units",
            "cdeacb80-5235-4c07-8846-93a37ee6b86d",
            (Notify("cdeacb81-5235-4c07-8846-93a37ee6b86d", "jumper"),),
            name_patterns=(r"^JPD", r"My Oximeter"),
            advertised_uuids=("cdeacb80-5235-4c07-8846-93a37ee6b86d",),
            conditions=OXIMETER_RULES,
        ),
        WearableProfile(
            "pc60fw",
            "Creative Medical / Wellue PC-60FW fingertip oximeter (Nordic UART)",
            "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
            (Notify("6e400003-b5a3-f393-e0a9-e50e24dcca9e", "pc60fw"),),
            name_patterns=(r"^PC-60", r"^OxySmart", r"^PC60"),
            conditions=OXIMETER_RULES,
        ),
        WearableProfile(
            "thermometer",
            "Thermometer (Bluetooth Health Thermometer service)",
            sig(0x1809),
            (Notify(sig(0x2A1C), "temperature"),),
            battery_uuid=BATTERY_LEVEL,
            advertised_uuids=(sig(0x1809),),
            continuous=False,
        ),
        WearableProfile(
            "blood_pressure",
            "Blood-pressure cuff (Bluetooth Blood Pressure service)",
            sig(0x1810),
            (Notify(sig(0x2A35), "blood_pressure"),),
            battery_uuid=BATTERY_LEVEL,
            advertised_uuids=(sig(0x1810),),
            continuous=False,
        ),
    )
}


def recognise(name: str | None, service_uuids: Iterable[str]) -> WearableProfile | None:
    """The profile an advertisement looks like; vendor name patterns win over generic service UUIDs."""
    uuids = list(service_uuids)
    by_name = [p for p in PROFILES.values() if name and any(c.search(name) for c in p._compiled)]
    if by_name:
        return by_name[0]
    return next((p for p in PROFILES.values() if p.recognises(None, uuids)), None)
