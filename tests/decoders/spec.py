"""Test-side encoders and expectations written from the specifications, independently of the decoders."""

from __future__ import annotations

import struct
from datetime import datetime

# Plausible ranges the decoders promise for values they present as valid (docs/decoding.md).
RANGES: dict[str, tuple[float, float]] = {
    "heart_rate": (1, 300),
    "pulse_rate": (1, 300),
    "pulse_rate_fast": (1, 300),
    "pulse_rate_slow": (1, 300),
    "spo2": (0, 100),
    "spo2_fast": (0, 100),
    "spo2_slow": (0, 100),
    "perfusion_index": (0, 100),
    "energy_expended": (0, 65535),
    "temperature": (20, 46),
    "systolic": (1, 350),
    "diastolic": (1, 350),
    "mean_arterial_pressure": (1, 350),
    "battery": (0, 100),
}
RR_RANGE = (0.2, 60.0)

SFLOAT_SPECIALS = {
    "nan": b"\xff\x07",
    "nres": b"\x00\x08",
    "reserved": b"\x01\x08",
    "+inf": b"\xfe\x07",
    "-inf": b"\x02\x08",
}
FLOAT_SPECIALS = {
    "nan": b"\xff\xff\x7f\x00",
    "nres": b"\x00\x00\x80\x00",
    "reserved": b"\x01\x00\x80\x00",
    "+inf": b"\xfe\xff\x7f\x00",
    "-inf": b"\x02\x00\x80\x00",
}


def sfloat(mantissa: int, exponent: int = 0) -> bytes:
    """IEEE-11073 SFLOAT: 4-bit exponent (high nibble), 12-bit mantissa, both two's complement, little-endian."""
    assert -2048 <= mantissa <= 2047
    assert -8 <= exponent <= 7
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0xFFF))


def float32(mantissa: int, exponent: int = 0) -> bytes:
    """IEEE-11073 FLOAT: 24-bit mantissa then a signed exponent byte."""
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def date_time(ts: datetime) -> bytes:
    return struct.pack("<HBBBBB", ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second)


def u16(value: int) -> bytes:
    return struct.pack("<H", value)


def u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


def crc8_bitwise(data: bytes, poly: int = 0x07) -> int:
    """CRC-8, MSB first, init 0 (Viatom), the slow textbook way."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc8_maxim_bitwise(data: bytes) -> int:
    """Dallas/Maxim CRC-8: LSB first, poly 0x8C (0x31 reflected), init 0."""
    crc = 0
    for byte in data:
        for bit in range(8):
            mix = (crc ^ (byte >> bit)) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
    return crc
