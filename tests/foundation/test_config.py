"""Room configuration: the shipped files are valid; broken ones exit 2 naming the key path and line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.config import ConfigError, demo_config_text, load_config, parse_config
from roomctl.config.locate import key_lines, line_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "room.example.toml"

MINIMAL = """\
[room]
site = "clinic"
room = "room-1"
"""

WEARABLE = """
[[wearables]]
id = "strap"
profile = "heart_rate"
address = "AA:BB:CC:DD:EE:01"
"""

CHANNELS = """
[lighting]
pin_factory = "mock"

[[lighting.channels]]
id = "ceiling"
kind = "warm_cool"
pins = [12, 13]

[[lighting.channels]]
id = "lamp"
pins = [18]
"""


def test_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--file-only", str(EXAMPLE)]) == 0  # this machine is no installed Pi
    out, err = capsys.readouterr()
    assert "OK" in out
    assert "room willow" in out
    assert err == ""  # the shipped example passes cleanly: no warning about itself


def test_example_oximeter_profile_matches_its_name_pattern() -> None:
    """The example's Nonin name pattern goes with the profile `roomctl scan` lists a Nonin under."""
    from roomctl.config import load_config

    (oximeter,) = [w for w in load_config(EXAMPLE).wearables if w.id == "oximeter"]
    assert oximeter.name_pattern is not None
    assert oximeter.name_pattern.startswith("^Nonin")
    assert oximeter.profile == "nonin"


def test_demo_config_is_valid() -> None:
    config = parse_config(demo_config_text())
    assert config.room.site == "demo-clinic"
    assert {w.profile for w in config.wearables} >= {"heart_rate", "plx"}
    assert (ROOT / "config" / "demo.toml").read_text() == demo_config_text()


def test_minimal_config_gets_defaults() -> None:
    config = parse_config(MINIMAL)
    assert config.alarms.latching is True
    assert config.alarms.audio_pause_s == 120
    assert [p.id for p in config.session.phases][:3] == ["arrival", "intentions", "dose"]
    assert config.mqtt.enabled is False


# (name, text, expected key path, expected line or None, a word the message must contain)
BROKEN: list[tuple[str, str, str, int | None, str]] = [
    ("toml syntax", MINIMAL + "x = = 1\n", "", None, "not valid TOML"),
    ("missing room", "[lighting]\n", "room", None, "required"),
    ("missing site", '[room]\nroom = "a"\n', "room.site", 1, "required"),
    ("unknown top-level key", "colour = 1\n" + MINIMAL, "colour", 1, "not a known setting"),
    ("unknown key in a table", MINIMAL + "colour = 1\n", "room.colour", 4, "not a known setting"),
    ("unknown nested key", MINIMAL + "[mqtt]\nhots = 'x'\n", "mqtt.hots", 5, "not a known setting"),
    ("site with spaces", '[room]\nsite = "My Clinic"\nroom = "a"\n', "room.site", 2, "lower-case"),
    ("port not a number", MINIMAL + "[mqtt]\nport = 'eighty'\n", "mqtt.port", 5, "whole number"),
    ("port out of range", MINIMAL + "[mqtt]\nport = 70000\n", "mqtt.port", 5, "at most 65535"),
    ("bool as string", MINIMAL + "[alarms]\nlatching = 'yes'\n", "alarms.latching", 5, "true or false"),
    ("audio pause over 2 min", MINIMAL + "[alarms]\naudio_pause_s = 300\n", "alarms.audio_pause_s", 5, "at most 120"),
    (
        "duplicate wearable ids",
        MINIMAL + WEARABLE + WEARABLE.replace("EE:01", "EE:02"),
        "(whole file)",
        None,
        "used twice",
    ),
    ("bad BLE address", MINIMAL + WEARABLE.replace("AA:BB:CC:DD:EE:01", "nope"), "wearables[0].address", 8, "AA:BB"),
    ("unknown profile", MINIMAL + WEARABLE.replace("heart_rate", "toaster"), "wearables[0].profile", 7, "one of"),
    (
        "address and pattern",
        MINIMAL + WEARABLE + 'name_pattern = "Polar.*"\n',
        "wearables[0]",
        5,
        "exactly one of address or name_pattern",
    ),
    (
        "bad regex",
        MINIMAL + '[[wearables]]\nid = "s"\nprofile = "plx"\nname_pattern = "(("\n',
        "wearables[0].name_pattern",
        7,
        "regular expression",
    ),
    ("duplicate pins", MINIMAL + CHANNELS.replace("[18]", "[12]"), "lighting", 5, "GPIO12 is used by both"),
    (
        "pin out of range",
        MINIMAL + CHANNELS.replace("[18]", "[40]"),
        "lighting.channels[1]",
        13,
        "not a usable GPIO pin",
    ),
    ("wrong pin count", MINIMAL + CHANNELS.replace("[12, 13]", "[12]"), "lighting.channels[0]", 8, "needs 2 pin"),
    (
        "scene names a missing channel",
        MINIMAL + CHANNELS + "[lighting.scenes]\ncalm = { sofa = 0.3 }\n",
        "lighting",
        5,
        "channel 'sofa', which does not exist",
    ),
    (
        "scene level out of range",
        MINIMAL + CHANNELS + "[lighting.scenes]\ncalm = { lamp = 1.5 }\n",
        "lighting",
        5,
        "outside 0.0-1.0",
    ),
    (
        "flicker refused by policy",
        MINIMAL
        + CHANNELS.replace('pin_factory = "mock"', 'pin_factory = "mock"\nflicker_policy = "refuse"')
        + "pwm_frequency_hz = 100\n",
        "lighting",
        5,
        "flickers at 100 Hz",
    ),
    (
        "low above high",
        MINIMAL + '[[alarms.rules]]\nquantity = "spo2"\nlow = 95\nhigh = 90\n',
        "alarms.rules[0]",
        4,
        "not below high limit",
    ),
    (
        "unknown quantity",
        MINIMAL + '[[alarms.rules]]\nquantity = "mood"\nlow = 1\n',
        "alarms.rules[0].quantity",
        5,
        "one of",
    ),
    (
        "unknown priority",
        MINIMAL + '[[alarms.rules]]\nquantity = "spo2"\nlow = 90\npriority = "urgent"\n',
        "alarms.rules[0].priority",
        7,
        "one of",
    ),
    (
        "phase uses a missing scene",
        MINIMAL + '[[session.phases]]\nid = "arrival"\nlabel = "Arrival"\nscene = "sunset"\n',
        "(whole file)",
        None,
        "scene 'sunset'",
    ),
    (
        "missing credentials file",
        MINIMAL + '[mqtt]\ncredentials_file = "nowhere.txt"\n',
        "mqtt.credentials_file",
        5,
        "file not found",
    ),
    ("missing TLS CA file", MINIMAL + '[mqtt.tls]\nca_file = "ca.pem"\n', "mqtt.tls.ca_file", 5, "file not found"),
    (
        "negative flush interval",
        MINIMAL + "[storage]\nflush_interval_s = -1\n",
        "storage.flush_interval_s",
        5,
        "more than 0",
    ),
    (
        "lost before stale",
        MINIMAL + WEARABLE + "stale_after_s = 20\nlost_after_s = 10\n",
        "wearables[0]",
        5,
        "must not be shorter",
    ),
]


