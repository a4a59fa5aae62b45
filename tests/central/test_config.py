"""central.toml is validated like a room file: clear problems with file, key and line, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomctl.central.config import load_central_config
from roomctl.cli.main import main
from tests.builders import param_id

GOOD = """\
[station]
title = "Harbor clinic"
sites = ["harbor-clinic", "north-wing"]
vitals_stale_s = 20

[mqtt]
host = "broker.clinic.lan"
port = 8883
credentials_file = "central-credentials"

[mqtt.tls]
ca_file = "clinic-ca.pem"

[serve]
port = 8421
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "central-credentials").write_text("station\nsecret\n")
    (tmp_path / "central-credentials").chmod(0o600)
    (tmp_path / "clinic-ca.pem").write_text("not read at check time\n")
    path = tmp_path / "central.toml"
    path.write_text(text)
    return path


def test_a_good_file_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    config = load_central_config(path)
    assert config.station.sites == ("harbor-clinic", "north-wing")
    assert config.mqtt.tls is not None
    assert config.mqtt.tls.ca_file == tmp_path / "clinic-ca.pem"
    assert config.serve.host == "127.0.0.1"  # loopback unless told otherwise
    assert main(["central", "--config", str(path), "--check"]) == 0
    assert "harbor-clinic, north-wing from broker.clinic.lan:8883 (TLS)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('sites = ["harbor-clinic", "north-wing"]', 'sites = ["Harbor Clinic"]'),
         "central.toml:3: station.sites[0]: may use only lower-case letters, digits, '-' and '_'"),
        (("port = 8883", 'port = "eighty"'), "central.toml:8: mqtt.port: must be a whole number"),
        (("port = 8883", "port = 8883\nenabled = true"), "central.toml:9: mqtt.enabled: is not a known setting"),
        (('ca_file = "clinic-ca.pem"', 'ca_file = "missing.pem"'), "central.toml:12: mqtt.tls.ca_file: file not found"),
        (("vitals_stale_s = 20", "vitals_stale_s = 0"), "central.toml:4: station.vitals_stale_s: must be more than 0"),
        (("vitals_stale_s = 20", 'rooms = ["willow"]'), 'central.toml:4: station.rooms[0]: must be "site/room"'),
        (("vitals_stale_s = 20", 'rooms = ["harbor/Willow Room"]'), 'central.toml:4: station.rooms[0]: must be "site/room"'),
        (("vitals_stale_s = 20", "clock_skew_s = -1"), "central.toml:4: station.clock_skew_s: "),
        (("port = 8421", "port = 8421\n[limits]\ndevices_per_room = 0"), "central.toml:17: limits.devices_per_room: "),
        (("port = 8421", "port = 8421\n[limits]\nrooms = 10\nmystery = 1"), "central.toml:18: limits.mystery: is not a known setting"),
    ],
    ids=param_id,
)  # fmt: skip
def test_problems_name_file_key_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    assert main(["central", "--config", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_not_toml_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[station\n")
    assert main(["central", "--config", str(path), "--check"]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["central", "--config", str(tmp_path / "nope.toml"), "--check"]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err


def test_expected_rooms_and_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("vitals_stale_s = 20", 'rooms = ["harbor-clinic/willow", "north-wing/oak"]\nclock_skew_s = 30')
    path = write(tmp_path, text + "\n[limits]\nrooms_per_site = 50\npayload_bytes = 4096\n")
    config = load_central_config(path)
    assert config.station.expected() == frozenset({("harbor-clinic", "willow"), ("north-wing", "oak")})
    assert config.station.clock_skew_s == 30
    assert (config.limits.rooms_per_site, config.limits.payload_bytes, config.limits.devices_per_room) == (50, 4096, 16)
    assert main(["central", "--config", str(path), "--check"]) == 0
    assert "2 room(s) expected" in capsys.readouterr().out


def test_the_shipped_example_checks(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "central.example.toml"
    config = load_central_config(write(tmp_path, example.read_text()))
    assert config.station.sites == ("harbor-clinic",)
    assert config.serve.host == "127.0.0.1"
