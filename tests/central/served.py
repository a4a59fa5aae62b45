"""A roomctl screen served by textual-serve in a child process, and what the tests need to watch it: its app processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.mqtt.broker import free_port


def central_config(tmp_path: Path, port: int) -> Path:
    """The station's config file in ``tmp_path``: the Harbor clinic, its broker on the loopback ``port``."""
    path = tmp_path / "central.toml"
    path.write_text(f'[station]\ntitle = "Harbor clinic"\n\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n')
    return path


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (textual-serve starts each app through ``sh -c``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def exited(pid: int, within_s: float) -> bool:
    """Wait for a process that is not our child to end (a pidfd becomes readable when it does)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(fd, done.set)
    try:
        async with asyncio.timeout(within_s):
            await done.wait()
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.close(fd)


class Served:
    """``argv`` serving on a free loopback port; ``url`` once it listens."""

    def __init__(self, argv: Sequence[str], directory: Path) -> None:
        self.port = free_port()
        self.log = directory / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [*argv, "--port", str(self.port)] if argv[-1] != "--port-last" else [*argv[:-1], str(self.port)],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def listening(self, within_s: float = 60.0) -> None:
        async with asyncio.timeout(within_s):
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the server ended: {self.log.read_text()[-2000:]}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
                await asyncio.sleep(0.1)  # polling a port: there is no event to await

    def apps(self) -> list[int]:
        """The app processes (python), not the ``sh -c`` between."""
        return [pid for pid in descendants(self.proc.pid) if "python" in Path(f"/proc/{pid}/exe").resolve().name]

    def stop(self) -> None:
        """Kill the server and every app it started, also those a failed test left behind after killing the server
        (reparented, no longer its descendants, but still in the session's process group)."""
        pids = [self.proc.pid, *descendants(self.proc.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # start_new_session: the group's id is the server's pid
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


def central_serve_argv(config: Path) -> list[str]:
    return [sys.executable, "-m", "roomctl", "central", "--config", str(config), "--serve"]


def tui_serve_argv(socket_path: Path) -> list[str]:
    code = (
        "import sys; from roomctl.web import roomctl_command, serve; "
        f"serve(roomctl_command('tui', '--socket', {str(socket_path)!r}), host='127.0.0.1', "
        "port=int(sys.argv[1]), title='roomctl')"
    )
    return [sys.executable, "-c", code, "--port-last"]
