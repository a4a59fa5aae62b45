"""Builders every test package shares: the one test epoch, the one way to make a reading, the room file a test writes.

Per-package helpers build on these (``tests/storage/helpers.py`` numbers readings, ``tests/tui/conftest.py`` gives
each quantity its device); the root ``tests/conftest.py`` turns the common parts into fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

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
    category: AlarmCategory = AlarmCategory.PHYSIOLOGICAL,
    condition: str = "spo2_low",
    message: str = "SpO2 low",
    ts: datetime | None = None,
    acknowledged: bool = False,
    **details: Any,
) -> AlarmEvent:
    """An alarm event (a physiological alarm unless ``category``, raised at ``ts``, default :data:`T0`); ``details``:
    quantity, value, device, ..."""
    at = ts if ts is not None else T0
    alarm = Alarm(
        id=alarm_id,
        condition=condition,
        category=category,
        priority=priority,
        message=message,
        raised_at=at,
        acknowledged_at=at if acknowledged else None,
        **details,
    )
    return AlarmEvent(action=action, alarm=alarm, ts=at)


def param_id(value: object) -> str | None:
    """A ``parametrize`` id that reads in a failure (``ids=param_id``): a list of keys or words as typed
    (``p 120/130 enter``), a dict as ``k=v``, a model as its fields that differ from the defaults; anything else
    keeps pytest's own id (strings and numbers are already readable)."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        words: list[str] = []
        for i, v in enumerate(value):
            typed = len(v) == 1 and i > 0 and len(value[i - 1]) == 1 and i - 1 > 0
            if typed:
                words[-1] += v
            else:
                words.append(v)
        return " ".join(words)
    if isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, BaseModel):
        fields = value.model_dump(mode="json", exclude_defaults=True)
        name = getattr(value, "command", type(value).__name__)
        return " ".join([str(name), *(f"{k}={v}" for k, v in fields.items() if k != "command")])
    return None


def room_toml(
    *,
    site: str = "test",
    room: str = "silent",
    name: str | None = "Silent",
    storage: str | None = "roomctl.db",
    socket: str | None = "api.sock",
    pins: str | None = "mock",
    silent: bool = True,
    wearables: Sequence[Mapping[str, str | float]] = (),
    rules: Sequence[Mapping[str, str | float]] = (),
    extra: str = "",
) -> str:
    """A room's TOML: by default a daemon room with no wearables, its database and API socket in the state folder
    (``storage``, ``socket``: relative paths), mock light pins (``pins``: the pin factory) and no sound output
    (``silent``); ``None`` or ``False`` leaves a section out. ``wearables``: a ``[[wearables]]`` table each (id, profile,
    address, ...), ``rules``: an ``[[alarms.rules]]`` table each; ``extra``: TOML appended as written."""
    parts = ["[room]", f"site = {json.dumps(site)}", f"room = {json.dumps(room)}"]
    if name is not None:
        parts.append(f"name = {json.dumps(name)}")
    for table, rows in (("wearables", wearables), ("alarms.rules", rules)):
        for row in rows:
            parts += ["", f"[[{table}]]", *(f"{key} = {json.dumps(value)}" for key, value in row.items())]
    if storage is not None:
        parts += ["", "[storage]", f"path = {json.dumps(storage)}"]
    if socket is not None:
        parts += ["", "[api]", f"socket_path = {json.dumps(socket)}"]
    if pins is not None:
        parts += ["", "[lighting]", f"pin_factory = {json.dumps(pins)}"]
    if silent:
        parts += ["", "[alarms.sound]", "outputs = []"]
    return "\n".join(parts) + "\n" + (f"\n{extra.strip(chr(10))}\n" if extra else "")
