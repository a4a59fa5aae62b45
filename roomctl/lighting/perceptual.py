"""Perceived lightness (CIE L*) and PWM duty (relative luminance Y).

roomctl levels are perceived lightness 0.0-1.0 (L*/100): equal steps in level look like equal steps in brightness.
The LED driver wants luminance, which is what the PWM duty cycle sets. CIE 1976: Y = ((L* + 16) / 116)³ above L* = 8,
Y = L* / 903.3 below (the linear toe keeps the dark end smooth).
"""

from __future__ import annotations

_KAPPA = 24389 / 27  # CIE κ ≈ 903.3; exact, so both pieces meet at L* = 8
_TOE = 8.0  # L* where the cube law meets the linear toe
_TOE_Y = _TOE / _KAPPA


def level_to_duty(level: float) -> float:
    """PWM duty 0.0-1.0 for a perceived level 0.0-1.0. Exact at both ends: 0 -> 0, 1 -> 1."""
    lightness = min(1.0, max(0.0, level)) * 100.0
    if lightness <= _TOE:
        return lightness / _KAPPA
    cube: float = ((lightness + 16.0) / 116.0) ** 3
    return min(1.0, cube)


def duty_to_level(duty: float) -> float:
    """The perceived level 0.0-1.0 a PWM duty gives (inverse of :func:`level_to_duty`)."""
    y = min(1.0, max(0.0, duty))
    if y <= _TOE_Y:
        return y * _KAPPA / 100.0
    root: float = y ** (1.0 / 3.0)
    return (116.0 * root - 16.0) / 100.0
