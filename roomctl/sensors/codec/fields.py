"""Shared decoder helpers: length checks, plausible ranges, and the quality rule.

Quality rule (every decoder):
* ``invalid``: the device's status bits say there is no valid reading (then every vital value is ``None``; the battery
  level stays), or every primary value of the measurement (e.g. SpO2 and pulse rate) is missing.
* ``questionable``: the device flags the reading as questionable, or some value was outside its plausible range.
* ``ok``: otherwise.
"""

from __future__ import annotations

from datetime import datetime

from roomctl.errors import DecodeError
from roomctl.models import Quality, Quantity
from roomctl.sensors.measurement import Measurement, Value

HEART_RATE = Quantity.HEART_RATE
RR_INTERVALS = Quantity.RR_INTERVALS
ENERGY_EXPENDED = Quantity.ENERGY_EXPENDED
SPO2 = Quantity.SPO2
PULSE_RATE = Quantity.PULSE_RATE
PERFUSION_INDEX = Quantity.PERFUSION_INDEX
SPO2_FAST = Quantity.SPO2_FAST
PULSE_RATE_FAST = Quantity.PULSE_RATE_FAST
SPO2_SLOW = Quantity.SPO2_SLOW
PULSE_RATE_SLOW = Quantity.PULSE_RATE_SLOW
TEMPERATURE = Quantity.TEMPERATURE
SYSTOLIC = Quantity.SYSTOLIC
DIASTOLIC = Quantity.DIASTOLIC
MEAN_ARTERIAL_PRESSURE = Quantity.MEAN_ARTERIAL_PRESSURE
BATTERY = Quantity.BATTERY

# Plausible ranges (inclusive) in canonical units. A value outside is never presented as valid: it becomes None with
# status["missing"][q] = "out_of_range". RR intervals outside the range are dropped from the list and counted.
VALID_RANGES: dict[Quantity, tuple[float, float]] = {
    HEART_RATE: (1.0, 300.0),
    PULSE_RATE: (1.0, 300.0),
    PULSE_RATE_FAST: (1.0, 300.0),
    PULSE_RATE_SLOW: (1.0, 300.0),
    SPO2: (0.0, 100.0),
    SPO2_FAST: (0.0, 100.0),
    SPO2_SLOW: (0.0, 100.0),
    PERFUSION_INDEX: (0.0, 100.0),
    RR_INTERVALS: (0.2, 3.0),  # 20-300 bpm, the same span as heart_rate
    ENERGY_EXPENDED: (0.0, 65535.0),
    TEMPERATURE: (20.0, 46.0),  # body temperature in °C: deep hypothermia to the highest fevers recorded
    SYSTOLIC: (1.0, 350.0),
    DIASTOLIC: (1.0, 350.0),
    MEAN_ARTERIAL_PRESSURE: (1.0, 350.0),
    BATTERY: (0.0, 100.0),
}

OK = Quality.OK
QUESTIONABLE = Quality.QUESTIONABLE
INVALID = Quality.INVALID


def need(data: bytes, size: int, what: str) -> None:
    """Raise a readable DecodeError unless ``data`` holds at least ``size`` bytes."""
    if len(data) < size:
        raise DecodeError(f"{what}: needs {size} bytes, got {len(data)}")


def put(
    values: dict[Quantity, Value], missing: dict[Quantity, str], quantity: Quantity, value: float | None, reason: str
) -> None:
    """Store ``value`` under ``quantity`` if present and plausible; otherwise store None and record why."""
    if value is None:
        values[quantity] = None
        missing[quantity] = reason
        return
    low, high = VALID_RANGES[quantity]
    if low <= value <= high:
        values[quantity] = value
    else:
        values[quantity] = None
        missing[quantity] = "out_of_range"


def finish(
    values: dict[Quantity, Value],
    status: dict[str, object],
    missing: dict[Quantity, str],
    primary: tuple[Quantity, ...],
    *,
    invalid: bool = False,
    questionable: bool = False,
    timestamp: datetime | None = None,
) -> Measurement:
    """Apply the quality rule (module docstring) and build the Measurement."""
    if invalid:
        for quantity, value in values.items():
            if value is not None and quantity != BATTERY:  # a finger off the sensor says nothing about the battery
                values[quantity] = None
                missing[quantity] = "flagged_invalid"
        quality = INVALID
    elif primary and all(values.get(q) is None for q in primary):
        quality = INVALID
    elif questionable or "out_of_range" in missing.values():
        quality = QUESTIONABLE
    else:
        quality = OK
    if missing:
        status["missing"] = missing
    return Measurement(values, status, timestamp, quality)
