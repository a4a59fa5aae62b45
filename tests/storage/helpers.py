"""Storage tests' builders, on top of :mod:`tests.builders`: numbered readings (value and time follow the number)."""

from __future__ import annotations

from datetime import datetime

from roomctl.models import Quantity, Reading
from tests import builders
from tests.builders import T0

__all__ = ["T0", "reading"]


def reading(
    i: int, *, device: str = "strap", quantity: Quantity = Quantity.HEART_RATE, ts: datetime | None = None
) -> Reading:
    """Reading number ``i``: value 60 + i % 50, ``i`` seconds after T0 (unless ``ts``)."""
    return builders.reading(60 + i % 50, quantity, device=device, at_s=i, ts=ts)
