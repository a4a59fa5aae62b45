"""Manual entries from the API or MQTT: implausible numbers are refused with a message a therapist understands."""

from __future__ import annotations

import pytest

from roomctl.commands import EnterBloodPressure, EnterTemperature
from roomctl.session import CommandRejected, parse_command


def test_blood_pressure_400_over_20_is_refused_in_words() -> None:
    with pytest.raises(CommandRejected) as caught:
        parse_command({"command": "blood_pressure", "systolic": 400, "diastolic": 20})
    message = str(caught.value)
    assert message.startswith("blood pressure 400/20 mmHg refused:")
    assert "systolic 400 mmHg is outside the plausible range 50-300 mmHg" in message
    assert "Nothing was stored" in message


def test_temperature_3_is_refused_and_fahrenheit_gets_a_hint() -> None:
    with pytest.raises(CommandRejected, match=r"celsius 3 °C is outside the plausible range 30-45 °C"):
        parse_command({"command": "temperature", "celsius": 3})
    with pytest.raises(CommandRejected, match=r"looks like °F: 100.4 °F is 38.0 °C"):
        parse_command('{"command": "temperature", "celsius": 100.4}')


def test_diastolic_above_systolic_is_refused() -> None:
    with pytest.raises(CommandRejected, match="diastolic 120 must be below systolic 110"):
        parse_command({"command": "blood_pressure", "systolic": 110, "diastolic": 120})


def test_plausible_entries_pass() -> None:
    assert parse_command({"command": "blood_pressure", "systolic": 165, "diastolic": 104}) == EnterBloodPressure(
        systolic=165, diastolic=104
    )
    assert parse_command({"command": "temperature", "celsius": 38.4}) == EnterTemperature(celsius=38.4)


def test_other_malformed_commands_name_the_field() -> None:
    with pytest.raises(CommandRejected, match="command refused: amount_mg"):
        parse_command({"command": "mark", "event": "dose", "amount_mg": -5})
