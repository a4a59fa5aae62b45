"""The pre-dose checklist and the supplemental dose's window (issue 23 §4), on the real session manager and store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.commands import CommandRejected, MarkEvent, SetBaseline, StartSession, TickChecklist, parse_command
from roomctl.hub import Hub
from roomctl.models import SessionKind
from roomctl.mqtt.command_topic import parse_command as parse_mqtt
from tests.session.conftest import Room, make_room

ALL_BUT_CONSENT = ["screening", "medication", "baseline", "intentions", "ride_home"]


async def dosing(room: Room) -> None:
    assert (await room.manager.handle(StartSession(session_kind=SessionKind.DOSING))).ok


async def test_the_default_checklist_ticks_are_recorded_with_their_times(room: Room) -> None:
    m = room.manager
    await dosing(room)
    assert [i.label for i in m.state.checklist] == [
        "medical and psychiatric screening reviewed",
        "medication review done",
        "baseline confirmed",
        "intentions and grounding reviewed",
        "support person or ride home arranged",
        "consent for any recording",
    ]
    assert room.hub.state.session.checklist == m.state.checklist  # the screen sees it
    result = await m.handle(TickChecklist(ticked=["screening", "medication"]))
    assert result.message == "checklist: 2 of 6 ticked"
    ticked_at = room.clock.now()
    room.clock.advance(60)
    assert (await m.handle(TickChecklist(ticked=["medication"]))).ok  # screening unticked
    events = room.events("checklist")
    assert [(e.data["item"], e.data["ticked"]) for e in events] == [
        ("screening", True),
        ("medication", True),
        ("screening", False),
    ]
    assert events[0].text == "checklist: medical and psychiatric screening reviewed ticked"
    (medication,) = [i for i in m.state.checklist if i.ticked_at is not None]
    assert medication.ticked_at == ticked_at  # kept from when it was ticked
    refused = await m.handle(TickChecklist(ticked=["medication", "horoscope"]))
    assert refused.message.startswith("no checklist item horoscope; the items are: screening, medication, baseline")


async def test_a_dose_with_items_open_is_recorded_so(room: Room) -> None:
    """(The screen asks once more before it sends such a dose: tests/tui/test_sessions.py.)"""
    m = room.manager
    await dosing(room)
    assert (await m.handle(TickChecklist(ticked=ALL_BUT_CONSENT))).ok
    assert (await m.handle(MarkEvent(event="dose", amount_mg=120))).ok
    (dose,) = room.events("dose")
    assert dose.text == "dose with open items: consent for any recording"
    assert dose.data == {"amount_mg": 120, "open_items": ["consent for any recording"]}


async def test_a_dose_with_every_item_ticked_needs_no_second_question(room: Room) -> None:
    m = room.manager
    await dosing(room)
    assert (await m.handle(TickChecklist(ticked=[*ALL_BUT_CONSENT, "recording_consent"]))).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    (dose,) = room.events("dose")
    assert dose.text is None
    assert "open_items" not in dose.data


async def test_confirming_the_baseline_ticks_its_item(room: Room) -> None:
    m = room.manager
    await dosing(room)
    assert (await m.handle(SetBaseline(action="enter", heart_rate=70))).ok
    (item,) = [i for i in m.state.checklist if i.ticked_at is not None]
    assert item.id == "baseline"
    assert [e.data["item"] for e in room.events("checklist")] == ["baseline"]


@pytest.mark.parametrize(
    ("minutes", "outside"),
    [(60, True), (90, False), (120, False), (150, False), (151, True)],
)
async def test_a_supplemental_dose_outside_its_window_is_warned_about_and_recorded(
    room: Room, minutes: int, outside: bool
) -> None:
    m = room.manager
    await dosing(room)
    assert (await m.handle(MarkEvent(event="dose"))).ok
    room.clock.advance(minutes * 60)
    result = await m.handle(MarkEvent(event="supplemental_dose", amount_mg=60))
    assert result.ok
    (supplemental,) = room.events("supplemental_dose")
    assert supplemental.data["minutes_after_dose"] == minutes
    assert supplemental.data["outside_window"] is outside
    if outside:
        assert f"WARNING: {minutes} min after the initial dose: outside the 90-150 min window" in result.message
        assert (
            supplemental.text
            == f"supplemental dose {minutes} min after the initial dose: outside the 90-150 min window"
        )
    else:
        assert "WARNING" not in result.message
        assert supplemental.text is None


async def test_the_window_and_the_checklist_are_room_settings(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    extra = """
supplemental_from_min = 60
supplemental_to_min = 90

