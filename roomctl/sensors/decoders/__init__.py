"""Pure BLE decoders: bytes in, :class:`~roomctl.sensors.measurement.Measurement` list out, or DecodeError. No I/O.

Stable interface (the BLE links, the emulator and ``roomctl decode`` import it):

* :data:`DECODERS` maps a decode profile name to its decoder ``Callable[[bytes], list[Measurement]]``.
* :func:`resolve_profile` turns a user's profile name into a key of :data:`DECODERS`, accepting the SIG 16-bit UUID
  (``2a37``, ``0x2A37``), the full 128-bit UUID, or a vendor characteristic's UUID.
* :func:`stream_decoder_for` gives a :class:`StreamDecoder` for a profile: use it on notifications, since vendor
  streams (BerryMed, PC-60FW, Viatom) split and pack packets across notifications.
* :func:`encode_request` / :data:`READ_SENSORS_REQUEST`: the Viatom poll the link writes.
"""

from __future__ import annotations

import re

from roomctl.errors import RoomctlError
from roomctl.sensors.decoders.berrymed import BerryMedStreamDecoder, decode_berrymed
from roomctl.sensors.decoders.jumper import decode_jumper
from roomctl.sensors.decoders.nonin import decode_nonin
from roomctl.sensors.decoders.pc60fw import Pc60fwStreamDecoder, decode_pc60fw
from roomctl.sensors.decoders.sig_health import decode_blood_pressure, decode_temperature
from roomctl.sensors.decoders.sig_heart_rate import decode_battery_level, decode_body_sensor_location, decode_heart_rate
from roomctl.sensors.decoders.sig_plx import decode_plx_continuous, decode_plx_features, decode_plx_spot_check
from roomctl.sensors.decoders.stream import PerNotificationDecoder, StreamDecoder
from roomctl.sensors.decoders.viatom import READ_SENSORS_REQUEST, ViatomStreamDecoder, decode_viatom, encode_request
from roomctl.sensors.measurement import Decoder, Measurement

DECODERS: dict[str, Decoder] = {
    "heart_rate": decode_heart_rate,
    "body_sensor_location": decode_body_sensor_location,
    "battery_level": decode_battery_level,
    "plx_spot_check": decode_plx_spot_check,
    "plx_continuous": decode_plx_continuous,
    "plx_features": decode_plx_features,
    "temperature": decode_temperature,
    "blood_pressure": decode_blood_pressure,
    "berrymed": decode_berrymed,
    "nonin": decode_nonin,
    "viatom": decode_viatom,
    "jumper": decode_jumper,
    "pc60fw": decode_pc60fw,
}

SIG_UUID16: dict[int, str] = {
    0x2A37: "heart_rate",
    0x2A38: "body_sensor_location",
    0x2A19: "battery_level",
    0x2A5E: "plx_spot_check",
    0x2A5F: "plx_continuous",
    0x2A60: "plx_features",
    0x2A1C: "temperature",
    0x2A35: "blood_pressure",
}
VENDOR_UUIDS: dict[str, str] = {
    "49535343-1e4d-4bd9-ba61-23c647249616": "berrymed",
    "0aad7ea0-0d60-11e2-8e3c-0002a5d5c51b": "nonin",
    "0734594a-a8e7-4b1a-a6b1-cd5243059a57": "viatom",
    "cdeacb81-5235-4c07-8846-93a37ee6b86d": "jumper",
    "6e400003-b5a3-f393-e0a9-e50e24dcca9e": "pc60fw",
}
_SIG_BASE = re.compile(r"0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb")
_UUID16 = re.compile(r"(?:0x)?([0-9a-f]{4})")

_STREAMS: dict[str, type[StreamDecoder]] = {
    "berrymed": BerryMedStreamDecoder,
    "pc60fw": Pc60fwStreamDecoder,
    "viatom": ViatomStreamDecoder,
}


class UnknownProfileError(RoomctlError, ValueError):
    """A decode profile name (or UUID) roomctl does not know."""


def resolve_profile(name: str) -> str:
    """The :data:`DECODERS` key for a profile name, SIG UUID (16- or 128-bit) or vendor characteristic UUID."""
    key = name.strip().lower()
    if key in DECODERS:
        return key
    if key in VENDOR_UUIDS:
        return VENDOR_UUIDS[key]
    match = _SIG_BASE.fullmatch(key) or _UUID16.fullmatch(key)
    if match is not None and int(match.group(1), 16) in SIG_UUID16:
        return SIG_UUID16[int(match.group(1), 16)]
    raise UnknownProfileError(
        f"unknown decode profile {name!r}; known: {', '.join(DECODERS)} (or a SIG UUID like 2a37)"
    )


def stream_decoder_for(profile: str) -> StreamDecoder:
    """A fresh stateful decoder for notifications of ``profile`` (name or UUID, see :func:`resolve_profile`)."""
    key = resolve_profile(profile)
    stream = _STREAMS.get(key)
    return stream() if stream is not None else PerNotificationDecoder(DECODERS[key])


__all__ = [
    "DECODERS",
    "READ_SENSORS_REQUEST",
    "BerryMedStreamDecoder",
    "Decoder",
    "Measurement",
    "PerNotificationDecoder",
    "StreamDecoder",
    "UnknownProfileError",
    "encode_request",
    "resolve_profile",
    "stream_decoder_for",
]
