"""A real Daemon stopped and started again within a session, on the same state folder: its alarms survive, and the gap
is a technical alarm that is stored in the alarm log."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from roomctl.api.client import send_once
from roomctl.commands import StartSession
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.models import UNITS, Alarm, Quantity, Reading
from tests.builders import room_toml

ROOM = room_toml(
    rules=[
        {"quantity": "spo2", "low": 90, "priority": "high", "condition_delay_s": 0},
        {"quantity": "heart_rate", "high": 120, "condition_delay_s": 0},
    ]
)


def reading(daemon: Daemon, quantity: Quantity, value: float, device: str) -> Reading:
    return Reading(quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=daemon.clock.now())


def by_condition(daemon: Daemon) -> dict[str, Alarm]:
    return {a.condition: a for a in daemon.hub.state.alarms.values()}


async def start(tmp_path: Path) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(parse_config(ROOM), state_dir=tmp_path)
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 30)
    return daemon, task


async def stop(daemon: Daemon, task: asyncio.Task[int]) -> None:
    daemon.request_stop()
    assert await asyncio.wait_for(task, 30) == 0


async def test_alarms_survive_a_restart_and_the_gap_is_an_alarm_on_record(tmp_path: Path) -> None:
    daemon, task = await start(tmp_path)
    try:
        assert (await send_once(tmp_path / "api.sock", StartSession())).ok
        daemon.hub.publish(reading(daemon, Quantity.SPO2, 85, "oxi"))
        daemon.hub.publish(reading(daemon, Quantity.SPO2, 97, "oxi"))  # latched
        daemon.hub.publish(reading(daemon, Quantity.HEART_RATE, 130, "strap"))  # active
        before = by_condition(daemon)
        assert before["spo2_low"].latched
        assert before["heart_rate_high"].active
    finally:
        await stop(daemon, task)

    daemon, task = await start(tmp_path)
    try:
        after = by_condition(daemon)
        for condition in ("spo2_low", "heart_rate_high"):  # as stored: times to the millisecond
            assert after[condition].model_dump(mode="json") == before[condition].model_dump(mode="json")
        notice = after["monitoring_interrupted"]
        assert notice.message.startswith("Monitoring was interrupted for ")
        assert notice.value is not None
        assert 0 <= notice.value < 60
    finally:
        await stop(daemon, task)

    with sqlite3.connect(tmp_path / "roomctl.db") as db:
        rows = db.execute("select action, condition, payload from alarms order by seq").fetchall()
    assert ("restored", "spo2_low") in [(a, c) for a, c, _ in rows]
    (raised,) = [json.loads(p) for a, c, p in rows if c == "monitoring_interrupted"]
    assert raised["action"] == "raised"
    assert raised["alarm"]["message"] == notice.message
