"""A few snapshots at 80x24 (review them in tests/tui/__snapshots__/; update with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from textual.pilot import Pilot

from roomctl.api.client import Disconnected
from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import AudioPause, DischargeStatus, Priority, Quantity, SessionState
from roomctl.tui.app import RoomApp
from tests.builders import T0
from tests.tui.conftest import ScriptedLink, alarm_event, dosing_session, reading, script

SnapCompare = Callable[..., bool]


async def settled(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, RoomApp)
    while not app.view.connected and not app.view.link_problem:
        await pilot.pause(0.02)
    await pilot.pause(0.1)
    app.refresh_view()
    await pilot.pause()


def test_screen_calm(snap_compare: SnapCompare, hub: Hub, clock: FakeClock) -> None:
    app = RoomApp(ScriptedLink(script(hub)), clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_screen_acknowledged_high_alarm_with_pause(snap_compare: SnapCompare, hub: Hub, clock: FakeClock) -> None:
    extra = [
        alarm_event(Priority.HIGH, acknowledged=True),
        alarm_event(Priority.LOW, alarm_id="a2"),
        AudioPause(until=T0 + timedelta(seconds=75), remaining_s=75),
    ]
    app = RoomApp(ScriptedLink(script(hub, extra)), clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_screen_daemon_not_reachable(snap_compare: SnapCompare, clock: FakeClock) -> None:
    link = ScriptedLink([Disconnected("daemon not reachable (/run/roomctl/api.sock does not exist)", 1.0)])
    app = RoomApp(link, clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


def test_blood_pressure_dialog_with_error(snap_compare: SnapCompare, hub: Hub, clock: FakeClock) -> None:
    app = RoomApp(ScriptedLink(script(hub)), clock=clock, link_clock=FakeClock())

    async def enter_bad_pressure(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("p", *"120/130", "enter")

    assert snap_compare(app, terminal_size=(80, 24), run_before=enter_bad_pressure)


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_screen_three_digit_heart_rate_and_alarms(
    snap_compare: SnapCompare, size: tuple[int, int], hub: Hub, clock: FakeClock
) -> None:
    """HR 220-250: three big digits, the trend label beside them, two alarms in the banner (acknowledged: steady, so
    the picture does not depend on the flash phase)."""
    extra = [
        alarm_event(Priority.HIGH, acknowledged=True),
        alarm_event(Priority.MEDIUM, alarm_id="a2", acknowledged=True),
    ]
    app = RoomApp(ScriptedLink(script(hub, extra, hr=235)), clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_screen_no_data_and_no_session(
    snap_compare: SnapCompare, size: tuple[int, int], hub: Hub, clock: FakeClock
) -> None:
    """Every "no data" reason beside the limits, and the plain "no session" lines with their keys."""
    extra = [
        reading(Quantity.HEART_RATE, 84, T0 - timedelta(seconds=40)),
        reading(Quantity.SPO2, None, T0),
        SessionState(id=None),
    ]
    app = RoomApp(ScriptedLink(script(hub, extra)), clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=size, run_before=settled)


def test_screen_calm_120x40(snap_compare: SnapCompare, hub: Hub, clock: FakeClock) -> None:
    app = RoomApp(ScriptedLink(script(hub)), clock=clock, link_clock=FakeClock())
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled)


@pytest.mark.parametrize("keys", [["S"], ["E"], ["L", *"hr high"]], ids=["start", "end", "limit"])
def test_session_dialogs_at_80x24(snap_compare: SnapCompare, keys: list[str], hub: Hub, clock: FakeClock) -> None:
    extra = [SessionState(id=None)] if keys == ["S"] else []
    app = RoomApp(ScriptedLink(script(hub, extra)), clock=clock, link_clock=FakeClock())

    async def open_dialog(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press(*keys, *(["enter"] if keys[0] == "L" else []))

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_dialog)


def test_discharge_dialog_at_80x24(snap_compare: SnapCompare, hub: Hub, clock: FakeClock) -> None:
    status = DischargeStatus(
        vitals_ready=False,
        findings=(
            "not yet: heart rate vs baseline 68 (within 15 bpm): near for 12 of 30 min",
            "ok: blood pressure 126/80, baseline 118/76: near baseline",
            "ok: temperature 36.9 °C, baseline 36.6 °C: near baseline",
            "not yet: active alarm: SpO2 low (88)",
        ),
    )
    session = dosing_session(T0, phase="taper").model_copy(update={"discharge": status})
    app = RoomApp(ScriptedLink(script(hub, [session])), clock=clock, link_clock=FakeClock())

    async def open_dialog(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("X", "o")

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_dialog)
