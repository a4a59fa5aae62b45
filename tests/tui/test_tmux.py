"""`roomctl tui` in a real terminal (tmux) against a real API server: console-safe glyphs, a key, a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from roomctl.commands import Acknowledge
from tests.terminal import Tmux
from tests.tui.conftest import Served

ALLOWED = set(map(chr, range(32, 127))) | {"█", "▀", "▄", "\n"}  # glyphs every Linux console font has


async def test_tui_in_a_terminal_then_crash_leaves_daemon_running(served: Served, tmux: Callable[..., Tmux]) -> None:
    roomctl = Path(sys.executable).parent / "roomctl"
    terminal = tmux(f"exec {roomctl} tui --socket {served.socket_path}", width=80, height=24)
    screen = await terminal.wait_for(lambda s: "daemon ok" in s, within_s=30)
    assert "Demo Room" in screen
    assert "Phase: Dose (T0)" in screen
    assert "q quit" in screen.splitlines()[-1]
    assert set(screen) <= ALLOWED, f"glyphs a console may lack: {set(screen) - ALLOWED}"
    terminal.send_keys("a")
    assert await served.handler.next(within_s=20) == Acknowledge()
    os.kill(terminal.pane_pid(), signal.SIGKILL)  # the screen crashes
    terminal.close()
    assert served.server is not None
    for _ in range(300):
        if served.server.client_count == 0:
            break
        await asyncio.sleep(0.05)
    assert served.server.client_count == 0
    storage = served.hub.subscribe("storage", maxsize=10)
    served.hub.publish(served.hub.state.session.model_copy(update={"phase": "onset"}))
    assert (await asyncio.wait_for(storage.get(), 5)).kind == "session"
