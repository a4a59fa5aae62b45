"""Manual vitals are checked before anything is stored: a typing error must never become a reading.

``parse_command`` turns raw command data (from the local API or MQTT) into a validated command, or raises
:class:`CommandRejected` with a message a therapist understands ("blood pressure 400/20 mmHg refused: ...").
The same limits are checked again by the session manager, so a command built without validation is refused too.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from roomctl.commands import COMMAND_ADAPTER, Command
from roomctl.errors import RoomctlError

# Plausible ranges, the same as roomctl.commands' field limits: (low, high, unit) per entered value.
LIMITS: dict[str, tuple[float, float, str]] = {
    "systolic": (50, 300, "mmHg"),
    "diastolic": (20, 200, "mmHg"),
    "pulse_rate": (20, 250, "bpm"),
    "celsius": (30.0, 45.0, "°C"),
}


class CommandRejected(RoomctlError, ValueError):
    """A command that was refused; the message says why, in words."""


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


def parse_command(data: dict[str, Any] | str | bytes) -> Command:
    """Validate raw command data; raise :class:`CommandRejected` with a clear message when it is not acceptable."""
    if not isinstance(data, dict):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise CommandRejected(f"command refused: not valid JSON ({e})") from e
        if not isinstance(data, dict):
            raise CommandRejected("command refused: expected a JSON object")
    try:
        return COMMAND_ADAPTER.validate_python(data)
    except ValidationError as e:
        raise CommandRejected(_friendly(data, e)) from e


def _friendly(raw: dict[str, Any], error: ValidationError) -> str:
    command = raw.get("command")
    numbers = {k: v for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if command == "blood_pressure" and "systolic" in numbers and "diastolic" in numbers:
        message = check_blood_pressure(numbers["systolic"], numbers["diastolic"], numbers.get("pulse_rate"))
        if message:
            return message
    if command == "temperature" and "celsius" in numbers:
        message = check_temperature(numbers["celsius"])
        if message:
            return message
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"][1:] if not str(p).startswith("function-")) or "command"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return f"command refused: {'; '.join(parts)}"
