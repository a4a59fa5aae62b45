"""Hub events to database rows, as each kind's description (:mod:`roomctl.storage.kinds`) says."""

from __future__ import annotations

from roomctl.models import HubEvent, SessionEvent, SessionState, event_json
from roomctl.storage.database import Row
from roomctl.storage.kinds import STORED, STORED_KINDS

__all__ = ["STORED_KINDS", "RowMaker"]


class RowMaker:
    """Turns events into rows in hub order, remembering the session current at each event."""

    def __init__(self, session: str | None) -> None:
        self.session = session

    def make(self, event: HubEvent, now: float) -> Row | None:
        stored = STORED.get(event.kind)
        if stored is None:
            return None
        payload = event_json(event)  # the same text the local API sends
        if isinstance(event, SessionState):
            self.session = event.id if event.ended_at is None else None
            return Row(stored.kind, event.id, payload, None)
        session = event.session if isinstance(event, SessionEvent) else self.session
        assert stored.row is not None  # every kind but the session state has a table
        columns = stored.row(event, self.session, now)
        if stored.with_payload:
            columns = (*columns, payload)
        return Row(stored.kind, session, payload, columns)
