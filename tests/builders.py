"""Builders every test package shares: the one test epoch and the one way to make a reading.

Per-package helpers build on these (``tests/storage/helpers.py`` numbers readings, ``tests/tui/conftest.py`` gives
each quantity its device); the root ``tests/conftest.py`` turns the common parts into fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from roomctl.models import UNITS, Alarm, AlarmAction, AlarmCategory, AlarmEvent, Priority, Quality, Quantity, Reading

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
"""The test epoch: where FakeClock starts, and what the builders stamp relative to."""


def reading(
    value: float | None = 70.0,
    quantity: Quantity = Quantity.HEART_RATE,
    *,
    device: str = "strap",
    at_s: float = 0.0,
    ts: datetime | None = None,
    quality: Quality = Quality.OK,
) -> Reading:
    """A reading in the quantity's canonical unit, stamped ``ts`` or ``at_s`` seconds after :data:`T0`."""
    return Reading(
        quantity=quantity,
        value=value,
        unit=UNITS[quantity],
        device=device,
        ts=ts if ts is not None else T0 + timedelta(seconds=at_s),
        quality=quality,
    )


def alarm_event(
    action: AlarmAction = AlarmAction.RAISED,
    *,
    alarm_id: str = "a1",
    priority: Priority = Priority.HIGH,
    condition: str = "spo2_low",
    message: str = "SpO2 low",
    ts: datetime | None = None,
    acknowledged: bool = False,
    **details: Any,
) -> AlarmEvent:
    """An alarm event (a physiological alarm raised at ``ts``, default :data:`T0`); ``details``: quantity, value, ..."""
    at = ts if ts is not None else T0
    alarm = Alarm(
        id=alarm_id,
        condition=condition,
        category=AlarmCategory.PHYSIOLOGICAL,
        priority=priority,
        message=message,
        raised_at=at,
        acknowledged_at=at if acknowledged else None,
        **details,
    )
    return AlarmEvent(action=action, alarm=alarm, ts=at)
