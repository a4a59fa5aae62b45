"""The demo: a private D-Bus with the BlueZ emulator (in this process), the real daemon and the screen as children.

The daemon runs as ``roomctl run`` in its own process group, so neither a crash of the screen nor the terminal's
Ctrl+C can stop it behind the demo's back: the demo stops it with SIGTERM, in order, and waits for its clean exit.
Shutdown order: screen, daemon (lights safe, record flushed), emulator, private bus, then the temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from roomctl.errors import RoomctlError

if TYPE_CHECKING:
    from roomctl.music.server import MpdServer

log = logging.getLogger(__name__)

DAEMON_READY_TIMEOUT_S = 60.0
DAEMON_STOP_TIMEOUT_S = 25.0
SCREEN_RESTART_S = 1.0
SCREEN_MAX_CRASHES = 5  # within SCREEN_CRASH_WINDOW_S: then the demo gives up
SCREEN_CRASH_WINDOW_S = 60.0


@dataclass(frozen=True)
class DemoOptions:
    headless: bool = False
    duration_s: float | None = None
    mqtt: tuple[str, int] | None = None
    state_dir: Path | None = None
    speed: float | None = None
    verbose: bool = False
    sound: bool = False
    ha_discovery: bool = False
    music: bool = True


def demo_config(
    mqtt: tuple[str, int] | None, sound: bool = False, ha_discovery: bool = False, music_port: int | None = None
) -> str:
    """The embedded demo configuration, with MQTT switched on when a broker is given (and Home Assistant discovery
    with ``ha_discovery``); silent unless ``sound``; music from the demo's private MPD on ``music_port``."""
    from roomctl.config import demo_config_text
    from roomctl.music.library import demo_music_config

    text = demo_config_text()  # its [alarms.sound] is silent
    if sound:
        text = text.replace("\noutputs = []", '\noutputs = ["alsa"]', 1)
    if mqtt is not None:
        host, port = mqtt
        text += f'\n[mqtt]\nenabled = true\nhost = "{host}"\nport = {port}\n'
        if ha_discovery:
            text += "ha_discovery = true\n"
    if music_port is not None:
        text += demo_music_config("127.0.0.1", music_port)
    return text


