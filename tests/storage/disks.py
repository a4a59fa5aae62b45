"""Real disk faults for the storage tests (root only): a small tmpfs to fill up, a read-only mount, a daemon to follow.

``python -m tests.storage.disks full-disk DIR`` reproduces the full-disk case by hand (or from the real-systemd check):
it mounts a 3 MiB tmpfs on DIR, and ``fill DIR`` / ``free DIR`` fill it and give the space back.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from roomctl.api.client import ApiClient, ApiUnavailable
from roomctl.api.protocol import EventMessage, Snapshot
from roomctl.commands import Command, CommandResult
from roomctl.models import Alarm, AlarmAction, AlarmEvent, Reading, ServiceHealth, SessionState
from tests.waits import until_changed

FILLER = ".filler"


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "3m", *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``where`` for the block; unmounted after (lazily, if still busy)."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "roomctl-test", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


class FailingDisk:
    """An ext4 file system on a loop device over a file, mounted on ``where``; :meth:`fail` shrinks the device under
    it, so every read or write past its first MiB is a real EIO from the block layer (no device-mapper needed)."""

    def __init__(self, image: Path, where: Path, size_mib: int = 32) -> None:
        self.image, self.where, self.size_mib = image, where, size_mib
        subprocess.run(["truncate", "-s", f"{size_mib}M", str(image)], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
        self.device = subprocess.run(
            ["losetup", "-f", "--show", str(image)], check=True, capture_output=True, text=True
        ).stdout.strip()
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-o", "errors=continue", self.device, str(where)], check=True)
        os.chmod(where, 0o755)

    def fail(self) -> None:
        subprocess.run(["truncate", "-s", "1M", str(self.image)], check=True)
        subprocess.run(["losetup", "-c", self.device], check=True)

    @staticmethod
    def forget(path: Path) -> None:
        """Drop ``path``'s pages from the page cache, so the next read goes to the (failing) device."""
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.where)], check=False)
        subprocess.run(["losetup", "-d", self.device], check=False)


def remount(where: Path, *, read_only: bool) -> None:
    subprocess.run(["mount", "-o", "remount," + ("ro" if read_only else "rw"), str(where)], check=True)


def fill(where: Path) -> int:
    """Write a filler file until the file system is full; returns its size in bytes."""
    written = 0
    chunk = b"\0" * 4096
    with (where / FILLER).open("ab", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    return written


def free(where: Path) -> None:
    (where / FILLER).unlink(missing_ok=True)


class Follower:
    """Follows a daemon through its local API: readings, the storage's health, the alarms shown, the session (and the
    session each snapshot showed: one snapshot per (re)connection)."""

    def __init__(self, socket: Path) -> None:
        self.client = ApiClient(socket, min_backoff_s=0.1, max_backoff_s=0.5)
        self.readings: list[tuple[Reading, float]] = []
        self.storage: list[tuple[ServiceHealth, float]] = []
        self.alarm_events: list[AlarmEvent] = []
        self.alarms: dict[str, Alarm] = {}
        self.session = SessionState(id=None)
        self.snapshots: list[SessionState] = []
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for item in self.client.updates():
            if isinstance(item, Snapshot):
                self.alarms = {a.id: a for a in item.alarms}
                self.session = item.session
                self.snapshots.append(item.session)
            elif isinstance(item, EventMessage):
                event = item.event
                if isinstance(event, Reading):
                    self.readings.append((event, time.monotonic()))
                elif isinstance(event, ServiceHealth) and event.service == "storage":
                    self.storage.append((event, time.monotonic()))
                elif isinstance(event, AlarmEvent):
                    self.alarm_events.append(event)
                    if event.action is AlarmAction.CLEARED:
                        self.alarms.pop(event.alarm.id, None)
                    else:
                        self.alarms[event.alarm.id] = event.alarm
                elif isinstance(event, SessionState):
                    self.session = event
            self.changed.set()

    async def send(self, command: Command) -> CommandResult:
        """Send once the daemon is reachable (it may still be starting)."""
        async with asyncio.timeout(60):
            while True:
                try:
                    return await self.client.send(command)
                except ApiUnavailable:
                    self.changed.clear()
                    await self.changed.wait()

    def shown(self, condition: str) -> Alarm | None:
        return next((a for a in self.alarms.values() if a.condition == condition and a.active), None)

    async def wait_until(self, predicate: Callable[[], object], within_s: float = 60) -> None:
        await until_changed(self.changed, predicate, within_s)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.client.close()


def main(argv: list[str]) -> int:
    usage = "usage: python -m tests.storage.disks {full-disk|fill|free|umount} DIR"
    if len(argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    command, where = argv[0], Path(argv[1])
    if command == "full-disk":
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "roomctl-test", str(where)], check=True)
        print(f"a 3 MiB tmpfs on {where}: point storage.path there, then fill / free it")
    elif command == "fill":
        print(f"filled {where} with {fill(where)} bytes")
    elif command == "free":
        free(where)
        print(f"freed {where}")
    elif command == "umount":
        subprocess.run(["umount", "-l", str(where)], check=True)
    else:
        print(usage, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