@pytest.mark.parametrize(("name", "text", "path", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, path: str, line: int | None, words: str
) -> None:
    room = tmp_path / "room.toml"
    room.write_text(text)
    assert main(["config", "check", str(room)]) == 2, name
    err = capsys.readouterr().err
    assert "Traceback" not in err
    expected_start = f"{room}:{line}: " if line else f"{room}: "
    lines = err.strip().splitlines()
    assert any(ln.startswith(expected_start) for ln in lines), err
    if path:
        assert any(f": {path}: " in ln for ln in lines), err
    assert words in err, err


def test_at_least_twenty_broken_configs() -> None:
    assert len({b[0] for b in BROKEN}) >= 20


def test_missing_file_exits_2_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "roomctl", "config", "check", str(tmp_path / "absent.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_problems_each_get_a_line(tmp_path: Path) -> None:
    room = tmp_path / "room.toml"
    room.write_text(MINIMAL + "[mqtt]\nport = 0\nhots = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_config(room)
    assert len(info.value.problems) == 2
    assert all(p.startswith(f"{room}:") for p in info.value.problems)


def test_relative_files_resolve_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("room\nsecret\n")
    room = tmp_path / "room.toml"
    room.write_text(MINIMAL + '[mqtt]\ncredentials_file = "creds"\n')
    assert load_config(room).mqtt.credentials_file == tmp_path / "creds"


def test_flicker_warning_under_warn_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    room = tmp_path / "room.toml"
    room.write_text(MINIMAL + CHANNELS + "pwm_frequency_hz = 100\n")
    assert main(["config", "check", str(room)]) == 0
    err = capsys.readouterr().err
    assert "lighting.channels[1].pwm_frequency_hz" in err
    assert "flicker" in err


def test_line_locator_handles_arrays_of_tables_and_subtables() -> None:
    text = MINIMAL + CHANNELS + "[lighting.channels.extra]\nfoo = 1\n"
    table = key_lines(text)
    assert table[("lighting", "channels", 0, "pins")] == 11
    assert table[("lighting", "channels", 1, "id")] == 14
    assert table[("lighting", "channels", 1, "extra", "foo")] == 17
    assert line_of(text, ("lighting", "channels", 1, "pins", 0)) == 15


def test_schema_command_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "RoomConfig"
    assert "wearables" in schema["properties"]


def test_configuration_reference_is_up_to_date() -> None:
    from roomctl.config.reference import markdown_reference, splice

    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert splice(doc, markdown_reference()) == doc, "run: roomctl config docs --write docs/configuration.md"


def test_every_example_key_is_documented() -> None:
    import tomllib

    doc = (ROOT / "docs" / "configuration.md").read_text()

    def check(path: str, table: dict[str, object]) -> None:
        for key, value in table.items():
            if path == "lighting" and key == "scenes":
                continue  # scene names are the room's own
            if path == "music.playlists" and isinstance(value, dict):  # keyed by phase ids: check each one's settings
                check(path, value)
                continue
            assert f"`{key}`" in doc or f"{path}.{key}]" in doc, f"{path}.{key} is not in docs/configuration.md"
            rows = value if isinstance(value, list) else [value]
            for row in rows:
                if isinstance(row, dict):
                    check(f"{path}.{key}", row)

    for section, table in tomllib.loads(EXAMPLE.read_text()).items():
        for row in table if isinstance(table, list) else [table]:
            check(section, row)