def roomctl_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "roomctl", *args]


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the demo itself dies (even by SIGKILL), so nothing is orphaned."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Demo:
    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.keep_state = options.state_dir is not None
        self.state_dir = options.state_dir or Path(tempfile.mkdtemp(prefix="roomctl-demo-"))
        self.config_path = self.state_dir / "room.toml"
        self.log_path = self.state_dir / "daemon.log"
        self.daemon: asyncio.subprocess.Process | None = None
        self.mpd: MpdServer | None = None
        self.screen: asyncio.subprocess.Process | None = None
        self._stop = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            return await self._run()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if not self.keep_state:
                shutil.rmtree(self.state_dir, ignore_errors=True)

    async def _run(self) -> int:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        music_note = self._start_music()
        try:
            return await self._run_room(music_note)
        finally:
            if self.mpd is not None:
                self.mpd.stop()

    def _start_music(self) -> str:
        """The demo's private MPD (own config, a free port, the null output unless --sound) on the library the demo
        made at its first run. Without mpd the demo runs without music and says so."""
        from roomctl.music.library import demo_library, make_library
        from roomctl.music.server import MpdServer, mpd_binary

        if not self.options.music:
            return "no music (--no-music)"
        if mpd_binary() is None:
            return "no music: mpd is not installed (make demo installs it)"
        server = MpdServer(
            self.state_dir / "mpd", sound=self.options.sound, library=demo_library(), preexec_fn=_die_with_parent
        )
        first = not server.music_dir.is_dir()
        try:
            make_library(server.music_dir, server.playlist_dir)
            server.start()
            server.update()
        except (RoomctlError, OSError) as e:
            server.stop()
            return f"no music: {e}"
        self.mpd = server
        made = f"; library made in {server.music_dir}" if first else ""
        output = "on this machine's audio" if self.options.sound else "silent (null output; --sound to hear it)"
        return f"music from a private MPD on port {server.port}, {output}{made}"

    async def _run_room(self, music_note: str) -> int:
        from roomctl.config import load_config
        from roomctl.emulator.runner import Emulator
        from roomctl.emulator.scenario import demo_scenario

        self.config_path.write_text(
            demo_config(
                self.options.mqtt,
                self.options.sound,
                self.options.ha_discovery,
                music_port=self.mpd.port if self.mpd is not None else None,
            ),
            encoding="utf-8",
        )
        config = load_config(self.config_path)
        scenario = demo_scenario() if self.options.speed is None else demo_scenario(speed=self.options.speed)
        async with Emulator(scenario=scenario) as emulator:
            self._say(f"roomctl demo: wearables emulated on a private D-Bus; state in {self.state_dir}")
            self._say(f"roomctl demo: {music_note}")
            log_file = None if self.options.headless else self.log_path.open("ab")
            try:
                self.daemon = await self._spawn_daemon(emulator.bus_address, log_file)
                status = await self._supervise(self.state_dir.resolve() / config.api.socket_path)
            finally:
                await self._stop_screen()
                await self._stop_daemon()
                if log_file is not None:
                    log_file.close()
        if status != 0 and not self.options.headless:
            self._show_log_tail()
        elif self.keep_state and not self.options.headless:
            self._say(f"roomctl demo: stopped. Daemon log: {self.log_path}")
        return status

    def _show_log_tail(self, lines: int = 15) -> None:
        """Something failed and the log may go with the temporary folder: show its end."""
        try:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return
        self._say("roomctl demo: the end of the daemon's log:\n" + "\n".join(tail))

    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    async def _spawn_daemon(self, bus_address: str, log_file: IO[bytes] | None) -> asyncio.subprocess.Process:
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus_address, "PYTHONUNBUFFERED": "1"}
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        argv = roomctl_argv(*(["-v"] if self.options.verbose else []), "run", "--config", str(self.config_path))
        return await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            process_group=0,  # the terminal's Ctrl+C reaches the demo only; the demo stops the daemon in order
            preexec_fn=_die_with_parent,
        )

    async def _supervise(self, socket_path: Path) -> int:
        """Start the session, run the screen (unless headless) and wait for the end: q, Ctrl+C, duration, or a failure."""
        from roomctl.demo.session import start_demo_session

        assert self.daemon is not None
        daemon_exit = asyncio.create_task(self.daemon.wait())
        stop = asyncio.create_task(self._stop.wait())
        ready = asyncio.create_task(start_demo_session(socket_path, timeout_s=DAEMON_READY_TIMEOUT_S))
        timer: asyncio.Task[None] | None = None
        screen_exit: asyncio.Task[int] | None = None
        try:
            await asyncio.wait({daemon_exit, stop, ready}, return_when="FIRST_COMPLETED")
            if daemon_exit.done():
                self._say(f"roomctl demo: the daemon exited at start (status {daemon_exit.result()})")
                return 1
            if stop.done():
                return 0
            self._say(f"roomctl demo: {ready.result()}")
            waits: set[asyncio.Task[Any]] = {daemon_exit, stop}
            if self.options.duration_s is not None:
                timer = asyncio.create_task(asyncio.sleep(self.options.duration_s))
                waits.add(timer)
            if not self.options.headless:
                screen_exit = asyncio.create_task(self._run_screen(socket_path))
                waits.add(screen_exit)
            await asyncio.wait(waits, return_when="FIRST_COMPLETED")
            if daemon_exit.done():
                self._say(f"roomctl demo: the daemon exited unexpectedly (status {daemon_exit.result()})")
                return 1
            if screen_exit is not None and screen_exit.done():
                return screen_exit.result()
            return 0
        finally:
            for task in (stop, ready, timer, daemon_exit, screen_exit):
                if task is not None and not task.done():
                    task.cancel()

    async def _run_screen(self, socket_path: Path) -> int:
        """The screen in the foreground; quitting it (status 0) ends the demo. A crash is what systemd's
        ``Restart=always`` would handle: the daemon keeps monitoring and the screen comes back."""
        crashes: list[float] = []
        loop = asyncio.get_running_loop()
        while True:
            self.screen = await asyncio.create_subprocess_exec(
                *roomctl_argv("tui", "--socket", str(socket_path)), preexec_fn=_die_with_parent
            )
            status = await self.screen.wait()
            if status == 0:
                return 0
            now = loop.time()
            crashes = [t for t in crashes if now - t < SCREEN_CRASH_WINDOW_S] + [now]
            if len(crashes) >= SCREEN_MAX_CRASHES:
                self._say(f"roomctl demo: the screen keeps failing (status {status}); stopping")
                return 1
            self._say(f"roomctl demo: the screen stopped (status {status}); monitoring goes on; restarting it")
            await asyncio.sleep(SCREEN_RESTART_S)

    async def _stop_screen(self) -> None:
        if self.screen is not None and self.screen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.screen.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.screen.wait()
            except TimeoutError:
                self.screen.kill()
                await self.screen.wait()

    async def _stop_daemon(self) -> None:
        daemon = self.daemon
        if daemon is None or daemon.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            daemon.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(DAEMON_STOP_TIMEOUT_S):
                status = await daemon.wait()
        except TimeoutError:
            self._say("roomctl demo: the daemon did not stop in time; killing it")
            daemon.kill()
            await daemon.wait()
            raise RoomctlError("the daemon had to be killed; its last records may be missing") from None
        if status != 0:
            raise RoomctlError(f"the daemon stopped with status {status}")
