"""Imports run one way: the screen, the nursing station and the command vocabulary load no BLE code.

Each is imported in a fresh interpreter (a module already imported by another test would hide an import), and the
modules it loaded are listed: none under the vendor registry (``roomctl.sensors``), nor bleak or dbus-fast.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

BLE = ("roomctl.sensors", "bleak", "dbus_fast")
LIST_LOADED = "import sys, importlib; importlib.import_module(sys.argv[1]); print('\\n'.join(sorted(sys.modules)))"


def loaded_by(module: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LIST_LOADED, module], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(
    "module",
    ["roomctl.commands", "roomctl.central.app", "roomctl.cli.central_cmd", "roomctl.tui.app", "roomctl.api.protocol"],
    ids=["commands", "station-app", "station-command", "screen-app", "local-api-protocol"],
)
def test_loads_no_ble_code(module: str) -> None:
    ble = [m for m in loaded_by(module) if m.split(".")[0] in BLE or m.startswith(BLE)]
    assert module in loaded_by(module)
    assert ble == [], f"importing {module} loads BLE code: {ble[:8]}"


def test_the_command_vocabulary_loads_no_configuration() -> None:
    """Commands name wearables and lights by the shared ``Slug`` (models), not through the room file's models."""
    assert not [m for m in loaded_by("roomctl.commands") if m.startswith("roomctl.config")]


def test_the_local_api_protocol_loads_no_configuration() -> None:
    """The screen's side of the wire: the daemon makes ``RoomInfo`` from the room file (``daemon/room_info.py``)."""
    assert not [m for m in loaded_by("roomctl.api.protocol") if m.startswith("roomctl.config")]


def test_checking_a_room_with_wearables_still_knows_every_profile() -> None:
    """The profile names are checked against the vendor registry when a room's wearables are validated."""
    from roomctl.config import ConfigError, parse_config
    from roomctl.sensors.profiles import PROFILE_NAMES

    room = '[room]\nsite = "s"\nroom = "r"\n[[wearables]]\nid = "w"\nprofile = "{}"\naddress = "AA:BB:CC:DD:EE:FF"\n'
    for name in PROFILE_NAMES:
        assert parse_config(room.format(name)).wearables[0].profile == name
    with pytest.raises(ConfigError, match=r"wearables\[0\].profile: must be one of .*'heart_rate'"):
        parse_config(room.format("toaster"))
