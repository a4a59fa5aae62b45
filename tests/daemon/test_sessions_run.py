"""Sessions in a real room: ``roomctl run`` (not the demo) with the screen in a real terminal and the command line.

The daemon starts with no session, as under systemd. From the keyboard: S d starts a dosing session, E y ends it.
From the command line: ``roomctl session start|end`` through the local API, with refusals in words.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
from pathlib import Path

from roomctl.demo.launcher import roomctl_argv
from tests.daemon.helpers import room_on_screen


async def roomctl(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *roomctl_argv(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def sessions(db: Path) -> list[tuple[str, bool]]:
    with sqlite3.connect(db) as conn:
        return [(kind, ended is not None) for kind, ended in conn.execute("select kind, ended_at from sessions")]


async def test_session_from_the_keyboard_and_the_command_line(tmp_path: Path) -> None:
    config, socket_path = tmp_path / "room.toml", tmp_path / "api.sock"
    async with room_on_screen(tmp_path) as (_, tmux):
        await tmux.wait_for(lambda s: "No session - monitoring with the room's limits" in s)
        await tmux.press("S", until=lambda s: "p preparation   d dosing   i integration" in s)
        screen = await tmux.press("d", until=lambda s: "Dosing session" in s and "Phase: Arrival and baseline" in s)
        assert "d dose" in screen
        assert sessions(tmp_path / "roomctl.db") == [("dosing", False)]

        status, out = await roomctl("session", "start", "integration", "--socket", str(socket_path))
        assert status == 1
        assert "refused: session" in out
        assert "is still running; end it first" in out

        await tmux.press("E", until=lambda s: "End the dosing session?" in s)
        await tmux.press("y", until=lambda s: "No session - monitoring" in s and "ended" in s)
        assert sessions(tmp_path / "roomctl.db") == [("dosing", True)]

        status, out = await roomctl("session", "start", "integration", "--config", str(config))
        assert status == 0, out
        assert re.fullmatch(r"integration session [0-9a-f]{12} started\n", out)
        await tmux.wait_for(lambda s: "Integration session" in s and "vitals optional" in s)
        status, out = await roomctl("session", "end", "--socket", str(socket_path))
        assert status == 0, out
        assert re.fullmatch(r"session [0-9a-f]{12} ended\n", out)
        await tmux.wait_for(lambda s: "No session - monitoring" in s)
        status, out = await roomctl("session", "end", "--socket", str(socket_path))
        assert (status, out) == (1, "roomctl: refused: no session is running; start one first\n")
        assert sessions(tmp_path / "roomctl.db") == [("dosing", True), ("integration", True)]


async def test_session_command_line_refusals_in_words(tmp_path: Path) -> None:
    status, out = await roomctl("session", "start", "party", "--socket", str(tmp_path / "api.sock"))
    assert (status, out) == (1, "roomctl: no session kind 'party'; the kinds are: preparation, dosing, integration\n")
    status, out = await roomctl("session", "end", "--socket", str(tmp_path / "api.sock"))
    assert status == 1
    assert out == f"roomctl: daemon not reachable ({tmp_path / 'api.sock'} does not exist)\n"
    assert "Traceback" not in out


async def test_a_stopped_daemon_is_not_ok_on_the_screen(tmp_path: Path) -> None:
    """SIGSTOP the daemon: within a few seconds the screen shows the link-lost banner (no alarm could be raised);
    SIGCONT: back to "daemon ok" on the same connection."""
    async with room_on_screen(tmp_path) as (daemon, tmux):
        await tmux.wait_for(lambda s: "daemon ok" in s and "no alarms" in s)
        daemon.send_signal(signal.SIGSTOP)
        try:
            screen = await tmux.wait_for(
                lambda s: "NO LINK TO THE ROOM DAEMON" in s and "daemon not answering (nothing for" in s, within_s=30
            )
        finally:
            daemon.send_signal(signal.SIGCONT)
        assert "daemon ok" not in screen
        assert "no alarms" not in screen
        assert "daemon not answering (nothing for" in screen
        await tmux.wait_for(lambda s: "daemon ok" in s and "no alarms" in s)
