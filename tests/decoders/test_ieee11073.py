"""IEEE-11073 SFLOAT/FLOAT and Date Time, from the reference's definition (§2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomctl.sensors.codec.ieee11073 import date_time, float32, sfloat
from tests.decoders import spec


@pytest.mark.parametrize(("name", "raw"), spec.SFLOAT_SPECIALS.items())
def test_sfloat_special_values_are_named_not_numbers(name: str, raw: bytes) -> None:
    assert sfloat(raw, 0) == (None, name)


@pytest.mark.parametrize(("name", "raw"), spec.FLOAT_SPECIALS.items())
def test_float_special_values_are_named_not_numbers(name: str, raw: bytes) -> None:
    assert float32(raw, 0) == (None, name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\x62\x00", 98.0),  # 0x0062 with exponent 0 is an ordinary 98
        (b"\x6c\xf1", 36.4),  # exponent -1, mantissa 364
        (b"\xff\x0f", -1.0),  # mantissa -1
        (b"\x00\x10", 0.0),
        (b"\xfd\x07", 2045.0),  # largest ordinary mantissa, next to +INF
        (b"\x03\x08", -2045.0),
        (b"\xff\x17", 20470.0),  # 0x07FF with exponent 1 is not NaN: only the exact patterns are special
    ],
)
def test_sfloat_ordinary_values(raw: bytes, expected: float) -> None:
    value, special = sfloat(raw, 0)
    assert special is None
    assert value == pytest.approx(expected)


@given(st.integers(-2048, 2047), st.integers(-8, 7))
def test_sfloat_any_mantissa_and_exponent(mantissa: int, exponent: int) -> None:
    raw = spec.sfloat(mantissa, exponent)
    value, special = sfloat(raw, 0)
    if exponent == 0 and mantissa in (2047, -2048, -2047, 2046, -2046):
        assert value is None
        assert special is not None
    else:
        assert special is None
        assert value == pytest.approx(float(Decimal(mantissa).scaleb(exponent)))


@given(st.integers(-(2**23), 2**23 - 1), st.integers(-128, 127))
def test_float_any_mantissa_and_exponent(mantissa: int, exponent: int) -> None:
    value, special = float32(spec.float32(mantissa, exponent), 0)
    if exponent == 0 and mantissa in (2**23 - 1, 2**23 - 2, -(2**23), -(2**23) + 1, -(2**23) + 2):
        assert value is None
        assert special is not None
    else:
        assert special is None
        assert value == pytest.approx(float(Decimal(mantissa).scaleb(exponent)), rel=1e-12)


def test_date_time_valid_unknown_and_invalid() -> None:
    ts = datetime(2026, 11, 23, 19, 30, 5)
    assert date_time(spec.date_time(ts), 0) == (ts, "valid")
    assert date_time(b"\x00\x00\x0b\x17\x13\x1e\x05", 0) == (None, "unknown")  # year 0
    assert date_time(b"\xea\x07\x00\x17\x13\x1e\x05", 0) == (None, "unknown")  # month 0
    assert date_time(b"\xea\x07\x0d\x17\x13\x1e\x05", 0) == (None, "invalid")  # month 13
    assert date_time(b"\xea\x07\x0b\x17\x19\x1e\x05", 0) == (None, "invalid")  # hour 25
