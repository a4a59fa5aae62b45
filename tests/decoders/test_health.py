"""Health Thermometer 0x2A1C and Blood Pressure 0x2A35 over every flag combination (reference §5-6)."""

from __future__ import annotations

from datetime import datetime

import pytest

from roomctl.errors import DecodeError
from roomctl.sensors.vendors import DECODERS
from tests.builders import param_id
from tests.decoders import spec

TS = datetime(2026, 11, 23, 21, 0, 0)
TYPES = {
    1: "armpit",
    2: "body",
    3: "ear",
    4: "finger",
    5: "gastrointestinal_tract",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum",
}


@pytest.mark.parametrize("rfu", [0x00, 0xF8])
@pytest.mark.parametrize("flags", range(8))
def test_temperature_every_flag_combination(flags: int, rfu: int) -> None:
    fahrenheit = bool(flags & 1)
    data = bytes([flags | rfu]) + (spec.float32(986, -1) if fahrenheit else spec.float32(364, -1))
    ends = [len(data)]
    if flags & 0x02:
        data += spec.date_time(TS)
        ends.append(len(data))
    if flags & 0x04:
        data += bytes([6])
        ends.append(len(data))
    [m] = DECODERS["temperature"](data)
    assert m.values == {"temperature": pytest.approx(37.0 if fahrenheit else 36.4)}  # 98.6 °F is 37 °C
    assert m.timestamp == (TS if flags & 0x02 else None)
    assert m.status.get("temperature_type") == ("mouth" if flags & 0x04 else None)
    assert m.quality == "ok"
    for end in ends:
        with pytest.raises(DecodeError):
            DECODERS["temperature"](data[: end - 1])


@pytest.mark.parametrize("code", range(12))
def test_temperature_types(code: int) -> None:
    [m] = DECODERS["temperature"](b"\x04" + spec.float32(370, -1) + bytes([code]))
    assert m.status["temperature_type"] == TYPES.get(code, "reserved")


@pytest.mark.parametrize(("name", "raw"), spec.FLOAT_SPECIALS.items())
def test_temperature_special_values(name: str, raw: bytes) -> None:
    for flags in (0, 1):
        [m] = DECODERS["temperature"](bytes([flags]) + raw)
        assert m.values == {"temperature": None}
        assert m.status["missing"] == {"temperature": name}
        assert m.quality == "invalid"


@pytest.mark.parametrize(("mantissa", "exponent"), [(100, 0), (-5, 0), (19, 0), (461, -1), (1, 120)])
def test_implausible_body_temperature_is_not_valid(mantissa: int, exponent: int) -> None:
    [m] = DECODERS["temperature"](b"\x00" + spec.float32(mantissa, exponent))
    assert m.values == {"temperature": None}
    assert m.status["missing"] == {"temperature": "out_of_range"}


def bp(flags: int, status: int = 0) -> tuple[bytes, list[int]]:
    kpa = flags & 1
    if kpa:
        data = bytes([flags]) + spec.sfloat(160, -1) + spec.sfloat(107, -1) + spec.sfloat(125, -1)
    else:
        data = bytes([flags]) + spec.sfloat(120) + spec.sfloat(80) + spec.sfloat(93)
    ends = [len(data)]
    for bit, field in ((0x02, spec.date_time(TS)), (0x04, spec.sfloat(64)), (0x08, b"\x03"), (0x10, spec.u16(status))):
        if flags & bit:
            data += field
            ends.append(len(data))
    return data, ends


@pytest.mark.parametrize("rfu", [0x00, 0xE0])
@pytest.mark.parametrize("flags", range(32))
def test_blood_pressure_every_flag_combination(flags: int, rfu: int) -> None:
    data, ends = bp(flags | rfu)
    [m] = DECODERS["blood_pressure"](data)
    if flags & 1:
        pa_per_mmhg = 101325 / 760
        expected: dict[str, float] = {
            "systolic": 16000 / pa_per_mmhg,
            "diastolic": 10700 / pa_per_mmhg,
            "mean_arterial_pressure": 12500 / pa_per_mmhg,
        }
    else:
        expected = {"systolic": 120, "diastolic": 80, "mean_arterial_pressure": 93}
    if flags & 0x04:
        expected["pulse_rate"] = 64
    assert m.values == pytest.approx(expected)
    assert m.timestamp == (TS if flags & 0x02 else None)
    assert m.status.get("user_id") == (3 if flags & 0x08 else None)
    assert m.status.get("measurement_status") == ([] if flags & 0x10 else None)
    assert m.quality == "ok"
    for end in ends:
        with pytest.raises(DecodeError):
            DECODERS["blood_pressure"](data[: end - 1])


@pytest.mark.parametrize(
    ("status", "names", "pulse_range", "quality"),
    [
        (0x0001, ["body_movement_detected"], "within_range", "questionable"),
        (0x0002, ["cuff_too_loose"], "within_range", "questionable"),
        (0x0004, ["irregular_pulse_detected"], "within_range", "ok"),
        (0x0008, [], "exceeds_upper_limit", "ok"),
        (0x0010, [], "below_lower_limit", "ok"),
        (0x0018, [], "reserved", "ok"),
        (0x0020, ["improper_measurement_position"], "within_range", "questionable"),
        (
            0x0027,
            ["body_movement_detected", "cuff_too_loose", "irregular_pulse_detected", "improper_measurement_position"],
            "within_range",
            "questionable",
        ),  # Nordic BPMStatus test value
        (0x0012, ["cuff_too_loose"], "below_lower_limit", "questionable"),  # Nordic BPMStatus test value
        (0xFFC0, [], "within_range", "ok"),  # RFU bits ignored
    ],
    ids=param_id,
)
def test_blood_pressure_status_bits(status: int, names: list[str], pulse_range: str, quality: str) -> None:
    [m] = DECODERS["blood_pressure"](bp(0x10, status)[0])
    assert m.status["measurement_status"] == names
    assert m.status["pulse_rate_range"] == pulse_range
    assert m.quality == quality


def test_blood_pressure_map_nan_and_unknown_user() -> None:
    data = b"\x08" + spec.sfloat(120) + spec.sfloat(80) + spec.SFLOAT_SPECIALS["nan"] + b"\xff"
    [m] = DECODERS["blood_pressure"](data)
    assert m.values == {"systolic": 120.0, "diastolic": 80.0, "mean_arterial_pressure": None}
    assert m.status["missing"] == {"mean_arterial_pressure": "nan"}
    assert m.status["user_id"] is None
    assert m.quality == "ok"


@pytest.mark.parametrize(("name", "raw"), spec.SFLOAT_SPECIALS.items())
def test_blood_pressure_special_values(name: str, raw: bytes) -> None:
    [m] = DECODERS["blood_pressure"](b"\x04" + raw + raw + raw + raw)
    assert set(m.values.values()) == {None}
    assert m.status["missing"] == dict.fromkeys(["systolic", "diastolic", "mean_arterial_pressure", "pulse_rate"], name)
    assert m.quality == "invalid"
