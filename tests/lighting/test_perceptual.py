"""CIE L* <-> duty: exact ends, monotonic, inverse of each other, continuous at the toe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from roomctl.lighting.perceptual import duty_to_level, level_to_duty


def test_ends_are_exact() -> None:
    assert level_to_duty(0.0) == 0.0
    assert level_to_duty(1.0) == 1.0
    assert duty_to_level(0.0) == 0.0
    assert abs(duty_to_level(1.0) - 1.0) < 1e-12


def test_mid_grey_is_about_eighteen_percent() -> None:
    # L* 50 is the classic "middle grey": relative luminance 18.4 %
    assert abs(level_to_duty(0.5) - 0.1842) < 1e-3


def test_toe_is_continuous() -> None:
    below, above = level_to_duty(0.08 - 1e-9), level_to_duty(0.08 + 1e-9)
    assert abs(above - below) < 1e-8


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_monotonic(a: float, b: float) -> None:
    if a < b:
        assert level_to_duty(a) <= level_to_duty(b)


@given(st.floats(0.0, 1.0))
def test_round_trip(level: float) -> None:
    assert abs(duty_to_level(level_to_duty(level)) - level) < 1e-9
