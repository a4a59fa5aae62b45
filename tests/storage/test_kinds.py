"""Each stored kind's one description agrees with the migrated schema and with the hub's event kinds."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from roomctl.models import HubEvent
from roomctl.storage.database import Database
from roomctl.storage.kinds import EVENT_TABLES, STORED


def test_every_description_matches_its_table(tmp_path: Path) -> None:
    db = Database(tmp_path / "room.db")
    try:
        for kind in STORED.values():
            if kind.table is None:
                continue
            columns = [r[1] for r in db.conn.execute(f"PRAGMA table_info({kind.table})")]
            assert columns == ["seq", *kind.columns, *(["payload"] if kind.with_payload else [])], kind.kind
    finally:
        db.close()


def test_stored_kinds_are_hub_event_kinds_and_live_state_is_not_stored() -> None:
    hub_kinds = {model.model_fields["kind"].default for model in get_args(HubEvent)}
    assert set(STORED) <= hub_kinds
    assert hub_kinds - set(STORED) == {"audio_pause", "health", "limits"}  # limits: set_limit is a session event
    assert [k.kind for k in STORED.values() if k.table is None] == ["session"]
    assert len(set(EVENT_TABLES)) == len(EVENT_TABLES)
