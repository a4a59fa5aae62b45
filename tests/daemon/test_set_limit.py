"""set_limit through the local API of a real Daemon: per session, recorded as a session event, shown as in force,
reset when the session ends; refused in words without a session."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from roomctl.api.client import send_once
from roomctl.commands import EndSession, SetLimit, StartSession
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import LimitInForce, Priority, Quantity
from tests.daemon.helpers import MINIMAL_ROOM


def spo2_low(daemon: Daemon) -> LimitInForce:
    limits = daemon.hub.state.limits
    assert limits is not None
    (lim,) = [
        x
        for x in limits.limits
        if (x.quantity, x.direction, x.priority) == (Quantity.SPO2, "low", Priority.MEDIUM) and x.device is None
    ]
    return lim


async def test_set_limit_over_the_local_api_lasts_one_session_and_is_recorded(tmp_path: Path) -> None:
    daemon = Daemon(parse_config(MINIMAL_ROOM), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    sock = tmp_path / "api.sock"
    try:
        await asyncio.wait_for(daemon.ready.wait(), 30)
        refused = await send_once(sock, SetLimit(quantity=Quantity.SPO2, low=88))
        assert not refused.ok
        assert "no session is running" in refused.message

        assert (await send_once(sock, StartSession())).ok
        result = await send_once(sock, SetLimit(quantity=Quantity.SPO2, low=88))
        assert result.ok, result.message
        assert result.message == "SpO2 limits for this session: low (medium) 88 (was 90)"
        assert (spo2_low(daemon).limit, spo2_low(daemon).source) == (88, "session")
        session_id = daemon.hub.state.session.id

        assert (await send_once(sock, EndSession())).ok
        assert (spo2_low(daemon).limit, spo2_low(daemon).source) == (90, "configured")
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(task, 30) == 0

    with sqlite3.connect(tmp_path / "roomctl.db") as db:
        rows = db.execute("select payload from outbox where kind = 'event'").fetchall()
    events = [json.loads(p) for (p,) in rows]
    (limit_set,) = [e for e in events if e["event"] == "limit_set"]
    assert limit_set["session"] == session_id
    assert limit_set["data"] == {
        "quantity": "spo2",
        "limits": [{"direction": "low", "priority": "medium", "limit": 88.0, "previous": 90.0}],
    }
