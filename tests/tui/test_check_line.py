"""The vitals check on the session line: in N min, DUE with what it needs, OVERDUE after the grace; due and overdue lead
the line so that a long phase label never cuts them off at 80 columns."""

from __future__ import annotations

from datetime import timedelta

from roomctl.models import SessionState
from roomctl.tui.view import RoomView
from roomctl.tui.widgets import session_lines
from tests.builders import T0
from tests.tui.conftest import dosing_session


def line(state: SessionState, minutes: float) -> str:
    view = RoomView()
    view.session = state
    return session_lines(view, T0 + timedelta(minutes=minutes)).splitlines()[1]


def test_in_due_and_overdue() -> None:
    due = T0 + timedelta(minutes=12)
    state = dosing_session(T0, phase="supplemental").model_copy(
        update={
            "suggested_phase": "taper",
            "vitals_check_overdue_at": due + timedelta(minutes=10),
            "vitals_check_missing": ("blood_pressure", "temperature"),
        }
    )
    assert line(state, 0).endswith("   vitals check in 12 min")
    assert line(state, 12).startswith("check DUE: BP temp   Phase: ")
    overdue = line(state.model_copy(update={"vitals_check_missing": ("temperature",)}), 26)
    assert overdue.startswith("check OVERDUE 14 min: temp   Phase: ")
    assert len("check OVERDUE 14 min: temp") < 80
