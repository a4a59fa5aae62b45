"""Heart Rate service (0x180D) and Battery Level: 0x2A37, 0x2A38, 0x2A19.

Per-field decisions: heart rate 0 or above 300 bpm -> None (``out_of_range``, quality invalid: straps send 0 while they
have no contact); RR intervals outside 0.2-60 s (300-1 bpm) are dropped and counted in ``rr_intervals_discarded``;
sensor contact "not detected" -> quality questionable; battery above 100 % -> DecodeError (as Nordic's library does).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.fields import (
    BATTERY,
    ENERGY_EXPENDED,
    HEART_RATE,
    RR_INTERVALS,
    finish,
)
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import STRAP_RULES, Characteristic, Notify, WearableProfile, sig

SENSOR_CONTACT = ("not_supported", "not_supported", "not_detected", "detected")  # index: (flags >> 1) & 3
_PRIMARY = (HEART_RATE,)
RR_MIN_RAW = 205  # 0.2 s in 1/1024 s (rounded up)
RR_MAX_RAW = 60 * 1024


def decode_heart_rate(data: bytes) -> list[Measurement]:
    """0x2A37 Heart Rate Measurement: bpm, sensor contact, energy expended (kJ), RR intervals (s = raw / 1024)."""
    size = len(data)
    if size < 2:
        raise DecodeError(f"heart rate measurement: needs at least 2 bytes, got {size}")
    flags = data[0]
    if flags & 0x01:
        if size < 3:
            raise DecodeError("heart rate measurement: flags announce a 16-bit heart rate but only 1 byte follows")
        heart_rate = data[1] | (data[2] << 8)
        offset = 3
    else:
        heart_rate = data[1]
        offset = 2
    contact = SENSOR_CONTACT[(flags >> 1) & 3]
    status: dict[str, object] = {"sensor_contact": contact}
    missing: dict[Quantity, str] = {}
    values: dict[Quantity, Value]
    if 1 <= heart_rate <= 300:
        values = {HEART_RATE: float(heart_rate)}
    else:
        values = {HEART_RATE: None}
        missing[HEART_RATE] = "out_of_range"
    if flags & 0x08:
        if size < offset + 2:
            raise DecodeError("heart rate measurement: flags announce energy expended but the bytes are missing")
        values[ENERGY_EXPENDED] = float(data[offset] | (data[offset + 1] << 8))
        offset += 2
    if flags & 0x10:
        if size < offset + 2:
            raise DecodeError("heart rate measurement: flags announce RR intervals but none follow")
        intervals: list[float] = []
        discarded = 0
        for i in range(offset, size - 1, 2):
            raw = data[i] | (data[i + 1] << 8)
            if RR_MIN_RAW <= raw <= RR_MAX_RAW:
                intervals.append(raw / 1024)
            else:
                discarded += 1
        values[RR_INTERVALS] = intervals
        if discarded:
            status["rr_intervals_discarded"] = discarded
    if not missing and contact != "not_detected":  # fast path for the common, valid notification
        return [Measurement(values, status)]
    return [finish(values, status, missing, _PRIMARY, questionable=contact == "not_detected")]


BODY_SENSOR_LOCATIONS = ("other", "chest", "wrist", "finger", "hand", "ear_lobe", "foot")


def decode_body_sensor_location(data: bytes) -> list[Measurement]:
    """0x2A38 Body Sensor Location (uint8); 7-255 are reserved and reported as ``reserved``."""
    if len(data) != 1:
        raise DecodeError(f"body sensor location: needs exactly 1 byte, got {len(data)}")
    code = data[0]
    name = BODY_SENSOR_LOCATIONS[code] if code < len(BODY_SENSOR_LOCATIONS) else "reserved"
    return [Measurement({}, {"body_sensor_location": name, "body_sensor_location_code": code})]


def decode_battery_level(data: bytes) -> list[Measurement]:
    """0x2A19 Battery Level: one byte, 0-100 %."""
    if len(data) != 1:
        raise DecodeError(f"battery level: needs exactly 1 byte, got {len(data)}")
    if data[0] > 100:
        raise DecodeError(f"battery level: {data[0]} % is above 100 %")
    return [Measurement({BATTERY: float(data[0])}, {})]


# -- the emulator's side of the protocol


def encode_heart_rate(
    bpm: int, rr_s: Iterable[float] = (), contact: bool | None = True, energy_kj: int | None = None
) -> bytes:
    """0x2A37: uint8 HR (uint16 above 255), sensor contact (None: not supported), energy, RR in 1/1024 s."""
    rr = [round(r * 1024) for r in rr_s]
    flags = 0x01 if bpm > 255 else 0
    if contact is not None:
        flags |= 0x06 if contact else 0x04
    if energy_kj is not None:
        flags |= 0x08
    if rr:
        flags |= 0x10
    out = bytearray([flags])
    out += struct.pack("<H", bpm) if bpm > 255 else bytes([bpm])
    if energy_kj is not None:
        out += struct.pack("<H", energy_kj)
    for r in rr:
        out += struct.pack("<H", r)
    return bytes(out)


def encode_battery_level(percent: int) -> bytes:
    return bytes([max(0, min(100, percent))])


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = sig(0x180D)
BATTERY_SERVICE = sig(0x180F)
HEART_RATE_MEASUREMENT = Characteristic("heart_rate", sig(0x2A37), decode_heart_rate)
BODY_SENSOR_LOCATION = Characteristic("body_sensor_location", sig(0x2A38), decode_body_sensor_location)
BATTERY_LEVEL = Characteristic("battery_level", sig(0x2A19), decode_battery_level)
CHARACTERISTICS = (HEART_RATE_MEASUREMENT, BODY_SENSOR_LOCATION, BATTERY_LEVEL)
PROFILES = (
    WearableProfile(
        "heart_rate",
        "Heart-rate strap (Bluetooth Heart Rate service): heart rate, RR intervals, skin contact",
        SERVICE,
        (Notify(HEART_RATE_MEASUREMENT),),
        battery=BATTERY_LEVEL,
        advertised_uuids=(SERVICE,),
        conditions=STRAP_RULES,
    ),
)
