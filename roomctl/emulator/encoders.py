"""Payload encoders for the emulated wearables, written from the byte layouts in ble-protocols.md.

The payloads are deliberately independent of :mod:`roomctl.sensors.decoders`: the tests feed one into the other, so
a misreading of the specification on either side shows up as a mismatch. Vendor framing (the Viatom frame, the CRCs)
is shared with the decoders; tests/decoders checks it against slow textbook CRCs of its own.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from roomctl.sensors.decoders.pc60fw import crc_frame

SFLOAT_NAN = 0x07FF
FLOAT_NAN = 0x007FFFFF


def sfloat(value: float | None, exponent: int = 0) -> bytes:
    """IEEE-11073 16-bit SFLOAT; ``None`` becomes NaN."""
    if value is None:
        raw = SFLOAT_NAN
    else:
        mantissa = round(value / 10**exponent)
        if not -2048 <= mantissa <= 2047:
            raise ValueError(f"{value} does not fit an SFLOAT with exponent {exponent}")
        raw = ((exponent & 0x0F) << 12) | (mantissa & 0x0FFF)
    return struct.pack("<H", raw)


def float32(value: float | None, exponent: int = -2) -> bytes:
    """IEEE-11073 32-bit FLOAT; ``None`` becomes NaN."""
    if value is None:
        return struct.pack("<I", FLOAT_NAN)
    mantissa = round(value / 10**exponent) & 0xFFFFFF
    return struct.pack("<I", mantissa | ((exponent & 0xFF) << 24))


def heart_rate(
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


def battery_level(percent: int) -> bytes:
    return bytes([max(0, min(100, percent))])


def plx_continuous(
    spo2: float | None, pr: float | None, pai: float | None = None, device_status_bits: Iterable[int] = ()
) -> bytes:
    """0x2A5F with the Device & Sensor Status field (bit3) and, when given, the Pulse Amplitude Index (bit4)."""
    flags = 0x08 | (0x10 if pai is not None else 0)
    status = 0
    for bit in device_status_bits:
        status |= 1 << bit
    out = bytearray([flags]) + sfloat(spo2) + sfloat(pr) + status.to_bytes(3, "little")
    if pai is not None:
        out += sfloat(pai, -1)
    return bytes(out)


def plx_features() -> bytes:
    """0x2A60: Device & Sensor Status supported (bit1) with its support mask, and PAI (bit6)."""
    return struct.pack("<H", 0x0042) + (0xFFFF).to_bytes(3, "little")


def temperature(celsius: float | None, body_site: int = 2) -> bytes:
    """0x2A1C in °C with a Temperature Type (2 = body)."""
    return bytes([0x04]) + float32(celsius, -2) + bytes([body_site])


def blood_pressure(systolic: float, diastolic: float, mean: float | None, pulse: float | None) -> bytes:
    """0x2A35 in mmHg; the pulse rate field (bit2) when given."""
    flags = 0x04 if pulse is not None else 0
    out = bytearray([flags]) + sfloat(systolic) + sfloat(diastolic) + sfloat(mean)
    if pulse is not None:
        out += sfloat(pulse)
    return bytes(out)


def berrymed(spo2: int | None, pr: int | None, pleth: int, finger_off: bool, signal: int = 8) -> bytes:
    """One 5-byte BCI packet; SpO2 127 / PR 255 mean invalid."""
    s = 127 if spo2 is None else spo2
    p = 255 if pr is None else pr
    b0 = 0x80 | (signal & 0x0F)
    if finger_off:
        b0 |= 0x10
    b2 = (0x10 if finger_off else 0) | ((p & 0x80) >> 1)
    return bytes([b0, pleth & 0x7F, b2, p & 0x7F, s & 0x7F])


def nonin(
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


def viatom_sensors(
    spo2: int | None, hr: int | None, battery: int, finger: bool, motion: int = 0, pi_strength: int = 50
) -> bytes:
    """The 13-byte READ_SENSORS payload; 0xFF marks SpO2/HR missing."""
    s = 0xFF if spo2 is None else spo2
    h = 0xFF if hr is None else hr
    return bytes([s, h, 0xFF if hr is None else 0, 0, 0, 0, 0, battery, 0, motion, pi_strength, int(finger), 0])


def jumper(pr: int | None, spo2: int | None, pi_percent: float) -> bytes:
    """Jumper 0x81 frame ``[0x81, PR, SpO2, PI×10]``; PR 255 / SpO2 127 mean invalid."""
    return bytes([0x81, 255 if pr is None else pr, 127 if spo2 is None else spo2, round(pi_percent * 10) & 0xFF])


def pc60fw(spo2: int | None, pr: int | None, pi_percent: float) -> bytes:
    """PC-60FW numbers frame ``AA 55 0F 08 01 SpO2 PR PRhi PI×10 0 0 CRC8/MAXIM``."""
    s = 0 if spo2 is None else spo2
    p = 0 if pr is None else pr
    frame = bytes([0xAA, 0x55, 0x0F, 0x08, 0x01, s, p & 0xFF, p >> 8, round(pi_percent * 10), 0, 0])
    return crc_frame(frame)
