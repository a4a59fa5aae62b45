"""SIGKILL the real daemon (``roomctl run``, wearables emulated at the BlueZ D-Bus level) mid-session.

What the hub accepted is observed through the local API, which streams hub events as they happen: a reading the
client received more than 1 s before the kill was accepted by the hub at least that long before. Every one must be
on disk, the file must pass ``PRAGMA integrity_check``, and the restarted daemon must resume the session.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from roomctl.commands import MarkEvent, SetPhase, StartSession
from roomctl.demo.launcher import demo_config, roomctl_argv
from roomctl.emulator.runner import Emulator
from tests.daemon.helpers import stop_process
from tests.storage.disks import Follower
from tests.storage.helpers import integrity, missing_on_disk


async def test_sigkill_of_roomctl_run_loses_nothing_and_the_session_resumes(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "room.toml"
    config.write_text(demo_config(None))  # storage and API socket land next to it
    db, socket = tmp_path / "roomctl.db", tmp_path / "api.sock"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address}
    log = (tmp_path / "daemon.log").open("wb")
    argv = roomctl_argv("run", "--config", str(config))
    daemon = await asyncio.create_subprocess_exec(*argv, env=env, stdout=log, stderr=log)
    watcher = Follower(socket)
    try:
        assert (await watcher.send(StartSession())).ok
        assert (await watcher.send(MarkEvent(event="dose", amount_mg=120))).ok
        assert (await watcher.send(SetPhase(phase="onset"))).ok
        await watcher.wait_until(lambda: len(watcher.readings) >= 12)
        await asyncio.sleep(1.2)  # let the last readings fall inside the 1 s window, so both sides are exercised
        killed_at = time.monotonic()
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
        assert daemon.returncode != 0

        must_have = [r for r, seen in watcher.readings if seen < killed_at - 1.0]
        assert len(must_have) >= 12
        assert missing_on_disk(db, must_have) == []
        assert integrity(db) == "ok"
        sid = watcher.session.id
        assert sid is not None
        assert len(watcher.snapshots) == 1

        daemon = await asyncio.create_subprocess_exec(*argv, env=env, stdout=log, stderr=log)
        await watcher.wait_until(lambda: len(watcher.snapshots) >= 2 and watcher.snapshots[-1].id == sid)
        resumed = watcher.snapshots[-1]
        assert resumed.phase == "onset"
        assert len(resumed.dose_times) == 1
        assert await stop_process(daemon) == 0
        assert integrity(db) == "ok"
    finally:
        await watcher.close()
        await stop_process(daemon)
        log.close()
    text = (tmp_path / "daemon.log").read_text()
    assert "resumed session" in text
