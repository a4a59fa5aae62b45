"""Adverse events: recorded with category, severity, action and emergency services from the room's lists; text kept on
the Pi; on MQTT only the kind, category, severity and time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roomctl.clock import FakeClock
from roomctl.commands import CommandRejected, EndSession, RecordAdverseEvent, StartSession, parse_command
from roomctl.config import MqttConfig, RoomSection
from roomctl.hub import Hub
from roomctl.models import SessionKind, Severity
from roomctl.mqtt.feed import Topics, encode
from roomctl.storage.outbox import OutboxRecord
from tests.session.conftest import Room, make_room

PANIC = RecordAdverseEvent(
    category="anxiety_or_panic",
    severity=Severity.MODERATE,
    action="grounding",
    emergency_services=False,
    text="panic wave at the peak; settled with breathing (J. said it felt like dying)",
)


async def test_an_adverse_event_is_recorded_with_its_text(room: Room) -> None:
    m = room.manager
    await m.handle(StartSession())
    result = await m.handle(PANIC)
    assert result.ok
    assert result.message == "adverse event recorded: anxiety or panic, moderate"
    (event,) = room.events("adverse_event")
    assert event.data == {
        "category": "anxiety_or_panic",
        "severity": "moderate",
        "action": "grounding",
        "emergency_services": False,
    }
    assert event.text == PANIC.text
    sid = m.state.id
    assert sid is not None
    stored = await room.store.call(lambda db: [(e[3], e[4]) for e in db.events(sid)])
    assert ("adverse_event", PANIC.text) in stored


async def test_emergency_services_and_no_action_in_any_kind_of_session(room: Room) -> None:
    await room.manager.handle(StartSession(session_kind=SessionKind.INTEGRATION))
    fainting = RecordAdverseEvent(category="fainting", severity=Severity.SERIOUS, emergency_services=True)
    result = await room.manager.handle(fainting)
    assert result.message == "adverse event recorded: fainting, serious, emergency services called"
    (event,) = room.events("adverse_event")
    assert event.data["action"] is None
    assert event.data["emergency_services"] is True
    assert event.text is None


async def test_a_category_or_action_not_in_the_rooms_list_is_refused_in_words(room: Room) -> None:
    m = room.manager
    assert (await m.handle(PANIC)).message == "no session is running; start one first"
    await m.handle(StartSession())
    refused = await m.handle(RecordAdverseEvent(category="seizure", severity=Severity.SEVERE))
    assert not refused.ok
    assert refused.message.startswith(
        "unknown category 'seizure'; this room's are: anxiety_or_panic, nausea_or_vomiting"
    )
    refused = await m.handle(PANIC.model_copy(update={"action": "sedation"}))
    assert refused.message.startswith("unknown action 'sedation'; this room's are: reassurance, grounding")
    assert room.events("adverse_event") == []
    await m.handle(EndSession())


async def test_a_configured_list(tmp_path: Path, clock: FakeClock, hub: Hub) -> None:
    extra = '\n[session.adverse_events]\ncategories = ["seizure", "other"]\nactions = ["benzodiazepine"]\n'
    r = await make_room(tmp_path / "room.db", clock, hub, extra)
    await r.manager.handle(StartSession())
    ok = await r.manager.handle(
        RecordAdverseEvent(category="seizure", severity=Severity.SEVERE, action="benzodiazepine")
    )
    assert ok.ok
    assert not (await r.manager.handle(PANIC)).ok
    await r.writer.stop()
    await r.store.close()


def test_the_strict_parse_refuses_a_bad_adverse_event() -> None:
    good = {"command": "adverse_event", "category": "fainting", "severity": "severe"}
    assert isinstance(parse_command(good), RecordAdverseEvent)
    for bad, words in (
        (good | {"severity": "terrible"}, "severity"),
        (good | {"emergency_services": "yes"}, "emergency_services"),
        (good | {"category": "Fainting!"}, "category"),
        (good | {"text": "x" * 501}, "text"),
        ({k: v for k, v in good.items() if k != "severity"}, "severity"),
    ):
        with pytest.raises(CommandRejected) as e:
            parse_command(bad)
        assert words in str(e.value)


async def test_on_mqtt_only_kind_category_severity_and_time(room: Room) -> None:
    await room.manager.handle(StartSession())
    await room.manager.handle(PANIC.model_copy(update={"emergency_services": True}))
    (event,) = room.events("adverse_event")
    topics = Topics(MqttConfig(), RoomSection(site="clinic", room="willow"))
    msg, _ = encode(topics, OutboxRecord(9, "event", event.session, event.model_dump_json()))
    payload = json.loads(msg.payload)
    assert payload["event"] == "adverse_event"
    assert payload["data"] == {"category": "anxiety_or_panic", "severity": "moderate"}
    assert "ts" in payload
    assert b"panic wave" not in msg.payload
    assert b"grounding" not in msg.payload
    assert b"emergency" not in msg.payload


def test_config_check_explains_bad_lists() -> None:
    from roomctl.config import ConfigError, parse_config
    from tests.session.conftest import ROOM

    def problems(text: str) -> list[str]:
        with pytest.raises(ConfigError) as e:
            parse_config(ROOM + "\n[session.adverse_events]\n" + text, "room.toml")
        return e.value.problems

    assert any("listed twice: other" in p for p in problems('categories = ["other", "fainting", "other"]'))
    ten = ", ".join(f'"c{i}"' for i in range(10))
    assert any("categories" in p and "9" in p for p in problems(f"categories = [{ten}]"))
    assert any("actions" in p for p in problems('actions = ["Cold Towel"]'))
    assert any("categories" in p for p in problems("categories = []"))
