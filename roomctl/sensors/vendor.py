"""What a wearable vendor module exports: its characteristics (UUID + decoder) and its profile(s) as frozen data.

A vendor module (``roomctl/sensors/vendors/<vendor>.py``) defines, in one place:

* ``CHARACTERISTICS``: one :class:`Characteristic` per characteristic it decodes (the ``roomctl decode`` profile
  name, the UUID, the pure decoder and, for framed streams, the stream decoder);
* ``PROFILES``: the :class:`WearableProfile` (s) a config ``profile =`` may name: service, characteristics to
  subscribe to, poll request, battery, recognition, technical conditions and publish interval;
* the emulator's payload encoder(s), next to the decoder they must agree with.

Every registry (``DECODERS``, UUID lookup, ``PROFILES``, the config's profile names, the emulator's devices) is
derived from the set of vendor modules (:mod:`roomctl.sensors.vendors`, :mod:`roomctl.sensors.profiles`).
This module imports nothing from the decoders, so vendor modules can import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roomctl.models import TechnicalCondition

if TYPE_CHECKING:
    from roomctl.sensors.codec.stream import StreamDecoder
    from roomctl.sensors.measurement import Decoder


def sig(short: int) -> str:
    """The 128-bit UUID of a 16-bit Bluetooth SIG UUID, as bleak writes it."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True)
class Characteristic:
    """One decodable characteristic: ``key`` is its ``roomctl decode --profile`` name."""

    key: str
    uuid: str
    decode: Decoder
    stream: Callable[[], StreamDecoder] | None = None
    """For vendor streams that split and pack packets across notifications; None: one value per notification."""

    def new_stream(self) -> StreamDecoder:
        """A fresh stateful decoder for this characteristic's notifications."""
        from roomctl.sensors.codec.stream import PerNotificationDecoder

        return self.stream() if self.stream is not None else PerNotificationDecoder(self.decode)


@dataclass(frozen=True)
class Notify:
    """A characteristic to subscribe to; ``required=False`` ones are skipped when the wearable lacks them."""

    characteristic: Characteristic
    required: bool = True

    @property
    def uuid(self) -> str:
        return self.characteristic.uuid

    @property
    def decoder(self) -> str:
        return self.characteristic.key


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


MAX_NOTIFY_HZ = 8.0
"""One value per notification (every SIG profile, Nonin): a strap notifies once a beat at most (5 a second at 300 bpm),
an oximeter or thermometer about once a second."""
STREAM_MAX_NOTIFY_HZ = 100.0
"""Vendor streams that carry waveform packets (BerryMed, PC-60FW, Jumper, Viatom): tens of notifications a second."""


@dataclass(frozen=True)
class WearableProfile:
    """One config ``profile`` name: everything the one link driver (:mod:`roomctl.sensors.link`) needs to know."""

    name: str
    description: str
    service_uuid: str
    notify: tuple[Notify, ...]
    poll: Poll | None = None
    battery: Characteristic | None = None
    name_patterns: tuple[str, ...] = ()
    advertised_uuids: tuple[str, ...] = ()
    conditions: tuple[ConditionRule, ...] = ()
    publish_interval_s: float = 0.0
    """Streams that send many packets a second publish at most one reading per quantity per this many seconds."""
    continuous: bool = True
    """False for spot-check devices (thermometer, cuff): silence between measurements is normal, never "stale"."""
    max_notify_hz: float = MAX_NOTIFY_HZ
    """The most notifications a second (per characteristic) such a wearable plausibly sends; more are coalesced before
    decoding, and a flood pauses the subscription and raises "sending too fast" (:mod:`roomctl.sensors.ratebound`)."""
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)
    sensor_keys: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)
    """The status keys its condition rules read: a measurement carrying one says what the sensor sees now."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(re.compile(p, re.IGNORECASE) for p in self.name_patterns))
        object.__setattr__(self, "sensor_keys", frozenset(rule.key for rule in self.conditions))

    @property
    def battery_uuid(self) -> str | None:
        return self.battery.uuid if self.battery is not None else None

    def matches_name(self, name: str | None) -> bool:
        return bool(name) and any(p.search(name or "") for p in self._compiled)

    def recognises(self, name: str | None, service_uuids: Iterable[str]) -> bool:
        """Does an advertisement (name, service UUIDs) look like this kind of wearable?"""
        if self.matches_name(name):
            return True
        uuids = {u.lower() for u in service_uuids}
        return any(u in uuids for u in self.advertised_uuids)

    def conditions_in(self, status: Mapping[str, object]) -> frozenset[TechnicalCondition]:
        return frozenset(rule.condition for rule in self.conditions if rule.matches(status))
