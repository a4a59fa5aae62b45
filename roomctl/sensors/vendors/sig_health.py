"""Health Thermometer 0x2A1C and Blood Pressure 0x2A35.

Per-field decisions: temperature is converted to °C (from °F when flag bit 0 is set) and must lie in 20-46 °C, else
None (``out_of_range``); pressures are converted to mmHg (from kPa when flag bit 0 is set) and must lie in 1-350 mmHg;
a cuff that sends MAP as SFLOAT NaN gives ``mean_arterial_pressure: null`` without degrading the quality. Body
movement, a loose cuff or an improper measurement position make a blood pressure questionable. Unknown (RFU) flag
bits are ignored: newer BPS revisions define more of them.
"""

from __future__ import annotations

from roomctl.models import Quantity
from roomctl.sensors.codec.fields import (
    DIASTOLIC,
    MEAN_ARTERIAL_PRESSURE,
    PULSE_RATE,
    SYSTOLIC,
    TEMPERATURE,
    finish,
    need,
    put,
)
from roomctl.sensors.codec.ieee11073 import DATE_TIME_SIZE, date_time, encode_float32, encode_sfloat, float32, sfloat
from roomctl.sensors.measurement import Measurement, Value
from roomctl.sensors.vendor import Characteristic, Notify, WearableProfile, sig
from roomctl.sensors.vendors.sig_heart_rate import BATTERY_LEVEL

TEMPERATURE_TYPES: dict[int, str] = {
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
MMHG_PER_KPA = 760.0 / 101.325


def decode_temperature(data: bytes) -> list[Measurement]:
    """0x2A1C Temperature Measurement: FLOAT temperature (°F converted to °C), optional timestamp and type."""
    what = "temperature measurement"
    need(data, 5, what)
    flags = data[0]
    fahrenheit = bool(flags & 0x01)
    value, special = float32(data, 1)
    if value is not None and fahrenheit:
        value = (value - 32.0) * 5.0 / 9.0
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    put(values, missing, TEMPERATURE, value, special or "")
    status: dict[str, object] = {"reported_unit": "fahrenheit" if fahrenheit else "celsius"}
    timestamp = None
    offset = 5
    if flags & 0x02:
        need(data, offset + DATE_TIME_SIZE, f"{what} with timestamp")
        timestamp, status["timestamp_status"] = date_time(data, offset)
        offset += DATE_TIME_SIZE
    if flags & 0x04:
        need(data, offset + 1, f"{what} with temperature type")
        status["temperature_type"] = TEMPERATURE_TYPES.get(data[offset], "reserved")
    return [finish(values, status, missing, (TEMPERATURE,), timestamp=timestamp)]


BP_STATUS_BITS: dict[int, str] = {
    0: "body_movement_detected",
    1: "cuff_too_loose",
    2: "irregular_pulse_detected",
    5: "improper_measurement_position",
}
PULSE_RATE_RANGE = ("within_range", "exceeds_upper_limit", "below_lower_limit", "reserved")  # bits 3-4
BP_QUESTIONABLE = 0x01 | 0x02 | 0x20


def _pressure(data: bytes, offset: int, kpa: bool) -> tuple[float | None, str]:
    value, special = sfloat(data, offset)
    if value is not None and kpa:
        value *= MMHG_PER_KPA
    return value, special or ""


def decode_blood_pressure(data: bytes) -> list[Measurement]:
    """0x2A35 Blood Pressure Measurement: systolic, diastolic, MAP (kPa converted to mmHg) and the optional fields."""
    what = "blood pressure measurement"
    need(data, 7, what)
    flags = data[0]
    kpa = bool(flags & 0x01)
    values: dict[Quantity, Value] = {}
    missing: dict[Quantity, str] = {}
    for quantity, offset in ((SYSTOLIC, 1), (DIASTOLIC, 3), (MEAN_ARTERIAL_PRESSURE, 5)):
        put(values, missing, quantity, *_pressure(data, offset, kpa))
    status: dict[str, object] = {"reported_unit": "kpa" if kpa else "mmhg"}
    timestamp = None
    questionable = False
    offset = 7
    if flags & 0x02:
        need(data, offset + DATE_TIME_SIZE, f"{what} with timestamp")
        timestamp, status["timestamp_status"] = date_time(data, offset)
        offset += DATE_TIME_SIZE
    if flags & 0x04:
        need(data, offset + 2, f"{what} with pulse rate")
        pulse, special = sfloat(data, offset)
        put(values, missing, PULSE_RATE, pulse, special or "")
        offset += 2
    if flags & 0x08:
        need(data, offset + 1, f"{what} with user id")
        status["user_id"] = None if data[offset] == 0xFF else data[offset]  # 255: unknown user
        offset += 1
    if flags & 0x10:
        need(data, offset + 2, f"{what} with measurement status")
        bits = data[offset] | (data[offset + 1] << 8)
        status["measurement_status"] = [name for bit, name in BP_STATUS_BITS.items() if bits >> bit & 1]
        status["pulse_rate_range"] = PULSE_RATE_RANGE[(bits >> 3) & 3]
        questionable = bool(bits & BP_QUESTIONABLE)
    return [finish(values, status, missing, (SYSTOLIC, DIASTOLIC), questionable=questionable, timestamp=timestamp)]


# -- the emulator's side of the protocols


def encode_temperature(celsius: float | None, body_site: int = 2) -> bytes:
    """0x2A1C in °C with a Temperature Type (2 = body)."""
    return bytes([0x04]) + encode_float32(celsius, -2) + bytes([body_site])


def encode_blood_pressure(systolic: float, diastolic: float, mean: float | None, pulse: float | None) -> bytes:
    """0x2A35 in mmHg; the pulse rate field (bit2) when given."""
    flags = 0x04 if pulse is not None else 0
    out = bytearray([flags]) + encode_sfloat(systolic) + encode_sfloat(diastolic) + encode_sfloat(mean)
    if pulse is not None:
        out += encode_sfloat(pulse)
    return bytes(out)


# -- the vendors: what the link, the config and the emulator derive from

THERMOMETER_SERVICE = sig(0x1809)
BLOOD_PRESSURE_SERVICE = sig(0x1810)
TEMPERATURE_MEASUREMENT = Characteristic("temperature", sig(0x2A1C), decode_temperature)
BLOOD_PRESSURE_MEASUREMENT = Characteristic("blood_pressure", sig(0x2A35), decode_blood_pressure)
CHARACTERISTICS = (TEMPERATURE_MEASUREMENT, BLOOD_PRESSURE_MEASUREMENT)
PROFILES = (
    WearableProfile(
        "thermometer",
        "Thermometer (Bluetooth Health Thermometer service)",
        THERMOMETER_SERVICE,
        (Notify(TEMPERATURE_MEASUREMENT),),
        battery=BATTERY_LEVEL,
        advertised_uuids=(THERMOMETER_SERVICE,),
        continuous=False,
    ),
    WearableProfile(
        "blood_pressure",
        "Blood-pressure cuff (Bluetooth Blood Pressure service)",
        BLOOD_PRESSURE_SERVICE,
        (Notify(BLOOD_PRESSURE_MEASUREMENT),),
        battery=BATTERY_LEVEL,
        advertised_uuids=(BLOOD_PRESSURE_SERVICE,),
        continuous=False,
    ),
)
