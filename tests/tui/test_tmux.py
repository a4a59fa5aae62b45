"""`roomctl tui` in a real terminal (tmux) against a real API server: console-safe glyphs, a key, a crash."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

from roomctl.commands import Acknowledge
from tests.tui.conftest import Served

ALLOWED = set(map(chr, range(32, 127))) | {"█", "▀", "▄", "\n"}  # glyphs every Linux console font has


async def run(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"{args} failed"
    return out.decode()


async def screen_with(tmux: list[str], text: str, within_s: float = 30.0) -> str:
    screen = ""
    for _ in range(int(within_s / 0.1)):
        screen = await run(*tmux, "capture-pane", "-p")
        if text in screen:
            return screen
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


async def test_tui_in_a_terminal_then_crash_leaves_daemon_running(served: Served, tmp_path: Path) -> None:
    assert shutil.which("tmux"), "tmux is a system requirement of the test suite"
    tmux = ["tmux", "-L", f"roomctl-test-{os.getpid()}-{tmp_path.name}"]
    roomctl = Path(sys.executable).parent / "roomctl"
    await run(*tmux, "new-session", "-d", "-x", "80", "-y", "24", f"exec {roomctl} tui --socket {served.socket_path}")
    try:
        screen = await screen_with(tmux, "daemon ok")
        assert "Demo Room" in screen
        assert "Phase: Dose (T0)" in screen
        assert "q quit" in screen.splitlines()[-1]
        assert set(screen) <= ALLOWED, f"glyphs a console may lack: {set(screen) - ALLOWED}"
        await run(*tmux, "send-keys", "a")
        assert await served.handler.next(within_s=20) == Acknowledge()
        pid = int(await run(*tmux, "list-panes", "-F", "#{pane_pid}"))
        os.kill(pid, signal.SIGKILL)  # the screen crashes
    finally:
        proc = await asyncio.create_subprocess_exec(*tmux, "kill-server", stderr=asyncio.subprocess.DEVNULL)
        await proc.wait()
    assert served.server is not None
    for _ in range(300):
        if served.server.client_count == 0:
            break
        await asyncio.sleep(0.05)
    assert served.server.client_count == 0
    storage = served.hub.subscribe("storage", maxsize=10)
    served.hub.publish(served.hub.state.session.model_copy(update={"phase": "onset"}))
    assert (await asyncio.wait_for(storage.get(), 5)).kind == "session"
