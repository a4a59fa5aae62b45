"""Sessions the therapists run from the screen: the real session manager behind a real API socket.

Start each kind with S, see what fits it (keys and session lines), end it with E and a confirmation, "no session" plainly
in between; the record in the database says the same.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.pilot import Pilot

from roomctl.api.client import ApiClient
from roomctl.api.server import ApiServer
from roomctl.clock import FakeClock
from roomctl.commands import MarkEvent, SetBaseline, SetPhase, StartSession
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.dispatch import CommandDispatcher
from roomctl.daemon.room_info import room_info
from roomctl.hub import Hub
from roomctl.models import Quantity, Reading, SessionKind
from roomctl.session import SessionManager
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter
from roomctl.tui.app import RoomApp
from tests.builders import T0
from tests.tui.conftest import ScriptedLink, until


@dataclass
class RealRoom:
    hub: Hub
    clock: FakeClock
    store: Store
    manager: SessionManager
    socket_path: Path

    def app(self) -> RoomApp:
        return RoomApp(ApiClient(self.socket_path, min_backoff_s=0.05, max_backoff_s=0.2), clock=self.clock)


@pytest.fixture
async def real_room(tmp_path: Path, hub: Hub, clock: FakeClock) -> AsyncIterator[RealRoom]:
    config = parse_config(demo_config_text())
    store = Store(tmp_path / "room.db", clock=clock)
    await store.open()
    writer = StorageWriter(store, hub, clock=clock)
    manager = SessionManager(config, hub, store, clock=clock, writer=writer)
    await manager.resume()
    socket_path = tmp_path / "api.sock"
    dispatcher = CommandDispatcher(session=manager)
    async with ApiServer(hub, dispatcher, room_info(config), socket_path, clock=clock):
        yield RealRoom(hub, clock, store, manager, socket_path)
    await writer.stop()
    await store.close()


def missing(keys: str, *words: str) -> list[str]:
    return [w for w in words if w not in keys]


def text(app: RoomApp, cell: str) -> str:
    return app._cell(cell).shown


async def ready(pilot: Pilot[None]) -> RoomApp:
    app = pilot.app
    assert isinstance(app, RoomApp)
    await until(pilot, lambda: app.view.connected)
    return app


KEYS = {SessionKind.PREPARATION: "p", SessionKind.DOSING: "d", SessionKind.INTEGRATION: "i"}


@pytest.mark.parametrize("kind", list(SessionKind))
async def test_start_and_end_each_kind_from_the_keyboard(real_room: RealRoom, kind: SessionKind) -> None:
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: text(app, "session").startswith("No session - monitoring with the room's limits"))
        assert "S start session" in text(app, "keys")
        assert "d dose" not in text(app, "keys")
        assert "E end" not in text(app, "keys")

        await pilot.press("S")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        assert "p preparation   d dosing   i integration" in str(app.screen.query_one("#dialog-hint").render())
        await pilot.press(KEYS[kind])
        await until(pilot, lambda: app.view.session.session_kind is kind)
        assert real_room.manager.state.session_kind is kind
        title = f"{kind.value.capitalize()} session"
        await until(pilot, lambda: text(app, "session").startswith(title))
        keys = text(app, "keys")
        assert "S start" not in keys
        assert not missing(keys, "E end", "p BP", "t temp", "n note", "b break", "a ack", "1-9 scene")
        if kind is SessionKind.DOSING:
            assert not missing(keys, "d dose", "B base", "[] phase")
            assert "D suppl" not in keys  # the supplemental dose once the dose is marked
            assert "Phase: Arrival and baseline" in text(app, "session")
            assert "vitals check in 30 min" in text(app, "session")
        else:
            assert missing(keys, "d dose", "D suppl", "[] phase", "B base") == [
                "d dose",
                "D suppl",
                "[] phase",
                "B base",
            ]
            assert "vitals optional" in text(app, "session")
            await pilot.press("d")  # no dose in this kind of session: the key does nothing
            await pilot.pause()
            assert len(app.screen_stack) == 1
            assert app.commands_sent == 1

        session_id = real_room.manager.state.id
        await pilot.press("E")  # asks first; n keeps the session
        await until(pilot, lambda: len(app.screen_stack) > 1)
        assert f"End the {kind.value} session?" in str(app.screen.query_one("#dialog-title").render())
        await pilot.press("n")
        await until(pilot, lambda: len(app.screen_stack) == 1)
        assert real_room.manager.active

        await pilot.press("E", "y")
        await until(pilot, lambda: app.view.session.id is None)
        assert not real_room.manager.active
        await until(pilot, lambda: text(app, "session").startswith("No session"))
        assert "S start session" in text(app, "keys")
        assert app.message == f"session {session_id} ended"

    assert session_id is not None
    row = await real_room.store.call(lambda db: db.session(session_id))
    assert row is not None
    assert row.session_kind == kind.value
    assert row.ended_at is not None


async def test_escape_starts_nothing(real_room: RealRoom) -> None:
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("S")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("x", "escape")  # a key that is not a choice does nothing; Escape closes
        await until(pilot, lambda: len(app.screen_stack) == 1)
        assert app.commands_sent == 0
        assert not real_room.manager.active


def test_help_line_fits_80_columns_and_is_made_from_the_bindings() -> None:
    from roomctl.models import SessionState

    app = RoomApp(ScriptedLink([]))
    app.view.session = SessionState(id="s", session_kind=SessionKind.DOSING, started_at=T0)
    entries = app.help_entries()
    assert {("d", "dose"), ("[]", "phase"), ("1-9", "scene")} <= set(entries)
    from roomctl.tui.widgets import keys_rows

    lines = ["".join(text for text, _ in row) for row in keys_rows(entries)]
    assert len(lines) <= 2
    assert all(len(line) <= 80 for line in lines)
    shown = {b.action for b in app.BINDINGS if isinstance(b, Binding) and b.show}
    assert {"dose(False)", "start_session", "end_session", "acknowledge", "quit"} <= shown


async def steady_heart_rate(room: RealRoom, minutes: float, bpm: float) -> None:
    for _ in range(int(minutes * 60)):
        room.clock.advance(1)
        room.hub.publish(
            Reading(quantity=Quantity.HEART_RATE, value=bpm, unit="bpm", device="chest-strap", ts=room.clock.now())
        )
        await room.manager.tick()


async def test_discharge_check_from_the_screen(real_room: RealRoom) -> None:
    m = real_room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await steady_heart_rate(real_room, 6, 68)  # the patient's own baseline
    assert (await m.handle(SetBaseline(action="confirm"))).ok
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert "X discharge" not in text(app, "keys")  # not offered before the taper
        await pilot.press("X")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert (await m.handle(SetPhase(phase="taper"))).ok
        await until(pilot, lambda: "discharge: not yet (X: why)" in text(app, "session"))
        assert "X discharge" in text(app, "keys")
        await steady_heart_rate(real_room, 31, 72)
        await until(pilot, lambda: "discharge: READY (X)" in text(app, "session"))

        await pilot.press("X")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        shown = str(app.screen.query_one("#dialog-findings").render())
        assert "ok: heart rate vs baseline 68 (within 15 bpm): near for 30 min" in shown  # since the confirmation
        assert "ok: no active alarm" in shown
        await pilot.press("o", "enter")  # one tick missing: the daemon refuses, nothing recorded
        await until(pilot, lambda: app.message.startswith("refused: the team confirms both"))
        await pilot.press("X", "o", "s")
        await until(
            pilot, lambda: "[x] s  support person present" in str(app.screen.query_one("#dialog-ticks").render())
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.message.startswith("discharge check passed and recorded at"))
        await until(pilot, lambda: "discharge check done" in text(app, "session"))
    assert m.state.discharge is not None
    assert m.state.discharge.checked_at == real_room.clock.now()
    session_id = m.state.id
    assert session_id is not None
    events = await real_room.store.call(lambda db: db.events(session_id))
    assert [e[3] for e in events].count("discharge_check") == 1


async def test_since_dose_stays_right_after_an_ntp_step(real_room: RealRoom) -> None:
    """NTP steps the Pi's wall clock an hour forward 30 minutes after the dose: the screen still says 0:30 h since the
    dose (before: 1:30 h, off by the step)."""
    m = real_room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        real_room.clock.advance(30 * 60)
        await m.tick()
        app.refresh_view()
        assert "since dose 0:30 h" in text(app, "session")
        real_room.clock.jump_wall(3600)
        await m.tick()  # the daemon's next tick sees the step
        await until(pilot, lambda: real_room.hub.state.session == app.view.session)  # the screen has the new state
        app.refresh_view()
        assert "since dose 0:30 h" in text(app, "session")  # before: 1:30 h
        assert "since start 0:30 h" in text(app, "session")
        assert "(suggested: Onset)" in text(app, "session")


async def test_an_oximeter_only_room_reaches_ready_on_its_pulse_rate(real_room: RealRoom) -> None:
    """No heart-rate strap sends: the oximeter's pulse rate is the baseline and the steady count, and the screen says
    so (before: "heart rate: no baseline" for the whole session, never ready)."""
    m = real_room.manager

    async def pulse(minutes: float, bpm: float) -> None:
        for _ in range(int(minutes * 60)):
            real_room.clock.advance(1)
            real_room.hub.publish(
                Reading(
                    quantity=Quantity.PULSE_RATE, value=bpm, unit="bpm", device="oximeter", ts=real_room.clock.now()
                )
            )
            await m.tick()

    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    await pulse(6, 66)
    assert (await m.handle(SetBaseline(action="confirm"))).ok
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert (await m.handle(SetPhase(phase="taper"))).ok
        await pulse(31, 70)
        await until(pilot, lambda: "discharge: READY (X)" in text(app, "session"))
        await pilot.press("X")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        shown = str(app.screen.query_one("#dialog-findings").render())
        assert "ok: pulse rate (oximeter) vs baseline 66 (within 15 bpm): near for 30 min" in shown


async def test_a_break_offers_standby_for_the_wearables_taken_off_and_shows_it(real_room: RealRoom) -> None:
    """Issue 23 §2: b asks which wearables come off; standby is never silent (the banner names them and counts
    down); b again ends the break and the banner says to reattach them within the minute."""
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await real_room.manager.handle(StartSession(session_kind=SessionKind.DOSING))
        await until(pilot, lambda: app.view.session.session_kind is SessionKind.DOSING)
        await pilot.press("b")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        hint = str(app.screen.query_one("#dialog-hint").render())
        assert "at most 10 min" in hint
        assert "a all off   1 Chest strap   2 Oximeter   n none (light only)" in hint
        await pilot.press("2")
        await until(pilot, lambda: real_room.manager.state.standby is not None)
        standby = real_room.manager.state.standby
        assert standby is not None
        assert standby.devices == ("oximeter",)
        await until(pilot, lambda: "standby: Oximeter off for the break, 10 min left" in app.banner.shown)
        assert "ON BREAK" in text(app, "session")
        await pilot.press("b")  # the break ends: the oximeter has a minute to come back
        await until(pilot, lambda: "reattach Oximeter" in app.banner.shown)
        assert "standby ends in 1:00: reattach Oximeter" in app.banner.shown
        session = real_room.manager.state.id
        assert session is not None
        rows = await real_room.store.call(lambda db: db.events(session))
        assert [row[3] for row in rows].count("standby_start") == 1


async def test_a_vitals_check_due_overdue_and_done_from_the_keyboard(real_room: RealRoom) -> None:
    """15 min after the dose the check is DUE, 10 min later OVERDUE with what it still needs; p, t and r from the
    keyboard complete it, and the record has the check with its distress rating."""
    m, clock = real_room.manager, real_room.clock
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert "r distress" in text(app, "keys")
        assert "vitals check in 15 min" in text(app, "session")
        clock.advance(15 * 60)
        app.refresh_view()
        assert "check DUE: BP temp" in text(app, "session")
        await pilot.press("p", *"150/95", "enter")
        await until(pilot, lambda: app.view.session.vitals_check_missing == ("temperature",))
        clock.advance(11 * 60)
        app.refresh_view()
        assert "check OVERDUE 11 min: temp" in text(app, "session")
        await pilot.press("r", *"11", "enter")  # out of range: the dialog says why and stays
        await until(pilot, lambda: "0 (none) to 10 (worst)" in str(app.screen.query_one("#dialog-error").render()))
        await pilot.press("backspace", "backspace", "4", "enter")
        await until(pilot, lambda: app.message.startswith("distress 4 of 10 recorded"))
        await pilot.press("t", *"37.8", "enter")
        await until(pilot, lambda: "vitals check in 15 min" in text(app, "session"))
    session_id = m.state.id
    assert session_id is not None
    events = await real_room.store.call(lambda db: db.events(session_id))
    (check,) = [json.loads(e[-1]) for e in events if e[3] == "vitals_check"]
    assert check["distress"] == 4
    assert check["on_time"] is False
    assert check["blood_pressure"] == [150, 95]


async def test_an_adverse_event_from_the_keyboard(real_room: RealRoom) -> None:
    """A, then one key each: category, severity, action, emergency services; then optional text, Enter records."""
    m = real_room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.DOSING))).ok
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert "A adverse" in text(app, "keys")
        await pilot.press("A")
        await until(pilot, lambda: len(app.screen_stack) > 1)

        def hint() -> str:
            return str(app.screen.query_one("#dialog-hint").render())

        assert "1 anxiety or panic" in hint()
        assert "7 other" in hint()
        await pilot.press("9")  # no such category: nothing happens
        await pilot.press("1")
        await until(pilot, lambda: "1 mild   2 moderate   3 severe   4 serious" in hint())
        await pilot.press("2")
        await until(pilot, lambda: "Action taken?" in hint())
        await pilot.press("2")
        await until(pilot, lambda: "Emergency services called?" in hint())
        await pilot.press("n")
        await until(pilot, lambda: "Anything to add" in hint())
        so_far = str(app.screen.query_one("#dialog-so-far").render())
        assert so_far == "anxiety or panic, moderate, grounding, no emergency services"
        await pilot.press(*"settled with breathing", "enter")
        await until(pilot, lambda: app.message == "adverse event recorded: anxiety or panic, moderate")
        await pilot.press("A", "6", "4", "0", "y", "escape")  # Escape: nothing recorded
        await until(pilot, lambda: len(app.screen_stack) == 1)
    session_id = m.state.id
    assert session_id is not None
    events = await real_room.store.call(lambda db: db.events(session_id))
    recorded = [(e[4], json.loads(e[5])) for e in events if e[3] == "adverse_event"]
    assert recorded == [
        (
            "settled with breathing",
            {
                "category": "anxiety_or_panic",
                "severity": "moderate",
                "action": "grounding",
                "emergency_services": False,
            },
        )
    ]


async def test_the_baseline_from_the_keyboard_proposed_confirmed_and_entered(real_room: RealRoom) -> None:
    """Issue 23 §1 at 80x24: the proposal fills its window, B c confirms it (refused until the window is full), the
    checklist line and the limits follow; after a dose without one, the line says the room's limits apply and B e
    enters one by hand."""
    m = real_room.manager
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("S", "d")
        await until(pilot, lambda: "baseline? collecting 1 min (B)" in text(app, "session"))  # the demo room: 60 s
        await pilot.press("B")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        assert "c confirm   r re-take (start again)   e enter by hand" in str(
            app.screen.query_one("#dialog-hint").render()
        )
        await pilot.press("c")
        await until(pilot, lambda: app.message.startswith("refused: the proposal needs 1 min of resting data"))
        await steady_heart_rate(real_room, 1.1, 71)
        await until(pilot, lambda: "baseline? HR 71 (B)" in text(app, "session"))
        assert all(len(line) <= 80 for line in text(app, "session").splitlines())
        await pilot.press("B", "c")
        await until(pilot, lambda: app.message == "baseline confirmed: HR 71; the limits follow it")
        await until(pilot, lambda: "baseline HR 71" in text(app, "session"))
        assert [b.value for b in m.baselines()] == [71]

        await pilot.press("E", "y")
        await until(pilot, lambda: app.view.session.id is None)
        await pilot.press("S", "d")
        await until(pilot, lambda: "baseline? collecting" in text(app, "session"))
        await pilot.press("d", "enter", "y")  # the dose, no baseline confirmed (y: with the checklist open)
        await until(pilot, lambda: "NO BASELINE: room limits" in text(app, "session"))
        first_line = text(app, "session").splitlines()[0]
        assert len(first_line) <= 80, first_line
        await pilot.press("B")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("c")  # no proposal after the dose: c does nothing
        await pilot.pause()
        assert len(app.screen_stack) > 1
        await pilot.press("e")
        await until(pilot, lambda: len(app.screen_stack) > 2)
        await pilot.press(*"hr 7x", "enter")
        await until(pilot, lambda: "is not understood" in str(app.screen.query_one("#dialog-error").render()))
        await pilot.press(*["backspace"] * 5, *"hr 70 spo2 97 bp 118/76", "enter")
        await until(
            pilot, lambda: app.message == "baseline entered by hand: HR 70, SpO2 97, BP 118/76; the limits follow it"
        )
        assert len(app.screen_stack) == 1
        await until(pilot, lambda: "NO BASELINE" not in text(app, "session"))
        assert {b.source for b in m.baselines()} == {"entered"}


async def test_the_checklist_and_the_doses_from_the_keyboard(real_room: RealRoom) -> None:
    """Issue 23 §4 at 80x24: C ticks the checklist (1-9, Enter), B e ticks "baseline confirmed" itself; the dose with
    an item open asks once more (n: nothing sent, y: recorded with it); the supplemental dose too early is warned about
    in its dialog and recorded so; the help line stays within two rows of 80 columns with the music keys."""
    m, clock = real_room.manager, real_room.clock
    app = real_room.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("S", "d")
        await until(pilot, lambda: "checklist 0/6 (C)" in text(app, "session"))
        keys = text(app, "keys")
        assert "C checklist" in keys
        assert len(keys.splitlines()) <= 2
        await pilot.press("C")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        ticks = str(app.screen.query_one("#dialog-ticks").render())
        assert "[ ] 1  medical and psychiatric screening reviewed" in ticks
        await pilot.press("1", "2", "4", "5", "5", "9", "enter")  # 5 twice: ticked and unticked; 9: no such item
        await until(pilot, lambda: app.message == "checklist: 3 of 6 ticked")
        await pilot.press("B", "e", *"hr 70", "enter")
        await until(pilot, lambda: "checklist 4/6 (C)" in text(app, "session"))
        await pilot.press("d", "enter")
        await until(
            pilot,
            lambda: len(app.screen_stack) > 1 and "Dose anyway?" in str(app.screen.query_one("#dialog-title").render()),
        )
        hint = str(app.screen.query_one("#dialog-hint").render())
        assert "open: support person or ride home arranged; consent for any recording" in hint
        await pilot.press("n")
        await until(pilot, lambda: len(app.screen_stack) == 1)
        assert m.state.dose_times == ()
        await pilot.press("d", *"120", "enter", "y")
        await until(pilot, lambda: bool(app.view.session.dose_times))
        clock.advance(60 * 60)
        await pilot.press("D")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        title = str(app.screen.query_one("#dialog-title").render())
        assert "WARNING: 60 min after the dose, outside the 90-150 min window" in title
        await pilot.press(*"40", "enter")
        await until(pilot, lambda: "WARNING" in app.message)
        await until(pilot, lambda: "since dose 1:00 h, suppl. 0:00 h" in text(app, "session"))
        assert "C checklist" not in text(app, "keys")  # after the dose
    session_id = m.state.id
    assert session_id is not None
    events = await real_room.store.call(lambda db: db.events(session_id))
    texts = {e[3]: e[4] for e in events}
    assert texts["dose"] == "dose with open items: support person or ride home arranged, consent for any recording"
    assert (
        texts["supplemental_dose"] == "supplemental dose 60 min after the initial dose: outside the 90-150 min window"
    )
    assert [e[3] for e in events].count("checklist") == 4


@pytest.mark.parametrize("dosed", [False, True])
def test_help_line_fits_two_rows_of_80_columns_with_the_protocol_and_music_keys(dosed: bool) -> None:
    from roomctl.models import BaselineStatus, ChecklistItemState, SessionState
    from roomctl.tui.widgets import keys_rows

    app = RoomApp(ScriptedLink([]))
    info = room_info(parse_config(demo_config_text()))
    app.view.info = info.model_copy(update={"music": True})
    app.view.session = SessionState(
        id="s",
        session_kind=SessionKind.DOSING,
        started_at=T0,
        dose_times=(T0,) if dosed else (),
        checklist=(ChecklistItemState(id="consent", label="consent"),),
        baseline=BaselineStatus(window_s=60, open=not dosed),  # none confirmed: B stays after the dose
    )
    entries = app.help_entries()
    assert ("B", "base") in entries
    assert (("C", "checklist") in entries) is not dosed
    assert ("m", "music") in entries
    lines = ["".join(text for text, _ in row) for row in keys_rows(entries)]
    assert len(lines) <= 2, lines
    assert all(len(line) <= 80 for line in lines)
