from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from roomctl.api.protocol import MAX_CLIENT_LINE
from roomctl.api.server import ApiError, ApiServer
from roomctl.commands import Acknowledge, EnterBloodPressure
from roomctl.models import Reading
from tests import builders
from tests.api.conftest import Room, read_greeting
from tests.api.conftest import read_message as read_json


def reading(value: float | None, seconds: int = 0) -> Reading:
    """A reading of this room's chest strap (the device the API room configures)."""
    return builders.reading(value, device="chest-strap", at_s=seconds)


async def test_hello_then_snapshot_then_events(served: tuple[Room, ApiServer]) -> None:
    room, _ = served
    room.hub.publish(reading(72))
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    greeting = await read_greeting(reader)
    hello = greeting["hello"]
    assert hello["protocol"] == 1
    assert hello["room"]["name"] == "Demo Room"
    assert [w["id"] for w in hello["room"]["wearables"]] == ["chest-strap", "oximeter"]
    snapshot = greeting["snapshot"]
    assert [r["value"] for r in snapshot["readings"]] == [72.0]
    room.hub.publish(reading(75, seconds=1))
    room.hub.publish(reading(None, seconds=2))
    first, second = await read_json(reader), await read_json(reader)
    assert first == {"type": "event", "event": json.loads(reading(75, seconds=1).model_dump_json())}
    assert second["event"]["value"] is None
    writer.close()


async def test_command_reaches_handler_and_result_carries_request_id(served: tuple[Room, ApiServer]) -> None:
    room, _ = served
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_greeting(reader)
    writer.write(b'{"type":"command","id":"r1","command":{"command":"acknowledge"}}\n')
    assert await room.handler.next() == Acknowledge()
    assert await read_json(reader) == {
        "type": "result",
        "id": "r1",
        "ok": True,
        "message": "done: acknowledge",
        "error": None,
    }
    writer.write(b'{"type":"command","id":"r2","command":{"command":"blood_pressure","systolic":230,"diastolic":90}}\n')
    assert await room.handler.next() == EnterBloodPressure(systolic=230, diastolic=90)
    refused = await read_json(reader)
    assert (refused["id"], refused["ok"], refused["message"]) == ("r2", False, "systolic above 200: please re-measure")
    writer.close()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json\n", "not valid JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"type":"subscribe","id":"x"}\n', "unknown message type"),
        (b'{"type":"command","id":"x","command":{"command":"self_destruct"}}\n', "unknown command 'self_destruct'"),
        (
            b'{"type":"command","id":"x","command":{"command":"blood_pressure","systolic":120,"diastolic":130}}\n',
            "below",
        ),
        (
            b'{"type":"command","id":"x","command":{"command":"temperature","celsius":3}}\n',
            "outside the plausible range 30-45",
        ),
        (b'{"type":"command","id":"x","command":{"command":"acknowledge"},"extra":1}\n', "unknown keys extra"),
        (b'{"type":"command","command":{"command":"acknowledge"}}\n', "id must be a string"),
    ],
)
async def test_malformed_lines_get_an_error_and_never_reach_the_handler(
    served: tuple[Room, ApiServer], line: bytes, reason: str
) -> None:
    room, server = served
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_greeting(reader)
    writer.write(line)
    result = await read_json(reader)
    assert result["type"] == "result"
    assert result["ok"] is False
    assert result["error"] == "invalid"
    assert reason in result["message"]
    assert server.rejected_lines == 1
    # the connection still works, and only the valid command reaches the handler
    writer.write(b'{"type":"command","id":"ok","command":{"command":"reset_lighting"}}\n')
    assert (await read_json(reader))["id"] == "ok"
    assert (await room.handler.next()).command == "reset_lighting"
    assert room.handler.commands.empty()
    writer.close()


async def test_overlong_line_is_refused_and_connection_closed(served: tuple[Room, ApiServer]) -> None:
    room, server = served
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_greeting(reader)
    writer.write(
        b'{"type":"command","id":"x","command":{"command":"mark","event":"note","text":"' + b"a" * MAX_CLIENT_LINE
    )
    writer.write(b'"}}\n')
    result = await read_json(reader)
    assert (result["ok"], result["message"]) == (False, "line too long")
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert server.rejected_lines == 1
    assert room.handler.commands.empty()


async def test_slow_client_is_disconnected_and_resyncs_with_fresh_snapshot(room: Room) -> None:
    async with room.server(client_queue=50) as server:
        reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
        await read_greeting(reader)
        for i in range(2000):  # far faster than the client reads: its subscription overflows
            room.hub.publish(reading(60 + i % 60, seconds=i % 60))
        lines = await asyncio.wait_for(reader.read(), 10)  # the server cuts it off: read to EOF
        assert lines.count(b"\n") < 2000
        assert server.disconnected_slow == 1
        writer.close()
        reader2, writer2 = await asyncio.open_unix_connection(str(room.socket_path))
        snapshot = (await read_greeting(reader2))["snapshot"]
        assert [r["value"] for r in snapshot["readings"]] == [float(60 + 1999 % 60)]
        writer2.close()


async def test_client_going_away_leaves_the_hub_and_other_consumers_running(served: tuple[Room, ApiServer]) -> None:
    room, server = served
    storage = room.hub.subscribe("storage", maxsize=100)
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_json(reader)  # hello: the server has subscribed this client
    assert server.client_count == 1
    assert len(room.hub.subscriptions) == 2
    writer.transport.abort()  # as if the TUI crashed
    while server.client_count:  # noqa: ASYNC110 - polling a counter the server exposes no event for
        await asyncio.sleep(0.01)
    assert list(room.hub.subscriptions) == [storage]
    room.hub.publish(reading(80))
    assert (await asyncio.wait_for(storage.get(), 5)) == reading(80)


async def test_socket_mode_without_and_with_group(room: Room) -> None:
    async with room.server():
        assert stat.S_IMODE(room.socket_path.stat().st_mode) == 0o600
    assert not room.socket_path.exists()
    import grp

    group = grp.getgrgid(os.getgid()).gr_name
    async with room.server(socket_group=group):
        st = room.socket_path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660
        assert st.st_gid == os.getgid()


async def test_unknown_group_is_a_clear_error(room: Room) -> None:
    with pytest.raises(ApiError, match="no-such-group-xyz"):
        async with room.server(socket_group="no-such-group-xyz"):
            pass
    assert not room.socket_path.exists()


async def test_stale_socket_removed_but_live_one_respected(room: Room) -> None:
    import socket as socket_mod

    stale = socket_mod.socket(socket_mod.AF_UNIX)
    stale.bind(str(room.socket_path))
    stale.close()  # the file stays, nobody listens: like after a crash
    async with room.server():
        with pytest.raises(ApiError, match="already serving"):
            async with room.server():
                pass
    room.socket_path.write_text("not a socket")
    with pytest.raises(ApiError, match="not a socket"):
        async with room.server():
            pass
