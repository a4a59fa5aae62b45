"""Small builders shared by the storage and session tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roomctl.models import Quality, Quantity, Reading

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def reading(
    i: int, *, device: str = "strap", quantity: Quantity = Quantity.HEART_RATE, ts: datetime | None = None
) -> Reading:
    return Reading(
        quantity=quantity,
        value=60.0 + i % 50,
        unit="bpm" if quantity is not Quantity.SPO2 else "%",
        device=device,
        ts=ts or T0 + timedelta(seconds=i),
        quality=Quality.OK,
    )
