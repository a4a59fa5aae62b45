from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from roomctl.api.client import ApiClient, ApiUnavailable, Disconnected, Update
from roomctl.api.protocol import EventMessage, Hello, Snapshot
from roomctl.commands import EnterTemperature, MarkEvent
from roomctl.models import Quantity
from tests.api.conftest import Room
from tests.builders import reading


async def next_of(updates: AsyncGenerator[Update, None], kind: type, within_s: float = 15.0) -> Update:
    async def find() -> Update:
        async for item in updates:
            if isinstance(item, kind):
                return item
        raise AssertionError("updates ended")

    return await asyncio.wait_for(find(), within_s)


async def test_client_gets_state_sends_commands_and_reconnects_after_restart(room: Room) -> None:
    client = ApiClient(room.socket_path, min_backoff_s=0.05, max_backoff_s=0.2)
    updates = client.updates()
    lost = await next_of(updates, Disconnected)
    assert isinstance(lost, Disconnected)
    assert "does not exist" in lost.reason
    with pytest.raises(ApiUnavailable):
        await client.send(MarkEvent(event="note", text="x"))
    async with room.server():
        assert isinstance(await next_of(updates, Hello), Hello)
        assert isinstance(await next_of(updates, Snapshot), Snapshot)
        result_task = asyncio.create_task(client.send(EnterTemperature(celsius=37.2)))
        # the iterator must be driven for results to arrive, as the TUI does
        pump = asyncio.create_task(next_of(updates, EventMessage))
        assert await room.handler.next() == EnterTemperature(celsius=37.2)
        result = await asyncio.wait_for(result_task, 10)
        assert (result.ok, result.message) == (True, "done: temperature")
        room.hub.publish(reading(97, Quantity.SPO2, device="oximeter"))
        event = await pump
        assert isinstance(event, EventMessage)
        assert event.event == reading(97, Quantity.SPO2, device="oximeter")
    assert isinstance(await next_of(updates, Disconnected), Disconnected)
    room.hub.publish(reading(95, Quantity.SPO2, device="oximeter"))
    async with room.server():  # the daemon restarts: the client comes back and re-syncs
        assert isinstance(await next_of(updates, Hello), Hello)
        snapshot = await next_of(updates, Snapshot)
        assert isinstance(snapshot, Snapshot)
        assert [r.value for r in snapshot.readings] == [95]
    await client.close()
    await updates.aclose()
