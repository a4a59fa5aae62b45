"""A disk returning EIO (ext4 on a loop device shrunk under it): ``roomctl run`` keeps monitoring with the alarm
"recording stopped: I/O error", the watchdog pinged (WatchdogSec=30); started again on the failing disk it monitors
without a record — no exit, no restart loop, the database not mistaken for a damaged one."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from roomctl.commands import MarkEvent, StartSession
from roomctl.demo.launcher import roomctl_argv
from roomctl.models import Priority
from tests.daemon.helpers import MINIMAL_ROOM, NotifyListener, stop_process
from tests.storage.disks import FailingDisk, Follower


async def start(config: Path, notify: NotifyListener, log_path: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "30000000"}
    with log_path.open("ab") as log:
        return await asyncio.create_subprocess_exec(
            *roomctl_argv("run", "--config", str(config)), env=env, stdout=log, stderr=log
        )


async def io_error_shown(follower: Follower) -> None:
    await follower.wait_until(lambda: follower.shown("storage_failure") is not None, within_s=60)
    alarm = follower.shown("storage_failure")
    assert alarm is not None
    assert alarm.priority is Priority.HIGH
    assert "recording stopped: I/O error" in alarm.message


async def test_a_disk_returning_eio_keeps_monitoring_at_run_and_at_start(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path / "disk.img", tmp_path / "disk")
    db = disk.where / "roomctl.db"
    config = tmp_path / "room.toml"
    config.write_text(MINIMAL_ROOM.replace('path = "roomctl.db"', f'path = "{db}"'))
    log_path = tmp_path / "daemon.log"
    notify = NotifyListener(tmp_path / "notify")
    daemon = await start(config, notify, log_path)
    follower = Follower(tmp_path / "api.sock")
    try:
        await notify.wait_for("READY=1")
        assert (await follower.send(StartSession())).ok
        disk.fail()
        for i in range(20):  # writes go to the device now: each note's batch is fsync'd and fails
            assert (await follower.send(MarkEvent(event="note", text=f"note {i}"))).ok
        await io_error_shown(follower)
        pings = notify.count("WATCHDOG=1")
        await notify.wait_for("WATCHDOG=1", count=pings + 2, within_s=60)  # monitoring goes on
        assert not any(m.startswith("STATUS=unhealthy") for m in notify.drain())
        assert await stop_process(daemon) == 0  # what waits is lost with the process: the journal says so
        await follower.close()

        # Started again on the still-failing disk: what it reads now comes from the device.
        FailingDisk.forget(db)
        notify.messages.clear()
        daemon = await start(config, notify, log_path)
        follower = Follower(tmp_path / "api.sock")
        await notify.wait_for("READY=1")
        await notify.wait_for("WATCHDOG=1")
        await io_error_shown(follower)
        await notify.wait_for("WATCHDOG=1", count=2, within_s=60)
        assert daemon.returncode is None
        assert not list(disk.where.glob("roomctl.db.damaged-*"))  # a failing disk is not a damaged file
        assert await stop_process(daemon) == 0
    finally:
        await follower.close()
        await stop_process(daemon)
        notify.close()
        disk.close()
    text = log_path.read_text()
    assert "could not be written before closing" in text
