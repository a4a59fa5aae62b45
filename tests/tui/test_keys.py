"""Every key action: the command that reaches the daemon's handler over the real socket."""

from __future__ import annotations

import asyncio

import pytest
from textual.pilot import Pilot

from roomctl.commands import (
    Acknowledge,
    Command,
    EnterBloodPressure,
    EnterTemperature,
    MarkEvent,
    SetLevel,
    SetPhase,
    SetScene,
)
from roomctl.tui.app import RoomApp
from tests.builders import param_id
from tests.tui.conftest import Served, connected, dosing_session, room_state, until


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["a"], Acknowledge()),
        (["space"], Acknowledge()),
        (["1"], SetScene(scene="arrival")),
        (["5"], SetScene(scene="clinical")),
        (["s"], SetScene(scene="journey")),  # the next scene after the current one ("arrival")
        (["+"], SetLevel(level=0.55)),  # lighting is at 45 % on average
        (["-"], SetLevel(level=0.35)),
        (["b", "n"], MarkEvent(event="break_start")),  # a break without standby (light only)
        (["b", "a"], MarkEvent(event="break_start", standby=("chest-strap", "oximeter"))),
        (["b", "2"], MarkEvent(event="break_start", standby=("oximeter",))),
        (["["], SetPhase(phase="arrival")),  # the session is in "dose"
        (["]"], SetPhase(phase="onset")),
        (["d", "enter"], MarkEvent(event="dose")),
        (["d", "8", "0", "enter"], MarkEvent(event="dose", amount_mg=80)),
        (["D", "4", "0", "enter"], MarkEvent(event="supplemental_dose", amount_mg=40)),
        (["n", *"calm, eyes closed", "enter"], MarkEvent(event="note", text="calm, eyes closed")),
        (["p", *"128/82 76", "enter"], EnterBloodPressure(systolic=128, diastolic=82, pulse_rate=76)),
        (["t", *"37,4", "enter"], EnterTemperature(celsius=37.4)),
    ],
    ids=param_id,
)
async def test_key_sends_command(served: Served, keys: list[str], expected: Command) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await typed(served, app, pilot, keys)
        assert await served.handler.next() == expected
        await until(pilot, lambda: app.message == f"done: {expected.command}")
        assert served.handler.commands.empty()


async def before_the_dose(served: Served, app: RoomApp, pilot: Pilot[None]) -> None:
    """The dosing session as it is before its dose (``d`` marks the dose then; ``D`` once it is marked)."""
    served.hub.publish(dosing_session(served.clock.now()).model_copy(update={"dose_times": ()}))
    await until(pilot, lambda: not app.view.session.dose_times)


async def typed(served: Served, app: RoomApp, pilot: Pilot[None], keys: list[str]) -> None:
    """``keys`` typed on the connected screen (a dose key before the dose: ``d`` is for the initial dose)."""
    await connected(pilot)
    if keys[0] == "d":
        await before_the_dose(served, app, pilot)
    await pilot.press(*keys)


async def test_the_dose_key_is_for_the_initial_dose_the_supplemental_key_after_it(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert [k for k, _ in app.help_entries() if k in ("d", "D")] == ["D"]  # dosed 30 min ago
        await pilot.press("d")
        await pilot.pause()
        assert len(app.screen_stack) == 1  # the dose is marked already: d does nothing
        await before_the_dose(served, app, pilot)
        assert [k for k, _ in app.help_entries() if k in ("d", "D")] == ["d"]
        await pilot.press("D")
        await pilot.pause()
        assert len(app.screen_stack) == 1


async def test_break_key_ends_a_break(served: Served) -> None:
    room_state(served.hub, served.clock.now(), on_break=True)
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await until(pilot, lambda: app.view.session.on_break)
        await pilot.press("b")
        assert await served.handler.next() == MarkEvent(event="break_end")


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        (["p", *"120/130", "enter"], "diastolic 130 must be below systolic 120"),
        (["p", *"400/80", "enter"], "systolic 400 mmHg is outside the plausible range 50-300 mmHg"),
        (["p", *"high", "enter"], "type systolic/diastolic"),
        (["t", *"3.7", "enter"], "celsius 3.7 °C is outside the plausible range 30-45 °C"),
        (["t", *"warm", "enter"], "type the temperature in °C"),
        (["n", "enter"], "type a note first"),
        (["d", *"9999", "enter"], "amount_mg must be at most 500"),
    ],
    ids=param_id,
)
async def test_dialog_shows_error_and_sends_nothing(served: Served, keys: list[str], error: str) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await typed(served, app, pilot, keys)
        shown = str(app.screen.query_one("#dialog-error").render())
        assert error in shown
        await pilot.press("escape")
        assert not app.screen.query("#dialog")  # back on the main screen
        await pilot.press("a")  # the next command is the first to reach the handler
        assert await served.handler.next() == Acknowledge()


async def test_refusal_from_daemon_is_shown(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await pilot.press("p", *"230/90", "enter")  # the test handler refuses systolic above 200
        assert await served.handler.next() == EnterBloodPressure(systolic=230, diastolic=90)
        await until(pilot, lambda: app.message == "refused: systolic above 200: please re-measure")


async def test_key_without_daemon_says_not_done(served: Served) -> None:
    await served.stop()
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "retrying" in app._cell("link").shown)
        await pilot.press("a")
        await until(pilot, lambda: app.message.startswith("not done: the daemon is not reachable"))


async def test_quit_leaves_the_daemon_serving(served: Served) -> None:
    storage = served.hub.subscribe("storage", maxsize=100)
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert served.server is not None
        assert served.server.client_count == 1
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert served.server is not None
    while served.server.client_count:  # noqa: ASYNC110 - a counter without an event
        await asyncio.sleep(0.01)
    served.hub.publish(served.hub.state.session.model_copy(update={"phase": "onset"}))
    assert (await asyncio.wait_for(storage.get(), 5)).kind == "session"
    again: RoomApp = served.app()  # a new screen connects and gets the state as it is now
    async with again.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert again.view.session.phase == "onset"


async def test_ctrl_c_quits_even_from_a_dialog(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await pilot.press("n")  # the note dialog takes the keyboard
        await until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running)


async def test_a_redraw_timer_firing_during_quit_draws_nothing(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert not app.screen_stack
    app.refresh_view()  # a coalesced redraw (50 ms timer) can land here; it used to raise IndexError on quit
