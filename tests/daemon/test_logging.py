from __future__ import annotations

import io
import logging

from roomctl.daemon.logging import KeyValueFormatter, setup_logging


def _record(msg: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "roomctl.test", "levelno": level, "levelname": logging.getLevelName(level)})
    record.msg = msg
    record.__dict__.update(extra)
    return record


def test_one_line_key_value_with_extra_fields() -> None:
    line = KeyValueFormatter(timestamps=False).format(_record("wearable connected", device="chest-strap", rssi=-60))
    assert line == 'level=info logger=roomctl.test msg="wearable connected" device=chest-strap rssi=-60'


def test_traceback_stays_on_one_line_and_journald_gets_priorities() -> None:
    try:
        raise ValueError('bad "value"\nsecond line')
    except ValueError:
        import sys

        record = _record("service failed", logging.ERROR)
        record.exc_info = sys.exc_info()
    line = KeyValueFormatter(journald=True).format(record)
    assert "\n" not in line
    assert line.startswith("<3>level=error ")
    assert "ts=" not in line  # journald stamps lines itself
    assert 'ValueError: bad \\"value\\"\\nsecond line' in line


def test_no_colour_when_not_a_tty() -> None:
    out = io.StringIO()
    root = logging.getLogger()
    saved, saved_level = list(root.handlers), root.level
    setup_logging(logging.DEBUG, out)
    try:
        logging.getLogger("roomctl.x").error("disk full")
    finally:
        root.handlers[:] = saved
        root.setLevel(saved_level)
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "\x1b[" not in text
    assert 'level=error logger=roomctl.x msg="disk full"' in text