[[session.checklist]]
id = "consent"
label = "consent signed"
"""
    room = await make_room(tmp_path / "room.db", clock, hub, extra)
    m = room.manager
    await dosing(room)
    assert [i.id for i in m.state.checklist] == ["consent"]
    assert m.state.supplemental_window_min == (60, 90)
    assert (await m.handle(TickChecklist(ticked=["consent"]))).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    clock.advance(timedelta(minutes=70).total_seconds())
    assert "WARNING" not in (await m.handle(MarkEvent(event="supplemental_dose"))).message
    await room.writer.stop()
    await room.store.close()


async def test_the_ticks_survive_a_restart(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    first = await make_room(tmp_path / "room.db", clock, hub)
    await dosing(first)
    assert (await first.manager.handle(TickChecklist(ticked=["screening"]))).ok
    await first.writer.stop()
    await first.store.close()
    again = await make_room(tmp_path / "room.db", clock, Hub())
    assert await again.manager.resume()
    assert [i.id for i in again.manager.state.checklist if i.ticked_at is not None] == ["screening"]
    assert (await again.manager.handle(MarkEvent(event="dose"))).ok
    (dose,) = again.events("dose")
    assert dose.data["open_items"][:2] == ["medication review done", "baseline confirmed"]
    await again.writer.stop()
    await again.store.close()


async def test_other_sessions_have_no_checklist(room: Room) -> None:
    m = room.manager
    assert (await m.handle(StartSession(session_kind=SessionKind.INTEGRATION))).ok
    assert m.state.checklist == ()
    refused = await m.handle(TickChecklist(ticked=[]))
    assert refused.message == "this session has no checklist (dosing sessions, [session] checklist)"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"command": "checklist", "ticked": "screening"}', "ticked"),
        ('{"command": "checklist", "ticked": ["Screening Reviewed!"]}', "ticked.0"),
        ('{"command": "checklist", "ticked": ["a","b","c","d","e","f","g","h","i","j"]}', "ticked"),
    ],
)
def test_the_commands_are_parsed_strictly(raw: str, why: str) -> None:
    with pytest.raises(CommandRejected) as refused:
        parse_command(raw)
    assert why in str(refused.value)


def test_mqtt_may_not_tick_the_checklist() -> None:
    with pytest.raises(CommandRejected) as refused:
        parse_mqtt(b'{"command": "checklist", "ticked": []}', retained=False)
    assert "'checklist' is not allowed over MQTT" in str(refused.value)


async def test_the_report_states_the_checklist_at_the_dose_and_the_supplemental_window(
    tmp_path: Path, clock: FakeClock, hub: Hub
) -> None:
    from roomctl.commands import EndSession
    from roomctl.report.data import load
    from roomctl.report.protocol import checklist_words, supplemental_words
    from roomctl.storage.database import Database

    room = await make_room(tmp_path / "room.db", clock, hub)
    m = room.manager
    await dosing(room)
    assert (await m.handle(TickChecklist(ticked=ALL_BUT_CONSENT))).ok
    assert (await m.handle(MarkEvent(event="dose"))).ok
    clock.advance(60 * 60)
    assert (await m.handle(MarkEvent(event="supplemental_dose"))).ok
    session_id = m.state.id
    assert session_id is not None
    assert (await m.handle(EndSession())).ok
    await room.writer.stop()
    await room.store.close()
    record = load(Database(tmp_path / "room.db", readonly=True), session_id)
    assert checklist_words(record) == "checklist at the dose: 5 of 6 (open: consent for any recording)"
    assert supplemental_words(record) == "supplemental at 60 min: OUTSIDE its window"
