"""Retention: old sessions and their records go, recent ones stay; sent outbox rows go after a short while."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from roomctl.models import SessionState
from roomctl.storage.database import Database, SessionRow
from roomctl.storage.rows import RowMaker
from tests.storage.helpers import T0, reading

DAY = 86400.0


def add_session(db: Database, sid: str, start_offset_days: float, readings: int) -> None:
    start = T0 + timedelta(days=start_offset_days)
    maker = RowMaker(None)
    state = SessionState(id=sid, started_at=start)
    rows = [maker.make(state, start.timestamp())]
    rows += [maker.make(reading(i, ts=start + timedelta(seconds=i)), start.timestamp()) for i in range(readings)]
    rows.append(maker.make(state.model_copy(update={"ended_at": start + timedelta(hours=8)}), start.timestamp()))
    db.write_batch([r for r in rows if r is not None], start.timestamp())
    ended = (start + timedelta(hours=8)).timestamp()
    db.save_session(SessionRow(sid, "dosing", start.timestamp(), ended, json.dumps({"id": sid}), {}))


def test_retention_deletes_old_sessions_and_keeps_recent_ones(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    add_session(db, "old", 0, 30)
    add_session(db, "new", 20, 40)
    loose = RowMaker(None).make(reading(0, ts=T0), T0.timestamp())  # a reading outside any session, old
    assert loose is not None
    db.write_batch([loose], T0.timestamp())
    now = T0.timestamp() + 25 * DAY
    deleted = db.apply_retention(now, retention_days=10, sent_keep_s=600, unsent_max_age_s=100 * DAY)
    assert deleted >= 31
    assert db.session("old") is None
    assert db.session("new") is not None
    assert len(list(db.readings("old"))) == 0
    assert len(list(db.readings("new"))) == 40
    assert db.count("readings") == 40
    assert db.integrity_check() == "ok"


def test_sent_outbox_rows_go_after_the_keep_time_unsent_stay(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    add_session(db, "s", 0, 10)  # 12 outbox rows written "at" T0
    db.mark_sent(list(range(1, 7)), now=T0.timestamp())
    db.apply_retention(T0.timestamp() + 300, retention_days=400, sent_keep_s=600, unsent_max_age_s=3 * DAY)
    assert db.count("outbox") == 12  # sent only 5 minutes ago: kept
    db.apply_retention(T0.timestamp() + 700, retention_days=400, sent_keep_s=600, unsent_max_age_s=3 * DAY)
    assert [r.seq for r in db.pending(0, 100)] == list(range(7, 13))
    assert db.count("outbox") == 6
    db.apply_retention(T0.timestamp() + 4 * DAY, retention_days=400, sent_keep_s=600, unsent_max_age_s=3 * DAY)
    assert db.count("outbox") == 0  # never sent for 3 days: dropped from the outbox ...
    assert db.count("readings") == 10  # ... while the record itself stays


def add_open_session(db: Database, sid: str, start_offset_days: float, last_reading_days: float) -> None:
    """A session never ended (a crash, or an older roomctl) whose last reading is ``last_reading_days`` after T0."""
    start = T0 + timedelta(days=start_offset_days)
    maker = RowMaker(sid)
    last = T0 + timedelta(days=last_reading_days)
    rows = [maker.make(reading(i, ts=t), start.timestamp()) for i, t in enumerate((start, last))]
    db.write_batch([r for r in rows if r is not None], start.timestamp())
    db.save_session(SessionRow(sid, "dosing", start.timestamp(), None, json.dumps({"id": sid}), {}))


def test_retention_removes_a_session_that_stayed_open_by_its_last_record(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    add_open_session(db, "forgotten", 0, 0.3)  # open, silent for 25 days
    add_open_session(db, "long", 0, 24)  # open since day 0 but recording until yesterday: not old
    now = T0.timestamp() + 25 * DAY
    db.apply_retention(now, retention_days=10, sent_keep_s=600, unsent_max_age_s=100 * DAY)
    assert db.session("forgotten") is None
    assert list(db.readings("forgotten")) == []
    assert db.session("long") is not None
    assert len(list(db.readings("long"))) == 2
    assert db.last_activity("long") == (T0 + timedelta(days=24)).timestamp()
    assert db.integrity_check() == "ok"
