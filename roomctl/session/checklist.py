"""The pre-dose checklist and the supplemental dose's window (issue 23 §4): pure rules, the session manager records.

The checklist is ``[session] checklist`` (ids and labels, no names of people): the team ticks it on the screen before the
dose, each tick and untick recorded with its time; ``baseline`` ticks itself when the baseline is confirmed or entered.
A dose marked with items open is recorded as "dose with open items: ..." (the screen asks once more before it sends it). A supplemental dose outside ``supplemental_from_min``-``supplemental_to_min`` after the
initial dose is marked, with a warning, and recorded so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from roomctl.config.session import ChecklistItem, SessionConfig
from roomctl.models import ChecklistItemState


def initial(items: Sequence[ChecklistItem]) -> tuple[ChecklistItemState, ...]:
    return tuple(ChecklistItemState(id=i.id, label=i.label) for i in items)


def unknown(state: Sequence[ChecklistItemState], ids: Iterable[str]) -> list[str]:
    known = {i.id for i in state}
    return [i for i in ids if i not in known]


def tick(
    state: Sequence[ChecklistItemState], ticked: Iterable[str], now: datetime
) -> tuple[tuple[ChecklistItemState, ...], list[ChecklistItemState]]:
    """The checklist with exactly ``ticked`` ticked (a newly ticked item at ``now``), and the items that changed."""
    wanted = set(ticked)
    out, changed = [], []
    for item in state:
        was, now_ticked = item.ticked_at is not None, item.id in wanted
        new = item if was == now_ticked else item.model_copy(update={"ticked_at": now if now_ticked else None})
        if new is not item:
            changed.append(new)
        out.append(new)
    return tuple(out), changed


def open_items(state: Sequence[ChecklistItemState]) -> list[str]:
    return [i.label for i in state if i.ticked_at is None]


def change_text(item: ChecklistItemState) -> str:
    return f"checklist: {item.label} {'ticked' if item.ticked_at is not None else 'unticked'}"


def supplemental(minutes_after: float, config: SessionConfig) -> str | None:
    """The warning for a supplemental dose outside the configured window (None: inside it)."""
    low, high = config.supplemental_from_min, config.supplemental_to_min
    if low <= minutes_after <= high:
        return None
    return f"{minutes_after:.0f} min after the initial dose: outside the {low:g}-{high:g} min window"
