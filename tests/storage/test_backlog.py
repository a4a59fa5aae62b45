"""Nothing lost while the disk is away, within the bound: rows wait in memory (bounded by time and bytes), are written
in order when the disk takes writes again, the oldest readings go first past the bound (events and alarms kept
longest), the gap is recorded as an event with its length and counts, and the outbox (MQTT) is fed from memory.

The disk is a real tmpfs filled up under an open record, then given its space back."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import SessionEvent, SessionEventKind, SessionState
from roomctl.storage.backlog import Backlog, row_bytes
from roomctl.storage.database import Row, Staged
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from tests.builders import T0, alarm_event
from tests.storage.disks import fill, free, tmpfs
from tests.storage.helpers import reading


def stored(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def note(text: str, at: datetime) -> SessionEvent:
    return SessionEvent(id=text, session="s1", event=SessionEventKind.NOTE, ts=at, text=text)


async def test_past_the_time_bound_the_oldest_readings_go_the_rest_is_written_in_order_with_the_gap(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    with tmpfs(tmp_path / "disk", "3m") as disk:
        db = disk / "roomctl.db"
        store = Store(db, clock=clock, retry_s=0.0, backlog=Backlog(max_age_s=600.0))
        await store.open()
        writer = StorageWriter(store, hub, clock=clock)
        hub.publish(SessionState(id="s1", started_at=T0))
        await writer.flush()
        fill(disk)

        last = None
        for i in range(1200):  # 20 minutes at one reading a second; a note and an alarm early on
            if i == 5:
                hub.publish(note("early note", clock.now()))
                hub.publish(alarm_event(ts=clock.now()))
            last = reading(i, ts=clock.now())
            hub.publish(last)
            if i % 2:
                await writer.flush()  # fails: the disk is full
            clock.advance(1.0)
        assert store.problem == "recording stopped: the disk is full"
        assert hub.state.health["storage"].detail == "recording stopped: the disk is full"
        waiting = len(store.backlog)
        shed = store.backlog.shed_total
        assert 0 < shed < 1200, (
            waiting,
            writer.written,
            writer.failed_writes,
        )  # the oldest readings went, each counted
        assert waiting + shed == 1200 + 2
        outbox = await store.pending(0, 10_000)  # the MQTT feed reads what waits, from memory
        assert last is not None
        assert json.loads([r for r in outbox if r.kind == "reading"][-1].payload)["value"] == last.value

        free(disk)
        await writer.flush()  # the backlog: healthy again at once
        assert hub.state.health["storage"].ok
        await writer.flush()  # the gap event it published
        await store.close()

        values = [r[0] for r in stored(db, "SELECT value FROM readings ORDER BY seq")]
        assert len(values) == 1200 - shed
        assert values == [60.0 + i % 50 for i in range(shed, 1200)]  # the newest, in hub order
        assert stored(db, "SELECT text FROM events WHERE event = 'note'") == [("early note",)]  # kept longest
        assert len(stored(db, "SELECT seq FROM alarms")) == 1
        (gap,) = stored(db, "SELECT ts, text, data, session FROM events WHERE event = 'record_gap'")
        data = json.loads(str(gap[2]))
        assert data["counts"] == {"reading": shed}
        assert data["gap_s"] == shed - 1  # one reading a second, the oldest first
        assert gap[0] == T0.timestamp()
        assert gap[3] == "s1"
        assert f"{shed} records not kept" in str(gap[1])


def test_past_the_bytes_bound_readings_go_before_events_and_then_the_oldest_events() -> None:
    backlog = Backlog(max_bytes=40 * row_bytes(Row("event", None, "x" * 60, None)))

    def staged(seq: int, kind: str) -> Staged:
        return Staged(seq, Row(kind, None, "x" * 60, None), float(seq))

    backlog.add([staged(1, "event"), staged(2, "alarm")])
    backlog.add([staged(i, "reading") for i in range(3, 60)])
    kinds = [s.row.kind for s in backlog]
    assert kinds[:2] == ["event", "alarm"]  # kept while readings go
    assert backlog.bytes <= backlog.max_bytes
    assert backlog.gap.counts["reading"] == 57 - (len(kinds) - 2)
    assert [s.seq for s in backlog][2:] == list(range(60 - (len(kinds) - 2), 60))  # the newest readings stay
    backlog.add([staged(i, "event") for i in range(60, 120)])  # nothing but events: now the oldest of them go
    assert backlog.bytes <= backlog.max_bytes
    assert all(s.row.kind == "event" for s in backlog)
    assert [s.seq for s in backlog] == list(range(120 - len(backlog), 120))
    assert backlog.bytes == sum(row_bytes(s.row) for s in backlog)
