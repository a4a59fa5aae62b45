"""The screen's keys: a Textual binding that says, on its own row, when it works (``when``).

``RoomApp.check_action`` asks the row, so the help line (made from the bindings) and what a key does always agree, and a
new key's availability is written where the key is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.binding import Binding

from roomctl.models import SessionKind
from roomctl.tui.view import RoomView

When = Callable[[RoomView, tuple[object, ...]], bool]


def always(view: RoomView, parameters: tuple[object, ...]) -> bool:
    return True


def _running(view: RoomView) -> bool:
    session = view.session
    return session.id is not None and session.ended_at is None


def no_session(view: RoomView, parameters: tuple[object, ...]) -> bool:
    return not _running(view)


def in_session(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """Any running session (preparation and integration too: the room and the record; vitals optional)."""
    return _running(view)


def in_dosing(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """A dosing session: the dose timeline."""
    return _running(view) and view.session.session_kind is SessionKind.DOSING


def dose_key(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """The initial dose once (``dose(False)``), then the supplemental (``dose(True)``)."""
    return in_dosing(view, parameters) and parameters == (bool(view.session.dose_times),)


def before_the_dose(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """The pre-dose checklist."""
    return _running(view) and bool(view.session.checklist) and not view.session.dose_times


def baseline_open(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """Before the dose; after it only while none was confirmed (to enter one by hand)."""
    baseline = view.session.baseline
    return _running(view) and baseline is not None and (baseline.open or baseline.source is None)


def discharge_offered(view: RoomView, parameters: tuple[object, ...]) -> bool:
    """Offered as effects taper."""
    return _running(view) and view.session.discharge is not None


def with_music(view: RoomView, parameters: tuple[object, ...]) -> bool:
    return view.info is not None and view.info.music


@dataclass(frozen=True)
class Key(Binding):
    when: When = always
