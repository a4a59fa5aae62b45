"""The vitals checks in the report: "checks on time: 14 of 16" and their marks on the blood-pressure chart."""

from __future__ import annotations

from roomctl.report.data import EventPoint, SessionRecord


def check_records(rec: SessionRecord) -> list[EventPoint]:
    """Every check the session recorded: done (on time or late) and, at the end, one due and not done."""
    return [e for e in rec.events if e.event == "vitals_check"]


def checks_line(rec: SessionRecord) -> str:
    """ "checks on time: 14 of 16 (late: 1, not done: 1; on time = done within 10 min of due); distress 2-6 of 10"."""
    checks = check_records(rec)
    if not checks:
        return "vitals checks: none recorded"
    on_time = sum(1 for e in checks if e.data.get("on_time"))
    not_done = sum(1 for e in checks if not e.data.get("done"))
    late = len(checks) - on_time - not_done
    grace = rec.row.meta.get("checks", {}).get("overdue_after_min")
    rule = f"on time = done within {grace:g} min of due" if isinstance(grace, int | float) else "on time = not overdue"
    text = f"checks on time: {on_time} of {len(checks)} (late: {late}, not done: {not_done}; {rule})"
    ratings = [int(e.data["rating"]) for e in rec.events if e.event == "distress" and "rating" in e.data]
    if ratings:
        low, high = min(ratings), max(ratings)
        text += f"; distress {low}-{high} of 10" if low != high else f"; distress {low} of 10"
    return text
