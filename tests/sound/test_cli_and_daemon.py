"""``roomctl alarms test-sound`` for installers, the daemon's start-up self-test tone, and the silent demo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.demo.launcher import demo_config
from tests.daemon.helpers import MINIMAL_ROOM

from .analysis import measure
from .conftest import AlsaFile


def room_with_sound(device: str) -> str:
    return MINIMAL_ROOM.replace("outputs = []", f'outputs = ["alsa"]\nalsa_device = "{device}"')


def test_test_sound_plays_every_priority(
    alsa_file: AlsaFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", alsa_file.environ["ALSA_CONFIG_PATH"])
    room = tmp_path / "room.toml"
    room.write_text(room_with_sound(alsa_file.device), encoding="utf-8")
    assert main(["alarms", "test-sound", "--config", str(room)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "played self-test (1 pulse(s), 440 Hz) on ALSA device 'roomctl_test'",
        "played high (10 pulse(s), 660 Hz) on ALSA device 'roomctl_test'",
        "played medium (3 pulse(s), 523 Hz) on ALSA device 'roomctl_test'",
        "played low (2 pulse(s), 440 Hz) on ALSA device 'roomctl_test'",
    ]
    assert len(measure(alsa_file.take()).pulses) == 2  # the last one played: low
    assert main(["alarms", "test-sound", "--config", str(room), "--priority", "medium", "--volume", "0.8"]) == 0
    played = measure(alsa_file.take())
    assert len(played.pulses) == 3
    assert played.peak == pytest.approx(0.9 * 0.8, rel=0.02)


def test_test_sound_says_what_failed(
    alsa_file: AlsaFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", alsa_file.environ["ALSA_CONFIG_PATH"])
    room = tmp_path / "room.toml"
    room.write_text(room_with_sound("nowhere"), encoding="utf-8")
    assert main(["alarms", "test-sound", "--config", str(room), "--priority", "low"]) == 1
    out = capsys.readouterr().out
    assert "FAILED low on ALSA device 'nowhere': ALSA device 'nowhere' cannot play: Unknown PCM nowhere" in out
    assert "Traceback" not in out
    assert "`aplay -l` lists them; set [alarms.sound] alsa_device" in out  # what to do


def test_test_sound_mock_without_a_buzzer_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--mock simulates the buzzer's pin; with no buzzer configured it plays nothing, and says what to do instead of
    failing on ALSA."""
    room = tmp_path / "room.toml"
    room.write_text(room_with_sound("nowhere"), encoding="utf-8")
    assert main(["alarms", "test-sound", "--config", str(room), "--mock"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--mock simulates the buzzer's GPIO pin" in captured.err
    assert "configures no buzzer" in captured.err
    assert "leave --mock out to play on ALSA device 'nowhere'" in captured.err


async def test_the_daemon_plays_a_self_test_tone_at_start(
    alsa_file: AlsaFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", alsa_file.environ["ALSA_CONFIG_PATH"])
    daemon = Daemon(parse_config(room_with_sound(alsa_file.device)), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    try:
        await asyncio.wait_for(daemon.ready.wait(), 30)
        assert "sound" in daemon.supervisor.services
        await asyncio.wait_for(daemon.sound.played_one.wait(), 30)
        assert daemon.sound.played == [("self-test", 0.3)]
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(task, 30) == 0
    tone = measure(alsa_file.take())
    assert len(tone.pulses) == 1
    assert tone.f0 == [pytest.approx(440, abs=2)]
    assert "sound_failure" not in {a.condition for a in daemon.hub.state.alarms.values()}


def test_the_demo_plays_nothing_unless_asked() -> None:
    assert parse_config(demo_config(None)).alarms.sound.outputs == []
    assert parse_config(demo_config(None, sound=True)).alarms.sound.outputs == ["alsa"]
