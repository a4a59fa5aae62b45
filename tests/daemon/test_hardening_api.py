"""The local API of the real daemon (``roomctl run``) against a client that floods bad lines and never reads (it used to
grow the daemon by hundreds of MB and log every line whole), and the real screen in a real terminal facing an impostor."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from roomctl.api.client import ApiClient
from roomctl.api.protocol import Snapshot
from roomctl.demo.launcher import roomctl_argv
from tests.daemon.helpers import room_without_wearables, start_daemon, stop_process
from tests.nobody import IMPOSTOR, NOBODY, as_nobody, line_from
from tests.terminal import Tmux

BAD_LINE = b'{"type": "command", "id": "x", "command": {"command": "set_level", "level": "' + b"9" * 8000 + b'"}}\n'


async def daemon_answers(socket_path: Path) -> None:
    """Wait until the daemon serves its socket (the client retries with backoff)."""
    client = ApiClient(socket_path)
    updates = client.updates()
    async with asyncio.timeout(60):
        async for update in updates:
            if isinstance(update, Snapshot):
                break
    await updates.aclose()
    await client.close()


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


async def test_a_client_that_floods_and_never_reads_is_cut_off_and_costs_little(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text(room_without_wearables())  # no wearables: the worst case before (1.5 GB, never cut off)
    log_path = tmp_path / "daemon.log"
    daemon = await start_daemon(config)
    try:
        socket_path = tmp_path / "api.sock"
        await daemon_answers(socket_path)
        before = rss_kib(daemon.pid)
        _reader, writer = await asyncio.open_unix_connection(str(socket_path))
        sent = 0
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(120):
                while True:  # bad lines as fast as the daemon takes them; never read an answer
                    writer.write(BAD_LINE * 16)
                    await writer.drain()
                    sent += 16
        writer.close()
        grown_kib = rss_kib(daemon.pid) - before
        assert daemon.returncode is None  # still running
        log = log_path.read_text()
        assert "stopped reading for 10 s: disconnecting it" in log
        assert grown_kib < 20 * 1024, f"the daemon grew by {grown_kib} KiB"
        assert len(log.encode()) < 64 * 1024  # not one whole line per rejected line
        assert log.count("rejected a message") <= 3
        assert sent >= 16
    finally:
        status = await stop_process(daemon)
    assert status == 0
    assert "Traceback" not in log_path.read_text()


@pytest.fixture
def nobodys_folder(shared_dir: Path) -> Path:
    """A folder owned by the user nobody, who can put a socket in it (an impostor's)."""
    folder = shared_dir / "run"
    folder.mkdir(mode=0o755)
    os.chown(folder, NOBODY, NOBODY)
    return folder


async def test_the_screen_says_plainly_it_does_not_trust_an_impostor(
    tmux: Callable[..., Tmux], nobodys_folder: Path
) -> None:
    socket_path = nobodys_folder / "api.sock"
    async with as_nobody(IMPOSTOR, str(socket_path)) as impostor:
        assert await line_from(impostor) == "ready"
        screen = tmux(" ".join(roomctl_argv("tui", "--socket", str(socket_path))), width=120, height=30)
        text = await screen.wait_for(lambda s: "not trusting" in s)
    assert "Calm" not in text  # the impostor's room is never shown
    assert "not trusting the socket: served by nobody, not the daemon's user" in text
