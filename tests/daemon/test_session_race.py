"""Session commands are serialised: an end and a start from two screens at the same moment, many rounds, against
``roomctl run``. Each gets one clear outcome, the daemon shows what the record holds, and no session is left open
behind the daemon's back."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomctl.api.client import ApiClient
from roomctl.api.protocol import EventMessage, Snapshot
from roomctl.commands import EndSession, StartSession
from roomctl.models import SessionKind, SessionState
from roomctl.storage.database import Database, SessionRow
from tests.daemon.helpers import room_without_wearables, start_daemon, stop_process
from tests.waits import until_changed

ROUNDS = 30


class Screen:
    """A real API client, connected, following the session state the daemon announces."""

    def __init__(self, socket_path: Path, name: str) -> None:
        self.client = ApiClient(socket_path, client_name=name)
        self.session: str | None = None
        self.changed = asyncio.Event()
        self.ready = asyncio.Event()

    async def follow(self) -> None:
        async for update in self.client.updates():
            state = None
            if isinstance(update, Snapshot):
                state = update.session
                self.ready.set()
            elif isinstance(update, EventMessage) and isinstance(update.event, SessionState):
                state = update.event
            if state is not None:
                self.session = state.id if state.ended_at is None else None
                self.changed.set()

    async def shows(self, session: str | None, within_s: float = 30.0) -> None:
        await until_changed(self.changed, lambda: self.session == session, within_s)


@contextlib.asynccontextmanager
async def screens(socket_path: Path, *names: str) -> AsyncIterator[list[Screen]]:
    out = [Screen(socket_path, n) for n in names]
    tasks = [asyncio.create_task(s.follow()) for s in out]
    try:
        async with asyncio.timeout(60):  # each client retries until the daemon's socket is there
            for s in out:
                await s.ready.wait()
        yield out
    finally:
        for task in tasks:
            task.cancel()
        for s in out:
            await s.client.close()


def open_sessions(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM sessions WHERE ended_at IS NULL")]


async def test_an_end_and_a_start_at_the_same_moment_each_get_one_clear_outcome(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text(room_without_wearables())
    db, socket_path, log_path = tmp_path / "roomctl.db", tmp_path / "api.sock", tmp_path / "daemon.log"
    daemon = await start_daemon(config)
    outcomes: set[str] = set()
    try:
        async with screens(socket_path, "ender", "starter", "watcher") as (ender, starter, watcher):
            running: str | None = None
            for n in range(ROUNDS):
                if running is None:
                    started = await ender.client.send(StartSession(session_kind=SessionKind.DOSING))
                    assert started.ok, started.message
                    running = started.message.split()[2]
                end = ender.client.send(EndSession())
                start = starter.client.send(StartSession(session_kind=SessionKind.INTEGRATION))
                if n % 2:  # either one written first, in the same moment
                    ended, started = await asyncio.gather(end, start)
                else:
                    started, ended = await asyncio.gather(start, end)
                assert ended.ok, ended.message
                assert ended.message == f"session {running} ended"
                if started.ok:  # the end went first
                    match = re.fullmatch(r"integration session ([0-9a-f]{12}) started", started.message)
                    assert match, started.message
                    running = match.group(1)
                    outcomes.add("end, then start")
                else:  # the start went first and saw the session still running
                    assert started.message == f"session {running} is still running; end it first"
                    running = None
                    outcomes.add("start refused, then end")
                for screen in (ender, starter, watcher):
                    await screen.shows(running)
                assert open_sessions(db) == ([running] if running else []), f"round {n}"
    finally:
        assert await stop_process(daemon) == 0, log_path.read_text()
    assert "Traceback" not in log_path.read_text()
    assert outcomes  # which order each round took is the daemon's; that each is one of the two is the test
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
        starts = conn.execute("SELECT COUNT(*) FROM events WHERE event = 'session_start'").fetchone()[0]
        ends = conn.execute("SELECT COUNT(*) FROM events WHERE event = 'session_end'").fetchone()[0]
    assert starts == count
    assert ends == count - len(open_sessions(db))


async def test_roomctl_run_closes_an_older_open_session_and_resumes_the_newest(tmp_path: Path) -> None:
    """A record with two open sessions (what the race used to leave): the daemon resumes the newest and closes the older
    at its last record, saying so in its record; one session is open afterwards."""
    config = tmp_path / "room.toml"
    config.write_text(room_without_wearables())
    db_path, socket_path, log_path = tmp_path / "roomctl.db", tmp_path / "api.sock", tmp_path / "daemon.log"
    db = Database(db_path)
    now = datetime.now(UTC)
    for sid, ago in (("0000000000a1", 7200), ("0000000000b2", 600)):
        started = now - timedelta(seconds=ago)
        state = SessionState(id=sid, session_kind=SessionKind.INTEGRATION, started_at=started)
        db.save_session(SessionRow(sid, "integration", started.timestamp(), None, state.model_dump_json(), {}))
    db.close()
    daemon = await start_daemon(config)
    try:
        async with screens(socket_path, "screen") as (screen,):
            await screen.shows("0000000000b2")
    finally:
        assert await stop_process(daemon) == 0, log_path.read_text()
    assert open_sessions(db_path) == ["0000000000b2"]
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        (ended_at,) = conn.execute("SELECT ended_at FROM sessions WHERE id = '0000000000a1'").fetchone()
        ends = conn.execute("SELECT ts, text FROM events WHERE session = '0000000000a1' AND event = 'session_end'")
        (end_ts, text), *more = ends.fetchall()
    assert more == []
    assert ended_at == end_ts == pytest.approx((now - timedelta(seconds=7200)).timestamp())  # its last record
    assert text == "closed when roomctl started: it was left open, and a later session was open too"
    assert "session 0000000000a1 was left open; closed at its last record" in log_path.read_text()


async def test_two_starts_at_the_same_moment_open_one_session(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text(room_without_wearables())
    db, socket_path, log_path = tmp_path / "roomctl.db", tmp_path / "api.sock", tmp_path / "daemon.log"
    daemon = await start_daemon(config)
    try:
        async with screens(socket_path, "left", "right") as (left, right):
            for _ in range(ROUNDS // 2):
                results = await asyncio.gather(
                    left.client.send(StartSession(session_kind=SessionKind.DOSING)),
                    right.client.send(StartSession(session_kind=SessionKind.INTEGRATION)),
                )
                (won,) = [r for r in results if r.ok]
                (lost,) = [r for r in results if not r.ok]
                running = won.message.split()[2]
                assert re.fullmatch(r"(dosing|integration) session [0-9a-f]{12} started", won.message)
                assert lost.message == f"session {running} is still running; end it first"
                assert open_sessions(db) == [running]
                await left.shows(running)
                assert (await right.client.send(EndSession())).message == f"session {running} ended"
                await right.shows(None)
    finally:
        assert await stop_process(daemon) == 0, log_path.read_text()
    assert open_sessions(db) == []
    assert "Traceback" not in log_path.read_text()
