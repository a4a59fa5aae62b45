"""The screen's terminal driver: Textual's Linux driver with an input thread that sleeps while nobody types.

Textual's input thread wakes ten times a second to look for keys (``select`` with a 0.1 s timeout) even when nothing
is typed; on the room screen, which nobody touches for hours, that was about a fifth of the screen's CPU. This one
waits for the terminal without a timeout, except just after input, while an escape sequence may still be completing
(the parser's timeouts: a lone Escape key is known only after ``ESCDELAY``). A pipe wakes it when input stops.
The loop is Textual's ``LinuxDriver.run_input_thread`` (Textual 8.2) with these changes.

Two more: it draws on the terminal, which under ``roomctl-tui.service`` is stdout (``StandardOutput=tty``) while stderr
is the journal — Textual draws on stderr, which left tty1 blank and filled the journal; and when its terminal vanishes
(input ends, or reads fail with EIO after a hang-up that was ignored) it ends the app instead of spinning on a
terminal that is always "readable".
"""

from __future__ import annotations

import os
import selectors
import sys
import time
from codecs import getincrementaldecoder
from io import TextIOWrapper
from typing import Any

from textual import constants
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

from roomctl.web import AppEnder

INPUT_SETTLE_S = constants.ESCAPE_DELAY + 0.5
"""After input, the thread polls (every ``ESCAPE_DELAY``, at most 0.1 s) this long for the parser's timeouts."""


def terminal_output() -> TextIOWrapper:
    """Where the screen draws: stderr when it is a terminal (Textual's choice: over SSH all three are), else stdout
    when that is (systemd's ``StandardOutput=tty`` with ``StandardError=journal``), else stderr."""
    for stream in (sys.__stderr__, sys.__stdout__):
        if stream is not None and stream.isatty():
            return stream
    assert sys.__stderr__ is not None
    return sys.__stderr__


class QuietLinuxDriver(LinuxDriver):
    """Textual's Linux driver whose input thread waits without a timeout while no input is arriving; it draws on the
    terminal and ends the app when the terminal is gone."""

    def __init__(self, app: App[Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        self._ender = AppEnder(app)
        self._file = terminal_output()
        self._wake: tuple[int, int] | None = os.pipe()
        os.set_blocking(self._wake[0], False)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events; wake only for input, the parser's timeouts and :meth:`disable_input`."""
        assert self._wake is not None, "the driver is closed"
        wake_read = self._wake[0]
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        poll_s = min(0.1, constants.ESCAPE_DELAY)
        last_input = -INPUT_SETTLE_S

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            nonlocal last_input
            keys = [key for key, mask in events if key.fd == self.fileno and mask & selectors.EVENT_READ]
            for i, _key in enumerate(keys):
                try:
                    raw = os.read(self.fileno, 1024 * 4)
                except OSError:  # EIO: the terminal hung up (its SIGHUP ignored, e.g. under runuser)
                    raw = b""
                if not raw:
                    self._terminal_gone()
                    break
                data = decode(raw, final=final and i == len(keys) - 1)
                last_input = time.monotonic()
                for event in parser.feed(data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set() and not self._ender.ended:
                settling = time.monotonic() - last_input < INPUT_SETTLE_S
                process(selector.select(poll_s if settling else None))
            selector.unregister(self.fileno)
            if not self._ender.ended:
                process(selector.select(poll_s), final=True)
        finally:
            selector.close()
            try:
                while os.read(wake_read, 64):  # the wake-ups, so that input enabled again waits again
                    pass
            except BlockingIOError:
                pass
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def _terminal_gone(self) -> None:
        """The input ended or the terminal vanished: nobody can see or use this screen any more, so it ends (systemd
        starts a new one on the terminal)."""
        self._ender.end()

    def disable_input(self) -> None:
        """Stop the input thread: the pipe stays readable (so the thread cannot wait) until the thread has seen that
        it must stop; the thread empties it on its way out."""
        if self._wake is not None and not self.exit_event.is_set():
            os.write(self._wake[1], b"\0")
        super().disable_input()

    def close(self) -> None:
        super().close()
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None


def quiet_driver(default: type[Driver]) -> type[Driver]:
    """:class:`QuietLinuxDriver` where Textual would use its Linux driver, else ``default``."""
    return QuietLinuxDriver if default is LinuxDriver else default
