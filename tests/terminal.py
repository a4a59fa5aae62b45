"""The one terminal driver of the suite: a private tmux server per terminal, read as text."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Callable


class Tmux:
    """A private tmux server (its own socket) with one session of a fixed size; reads the screen as text."""

    def __init__(self, command: str, *, width: int = 100, height: int = 30, env: dict[str, str] | None = None) -> None:
        self.server = f"roomctl-test-{uuid.uuid4().hex[:12]}"
        self.session = "t"
        args = ["new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height)]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        self._tmux(*args, command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def send_keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def title(self) -> str:
        """The pane's title, as the program in it set it (OSC 0 / 2)."""
        return self._tmux("display-message", "-p", "-t", self.session, "#{pane_title}").strip()

    def pane_pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())

    async def wait_for(self, predicate: object, within_s: float = 60.0, poll_s: float = 0.25) -> str:
        """Poll the screen (a terminal has no event to await) until ``predicate(screen)`` holds; return that screen."""
        assert callable(predicate)
        text = ""
        try:
            async with asyncio.timeout(within_s):
                while True:
                    text = self.screen()
                    if predicate(text):
                        return text
                    await asyncio.sleep(poll_s)
        except TimeoutError:
            raise AssertionError(f"the screen never showed what was expected; last screen:\n{text}") from None

    async def press(self, *keys: str, until: Callable[[str], bool], within_s: float = 60.0) -> str:
        """Send ``keys``, then wait until the screen shows what ``until`` looks for; return that screen."""
        self.send_keys(*keys)
        return await self.wait_for(until, within_s)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True, timeout=30)
