"""Serving a roomctl screen in a browser with textual-serve, and ending it when it is no longer watched.

textual-serve starts one app process per browser tab, with Textual's web driver talking packets over the process's
stdin and stdout. The stock driver does not notice when the server goes away (its input just ends) and keeps the app
running, still connected to the broker or the daemon, for nobody. :class:`ServedDriver` ends the app when its input
ends or its output breaks, and makes sure SIGTERM ends it even when the app cannot shut down cleanly any more.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
import threading
from typing import Any

from textual.app import App
from textual.driver import Driver
from textual.drivers.web_driver import WebDriver

STOCK_WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
EXIT_GRACE_S = 5.0  # after the input ends or SIGTERM, the app has this long to exit cleanly; then the process ends


def hard_exit_later(code: int) -> None:
    """End the process after :data:`EXIT_GRACE_S` even if the app never gets to exit (a daemon thread: it dies with
    the process when the app does exit)."""
    timer = threading.Timer(EXIT_GRACE_S, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


class AppEnder:
    """Ends a driver's app from its input thread when nobody can use it any more (its input ended, its terminal or
    server went away): once, through the app's event loop; the process ends after :data:`EXIT_GRACE_S` if the app
    cannot exit cleanly. Keeps the app and loop itself (Textual's driver keeps them private)."""

    def __init__(self, app: App[Any]) -> None:
        self._app, self._loop = app, asyncio.get_running_loop()
        self.ended = False

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        hard_exit_later(0)
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._app.exit)

    def terminate(self, sig: int) -> None:
        """SIGINT or SIGTERM: exit with 128 + the signal's number, and make sure of it."""
        hard_exit_later(128 + sig)
        self._app.exit(return_code=128 + sig)


class ServedDriver(WebDriver):
    """Textual's web driver that ends the app when the serving side is gone."""

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._ender = AppEnder(app)
        raw_write = self._write  # upstream internal (checked by tests/foundation/test_upstream_internals.py)

        def write(data: bytes) -> int:
            if self._ender.ended:
                return len(data)
            try:
                return raw_write(data)
            except OSError:  # EPIPE: the server is gone; drop output and end the app
                self._ender.end()
                return len(data)

        self._write = write  # type: ignore[assignment]  # the stock driver keeps a functools.partial here

    def start_application_mode(self) -> None:
        super().start_application_mode()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # replace the stock handlers: exit, and make sure of it
            loop.add_signal_handler(sig, self._ender.terminate, sig)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # the input ended, not by our own stop: the server went away
            self._ender.end()


def driver_for_environment(default: type[Driver]) -> type[Driver]:
    """The driver to use: :class:`ServedDriver` when textual-serve asked for its web driver, else ``default``."""
    return ServedDriver if os.environ.get("TEXTUAL_DRIVER") == STOCK_WEB_DRIVER else default


def roomctl_command(*args: str) -> str:
    """A shell command line that runs this roomctl (the same interpreter) with ``args``."""
    return shlex.join([sys.executable, "-m", "roomctl", *args])


def serve(command: str, *, host: str, port: int, title: str, public_url: str | None = None) -> None:
    """Serve ``command`` (a roomctl screen) to browsers until SIGINT or SIGTERM. One app process per browser tab."""
    from textual_serve.server import Server

    Server(command, host=host, port=port, title=title, public_url=public_url).serve()
