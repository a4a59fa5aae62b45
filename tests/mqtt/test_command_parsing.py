"""Commands over MQTT: strict validation and an allow-list, with reasons in words."""

from __future__ import annotations

import pytest

from roomctl.commands import SetLevel, SetScene
from roomctl.mqtt.command_topic import MAX_COMMAND_BYTES, CommandRejected, parse_command


def test_allowed_commands_parse() -> None:
    assert parse_command(b'{"command": "set_scene", "scene": "calm"}', retained=False) == SetScene(scene="calm")
    assert parse_command(b'{"command": "set_level", "level": 0.4}', retained=False) == SetLevel(level=0.4)


@pytest.mark.parametrize(
    ("payload", "retained", "reason"),
    [
        (b"set_scene calm", False, "not valid JSON"),
        (b"\xff\xfe", False, "not UTF-8"),
        (b'["set_scene"]', False, "not a JSON object"),
        (b'{"scene": "calm"}', False, "unknown command none"),
        (b'{"command": "reboot"}', False, "unknown command 'reboot'"),
        (b'{"command": "end_session"}', False, "'end_session' is not allowed over MQTT"),
        (b'{"command": "blood_pressure", "systolic": 120, "diastolic": 80}', False, "not allowed over MQTT"),
        (b'{"command": "set_level", "level": 1.5}', False, "level must be at most 1"),
        (b'{"command": "set_level", "level": "bright"}', False, "level: Input should be a valid number"),
        (b'{"command": "set_scene", "scene": "Calm Room"}', False, "scene: String should match pattern"),
        (b'{"command": "set_scene", "scene": "calm", "sudo": true}', False, "sudo: Extra inputs"),
        (b'{"command": "set_scene", "scene": "calm"}', True, "retained message"),
        (b'{"command": "acknowledge", "alarm_id": "' + b"x" * MAX_COMMAND_BYTES + b'"}', False, "byte limit"),
    ],
)
def test_rejected_with_a_reason(payload: bytes, retained: bool, reason: str) -> None:
    with pytest.raises(CommandRejected, match=reason.replace("(", r"\(")):
        parse_command(payload, retained=retained)
