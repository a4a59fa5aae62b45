"""`roomctl config check` on lighting: refusals (what cannot work) and warnings (what works but is not advisable)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.config import ConfigError, parse_config
from tests.builders import param_id
from tests.lighting.conftest import lit_room


def room(factory: str = "lgpio", pins: str = "23, 24", hz: int = 3000, dark: float = 0.4) -> str:
    return lit_room(factory, pins, hz, calm=f"ceiling = [{dark}, 0.0], lamp = 0.5")


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "room.toml"
    path.write_text(text)
    # the file's lighting rules; whether this machine can drive the pins is tests/foundation/test_config_hardening.py's
    status = main(["config", "check", "--file-only", str(path)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_good_room_passes_without_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(tmp_path, room(), capsys)
    assert (status, err) == (0, "")
    assert "OK" in out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (room(factory="native"), "cannot dim lights"),
        (room(hz=12000), "at most 10000 Hz"),
        (room(factory="pigpio", hz=9000), "at most 8000 Hz"),
        (room(pins="1, 24"), "not a usable GPIO pin"),
        (room(pins="23, 30"), "not a usable GPIO pin"),
        (room(pins="22, 24"), "GPIO22 is used by both"),
    ],
    ids=["native-no-pwm", "lgpio-too-fast", "pigpio-too-fast", "reserved-pin", "no-such-pin", "shared-pin"],
)
def test_what_cannot_work_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str) -> None:
    status, out, err = check(tmp_path, text, capsys)
    assert status == 2
    assert out == ""
    assert words in err
    assert f"{tmp_path / 'room.toml'}:" in err
    assert "Traceback" not in err


def test_flicker_prone_frequency_warns_with_the_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = check(tmp_path, room(hz=800), capsys)
    assert status == 0
    assert "warning: lighting.channels[0].pwm_frequency_hz" in err
    assert "1250 Hz" in err
    assert "flicker" in err


def test_flicker_prone_frequency_is_refused_under_the_refuse_policy() -> None:
    text = room(hz=800).replace('pin_factory = "lgpio"', 'pin_factory = "lgpio"\nflicker_policy = "refuse"')
    with pytest.raises(ConfigError, match="flickers at 800 Hz"):
        parse_config(text)


def test_coarse_duty_steps_warn_only_when_a_scene_goes_dark() -> None:
    bright = parse_config(room(dark=0.4)).lighting.advisories()
    dark = parse_config(room(dark=0.1)).lighting.advisories()
    assert not bright
    assert any("'ceiling' (3000 Hz), 'lamp' (3000 Hz) get only 100 duty steps from lgpio" in n for n in dark)
    assert any("calm" in note for note in dark)
    pigpio = parse_config(room(factory="pigpio", hz=4000, dark=0.1)).lighting.advisories()
    assert any("'ceiling' (4000 Hz)" in note and "only 50 duty steps from pigpio" in note for note in pigpio)


def test_pigpio_rounds_frequencies_it_does_not_offer() -> None:
    notes = parse_config(room(factory="pigpio", hz=3000)).lighting.advisories()
    assert any("pigpio offers only fixed frequencies" in note and "3000 Hz" in note for note in notes)
    offered = parse_config(room(factory="pigpio", hz=4000)).lighting.advisories()
    assert not any("channels[0]" in note for note in offered)  # 4000 Hz is one of pigpio's own


def test_pins_pulled_high_at_boot_warn() -> None:
    notes = parse_config(room(pins="4, 24")).lighting.advisories()
    assert any("GPIO4 of 'ceiling' is pulled high at power-on" in note for note in notes)
    assert not parse_config(room(pins="4, 24", factory="mock")).lighting.advisories()


@pytest.mark.parametrize(
    ("board", "pins", "words"),
    [
        ("pi4", "12, 18", "GPIO18 shares hardware PWM channel 0 with GPIO12 ('ceiling')"),
        ("pi3", "13, 19", "GPIO19 shares hardware PWM channel 1"),
        ("pi4", "12, 24", "GPIO24 has no hardware PWM"),
    ],
    ids=param_id,
)
def test_hardware_pwm_refuses_shared_channels_and_other_pins(board: str, pins: str, words: str) -> None:
    text = room(factory="hardware", pins=pins).replace("pins = [22]", "pins = [13]")
    text = text.replace('pin_factory = "hardware"', f'pin_factory = "hardware"\nhardware_board = "{board}"')
    with pytest.raises(ConfigError, match=re.escape(words)):
        parse_config(text)


def test_hardware_pwm_on_a_pi5_has_four_channels() -> None:
    text = room(factory="hardware", pins="12, 18").replace("pins = [22]", "pins = [19]")
    config = parse_config(text.replace('pin_factory = "hardware"', 'pin_factory = "hardware"\nhardware_board = "pi5"'))
    assert [ch.pins for ch in config.lighting.channels] == [[12, 18], [19]]
    assert not config.lighting.advisories()  # nanosecond duty: no coarse-step warning even for dark scenes
