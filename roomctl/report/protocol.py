"""The report's line for the protocol before and around the dose (issue 23 §4): the pre-dose checklist as it stood at
the dose, and the supplemental dose against its window; from the session's events (no names)."""

from __future__ import annotations

from roomctl.report.data import SessionRecord


def protocol_line(rec: SessionRecord) -> str:
    """``checklist at the dose: 5 of 6 ticked (open: consent for any recording)   |   supplemental dose 72 min after
    the initial dose: outside the 90-150 min window``."""
    items = rec.state.checklist
    parts = []
    if items:
        doses = [e for e in rec.events if e.event == "dose"]
        open_items = [str(x) for x in doses[0].data.get("open_items", [])] if doses else []
        if doses:
            ticked = len(items) - len(open_items)
            where = f"checklist at the dose: {ticked} of {len(items)} ticked"
            parts.append(where + (f" (dose with open items: {', '.join(open_items)})" if open_items else ""))
        else:
            ticked = sum(1 for i in items if i.ticked_at is not None)
            parts.append(f"checklist: {ticked} of {len(items)} ticked, no dose recorded")
    for e in rec.events:
        if e.event == "supplemental_dose" and "minutes_after_dose" in e.data:
            text = e.text or f"supplemental dose {e.data['minutes_after_dose']:g} min after the initial dose"
            parts.append(text + ("" if e.data.get("outside_window") else " (inside its window)"))
    return "   |   ".join(parts)  # empty: no checklist (not a dosing session, or none configured) and no supplemental
