"""Two writes of what is staged at the same moment (the storage writer's batch and a session's save, which both write
what is staged) write each row once: neither refuses with the same seq twice, nothing is lost."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from roomctl.clock import FakeClock
from roomctl.models import SessionState
from roomctl.storage.database import SessionRow
from roomctl.storage.rows import RowMaker
from roomctl.storage.store import Store
from tests.builders import T0
from tests.storage.helpers import reading


async def test_a_session_save_during_a_batch_writes_every_row_once(tmp_path: Path, clock: FakeClock) -> None:
    store = Store(tmp_path / "roomctl.db", clock=clock)
    await store.open()
    try:
        maker = RowMaker("s1")
        state = SessionState(id="s1", started_at=T0).model_dump_json()
        for batch in range(20):
            rows = [maker.make(reading(batch * 500 + i), 0.0) for i in range(500)]
            saves = [
                store.save_session(SessionRow("s1", "dosing", T0.timestamp(), None, state, {"n": n})) for n in range(3)
            ]
            await asyncio.gather(store.write_batch([r for r in rows if r is not None], 0.0), *saves)
            assert store.problem is None, store.problem
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "roomctl.db") as db:
        assert db.execute("select count(*), count(distinct seq) from readings").fetchone() == (10_000, 10_000)
        assert db.execute("select count(*) from outbox").fetchone() == (10_000,)
