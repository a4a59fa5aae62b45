"""0x2A37 Heart Rate Measurement over every flag combination, 0x2A38 and 0x2A19 (reference §3, Bluetooth HRS)."""

from __future__ import annotations

import pytest

from roomctl.errors import DecodeError
from roomctl.models import Quantity
from roomctl.sensors.vendors import DECODERS
from tests.decoders import spec

CONTACT = {0: "not_supported", 1: "not_supported", 2: "not_detected", 3: "detected"}
RR_RAW = [1024, 820, 615]


def build(flags: int, heart_rate: int) -> tuple[bytes, int]:
    """The notification for ``flags``, and its minimum valid length."""
    data = bytes([flags]) + (spec.u16(heart_rate) if flags & 1 else bytes([heart_rate]))
    minimum = len(data)
    if flags & 0x08:
        data += spec.u16(4321)
        minimum += 2
    if flags & 0x10:
        data += b"".join(spec.u16(r) for r in RR_RAW)
        minimum += 2
    return data, minimum


@pytest.mark.parametrize("rfu", [0x00, 0xE0])
@pytest.mark.parametrize("flags", range(32))
def test_every_flag_combination(flags: int, rfu: int) -> None:
    heart_rate = 287 if flags & 1 else 72
    data, minimum = build(flags | rfu, heart_rate)
    [m] = DECODERS["heart_rate"](data)
    expected: dict[str, object] = {"heart_rate": float(heart_rate)}
    if flags & 0x08:
        expected["energy_expended"] = 4321.0
    if flags & 0x10:
        expected["rr_intervals"] = [r / 1024 for r in RR_RAW]
    assert m.values == expected
    contact = CONTACT[(flags >> 1) & 3]
    assert m.status["sensor_contact"] == contact
    assert m.quality == ("questionable" if contact == "not_detected" else "ok")
    assert m.timestamp is None
    for size in range(minimum):
        with pytest.raises(DecodeError):
            DECODERS["heart_rate"](data[:size])


@pytest.mark.parametrize("heart_rate", [0, 301, 0xFFFF])
def test_implausible_heart_rate_is_never_a_valid_number(heart_rate: int) -> None:
    [m] = DECODERS["heart_rate"](bytes([0x07]) + spec.u16(heart_rate))
    assert m.values[Quantity.HEART_RATE] is None
    assert m.status["missing"] == {"heart_rate": "out_of_range"}
    assert m.quality == "invalid"


def test_rr_intervals_outside_physiology_are_dropped_and_counted() -> None:
    data = bytes([0x10, 60]) + spec.u16(0) + spec.u16(1024) + spec.u16(61 * 1024)
    [m] = DECODERS["heart_rate"](data)
    assert m.values[Quantity.RR_INTERVALS] == [1.0]
    assert m.status["rr_intervals_discarded"] == 2


def test_odd_trailing_byte_after_rr_is_ignored_like_nordic() -> None:
    [m] = DECODERS["heart_rate"](bytes([0x10, 60]) + spec.u16(1024) + b"\x04")
    assert m.values[Quantity.RR_INTERVALS] == [1.0]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0, "other"),
        (1, "chest"),
        (2, "wrist"),
        (3, "finger"),
        (4, "hand"),
        (5, "ear_lobe"),
        (6, "foot"),
        (7, "reserved"),
        (255, "reserved"),
    ],
)
def test_body_sensor_location(code: int, name: str) -> None:
    [m] = DECODERS["body_sensor_location"](bytes([code]))
    assert m.status["body_sensor_location"] == name
    assert m.values == {}


@pytest.mark.parametrize("level", [0, 1, 50, 100])
def test_battery_level(level: int) -> None:
    [m] = DECODERS["battery_level"](bytes([level]))
    assert m.values == {"battery": float(level)}


@pytest.mark.parametrize("data", [b"", b"\x65", b"\xff", b"\x10\x00"])
def test_battery_level_rejects_out_of_range_and_wrong_length(data: bytes) -> None:
    with pytest.raises(DecodeError):
        DECODERS["battery_level"](data)
