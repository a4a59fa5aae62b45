"""[music]: validated with clear errors; `config check` says whether MPD answers and the playlists exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomctl.cli.main import main
from roomctl.config import ConfigError, parse_config
from roomctl.music.server import MpdServer, free_port

ROOM = """\
[room]
site = "clinic"
room = "room-1"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(ROOM + text, "room.toml")
    return e.value.problems


def test_a_music_section_with_playlists_per_phase() -> None:
    config = parse_config(
        ROOM
        + """
[music]
enabled = true
port = 6601
duck_volume = 0.05

[music.playlists.onset]
playlist = "Onset (Hopkins)"
volume = 0.35

[music.playlists.active]
playlist = "Peak"
"""
    )
    assert config.music.enabled
    assert config.music.address == "localhost:6601"
    assert config.music.playlists["onset"].playlist == "Onset (Hopkins)"
    assert config.music.playlists["onset"].volume == 0.35
    assert config.music.playlists["active"].volume == 0.4  # the default
    assert "music from MPD at localhost:6601" in config.summary()


def test_music_is_off_by_default_and_a_socket_replaces_host_and_port() -> None:
    assert not parse_config(ROOM).music.enabled
    config = parse_config(ROOM + '[music]\nenabled = true\nsocket = "/run/mpd/socket"\n')
    assert config.music.address == "/run/mpd/socket"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[music]\nduck_volume = 1.5\n", "room.toml:5: music.duck_volume: must be at most 1"),
        ("[music]\nport = 0\n", "room.toml:5: music.port: must be at least 1"),
        ("[music]\nenabled = 1\n", "room.toml:5: music.enabled: must be true or false"),
        ('[music]\nhost = "/run/mpd/socket"\n', "music.host: a Unix socket goes in music.socket, not music.host"),
        ('[music]\nsocket = "mpd.sock"\n', "music.socket must be an absolute path"),
        ("[music]\nreconnect_min_s = 10\nreconnect_max_s = 5\n", "reconnect_max_s must not be below reconnect_min_s"),
        ('[music.playlists.onset]\nplaylist = "a/b"\n', "cannot be an MPD playlist name"),
        ('[music.playlists.onset]\nplaylist = ""\n', "music.playlists.onset.playlist"),
        (
            '[music.playlists.onset]\nplaylist = "x"\nvolume = -0.1\n',
            "music.playlists.onset.volume: must be at least 0",
        ),
        ('[music.playlists.Onset]\nplaylist = "x"\n', "music.playlists.Onset"),
        ('[music.playlists.peak]\nplaylist = "x"\n', "music.playlists.peak: 'peak' is not a session phase"),
        ('[music.playlists.onset]\nplaylist = "x"\nvolme = 0.3\n', "music.playlists.onset.volme: is not a known"),
        ("[music]\nvolume = 0.3\n", "music.volume: is not a known setting"),
    ],
)
def test_bad_music_settings_are_named_in_words(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def _room_file(tmp_path: Path, port: int, playlists: str) -> Path:
    path = tmp_path / "room.toml"
    path.write_text(
        ROOM
        + f"""
[storage]
path = "{tmp_path / "db.sqlite"}"

[api]
socket_path = "{tmp_path / "api.sock"}"

[music]
enabled = true
host = "127.0.0.1"
port = {port}
{playlists}"""
    )
    return path


def test_config_check_warns_when_mpd_is_not_running_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _room_file(tmp_path, free_port(), '[music.playlists.onset]\nplaylist = "Onset"\n')
    assert main(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: music: MPD at 127.0.0.1:" in err
    assert "does not answer" in err


def test_config_check_says_mpd_answers_and_names_a_missing_playlist(
    mpd_server: MpdServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _room_file(tmp_path, mpd_server.port, '[music.playlists.onset]\nplaylist = "Onset"\n')
    assert main(["config", "check", str(good)]) == 0
    out = capsys.readouterr()
    assert "music: MPD 0." in out.out
    assert "playlist 'Onset' for phase onset: 3 track(s)" in out.out

    bad = _room_file(
        tmp_path,
        mpd_server.port,
        '[music.playlists.onset]\nplaylist = "Onset"\n[music.playlists.active]\nplaylist = "Nope"\n',
    )
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "music.playlists.active.playlist: MPD has no stored playlist 'Nope'" in err
    assert "(it has: Onset, Peak)" in err
