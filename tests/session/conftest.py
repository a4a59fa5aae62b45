from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.config import RoomConfig, parse_config
from roomctl.hub import Hub
from roomctl.models import HubEvent, SessionEvent
from roomctl.session import SessionManager
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

ROOM = """\
[room]
site = "clinic"
room = "willow"

[session]
vitals_check_interval_min = 30
"""


@dataclass
class Room:
    config: RoomConfig
    clock: FakeClock
    hub: Hub
    store: Store
    writer: StorageWriter
    manager: SessionManager
    seen: list[HubEvent]

    def events(self, kind: str | None = None) -> list[SessionEvent]:
        return [e for e in self.seen if isinstance(e, SessionEvent) and (kind is None or e.event == kind)]


async def make_room(path: Path, clock: FakeClock, hub: Hub, extra: str = "") -> Room:
    """The session manager on ``hub`` with its database at ``path``; a restart is another call with a new hub.
    ``extra``: more of the room's configuration (TOML appended to :data:`ROOM`)."""
    config = parse_config(ROOM + extra)
    seen: list[HubEvent] = []
    hub.add_processor(lambda e: seen.append(e))
    store = Store(path, clock=clock)
    await store.open()
    writer = StorageWriter(store, hub, clock=clock)  # not started: the manager flushes it after each command
    manager = SessionManager(config, hub, store, clock=clock, writer=writer)
    return Room(config, clock, hub, store, writer, manager, seen)


@pytest.fixture
async def room(tmp_path: Path, clock: FakeClock, hub: Hub) -> AsyncIterator[Room]:
    r = await make_room(tmp_path / "room.db", clock, hub)
    yield r
    await r.writer.stop()
    await r.store.close()
