"""The report's line for the protocol before and around the dose (issue 23 §4): the pre-dose checklist as it stood at
the dose, and the supplemental dose against its window; from the session's events (no names)."""

from __future__ import annotations

from roomctl.report.data import SessionRecord


def checklist_words(rec: SessionRecord) -> str:
    """``checklist at the dose: 5 of 6 (open: consent for any recording)``; empty without a checklist."""
    items = rec.state.checklist
    if not items:
        return ""
    doses = [e for e in rec.events if e.event == "dose"]
    if not doses:
        return f"checklist: {sum(1 for i in items if i.ticked_at is not None)} of {len(items)}, no dose recorded"
    open_items = [str(x) for x in doses[0].data.get("open_items", [])]
    ticked = f"checklist at the dose: {len(items) - len(open_items)} of {len(items)}"
    return ticked + (f" (open: {', '.join(open_items)})" if open_items else "")


def supplemental_words(rec: SessionRecord) -> str:
    """``supplemental at 60 min: OUTSIDE its window``, one per supplemental dose; empty without one."""
    parts = []
    for e in rec.events:
        if e.event == "supplemental_dose" and "minutes_after_dose" in e.data:
            where = "OUTSIDE its window" if e.data.get("outside_window") else "in its window"
            parts.append(f"supplemental at {e.data['minutes_after_dose']:g} min: {where}")
    return "; ".join(parts)
