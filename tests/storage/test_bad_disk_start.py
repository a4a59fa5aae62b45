"""Start-up on a bad disk still monitors: a damaged database is moved aside (renamed with the time, never deleted) and
a new one begun; a read-only storage folder means monitoring without a record, an alarm, and a retry until it is
writable — never exit 2, never a restart loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from roomctl.commands import StartSession
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import UNITS, HubEvent, Priority, Quantity, Reading, ServiceHealth
from roomctl.report.synthetic import fill_database
from roomctl.storage.database import Database
from tests.builders import T0
from tests.daemon.helpers import MINIMAL_ROOM, NotifyListener, start_daemon, stop_process
from tests.storage.disks import Follower, remount, tmpfs

PAGE = 4096


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _zeroed_header(data: bytes) -> bytes:
    return bytes(100) + data[100:]


def _random_bytes(data: bytes) -> bytes:
    return os.urandom(len(data))


def _one_bad_page(data: bytes) -> bytes:
    page = len(data) // PAGE // 2  # a page in the middle: the readings' b-tree
    return data[: page * PAGE] + os.urandom(PAGE) + data[(page + 1) * PAGE :]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": _truncated,
    "zeroed header": _zeroed_header,
    "random bytes": _random_bytes,
    "one bad page": _one_bad_page,
}


def damaged_database(path: Path, damage: Callable[[bytes], bytes]) -> bytes:
    db = Database(path)
    fill_database(db, T0, hours=0.5)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = damage(path.read_bytes())
    path.write_bytes(data)
    return data


def moved_aside(folder: Path) -> Path:
    """The one database file moved aside (its -wal and -shm, when there were any, beside it)."""
    (moved,) = [p for p in folder.glob("roomctl.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    return moved


@pytest.mark.parametrize("kind", DAMAGE)
async def test_a_damaged_database_is_moved_aside_and_a_new_one_begun(tmp_path: Path, kind: str) -> None:
    db_path = tmp_path / "roomctl.db"
    damaged = damaged_database(db_path, DAMAGE[kind])
    notify = NotifyListener(tmp_path / "notify")
    environ = notify.environ(1_000_000)
    daemon = Daemon(parse_config(MINIMAL_ROOM), state_dir=tmp_path, environ=environ)
    health: list[ServiceHealth] = []

    def keep(event: HubEvent) -> None:
        if isinstance(event, ServiceHealth) and event.service == "storage":
            health.append(event)

    daemon.hub.add_processor(keep)
    task = asyncio.create_task(daemon.run())
    try:
        await asyncio.wait_for(daemon.ready.wait(), 30)
        await notify.wait_for("WATCHDOG=1", count=2)  # monitoring
        moved = moved_aside(tmp_path)
        assert hashlib.sha256(moved.read_bytes()).digest() == hashlib.sha256(damaged).digest()  # kept as it was
        assert any(
            not h.ok and h.detail.startswith("the database file is damaged: kept as " + moved.name) for h in health
        )
        clock = daemon.clock
        daemon.hub.publish(
            Reading(quantity=Quantity.SPO2, value=97, unit=UNITS[Quantity.SPO2], device="x", ts=clock.now())
        )
        await daemon.writer.flush()
        assert health[-1].ok
    finally:
        daemon.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        notify.close()
    assert task.result() == 0
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT value FROM readings").fetchall() == [(97.0,)]
    finally:
        conn.close()


async def test_a_read_only_storage_folder_monitors_without_a_record_and_retries(tmp_path: Path) -> None:
    notify = NotifyListener(tmp_path / "notify")
    config = tmp_path / "room.toml"
    with tmpfs(tmp_path / "disk", "3m", read_only=True) as disk:
        db = disk / "roomctl.db"
        config.write_text(MINIMAL_ROOM.replace('path = "roomctl.db"', f'path = "{db}"'))
        daemon = await start_daemon(config, {**os.environ, **notify.environ(30_000_000)})  # logs to daemon.log
        follower = Follower(tmp_path / "api.sock")
        try:
            await notify.wait_for("READY=1")
            await notify.wait_for("WATCHDOG=1")
            await follower.wait_until(lambda: follower.shown("storage_failure") is not None)
            alarm = follower.shown("storage_failure")
            assert alarm is not None
            assert alarm.priority is Priority.HIGH
            assert "recording stopped: the storage is read-only" in alarm.message
            result = await follower.send(StartSession())  # the room works without its record
            assert result.ok, result.message
            assert daemon.returncode is None
            assert not db.exists()

            remount(disk, read_only=False)
            await follower.wait_until(lambda: bool(follower.storage) and follower.storage[-1][0].ok, within_s=60)
            await follower.wait_until(lambda: follower.shown("storage_failure") is None)
            assert daemon.returncode is None  # one process throughout: no exit, no restart loop
            session = follower.session.id
            assert session is not None
            assert await stop_process(daemon) == 0
            conn = sqlite3.connect(db)
            try:  # what happened while the disk was read-only is in the record now
                assert conn.execute("SELECT id FROM sessions").fetchall() == [(session,)]
            finally:
                conn.close()
        finally:
            await follower.close()
            await stop_process(daemon)
            notify.close()
