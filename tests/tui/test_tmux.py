"""`roomctl tui` in a real terminal (tmux) against a real API server: console-safe glyphs, a key, a crash, an input
thread that sleeps."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from roomctl.commands import Acknowledge
from roomctl.tui.driver import INPUT_SETTLE_S
from tests.terminal import Tmux
from tests.tui.conftest import Served

WINDOW_S = 5
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


def wakeups(pid: int) -> dict[int, int]:
    """Voluntary context switches (wake-ups after waiting) of each thread of ``pid`` so far."""
    counts = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        counts[int(task.name)] = int(status.split("voluntary_ctxt_switches:")[1].split()[0])
    return counts


async def test_the_input_thread_sleeps_while_nobody_types_and_escape_still_works(
    served: Served, tmux: Callable[..., Tmux]
) -> None:
    """Textual's input thread wakes 10 times a second to look for keys; the screen's (roomctl.tui.driver) waits for
    the terminal, so an untouched screen's threads wake only for what it shows. A lone Escape, which the key parser
    recognises only after a timeout, still closes a dialog."""
    roomctl = Path(sys.executable).parent / "roomctl"
    terminal = tmux(f"exec {roomctl} tui --socket {served.socket_path}", width=80, height=24)
    await terminal.wait_for(lambda s: "daemon ok" in s, within_s=30)
    pid = terminal.pane_pid()
    before = wakeups(pid)
    await asyncio.sleep(WINDOW_S)  # nobody types: a window of time, not an event
    after = wakeups(pid)
    woken = sorted(after[tid] - before[tid] for tid in before.keys() & after.keys())
    # the event loop wakes for the heartbeat and the tick, the writer thread for each frame; the input thread not at
    # all (Textual's would wake 10 times a second)
    assert len(woken) >= 3, f"the screen's threads: {woken}"
    assert woken[0] <= 1, f"wake-ups per thread in {WINDOW_S} s: {woken}"
    terminal.send_keys("n")
    await terminal.wait_for(lambda s: "Escape cancels" in s, within_s=20)
    await asyncio.sleep(INPUT_SETTLE_S + 0.5)  # the input thread is back to waiting without a timeout
    terminal.send_keys("Escape")
    await terminal.wait_for(lambda s: "Escape cancels" not in s, within_s=20)
    terminal.send_keys("q")


async def test_the_screen_draws_on_its_terminal_when_stderr_is_the_journal(
    served: Served, tmux: Callable[..., Tmux], tmp_path: Path
) -> None:
    """roomctl-tui.service gives the screen tty1 as stdin and stdout and the journal as stderr: it must draw on the
    terminal, and nothing of the drawing may go to stderr (Textual draws on stderr: tty1 stayed blank)."""
    roomctl = Path(sys.executable).parent / "roomctl"
    stderr = tmp_path / "journal"
    terminal = tmux(f"exec {roomctl} tui --socket {served.socket_path} 2>{stderr}", width=80, height=24)
    screen = await terminal.wait_for(lambda s: "daemon ok" in s, within_s=30)
    assert "Demo Room" in screen
    terminal.send_keys("n")  # it goes on drawing there
    await terminal.wait_for(lambda s: "Escape cancels" in s, within_s=20)
    assert stderr.read_bytes() == b""


def _ignores_sighup(pid: int) -> bool:
    return bool(int(Path(f"/proc/{pid}/status").read_text().split("SigIgn:")[1].split()[0], 16) & 1)  # bit 0: SIGHUP


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def test_the_screen_ends_when_its_terminal_vanishes_with_sighup_ignored(
    served: Served, tmux: Callable[..., Tmux]
) -> None:
    """Started with SIGHUP ignored (as under runuser), a screen whose terminal goes away got EIO on every read and
    spun a core; it must end instead (systemd starts a new one on the terminal)."""
    roomctl = Path(sys.executable).parent / "roomctl"
    terminal = tmux(f"trap '' HUP; exec {roomctl} tui --socket {served.socket_path}", width=80, height=24)
    await terminal.wait_for(lambda s: "daemon ok" in s, within_s=30)
    pid = terminal.pane_pid()
    assert _ignores_sighup(pid)
    terminal.close()  # the terminal vanishes
    try:
        for _ in range(600):  # the driver's grace period is 5 s; allow a loaded machine 30 s
            if _gone(pid):
                break
            await asyncio.sleep(0.05)
        assert _gone(pid), "the screen is still running without its terminal"
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)
