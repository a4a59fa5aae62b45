"""Storage tests' builders, on top of :mod:`tests.builders`: numbered readings (value and time follow the number); what a
record on disk holds (every reading there, integrity)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from roomctl.models import Quantity, Reading
from tests import builders
from tests.builders import T0

__all__ = ["T0", "integrity", "missing_on_disk", "reading"]


def reading(
    i: int, *, device: str = "strap", quantity: Quantity = Quantity.HEART_RATE, ts: datetime | None = None
) -> Reading:
    """Reading number ``i``: value 60 + i % 50, ``i`` seconds after T0 (unless ``ts``)."""
    return builders.reading(60 + i % 50, quantity, device=device, at_s=i, ts=ts)


def missing_on_disk(db: Path, readings: list[Reading]) -> list[Reading]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT 1 FROM readings WHERE device = ? AND quantity = ? AND abs(ts - ?) < 0.0015"
        return [
            r
            for r in readings
            if conn.execute(query, (r.device, r.quantity.value, r.ts.timestamp())).fetchone() is None
        ]
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
