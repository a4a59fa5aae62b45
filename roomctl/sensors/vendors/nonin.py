"""Nonin Oximetry Service (3230, WristOx2 3150, Onyx BLE): the 10-byte big-endian Continuous Oximetry packet.

Layout: length (10), status, battery (decivolts), PAI (u16, 0.01 %), seconds counter (u16), SpO2 (127 = missing),
pulse rate (u16, 511 = missing). Status bit 4 is "sensor connected / finger placed correctly": when clear, quality is
invalid and values None. Weak signal (bit 1) or searching (bit 3) -> questionable. An encrypted packet (bit 6) cannot
be read: its values are None. The battery is reported as a voltage in ``status``; Nonin sends no percentage.
"""

from __future__ import annotations

import struct

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.codec.fields import PERFUSION_INDEX, PULSE_RATE, SPO2, finish, put
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import OXIMETER_RULES, Characteristic, Notify, WearableProfile

PACKET_SIZE = 10
_PRIMARY = (SPO2, PULSE_RATE)


def decode_nonin(data: bytes) -> list[Measurement]:
    """One Continuous Oximetry notification."""
    if len(data) < PACKET_SIZE:
        raise DecodeError(f"Nonin continuous oximetry: needs {PACKET_SIZE} bytes, got {len(data)}")
    if data[0] != len(data):
        raise DecodeError(f"Nonin continuous oximetry: length byte says {data[0]}, the packet has {len(data)} bytes")
    status_bits = data[1]
    spo2 = data[7]
    pulse = (data[8] << 8) | data[9]
    pai = (data[3] << 8) | data[4]
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    put(values, missing, SPO2, None if spo2 in (0, 127) else float(spo2), "device_marker")
    put(values, missing, PULSE_RATE, None if pulse == 511 else float(pulse), "device_marker")
    put(values, missing, PERFUSION_INDEX, pai / 100, "")
    finger = bool(status_bits & 0x10)
    encrypted = bool(status_bits & 0x40)
    status: dict[str, object] = {
        "finger_present": finger,
        "display_sync": bool(status_bits & 0x01),
        "weak_signal": bool(status_bits & 0x02),
        "smartpoint": bool(status_bits & 0x04),
        "searching": bool(status_bits & 0x08),
        "low_battery": bool(status_bits & 0x20),
        "encrypted": encrypted,
        "battery_voltage": data[2] / 10,
        "seconds_counter": (data[5] << 8) | data[6],
    }
    return [
        finish(
            values,
            status,
            missing,
            _PRIMARY,
            invalid=not finger or encrypted,
            questionable=bool(status_bits & 0x0A),
        )
    ]


# -- the emulator's side of the protocol


def encode_packet(
    spo2: int | None,
    pr: int | None,
    pai_percent: float,
    counter: int,
    battery_dv: int,
    finger_ok: bool,
    low_battery: bool,
) -> bytes:
    """Nonin Continuous Oximetry, 10 bytes big-endian; SpO2 127 / PR 511 mean missing."""
    status = 0x04 if finger_ok else 0x08
    if finger_ok:
        status |= 0x10
    if low_battery:
        status |= 0x20
    return struct.pack(
        ">BBBHHBH",
        10,
        status,
        battery_dv,
        round(pai_percent * 100),
        counter & 0xFFFF,
        127 if spo2 is None else spo2,
        511 if pr is None else pr,
    )


# -- the vendor: what the link, the config and the emulator derive from

SERVICE = "46a970e0-0d5f-11e2-8b5e-0002a5d5c51b"
CONTROL = "1447af80-0d60-11e2-88b6-0002a5d5c51b"
OXIMETRY = Characteristic("nonin", "0aad7ea0-0d60-11e2-8e3c-0002a5d5c51b", decode_nonin)
CHARACTERISTICS = (OXIMETRY,)
PROFILES = (
    WearableProfile(
        "nonin",
        "Nonin 3230 / WristOx2 / Onyx BLE oximeter (Nonin Oximetry service)",
        SERVICE,
        (Notify(OXIMETRY),),
        name_patterns=(r"^Nonin",),
        advertised_uuids=(SERVICE,),
        conditions=OXIMETER_RULES,
    ),
)
