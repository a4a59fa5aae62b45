"""One name per idea in Python, the contracts' names on the wire: an alarm's ``category`` and a session's
``session_kind`` are both ``kind`` in JSON (the record, the local API, MQTT), read and written."""

from __future__ import annotations

import json

from roomctl.models import Alarm, AlarmCategory, AlarmEvent, SessionKind, SessionState, event_json
from roomctl.mqtt import payloads as p
from roomctl.mqtt.feed import Topics, encode
from roomctl.storage.outbox import OutboxRecord
from tests.builders import T0, alarm_event
from tests.mqtt.helpers import ROOM, mqtt_config


def test_an_alarms_category_is_kind_in_its_json() -> None:
    event = alarm_event()
    wire = json.loads(event_json(event))
    assert wire["kind"] == "alarm"  # the event's tag
    assert wire["alarm"]["kind"] == "physiological"
    assert "category" not in wire["alarm"]
    assert event.model_dump()["alarm"]["kind"] is AlarmCategory.PHYSIOLOGICAL
    assert AlarmEvent.model_validate_json(event_json(event)) == event  # a stored record reads back
    technical = {**wire["alarm"], "kind": "technical"}
    assert Alarm.model_validate(technical).category is AlarmCategory.TECHNICAL


def test_mqtt_carries_kind_for_the_alarms_category_and_the_session_kind() -> None:
    topics = Topics(mqtt_config(1883), ROOM)
    alarm, _ = encode(topics, OutboxRecord(7, "alarm", None, event_json(alarm_event())))
    body = json.loads(alarm.payload)
    assert body["kind"] == "physiological"
    assert "category" not in body
    assert p.AlarmEventPayload.model_validate_json(alarm.payload).category is AlarmCategory.PHYSIOLOGICAL

    state = SessionState(id="s1", session_kind=SessionKind.DOSING, started_at=T0)
    session, _ = encode(topics, OutboxRecord(8, "session", "s1", event_json(state)))
    body = json.loads(session.payload)
    assert body["kind"] == "dosing"
    assert "session_kind" not in body
    assert p.SessionPayload.model_validate_json(session.payload).session_kind is SessionKind.DOSING
