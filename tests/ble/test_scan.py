"""Scanning with the real bleak: every emulated wearable is found and recognised; `roomctl scan` end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tomllib

from roomctl.clock import SystemClock
from roomctl.config.wearables import BleConfig, WearableConfig
from roomctl.emulator import CATALOGUE, PrivateBus
from roomctl.sensors.profiles import PROFILES, recognise
from roomctl.sensors.scanner import SharedScanner, Sighting, Target
from tests.ble.conftest import WAIT_S, StartEmulator


async def test_shared_scanner_finds_and_recognises_every_profile(start_emulator: StartEmulator) -> None:
    await start_emulator()
    scanner = SharedScanner(clock=SystemClock(), ble=BleConfig())
    task = asyncio.create_task(scanner.run())
    try:
        async with asyncio.timeout(WAIT_S):
            by_address = [await scanner.find(Target(address=a)) for _, a, _ in CATALOGUE]
            by_name = await scanner.find(Target(name_pattern=r"^O2Ring"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    for (profile, address, name), s in zip(CATALOGUE, by_address, strict=True):
        assert (s.address, s.name) == (address, name)
        recognised = recognise(s.name, s.service_uuids)
        assert recognised is not None, f"{name} not recognised"
        assert recognised.name == profile, f"{name} recognised as {recognised.name}"
        assert -100 < s.rssi < 0
    assert by_name.address == "C0:FF:EE:00:00:04"


def test_every_config_profile_has_a_wearable_profile() -> None:
    from roomctl.config import RoomConfig

    schema = RoomConfig.model_json_schema()["$defs"]["WearableConfig"]["properties"]["profile"]
    assert set(schema["enum"]) == set(PROFILES)


def test_vendor_names_win_over_generic_services() -> None:
    sighting = Sighting(device=None, name="BerryMed", rssi=-60, service_uuids=[], seen_at=0.0)  # type: ignore[arg-type]
    assert recognise(sighting.name, sighting.service_uuids) is PROFILES["berrymed"]
    assert recognise("Some Strap", ["0000180d-0000-1000-8000-00805f9b34fb"]) is PROFILES["heart_rate"]
    assert recognise("Headphones", ["0000110b-0000-1000-8000-00805f9b34fb"]) is None


async def roomctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roomctl.cli.main", *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), WAIT_S)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


async def test_scan_command_lists_wearables_and_prints_a_snippet(start_emulator: StartEmulator) -> None:
    emu = await start_emulator()
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}  # --bus must win over the environment
    listing = await roomctl("scan", "--timeout", "2", "--bus", emu.bus_address, env=env)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    for profile, address, _ in CATALOGUE:
        assert any(address in line and line.endswith(profile) for line in lines), (
            f"{address} missing:\n{listing.stdout}"
        )
    snippet = await roomctl(
        "scan", "--timeout", "5", "--bus", emu.bus_address, "--snippet", "c0:ff:ee:00:00:04", env=env
    )
    assert snippet.returncode == 0, snippet.stderr
    block = tomllib.loads(snippet.stdout)["wearables"][0]
    config = WearableConfig(**block)
    assert (config.profile, config.address) == ("viatom", "C0:FF:EE:00:00:04")


async def test_scan_without_a_bus_or_bluez_says_so_in_words() -> None:
    no_bus = await roomctl("scan", "--timeout", "2", "--bus", "unix:path=/nonexistent/bus", env=dict(os.environ))
    assert no_bus.returncode == 1
    assert "cannot reach the system D-Bus" in no_bus.stderr
    assert "Traceback" not in no_bus.stderr
    with PrivateBus() as bus:  # a bus with nobody owning org.bluez
        no_bluez = await roomctl("scan", "--timeout", "2", "--bus", bus.address, env=dict(os.environ))
    assert no_bluez.returncode == 1
    assert "BlueZ (bluetoothd) is not running" in no_bluez.stderr
    assert "Traceback" not in no_bluez.stderr


async def test_a_quiet_scanner_is_restarted(start_emulator: StartEmulator) -> None:
    emu = await start_emulator([])  # an adapter and no wearables in range
    scanner = SharedScanner(clock=SystemClock(), ble=BleConfig(scanner_restart_s=0.5))
    task = asyncio.create_task(scanner.run())
    try:
        async with asyncio.timeout(WAIT_S):
            while scanner.restarts < 2:  # noqa: ASYNC110 (a counter, checked a few times a second)
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert emu.calls == []
