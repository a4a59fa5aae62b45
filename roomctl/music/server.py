"""A private MPD: its own configuration and folders, a free loopback port, the ``null`` output unless sound is wanted.

The demo plays on one and every music test starts its own. A room's real MPD is the Debian package's own systemd
service (docs/operations.md, "Music"); roomctl never starts that one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from roomctl.errors import RoomctlError

MPD = "mpd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def mpd_binary() -> str | None:
    """The mpd program, or None when it is not installed (``scripts/ensure-system-packages.sh`` installs it)."""
    return shutil.which(MPD) or (f"/usr/bin/{MPD}" if os.access(f"/usr/bin/{MPD}", os.X_OK) else None)


@dataclass
class MpdServer:
    directory: Path
    port: int = field(default_factory=free_port)
    sound: bool = False  # True: ALSA's default device; False: the null output (nothing is heard)
    mixer: str = "software"  # MPD's mixer_type: "software" (the tests, the demo), "none" (a player without volume)
    socket: Path | None = None  # also listen on this Unix socket (as a Pi's MPD on /run/mpd/socket)
    library: Path | None = None  # the music folder, when not <directory>/music (the demo keeps its library)
    preexec_fn: Callable[[], None] | None = None  # run in the child before exec (the demo: die with the parent)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def music_dir(self) -> Path:
        return self.library if self.library is not None else self.directory / "music"

    @property
    def playlist_dir(self) -> Path:
        return self.directory / "playlists"

    @property
    def log_path(self) -> Path:
        return self.directory / "mpd.log"

    def write_config(self) -> Path:
        d = self.directory
        for folder in (d, self.music_dir, self.playlist_dir):
            folder.mkdir(parents=True, exist_ok=True)
        output = "alsa" if self.sound else "null"
        lines = [
            f'music_directory "{self.music_dir}"',
            f'playlist_directory "{self.playlist_dir}"',
            f'db_file "{d / "database"}"',
            'bind_to_address "127.0.0.1"',
            *([f'bind_to_address "{self.socket}"'] if self.socket is not None else []),
            f'port "{self.port}"',
            'auto_update "no"',
            'zeroconf_enabled "no"',
            'restore_paused "yes"',
            f'audio_output {{\n    type "{output}"\n    name "roomctl-{output}"\n    mixer_type "{self.mixer}"\n}}',
        ]
        if os.geteuid() == 0:
            lines.insert(0, 'user "root"')  # else mpd would look for the 'mpd' user's rights on our folders
        conf = d / "mpd.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def start(self, timeout_s: float = 20.0) -> None:
        """Start MPD and wait until it answers (a blocking call: tests and the demo's start-up)."""
        binary = mpd_binary()
        if binary is None:
            raise RoomctlError("mpd is not installed (Debian: apt install mpd; `make demo` installs it)")
        conf = self.write_config()
        with self.log_path.open("ab") as log:  # MPD logs to stderr with --stderr: a file, never an unread pipe
            self.proc = subprocess.Popen(
                [binary, "--no-daemon", "--stderr", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=self.preexec_fn,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.log_path.read_text(errors="replace").strip()[-400:]
                raise RoomctlError(f"mpd exited at start (status {self.proc.returncode}): {err}")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RoomctlError(f"mpd did not answer on port {self.port} within {timeout_s:.0f} s")

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.settimeout(1)
            return s.recv(64).startswith(b"OK MPD")
        return False

    def command(self, *lines: str, timeout_s: float = 10.0) -> str:
        """Send commands (one per line) on a fresh connection; the reply up to the final OK (tests, set-up)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as s:
            f = s.makefile("rwb")
            f.readline()
            for line in lines:
                f.write(line.encode() + b"\n")
            f.flush()
            out: list[str] = []
            done = 0
            while done < len(lines):
                reply = f.readline().decode()
                if not reply:
                    raise RoomctlError("mpd closed the connection")
                if reply.startswith("ACK"):
                    raise RoomctlError(f"mpd refused: {reply.strip()}")
                if reply == "OK\n":
                    done += 1
                else:
                    out.append(reply)
            return "".join(out)

    def update(self, timeout_s: float = 30.0) -> None:
        """Rescan the music folder and wait until the database has it."""
        self.command("update")
        deadline = time.monotonic() + timeout_s
        while "updating_db" in self.command("status"):
            if time.monotonic() > deadline:
                raise RoomctlError("mpd took too long to scan its music folder")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: MPD gone without a goodbye (the tests' outage)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def pause_process(self, paused: bool) -> None:
        """SIGSTOP / SIGCONT: an MPD that hangs (the tests' slow player)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.proc = None
