"""Alarm messages in words for the screen. No patient identifiers: only quantities, values, limits and wearable labels."""

from __future__ import annotations

from collections.abc import Mapping

from roomctl.quantities import DESCRIPTIONS, UNITS, Quantity

QUANTITY_NAMES: dict[Quantity, str] = {q: d.name for q, d in DESCRIPTIONS.items()}


def number(value: float) -> str:
    """A value as people read it: 87, 38.4, 120 (one decimal at most, no trailing zeros)."""
    return f"{round(value, 1):g}"


def duration_words(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 5 min``."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def with_unit(value: float, quantity: Quantity) -> str:
    unit = UNITS.get(quantity, "")
    return f"{number(value)} {unit}" if unit else number(value)


def limit_message(
    quantity: Quantity, direction: str, value: float, limit: float, baseline: tuple[float, float] | None = None
) -> str:
    """``SpO2 low: 87 % (limit 90)``; with a baseline-relative limit, how the limit was derived."""
    name = QUANTITY_NAMES.get(quantity, quantity.value.replace("_", " ").capitalize())
    why = f"limit {number(limit)}"
    if baseline is not None:
        factor, base = baseline
        why += f" = {factor:g} × baseline {number(base)}"
    return f"{name} {direction}: {with_unit(value, quantity)} ({why})"


TECHNICAL_MESSAGES: dict[str, str] = {
    "data_stale": "No data from {label}",
    "no_valid_data": "No valid data from {label}: check the sensor",
    "device_disconnected": "Wearable lost: {label} is not connected",
    "finger_off": "Finger off: {label}",
    "sensor_displaced": "Sensor displaced: {label}",
    "no_contact": "No skin contact: {label}",
    "low_battery": "Battery low: {label}",
    "sending_too_fast": "Wearable sending too fast: {label} (the excess is not recorded)",
    "storage_failure": "Storage failure: the record is not being written",
    "broker_unreachable": "MQTT broker unreachable: dashboards are not updated",
    "alarm_engine_failure": "Alarm engine failure: alarms may be missing; roomctl is restarting",
    "service_failure": "roomctl part '{label}' failed and is being restarted",
    "monitoring_interrupted": "Monitoring was interrupted",
    "sound_failure": "Alarm sound failure: alarms are not heard, watch the screen",
    "music_unreachable": "Music player unreachable: the room's music is not controlled",
}


DETAIL_MAX = 120  # a service's detail (e.g. a broker's refusal and what to check) in an alarm's text


def technical_message(condition: str, label: str = "", detail: str = "") -> str:
    text = TECHNICAL_MESSAGES[condition].format(label=label)
    if detail:
        text += f" ({detail[:DETAIL_MAX]})"
    return text


SHORT_NAMES = {
    Quantity.HEART_RATE: "HR",
    Quantity.PULSE_RATE: "PR",
    Quantity.SPO2: "SpO2",
    Quantity.TEMPERATURE: "temp",
}


def baseline_words(values: Mapping[Quantity, float]) -> str:
    """``HR 72, SpO2 98, BP 118/76, temp 36.8``: a baseline in one short line (the screen, the record)."""
    shown = [q for q in (Quantity.HEART_RATE, Quantity.PULSE_RATE, Quantity.SPO2) if q in values]
    if Quantity.HEART_RATE in values and values.get(Quantity.PULSE_RATE) == values[Quantity.HEART_RATE]:
        shown.remove(Quantity.PULSE_RATE)  # entered by hand: one heart rate stands for both
    parts = [f"{SHORT_NAMES[q]} {values[q]:g}" for q in shown]
    if Quantity.SYSTOLIC in values and Quantity.DIASTOLIC in values:
        parts.append(f"BP {values[Quantity.SYSTOLIC]:g}/{values[Quantity.DIASTOLIC]:g}")
    if Quantity.TEMPERATURE in values:
        parts.append(f"temp {values[Quantity.TEMPERATURE]:.1f}")
    return ", ".join(parts)
