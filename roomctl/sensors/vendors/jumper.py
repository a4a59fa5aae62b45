"""Jumper JPD-500F and other "My Oximeter" units: the ``0x81`` frame ``[0x81, PR, SpO2, PI x 10]``.

Low confidence: the layout and the PI scaling (/10) come from hobby sources only. PR 255, SpO2 127 and 0 in either
are "no reading" markers; PI 0 means no perfusion index (as one public decoder treats it). ``0x80`` (waveform)
frames carry no numbers and give no measurement; other frame types are rejected.
"""

from __future__ import annotations

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.fields import PERFUSION_INDEX, PULSE_RATE, SPO2, finish, put
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, STREAM_MAX_NOTIFY_HZ, Characteristic, Notify, WearableProfile

_PRIMARY = (SPO2, PULSE_RATE)


def decode_jumper(data: bytes) -> list[Measurement]:
    """One Jumper notification."""
    if not data:
        raise DecodeError("Jumper: empty notification")
    if data[0] == 0x80:
        return []
    if data[0] != 0x81:
        raise DecodeError(f"Jumper: unknown frame type 0x{data[0]:02X} (only 0x81 carries SpO2 and pulse rate)")
    if len(data) < 4:
        raise DecodeError(f"Jumper 0x81 frame: needs 4 bytes, got {len(data)}")
    pulse, spo2, pi = data[1], data[2], data[3]
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    put(values, missing, SPO2, None if spo2 in (0, 127) else float(spo2), "device_marker")
    put(values, missing, PULSE_RATE, None if pulse in (0, 255) else float(pulse), "device_marker")
    put(values, missing, PERFUSION_INDEX, pi / 10 if pi else None, "device_marker")
    return [finish(values, {}, missing, _PRIMARY)]


# -- the emulator's side of the protocol


def encode_frame(pr: int | None, spo2: int | None, pi_percent: float) -> bytes:
    """Jumper 0x81 frame ``[0x81, PR, SpO2, PI×10]``; PR 255 / SpO2 127 mean invalid."""
    return bytes([0x81, 255 if pr is None else pr, 127 if spo2 is None else spo2, round(pi_percent * 10) & 0xFF])


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = "cdeacb80-5235-4c07-8846-93a37ee6b86d"
DATA = Characteristic("jumper", "cdeacb81-5235-4c07-8846-93a37ee6b86d", decode_jumper)
CHARACTERISTICS = (DATA,)
PROFILES = (
    WearableProfile(
        "jumper",
        "Jumper JPD-500F and similar 'My Oximeter' units",
        SERVICE,
        (Notify(DATA),),
        name_patterns=(r"^JPD", r"My Oximeter"),
        advertised_uuids=(SERVICE,),
        conditions=OXIMETER_RULES,
        max_notify_hz=STREAM_MAX_NOTIFY_HZ,
    ),
)
