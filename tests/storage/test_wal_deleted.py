"""A deleted -wal under the running daemon is noticed at the next batch (device and inode), alarmed, put back into the
database file from the open connection, and the database reopened: after a SIGKILL the record is all there. A deleted
or replaced database file is put back whole from the open connection; a file that replaced it is moved aside."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

from roomctl.commands import MarkEvent, StartSession
from roomctl.demo.launcher import demo_config, roomctl_argv
from roomctl.emulator.runner import Emulator
from roomctl.storage.database import Row
from roomctl.storage.store import Store
from tests.daemon.helpers import stop_process
from tests.storage.disks import Follower
from tests.storage.helpers import integrity, missing_on_disk


async def test_an_unlinked_wal_is_noticed_and_the_record_survives_a_sigkill(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "room.toml"
    config.write_text(demo_config(None))
    db = tmp_path / "roomctl.db"
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": emulator.bus_address}
    log_path = tmp_path / "daemon.log"
    with log_path.open("wb") as log:
        daemon = await asyncio.create_subprocess_exec(
            *roomctl_argv("run", "--config", str(config)), env=env, stdout=log, stderr=log
        )
    follower = Follower(tmp_path / "api.sock")
    try:
        assert (await follower.send(StartSession())).ok
        assert (await follower.send(MarkEvent(event="note", text="before the -wal went"))).ok
        await follower.wait_until(lambda: len(follower.readings) >= 8)
        wal = db.with_name(db.name + "-wal")
        assert wal.stat().st_size > 0  # the session so far lives in the -wal (not checkpointed yet)
        wal.unlink()
        await follower.wait_until(
            lambda: any(not h.ok and "-wal file was deleted" in h.detail for h, _ in follower.storage)
        )
        alarm = next(e.alarm for e in follower.alarm_events if e.alarm.condition == "storage_failure")
        assert "-wal file was deleted" in alarm.message
        await follower.wait_until(lambda: follower.storage[-1][0].ok)  # reopened, writing again
        seen = len(follower.readings)
        assert (await follower.send(MarkEvent(event="note", text="after the -wal went"))).ok
        await follower.wait_until(lambda: len(follower.readings) >= seen + 8)
        await asyncio.sleep(1.2)  # the last readings fall inside the 1 s window after the kill
        killed_at = time.monotonic()
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()

        session = follower.session.id
        assert session is not None
        must_have = [r for r, seen_at in follower.readings if seen_at < killed_at - 1.0]
        assert missing_on_disk(db, must_have) == []  # before and after the unlink
        assert integrity(db) == "ok"
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("SELECT id FROM sessions").fetchall() == [(session,)]
            notes = [r[0] for r in conn.execute("SELECT text FROM events WHERE event = 'note' ORDER BY ts")]
            assert "before the -wal went" in notes
            assert "after the -wal went" in notes
        finally:
            conn.close()
    finally:
        await follower.close()
        await stop_process(daemon)


async def test_a_deleted_database_file_is_put_back_whole(tmp_path: Path) -> None:
    db = tmp_path / "roomctl.db"
    async with Store(db) as store:
        await store.write_batch([Row("event", None, f'{{"n":{i}}}', None) for i in range(10)], 0.0)
        db.unlink()
        await store.write_batch([Row("event", None, '{"n":10}', None)], 0.0)
        assert store.notices
        assert store.notices[0].startswith("the database file was deleted while roomctl ran")
    assert [r[0] for r in outbox(db)] == list(range(1, 12))  # before the unlink and after, in one file again
    assert integrity(db) == "ok"


async def test_a_replaced_database_file_is_moved_aside_and_the_record_put_back(tmp_path: Path) -> None:
    db = tmp_path / "roomctl.db"
    async with Store(db) as store:
        await store.write_batch([Row("event", None, f'{{"n":{i}}}', None) for i in range(10)], 0.0)
        other = tmp_path / "backup.db"
        conn = sqlite3.connect(other)
        conn.execute("CREATE TABLE someone_elses (x)")
        conn.commit()
        conn.close()
        os.replace(other, db)  # a backup copied over the live record
        await store.write_batch([Row("event", None, '{"n":10}', None)], 0.0)
        assert "the database file was replaced while roomctl ran" in store.notices[0]
    assert [r[0] for r in outbox(db)] == list(range(1, 12))
    conn = sqlite3.connect(replaced_aside(tmp_path))  # the file that replaced it, kept as it was
    try:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("someone_elses",)]
    finally:
        conn.close()


def replaced_aside(folder: Path) -> Path:
    (aside,) = folder.glob("roomctl.db.replaced-*")  # the file alone: the -wal and -shm at the path were roomctl's
    return aside


def outbox(db: Path) -> list[tuple[int]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT seq FROM outbox ORDER BY seq").fetchall()
    finally:
        conn.close()
