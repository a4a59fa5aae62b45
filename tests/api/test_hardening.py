"""The local API socket under attack, on the real socket: other users' clients (run as ``nobody``), clients that never
read, never say hello, or flood bad lines; a socket folder others could write; an impostor serving the socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path

import pytest

from roomctl.api.client import ApiClient, Disconnected
from roomctl.api.protocol import Hello, Snapshot
from roomctl.api.server import ApiError, ApiServer
from tests.api.conftest import Room, read_greeting, read_message
from tests.nobody import IMPOSTOR, NOBODY, as_nobody, line_from

IDLE_CLIENTS = """
import json, socket, sys
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    socks.append(s)
print("connected", flush=True)
for s in socks:  # read everything until the daemon closes; report its last line
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    print(json.dumps(json.loads(data.strip().split(b"\\n")[-1])), flush=True)
"""


async def first_updates(client: ApiClient, count: int, within_s: float = 30.0) -> list[object]:
    got: list[object] = []
    async with asyncio.timeout(within_s):
        async for update in client.updates():
            got.append(update)
            if len(got) >= count or isinstance(update, Disconnected):
                return got
    return got


async def test_idle_clients_of_other_users_never_shut_the_screen_out(room: Room, shared_dir: Path) -> None:
    socket_path = shared_dir / "api.sock"
    server = ApiServer(room.hub, room.handler, room.info, socket_path, socket_group="nogroup", handshake_timeout_s=3.0)
    async with server, as_nobody(IDLE_CLIENTS, str(socket_path), "9") as idle:
        assert await line_from(idle) == "connected"
        screen = ApiClient(socket_path, client_name="screen")
        updates = screen.updates()  # kept open: the screen stays connected
        hello = await asyncio.wait_for(anext(updates), 30)
        snapshot = await asyncio.wait_for(anext(updates), 30)
        assert isinstance(hello, Hello)
        assert isinstance(snapshot, Snapshot)  # root is the screen's kind of user: its place was kept
        # nobody's ninth client was turned away in words; the eight others are closed once their hello is late
        answers = [json.loads(await line_from(idle)) for _ in range(9)]
        messages = sorted(a["message"] for a in answers)
        assert messages[-1].startswith("too many clients: 8 are connected")
        assert all(m == 'no hello within 3 s: send {"type": "hello"} first' for m in messages[:8])
        assert {a["error"] for a in answers} == {"unavailable"}
        assert server.turned_away == 1
        assert screen.connected  # the screen said hello: it stays
        assert server.client_count == 1
        await updates.aclose()
        await screen.close()


async def test_the_screen_says_plainly_when_it_is_turned_away(room: Room) -> None:
    server = room.server(reserved_uids=(), max_clients=0)  # no place for anyone
    async with server:
        client = ApiClient(room.socket_path, client_name="screen")
        (update,) = await first_updates(client, 1)
    assert isinstance(update, Disconnected)
    assert update.reason == "the daemon turned this screen away: too many clients: 0 are connected; try again later"


async def test_the_screen_does_not_trust_an_impostor(shared_dir: Path) -> None:
    folder = shared_dir / "run"
    folder.mkdir(mode=0o755)
    os.chown(folder, NOBODY, NOBODY)
    socket_path = folder / "api.sock"
    async with as_nobody(IMPOSTOR, str(socket_path)) as impostor:
        assert await line_from(impostor) == "ready"
        client = ApiClient(socket_path, client_name="screen")
        (update,) = await first_updates(client, 1)
    assert isinstance(update, Disconnected)
    assert update.reason.startswith("not trusting the socket: served by nobody, not the daemon's user (pid ")
    assert update.reason.endswith(f"; someone may have replaced {socket_path})")


@pytest.mark.parametrize(
    ("mode", "owner", "problem"),
    [
        (0o777, 0, "is writable by others (mode 0777)"),
        (0o775, 0, "is writable by its group (mode 0775)"),
        (0o755, NOBODY, "belongs to nobody, not to root: that user could replace the socket"),
    ],
)
async def test_a_socket_folder_others_could_write_is_refused(
    room: Room, tmp_path: Path, mode: int, owner: int, problem: str
) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    folder.chmod(mode)
    os.chown(folder, owner, owner)
    with pytest.raises(ApiError) as caught:
        async with ApiServer(room.hub, room.handler, room.info, folder / "api.sock"):
            pass
    assert str(caught.value).startswith("refusing to serve the local API: the socket's folder")
    assert problem in str(caught.value)
    assert not (folder / "api.sock").exists()


async def test_a_client_that_never_says_hello_is_closed(room: Room) -> None:
    async with room.server(handshake_timeout_s=0.5) as server:
        reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
        lines = (await asyncio.wait_for(reader.read(), 30)).splitlines()  # until the daemon closes
        writer.close()
        assert json.loads(lines[-1])["message"] == 'no hello within 0.5 s: send {"type": "hello"} first'
        assert server.client_count == 0


async def test_replies_to_a_client_that_never_reads_are_bounded_and_it_is_cut_off(
    room: Room, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="roomctl.api")
    async with room.server(drain_timeout_s=1.0, max_unsent_bytes=256 * 1024) as server:
        _reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
        bad = b'{"type": "command", "id": "x", "command": {"command": "set_level", "level": "' + b"9" * 7000 + b'"}}\n'
        sent = 0
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(60):
                while True:  # write bad lines and never read a reply
                    writer.write(bad)
                    await writer.drain()  # blocks once the daemon stops reading us: it waits for us to read
                    sent += 1
        writer.close()
        assert server.disconnected_slow == 1
        assert server.client_count == 0
    assert sent > 0
    assert "stopped reading for 1 s: disconnecting it" in caplog.text
    rejected = [r for r in caplog.records if "rejected a message" in r.getMessage()]
    assert 1 <= len(rejected) <= 2  # rate-limited: one line per 10 s, not one per bad line
    assert all(len(r.getMessage()) < 400 for r in rejected)  # cut short, never the whole line


async def test_a_flood_of_bad_lines_is_answered_line_by_line_and_logged_briefly(
    served: tuple[Room, ApiServer], caplog: pytest.LogCaptureFixture
) -> None:
    room, server = served
    caplog.set_level(logging.WARNING, logger="roomctl.api")
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_greeting(reader)
    for i in range(300):
        writer.write(b'{"type": "command", "id": "%d", "command": {"command": "set_level", "level": true}}\n' % i)
    answers = [await read_message(reader) for _ in range(300)]
    writer.close()
    assert [a["id"] for a in answers] == [str(i) for i in range(300)]
    assert all(a["message"] == "command refused: level: Input should be a valid number" for a in answers)
    assert server.rejected_lines == 300
    assert sum("rejected a message" in r.getMessage() for r in caplog.records) == 1


async def test_deep_nesting_and_a_5000_digit_integer_get_an_answer_in_words(served: tuple[Room, ApiServer]) -> None:
    room, _server = served
    reader, writer = await asyncio.open_unix_connection(str(room.socket_path))
    await read_greeting(reader)
    deep = b'{"type": "command", "id": "deep", "command": {"command": "set_level", "level": ' + b"[" * 3000
    writer.write(deep + b"]" * 3000 + b"}}\n")
    writer.write(
        b'{"type": "command", "id": "big", "command": {"command": "set_level", "level": ' + b"9" * 5000 + b"}}\n"
    )
    deep_answer = json.loads(await asyncio.wait_for(reader.readline(), 30))
    big_answer = json.loads(await asyncio.wait_for(reader.readline(), 30))
    writer.close()
    assert deep_answer["message"] == "message refused: nested 3002 levels deep; at most 8 are accepted"
    assert (
        big_answer["message"] == "message refused: a number with 5000 digits is not acceptable (at most 32 characters)"
    )
    assert room.handler.commands.empty()
