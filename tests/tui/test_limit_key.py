"""The limit key against the real daemon (in this process, no wearables): a limit for this session through
``set_limit``, shown beside the value, refused in words when it cannot be, gone when the session ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomctl.api.client import ApiClient
from roomctl.config import parse_config
from roomctl.daemon.app import Daemon
from roomctl.tui.app import RoomApp
from tests.daemon.helpers import room_without_wearables
from tests.tui.conftest import until, vital


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    d = Daemon(parse_config(room_without_wearables()), state_dir=tmp_path)
    task = asyncio.create_task(d.run())
    await asyncio.wait_for(d.ready.wait(), 60)
    yield d
    d.request_stop()
    assert await asyncio.wait_for(task, 60) == 0


def label(app: RoomApp, quantity: str) -> str:
    return vital(app, quantity, "label")


async def test_limit_key_sets_a_limit_for_this_session(daemon: Daemon) -> None:
    app = RoomApp(ApiClient(daemon.socket_path, min_backoff_s=0.05, max_backoff_s=0.2))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.view.connected)
        await until(pilot, lambda: "50-120" in label(app, "heart_rate"))  # the room's limits
        assert "L limit" not in app._cell("keys").shown  # a limit for this session needs a session
        await pilot.press("S", "d")
        await until(pilot, lambda: "L limit" in app._cell("keys").shown)

        await pilot.press("L", *"hr high 130", "enter")
        await until(pilot, lambda: "50-130*" in label(app, "heart_rate"))  # * set for this session
        assert "130" in app.message
        assert not app.message.startswith(("refused", "not done"))

        await pilot.press("L", *"spo2 low 88", "enter")
        await until(pilot, lambda: "low 88*" in label(app, "spo2"))

        await pilot.press("L", *"hr high", "enter")  # checked in the dialog: nothing sent
        assert "type a vital and its limit" in str(app.screen.query_one("#dialog-error").render())
        await pilot.press("ctrl+a", "ctrl+k", *"bp high 3", "enter")
        assert "no vital 'bp' here" in str(app.screen.query_one("#dialog-error").render())
        await pilot.press("escape")

        await pilot.press("E", "y")
        await until(pilot, lambda: app.view.session.id is None)
        await until(pilot, lambda: "50-120\n" in label(app, "heart_rate") + "\n")  # the room's limits, no *
        await until(pilot, lambda: "low 90\n" in label(app, "spo2") + "\n")
