"""What ``roomctl run`` loads: the daemon imports what monitoring needs and nothing of the screen, the central view,
reports, the emulator or the load generator; gpiozero only when the room has lights (part of the 50 MiB memory bar).

The real daemon runs under ``python -X importtime``, which writes every import (start-up and lazy ones alike) to
stderr, until its readings reach MQTT; then it is stopped and the list is read."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from roomctl.demo.launcher import demo_config
from roomctl.emulator.runner import Emulator
from tests.builders import room_toml
from tests.daemon.helpers import stop_process
from tests.mqtt.broker import Broker
from tests.mqtt.subscriber import Subscriber

NEVER_IN_THE_DAEMON = (
    "textual",
    "rich",
    "matplotlib",
    "numpy",
    "aiohttp",
    "textual_serve",
    "jsonschema",
    "hypothesis",
    "roomctl.tui",
    "roomctl.central",
    "roomctl.report",
    "roomctl.emulator",
    "roomctl.loadgen",
    "roomctl.demo",
)
"""Packages (with their submodules) ``roomctl run`` must not import."""

ALWAYS_IN_THE_DAEMON = ("bleak", "paho.mqtt.client", "sqlite3", "pydantic", "roomctl.daemon.app")
"""What a daemon that monitors and publishes must have imported: proves the import list was read."""


def room_without_lights(port: int) -> str:
    """The demo room's strap alone, publishing to the broker on ``port`` (mock pins: no lights)."""
    return room_toml(
        site="demo-clinic",
        room="demo-room",
        name=None,
        wearables=[{"id": "chest-strap", "profile": "heart_rate", "address": "C0:FF:EE:00:00:01"}],
        extra=f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}',
    )


_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def _imported(stderr: str) -> set[str]:
    return {m.group(1) for m in map(_IMPORT_LINE.match, stderr.splitlines()) if m}


def _loaded(imported: set[str], package: str) -> list[str]:
    return sorted(name for name in imported if name == package or name.startswith(package + "."))


async def _imports_of_run(config_text: str, tmp_path: Path, emulator: Emulator, broker: Broker) -> set[str]:
    """Run ``roomctl run`` with ``config_text`` until a heart rate reaches MQTT, stop it; every module it imported."""
    config = tmp_path / "room.toml"
    config.write_text(config_text)
    sub = Subscriber(broker.port, ["roomctl/demo-clinic/demo-room/vitals/heart_rate"])
    stderr_path = tmp_path / "stderr.log"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address}
    with stderr_path.open("wb") as stderr:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-X", "importtime", "-m", "roomctl", "run", "--config", str(config),
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr, cwd=tmp_path,
        )  # fmt: skip
    try:
        await sub.wait_subscribed()
        await sub.wait_for(lambda m: len(m) >= 2, within_s=90)  # connected, decoding, publishing
        assert await stop_process(daemon) == 0, stderr_path.read_text()[-3000:]
    finally:
        await stop_process(daemon)
        sub.close()
    return _imported(stderr_path.read_text())


@pytest.mark.parametrize("lights", [True, False], ids=["demo-room-with-lights", "room-without-lights"])
async def test_run_imports_only_what_monitoring_needs(
    lights: bool, tmp_path: Path, emulator: Emulator, broker: Broker
) -> None:
    text = demo_config(("127.0.0.1", broker.port)) if lights else room_without_lights(broker.port)
    imported = await _imports_of_run(text, tmp_path, emulator, broker)

    missing = [name for name in ALWAYS_IN_THE_DAEMON if name not in imported]
    assert not missing, f"not in the import list: {missing}"
    unwanted = {package: _loaded(imported, package) for package in NEVER_IN_THE_DAEMON}
    assert not {p: found for p, found in unwanted.items() if found}
    # gpiozero (about 2 MiB) drives the lights; a room without light channels does not load it.
    assert bool(_loaded(imported, "gpiozero")) is lights
