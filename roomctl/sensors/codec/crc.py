"""The two 8-bit CRCs vendor oximeters use, table-driven."""

from __future__ import annotations


def _table(poly: int, reflected: bool) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            if reflected:
                crc = (crc >> 1) ^ poly if crc & 0x01 else crc >> 1
            else:
                crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_SMBUS = _table(0x07, reflected=False)
_MAXIM = _table(0x8C, reflected=True)  # 0x31 reflected


def crc8_smbus(data: bytes | bytearray) -> int:
    """CRC-8 poly 0x07, init 0x00, no reflection (Viatom/Wellue O2Ring frames). Check value of b"123456789": 0xF4."""
    crc = 0
    for byte in data:
        crc = _SMBUS[crc ^ byte]
    return crc


def crc8_maxim(data: bytes | bytearray) -> int:
    """CRC-8/MAXIM (Dallas 1-Wire): poly 0x31 reflected, init 0x00 (PC-60FW frames). Check value: 0xA1."""
    crc = 0
    for byte in data:
        crc = _MAXIM[crc ^ byte]
    return crc
