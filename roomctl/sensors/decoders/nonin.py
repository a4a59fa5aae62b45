"""Nonin Oximetry Service (3230, WristOx2 3150, Onyx BLE): the 10-byte big-endian Continuous Oximetry packet.

Layout: length (10), status, battery (decivolts), PAI (u16, 0.01 %), seconds counter (u16), SpO2 (127 = missing),
pulse rate (u16, 511 = missing). Status bit 4 is "sensor connected / finger placed correctly": when clear, quality is
invalid and values None. Weak signal (bit 1) or searching (bit 3) -> questionable. An encrypted packet (bit 6) cannot
be read: its values are None. The battery is reported as a voltage in ``status``; Nonin sends no percentage.
"""

from __future__ import annotations

from roomctl.errors import DecodeError
from roomctl.sensors.decoders._common import PERFUSION_INDEX, PULSE_RATE, SPO2, finish, put
from roomctl.sensors.measurement import Measurement, Value

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
    values: dict[str, Value] = {}
    missing: dict[str, str] = {}
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
