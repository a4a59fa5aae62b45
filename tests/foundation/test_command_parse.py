"""The one strict parse of a command (local API, MQTT and the screen share it): lax types and hostile JSON get a clear no."""

from __future__ import annotations

import pytest

from roomctl.commands import CommandRejected, EnterTemperature, SetLevel, StartSession, parse_command
from roomctl.errors import RoomctlError
from roomctl.models import SessionKind


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"command": "set_level", "level": true}', "level: Input should be a valid number"),
        (b'{"command": "set_level", "level": "0.9"}', "level: Input should be a valid number"),
        (b'{"command": "set_level", "level": 0.5, "fade_s": "1"}', "fade_s: Input should be a valid number"),
        (b'{"command": "set_level", "level": NaN}', "NaN is not a number JSON allows"),
        (b'{"command": "set_level", "level": 1e999}', "too large"),
        (
            b'{"command": "blood_pressure", "systolic": 120.5, "diastolic": 80}',
            "systolic: Input should be a valid integer",
        ),
        (b'{"command": "start_session", "session_kind": 1}', "session_kind"),
        (b'{"command": "start_session", "session_kind": "party"}', "session_kind"),
        (b'{"command": "set_level", "level": ' + b"9" * 1900 + b"}", "1900 digits"),
        (b'{"command": "set_level", "level": ' + b"[" * 5000 + b"]" * 5000 + b"}", "byte limit"),
        (b'{"command": "set_level", "level": ' + b"[" * 500 + b"]" * 500 + b"}", "nested 501 levels deep"),
        (b'{"command": "acknowledge", "alarm_id": "\\ud800"}', "command refused"),
        ({"command": "set_level", "level": [[[[[[[[[[1]]]]]]]]]]}, "nested"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_lax_or_hostile_input_is_refused_in_words(raw: bytes | dict[str, object], reason: str) -> None:
    with pytest.raises(CommandRejected) as caught:
        parse_command(raw)
    assert reason in str(caught.value)
    assert isinstance(caught.value, RoomctlError)
    assert "Traceback" not in str(caught.value)
    assert len(str(caught.value)) < 600


def test_well_formed_commands_parse_from_bytes_text_and_objects() -> None:
    assert parse_command(b'{"command": "set_level", "level": 1}') == SetLevel(level=1.0)
    assert parse_command('{"command": "temperature", "celsius": 37.2}') == EnterTemperature(celsius=37.2)
    assert parse_command({"command": "start_session", "session_kind": "integration"}) == StartSession(
        session_kind=SessionKind.INTEGRATION
    )


def test_an_allow_list_names_the_channel() -> None:
    with pytest.raises(CommandRejected, match="'end_session' is not allowed over MQTT"):
        parse_command(b'{"command": "end_session"}', allowed={"set_level"}, channel="MQTT")
