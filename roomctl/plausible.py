"""Plausible ranges: of manual vitals (a typing error must never become a reading), and of values from wearables whose
frames carry no checksum (a corrupted frame must never become an ``ok`` reading).

The command models (:mod:`roomctl.commands`) take their field limits from :data:`LIMITS`, and their refusals are worded
by the checks here ("blood pressure 400/20 mmHg refused: ..."). The session manager checks again before storing,
so a command built without validation is refused too. :data:`UNCHECKED_FRAMES` is what the SIG Pulse Oximeter decoder
(:mod:`roomctl.sensors.vendors.sig_plx`) holds a frame's numbers to.
"""

from __future__ import annotations

from collections.abc import Mapping

from roomctl.models import Quantity

# Plausible ranges, the same as roomctl.commands' field limits: (low, high, unit) per entered value.
LIMITS: dict[str, tuple[float, float, str]] = {
    "systolic": (50, 300, "mmHg"),
    "diastolic": (20, 200, "mmHg"),
    "pulse_rate": (20, 250, "bpm"),
    "celsius": (30.0, 45.0, "°C"),
}


def _out_of_range(name: str, value: float) -> str | None:
    low, high, unit = LIMITS[name]
    if low <= value <= high:
        return None
    label = "pulse" if name == "pulse_rate" else name
    return f"{label} {value:g} {unit} is outside the plausible range {low:g}-{high:g} {unit}"


def check_blood_pressure(systolic: float, diastolic: float, pulse_rate: float | None = None) -> str | None:
    """None when plausible, else the reason it was refused."""
    problems = [
        p
        for p in (
            _out_of_range("systolic", systolic),
            _out_of_range("diastolic", diastolic),
            _out_of_range("pulse_rate", pulse_rate) if pulse_rate is not None else None,
        )
        if p
    ]
    if not problems and diastolic >= systolic:
        problems.append(f"diastolic {diastolic:g} must be below systolic {systolic:g}")
    if not problems:
        return None
    return f"blood pressure {systolic:g}/{diastolic:g} mmHg refused: {'; '.join(problems)}. Nothing was stored; please measure or type it again."


def check_temperature(celsius: float) -> str | None:
    problem = _out_of_range("celsius", celsius)
    if problem is None:
        return None
    hint = ""
    if 86 <= celsius <= 113:
        hint = f" It looks like °F: {celsius:g} °F is {(celsius - 32) * 5 / 9:.1f} °C; enter °C."
    return f"temperature refused: {problem}. Nothing was stored.{hint}"


UNCHECKED_FRAMES: dict[Quantity, tuple[float, float]] = {
    Quantity.SPO2: (40.0, 100.0),
    Quantity.SPO2_FAST: (40.0, 100.0),
    Quantity.SPO2_SLOW: (40.0, 100.0),
    Quantity.PULSE_RATE: (20.0, 300.0),
    Quantity.PULSE_RATE_FAST: (20.0, 300.0),
    Quantity.PULSE_RATE_SLOW: (20.0, 300.0),
}
"""What a frame without a checksum may plausibly say (inclusive; canonical units). Below 40 % SpO2 no oximeter's accuracy
is specified (they state 70-100 %), so such a number from an unchecked frame is more likely bit damage (an SpO2 of
0.0008 % was seen) than a patient; a real desaturation crosses the SpO2 alarm limits on its way down, and an invalid
reading never clears an active alarm. Outside these, the whole frame is ``invalid``."""


def implausible(values: Mapping[Quantity, float | list[float] | None]) -> list[Quantity]:
    """The quantities whose value is outside :data:`UNCHECKED_FRAMES` (missing values and other quantities pass)."""
    out = []
    for quantity, value in values.items():
        bounds = UNCHECKED_FRAMES.get(quantity)
        if bounds is not None and isinstance(value, float | int) and not bounds[0] <= value <= bounds[1]:
            out.append(quantity)
    return out
