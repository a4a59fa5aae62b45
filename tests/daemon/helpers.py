"""Helpers for the daemon's end-to-end tests: systemd's notify socket, child processes (the terminal: tests/terminal.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from roomctl.config import demo_config_text
from roomctl.demo.launcher import roomctl_argv
from tests.builders import room_toml
from tests.terminal import Tmux


class NotifyListener:
    """Plays systemd's side of ``NOTIFY_SOCKET``: a datagram socket that collects what the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[str] = []

    async def wait_for(self, line: str, count: int = 1, within_s: float = 60.0) -> None:
        """Wait until ``line`` has arrived ``count`` times in all."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(within_s):
            while self.count(line) < count:
                self.messages.append((await loop.sock_recv(self.sock, 4096)).decode())

    def drain(self) -> list[str]:
        """Take in whatever has arrived without waiting; returns every message so far."""
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def environ(self, watchdog_usec: int) -> dict[str, str]:
        """What systemd puts in the service's environment: this socket, and the watchdog's interval."""
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(watchdog_usec)}

    def count(self, line: str) -> int:
        return sum(1 for m in self.messages if line in m.splitlines())

    def close(self) -> None:
        self.sock.close()


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (to prove nothing was left behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


async def wait_for_new_process(text: str, old: int, within_s: float = 60.0) -> int:
    """Wait for a process whose command line contains ``text``, other than ``old`` (polls /proc: no event to await)."""
    async with asyncio.timeout(within_s):
        while True:
            new = [p for p in processes_mentioning(text) if p != old]
            if new:
                return new[0]
            await asyncio.sleep(0.2)


async def start_daemon(
    config: Path, env: Mapping[str, str] | None = None, log_path: Path | None = None
) -> asyncio.subprocess.Process:
    """``roomctl run --config CONFIG`` as a child process (``env``: its whole environment, else this one's), its output
    in ``log_path`` (default: ``daemon.log`` beside the config)."""
    with (log_path or config.parent / "daemon.log").open("wb") as log_file:
        return await asyncio.create_subprocess_exec(
            *roomctl_argv("run", "--config", str(config)), env=env, stdout=log_file, stderr=log_file
        )


async def stop_process(proc: asyncio.subprocess.Process, within_s: float = 30.0) -> int:
    """SIGTERM, wait; SIGKILL only if it hangs (then the test fails on the status anyway)."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), within_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode


MINIMAL_ROOM = room_toml()
"""A room with no wearables: storage, API and mock lights in the state folder (for daemon tests without Bluetooth)."""


def room_without_wearables() -> str:
    """The demo room (mock light pins, relative state paths) without its wearables: the session is what is tested."""
    return re.sub(r"\[\[wearables\]\].*?(?=\n\[lighting\])", "", demo_config_text(), flags=re.S)


MQTT_USERS = {"demo-room": "room-pw", "console": "console-pw"}
"""The broker's users for a room taking commands over MQTT: the room itself and a console that may command it."""


def commanded_room(folder: Path, port: int, *, host: str = "127.0.0.1", extra: str = "") -> Path:
    """``room.toml`` in ``folder``: :func:`room_without_wearables` on the broker at ``host:port`` as the user demo-room
    (its password in ``mqtt.credentials``), taking commands over MQTT; ``extra``: TOML after its ``[mqtt]`` table."""
    creds = folder / "mqtt.credentials"
    creds.write_text(f"demo-room\n{MQTT_USERS['demo-room']}\n")
    creds.chmod(0o600)
    config = folder / "room.toml"
    config.write_text(
        room_without_wearables()
        + f'\n[mqtt]\nenabled = true\nhost = "{host}"\nport = {port}\ncommands_enabled = true\n'
        + f'credentials_file = "{creds}"\n{extra}'
    )
    return config


@contextlib.asynccontextmanager
async def room_on_screen(folder: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, Tmux]]:
    """``roomctl run`` on :func:`room_without_wearables` in ``folder`` and its screen (``roomctl tui``) in a real 80x24
    terminal (both yielded), from when the screen shows no session and the daemon ok; after, the screen is closed and the daemon must
    stop with status 0 and no traceback in its log."""
    config = folder / "room.toml"
    config.write_text(room_without_wearables())
    log_path = folder / "daemon.log"
    daemon = await start_daemon(config)
    tmux: Tmux | None = None
    try:
        tmux = Tmux(" ".join(["exec", *roomctl_argv("tui", "--socket", str(folder / "api.sock"))]), width=80, height=24)
        await tmux.wait_for(lambda s: "No session - monitoring" in s and "daemon ok" in s)
        yield daemon, tmux
    finally:
        if tmux is not None:
            tmux.close()
        assert await stop_process(daemon) == 0, log_path.read_text()
    assert "Traceback" not in log_path.read_text()


async def type_temperature_and_distress(tmux: Tmux, celsius: str = "37.4", distress: str = "3") -> None:
    """The rest of a vitals check from the keyboard, as the team types it: a distress rating (r), then the temperature
    (t) that completes the check (the rating goes with it)."""
    await tmux.press("r", until=lambda s: "Distress rating" in s)
    await tmux.press(distress, "Enter", until=lambda s: f"distress {distress} of 10" in s)
    await tmux.press("t", until=lambda s: "body temperature" in s)
    await tmux.press(celsius, "Enter", until=lambda s: f"temperature {celsius}" in s)


async def type_adverse_event(tmux: Tmux, note: str) -> None:
    """An adverse event from the keyboard (A): nausea or vomiting, mild, the first action, no emergency services."""
    await tmux.press("A", until=lambda s: "Adverse event" in s and "1 anxiety or panic" in s)
    await tmux.press("2", until=lambda s: "4 serious" in s)
    await tmux.press("1", until=lambda s: "Action taken?" in s)
    await tmux.press("1", until=lambda s: "Emergency services called?" in s)
    await tmux.press("n", until=lambda s: "Anything to add" in s)
    await tmux.press(note, "Enter", until=lambda s: "adverse event recorded" in s)
