"""`roomctl lights`: list, set, scene and test with --mock; a clear message on a machine without GPIO."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from roomctl.cli.main import main
from tests.builders import param_id
from tests.lighting.conftest import lit_room


@pytest.fixture
def room(tmp_path: Path) -> Path:
    path = tmp_path / "room.toml"
    path.write_text(lit_room(calm="ceiling = [0.5, 0.2], lamp = 0.3", settings="default_fade_s = 0.1"))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["lights", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_list_shows_channels_pins_and_scenes(room: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--config", str(room), "list")
    assert status == 0
    assert "channel ceiling: warm_cool, 3000 Hz, ceiling.warm=GPIO23, ceiling.cool=GPIO24" in out
    assert "pin factory: lgpio" in out
    assert "1 % steps" in out
    assert "scene calm" in out


def test_set_with_mock_prints_the_levels_and_duty(room: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--config", str(room), "--mock", "set", "ceiling", "50%,0.2", "--fade", "0.05")
    assert status == 0
    assert "ceiling.warm     GPIO23  level 0.500  duty  0.1842" in out
    assert "ceiling.cool     GPIO24  level 0.200" in out
    assert "lamp             GPIO22  level 0.000" in out


def test_scene_with_mock(room: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--config", str(room), "--mock", "scene", "calm")
    assert status == 0
    assert "lamp             GPIO22  level 0.300" in out


def test_test_sequence_goes_through_every_pin(room: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--config", str(room), "--mock", "test", "--step", "0.05")
    assert status == 0
    assert [line.split(" (")[0] for line in out.splitlines() if "GPIO" in line] == [
        "ceiling.warm",
        "ceiling.cool",
        "lamp",
    ]
    assert "finished" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["set", "sofa", "0.5"], "no light channel 'sofa' (channels: ceiling, lamp)"),
        (["set", "lamp", "bright"], "'bright' is not a level"),
        (["set", "lamp", "1.5"], "outside 0.0-1.0"),
        (["set", "ceiling", "0.1,0.2,0.3"], "one per pin (2)"),
        (["scene", "disco"], "no light scene 'disco' (scenes: calm)"),
    ],
    ids=param_id,
)
def test_bad_input_gets_a_clear_error(
    room: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    status, _out, err = run(capsys, "--config", str(room), "--mock", *args)
    assert status == 1
    assert words in err
    assert "Traceback" not in err


def test_without_gpio_it_says_so(room: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "--config", str(room), "set", "lamp", "0.5", "--hold", "0")
    assert status == 1
    if glob.glob("/dev/gpiochip*"):  # on a Pi without lgpio installed the factory itself explains
        assert "pin factory is not available" in err or "cannot be driven" in err
    else:
        assert "this machine has no GPIO" in err
        assert "--mock" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_mock_and_config_go_before_or_after_the_action(
    room: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """The no-GPIO message says "add --mock": it works wherever it is added."""
    options = ["--config", str(room), "--mock"]
    action = ["test", "--step", "0.02"]
    status, out, err = run(capsys, *(options + action if where == "before" else action + options))
    assert (status, err) == (0, "")
    assert "every pin faded up to full and back to off" in out


def test_without_a_configuration_it_says_what_to_give(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("roomctl.cli.lights_cmd.DEFAULT_CONFIG", tmp_path / "absent.toml")
    status, _, err = run(capsys, "test")
    assert status == 1
    assert f"there is no room configuration at {tmp_path / 'absent.toml'}: give --config FILE, or add --mock" in err
