"""IEEE-11073-20601 numbers (SFLOAT, FLOAT) and the SIG Date Time field.

``sfloat``/``float32`` return ``(value, special)``: exactly one is not None. ``special`` names the five reserved raw
patterns (checked before any arithmetic; only these exact patterns are special, with exponent 0):
``nan``, ``nres``, ``reserved``, ``+inf``, ``-inf``. Callers store ``None`` for all five: a vital sign at ±infinity is
out of range, so it is not a reading either, and ``status["missing"]`` keeps the name.
"""

from __future__ import annotations

import struct
from datetime import datetime

SFLOAT_SPECIAL: dict[int, str] = {
    0x07FF: "nan",
    0x0800: "nres",
    0x0801: "reserved",
    0x07FE: "+inf",
    0x0802: "-inf",
}
FLOAT_SPECIAL: dict[int, str] = {
    0x007FFFFF: "nan",
    0x00800000: "nres",
    0x00800001: "reserved",
    0x007FFFFE: "+inf",
    0x00800002: "-inf",
}


def sfloat(data: bytes, offset: int) -> tuple[float | None, str | None]:
    """The 16-bit SFLOAT at ``offset`` (little-endian): 4-bit signed exponent, 12-bit signed mantissa."""
    raw = data[offset] | (data[offset + 1] << 8)
    special = SFLOAT_SPECIAL.get(raw)
    if special is not None:
        return None, special
    mantissa = raw & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    exponent = raw >> 12
    if exponent >= 8:
        exponent -= 16
    # Divide for negative exponents: 364 / 10 is exactly 36.4, 364 * 10**-1 is not.
    return (float(mantissa * 10**exponent) if exponent >= 0 else mantissa / 10**-exponent), None


def float32(data: bytes, offset: int) -> tuple[float | None, str | None]:
    """The 32-bit FLOAT at ``offset`` (little-endian): 8-bit signed exponent, 24-bit signed mantissa."""
    raw = int.from_bytes(data[offset : offset + 4], "little")
    mantissa = raw & 0x00FFFFFF
    special = FLOAT_SPECIAL.get(mantissa) if raw >> 24 == 0 else None
    if special is not None:
        return None, special
    if mantissa >= 0x00800000:
        mantissa -= 0x01000000
    exponent = raw >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return (float(mantissa * 10**exponent) if exponent >= 0 else mantissa / 10**-exponent), None


DATE_TIME_SIZE = 7


def date_time(data: bytes, offset: int) -> tuple[datetime | None, str]:
    """The 7-byte Date Time (year u16, month, day, hours, minutes, seconds): ``(timestamp, "valid"|"unknown"|"invalid")``.

    Year, month or day 0 mean "not known" (the device clock is not set); impossible dates (month 13, hour 25, ...)
    are reported as ``invalid`` rather than rejecting the whole measurement.
    """
    year = data[offset] | (data[offset + 1] << 8)
    month, day, hour, minute, second = data[offset + 2 : offset + 7]
    if year == 0 or month == 0 or day == 0:
        return None, "unknown"
    if not 1582 <= year <= 9999:
        return None, "invalid"
    try:
        return datetime(year, month, day, hour, minute, second), "valid"
    except ValueError:
        return None, "invalid"


# -- encoders (the emulator's side)
SFLOAT_NAN = 0x07FF
FLOAT_NAN = 0x007FFFFF


def encode_sfloat(value: float | None, exponent: int = 0) -> bytes:
    """IEEE-11073 16-bit SFLOAT; ``None`` becomes NaN."""
    if value is None:
        raw = SFLOAT_NAN
    else:
        mantissa = round(value / 10**exponent)
        if not -2048 <= mantissa <= 2047:
            raise ValueError(f"{value} does not fit an SFLOAT with exponent {exponent}")
        raw = ((exponent & 0x0F) << 12) | (mantissa & 0x0FFF)
    return struct.pack("<H", raw)


def encode_float32(value: float | None, exponent: int = -2) -> bytes:
    """IEEE-11073 32-bit FLOAT; ``None`` becomes NaN."""
    if value is None:
        return struct.pack("<I", FLOAT_NAN)
    mantissa = round(value / 10**exponent) & 0xFFFFFF
    return struct.pack("<I", mantissa | ((exponent & 0xFF) << 24))
