"""SIGKILL the real daemon (``roomctl run``, wearables emulated at the BlueZ D-Bus level) mid-session.

What the hub accepted is observed through the local API, which streams hub events as they happen: a reading the
client received more than 1 s before the kill was accepted by the hub at least that long before. Every one must be
on disk, the file must pass ``PRAGMA integrity_check``, and the restarted daemon must resume the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from roomctl.api.client import ApiClient, ApiUnavailable
from roomctl.api.protocol import EventMessage, Snapshot
from roomctl.commands import Command, MarkEvent, SetPhase, StartSession
from roomctl.demo.launcher import demo_config, roomctl_argv
from roomctl.emulator.runner import Emulator
from roomctl.models import Reading, SessionState
from tests.daemon.helpers import stop_process
from tests.storage.helpers import integrity, missing_on_disk


class Watcher:
    """Follows the daemon through the local API: readings as they arrive, and the session each snapshot shows."""

    def __init__(self, socket: Path) -> None:
        self.client = ApiClient(socket, min_backoff_s=0.1, max_backoff_s=0.5)
        self.readings: list[tuple[Reading, float]] = []
        self.snapshots: list[SessionState] = []
        self.session = SessionState(id=None)
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for item in self.client.updates():
            if isinstance(item, EventMessage) and isinstance(item.event, Reading):
                self.readings.append((item.event, time.monotonic()))
            elif isinstance(item, EventMessage) and isinstance(item.event, SessionState):
                self.session = item.event
            elif isinstance(item, Snapshot):
                self.snapshots.append(item.session)  # one per (re)connection
                self.session = item.session
            self.changed.set()

    async def wait_until(self, predicate: object, within_s: float = 60) -> None:
        assert callable(predicate)
        async with asyncio.timeout(within_s):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def send(self, command: Command) -> None:
        async with asyncio.timeout(60):
            while True:
                try:
                    result = await self.client.send(command)
                    break
                except ApiUnavailable:
                    self.changed.clear()
                    await self.changed.wait()
        assert result.ok, result.message

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.client.close()


async def test_sigkill_of_roomctl_run_loses_nothing_and_the_session_resumes(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "room.toml"
    config.write_text(demo_config(None))  # storage and API socket land next to it
    db, socket = tmp_path / "roomctl.db", tmp_path / "api.sock"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address}
    log = (tmp_path / "daemon.log").open("wb")
    argv = roomctl_argv("run", "--config", str(config))
    daemon = await asyncio.create_subprocess_exec(*argv, env=env, stdout=log, stderr=log)
    watcher = Watcher(socket)
    try:
        await watcher.send(StartSession())
        await watcher.send(MarkEvent(event="dose", amount_mg=120))
        await watcher.send(SetPhase(phase="onset"))
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
