"""``roomctl demo``: one command, the whole room, read from a real terminal; it quits cleanly and leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

from roomctl.demo.launcher import roomctl_argv
from tests.daemon.helpers import processes_mentioning, stop_process, wait_for_new_process
from tests.terminal import Tmux


async def test_demo_in_a_real_terminal_shows_vitals_and_quits_with_q(tmp_path: Path) -> None:
    state = tmp_path / "state"
    demo = " ".join(roomctl_argv("demo", "--state-dir", str(state)))
    tmux = Tmux(f"{demo}; echo DEMO-EXIT=$?; sleep 120", width=100, height=30)
    try:
        screen = await tmux.wait_for(
            lambda s: re.search(r"HR\s", s) is not None and "Dosing session" in s and "baseline?" in s, within_s=90
        )  # the demo stops before the dose: the baseline and the checklist are the user's
        assert "Chest strap" in screen
        assert "Oximeter" in screen
        # the heart rate as large digits: block glyphs appear beside the label once readings arrive
        assert re.search(r"^HR bpm\s+[█▀▄]", screen, re.MULTILINE), screen
        # the screen crashes: the demo says so, monitoring goes on, and the screen comes back
        (screen_pid,) = processes_mentioning(f"tui --socket {state}")
        daemon_pids = processes_mentioning(f"run --config {state}")
        os.kill(screen_pid, signal.SIGKILL)
        await wait_for_new_process(f"tui --socket {state}", screen_pid)
        await tmux.wait_for(lambda s: "Dosing session" in s and "Chest strap" in s, within_s=60)
        assert processes_mentioning(f"run --config {state}") == daemon_pids  # the same daemon throughout
        tmux.send_keys("q")
        end = await tmux.wait_for(lambda s: "DEMO-EXIT=" in s, within_s=60)
        assert "DEMO-EXIT=0" in end, end
    finally:
        tmux.close()
    # daemon and screen are gone (the terminal's own shell still names the folder in its command line)
    assert processes_mentioning(f"run --config {state}") == []
    assert processes_mentioning(f"tui --socket {state}") == []
    log = (state / "daemon.log").read_text()
    assert "stopped cleanly" in log
    assert "lights at the safe level" in log
    assert "Traceback" not in log


async def _start_headless(*args: str) -> tuple[asyncio.subprocess.Process, Path]:
    proc = await asyncio.create_subprocess_exec(
        *roomctl_argv("demo", "--headless", *args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
    match = re.search(r"state in (\S+)", line)
    assert match, line
    return proc, Path(match.group(1))


async def test_headless_demo_stops_on_ctrl_c_and_removes_its_temporary_folder() -> None:
    proc, state = await _start_headless()
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(60):
            while b"demo session started" not in await proc.stderr.readline():
                pass
        assert state.is_dir()
        proc.send_signal(signal.SIGINT)  # what Ctrl+C does in a terminal
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await stop_process(proc)
    assert proc.returncode == 0, err.decode()
    assert b"stopped cleanly" in out
    assert not state.exists()
    assert processes_mentioning(str(state)) == []


async def test_headless_demo_with_a_duration_exits_0_on_its_own() -> None:
    proc, state = await _start_headless("--duration", "4")
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        await stop_process(proc)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "chest-strap: connected" in text  # the real bleak path reached the emulated wearables
    assert "music: Arrival 1 — roomctl demo (arrival/01.wav, playlist Arrival, phase arrival)" in text  # its own MPD
    assert "stopped cleanly" in text
    assert not state.exists()


def test_bad_options_are_refused_in_words() -> None:
    import subprocess

    done = subprocess.run(roomctl_argv("demo", "--mqtt", "host:notaport"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "the port must be a number" in done.stderr
    done = subprocess.run(roomctl_argv("demo", "--duration", "-3"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "must be more than 0" in done.stderr
    done = subprocess.run(roomctl_argv("demo", "--ha-discovery"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--ha-discovery needs --mqtt" in done.stderr


def test_the_demo_can_announce_itself_to_home_assistant() -> None:
    from roomctl.config import parse_config
    from roomctl.demo.launcher import demo_config

    assert parse_config(demo_config(("127.0.0.1", 1883), ha_discovery=True)).mqtt.ha_discovery is True
    assert parse_config(demo_config(("127.0.0.1", 1883))).mqtt.ha_discovery is False
