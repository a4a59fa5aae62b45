"""A private D-Bus daemon for the BlueZ emulator: started as a child process, stopped cleanly, never the real bus."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from roomctl.errors import RoomctlError

SYSTEM_BUS_ENV = "DBUS_SYSTEM_BUS_ADDRESS"

# A bus with the session bus's permissive default policy but its own socket directory, so it never touches the
# user's session bus and many tests can run side by side.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to end the daemon if we die without stopping it (no orphaned buses)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class PrivateBus:
    """``dbus-daemon`` in the foreground as our child; :attr:`address` is what bleak needs in ``DBUS_SYSTEM_BUS_ADDRESS``.

    Usable as a context manager (sync or async). :meth:`stop` terminates the daemon and removes its socket directory.
    """

    def __init__(self) -> None:
        self.address = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    def start(self) -> str:
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise RoomctlError("dbus-daemon is not installed (Debian package 'dbus'); the BLE emulator needs it")
        self._dir = Path(tempfile.mkdtemp(prefix="roomctl-bus-"))
        config = self._dir / "bus.conf"
        config.write_text(_CONFIG.format(socket_dir=self._dir))
        self._proc = subprocess.Popen(
            [exe, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            self.stop()
            raise RoomctlError("the private dbus-daemon did not start")
        self.address = line
        return line

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def environ(self) -> dict[str, str]:
        """A copy of ``os.environ`` pointing the system bus at this daemon, for child processes."""
        return {**os.environ, SYSTEM_BUS_ENV: self.address}

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> PrivateBus:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
