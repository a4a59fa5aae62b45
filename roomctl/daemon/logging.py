"""Structured logs on stdout, one line per record, for journald (and for humans reading ``journalctl -u roomctl``).

Each line is ``level=info logger=roomctl.daemon.app msg="..."`` plus any ``extra={...}`` fields; a traceback is kept on
the same record as ``exc="..."`` with escaped newlines, so journald never splits it. Under systemd (``JOURNAL_STREAM``
set) each line starts with the syslog priority prefix ``<N>``, so ``journalctl -p err`` filters by level. Colour only when
stdout is a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is printed as a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}
_COLOURS = {
    logging.DEBUG: "\x1b[2m",
    logging.WARNING: "\x1b[33m",
    logging.ERROR: "\x1b[31m",
    logging.CRITICAL: "\x1b[1;31m",
}


def _value(v: object) -> str:
    text = str(v)
    if text and not any(c in text for c in ' "=\n\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class KeyValueFormatter(logging.Formatter):
    def __init__(self, *, journald: bool = False, colour: bool = False, timestamps: bool = True) -> None:
        super().__init__()
        self.journald = journald
        self.colour = colour
        self.timestamps = timestamps and not journald  # journald stamps every line itself

    def format(self, record: logging.LogRecord) -> str:
        fields: list[tuple[str, object]] = []
        if self.timestamps:
            fields.append(("ts", self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}"))
        fields += [("level", record.levelname.lower()), ("logger", record.name), ("msg", record.getMessage())]
        fields += [(k, v) for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")]
        if record.exc_info:
            fields.append(("exc", self.formatException(record.exc_info)))
        line = " ".join(f"{k}={_value(v)}" for k, v in fields)
        if self.journald:
            return f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>{line}"
        if self.colour and record.levelno in _COLOURS:
            return f"{_COLOURS[record.levelno]}{line}\x1b[0m"
        return line


def is_journal(stream: TextIO) -> bool:
    """True when ``stream`` is the journald stream systemd connected (``JOURNAL_STREAM`` names its device and inode)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def setup_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every log record to ``stream`` (stdout) as one key=value line; replaces earlier handlers."""
    out = stream if stream is not None else sys.stdout
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        KeyValueFormatter(journald=is_journal(out), colour=out.isatty() and "NO_COLOR" not in os.environ)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
