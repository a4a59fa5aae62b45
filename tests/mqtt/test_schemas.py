"""The shipped schemas equal the generated ones; ``roomctl schema mqtt`` prints them; every encoded payload validates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from roomctl.cli.main import main
from roomctl.config import MqttConfig, RoomSection
from roomctl.mqtt.feed import Topics, encode
from roomctl.mqtt.schemas import all_schemas, entry_for, render, schema_of
from roomctl.storage.outbox import OutboxRecord
from tests.mqtt.conftest import SCHEMA_DIR
from tests.mqtt.events import one_of_each

NOW = datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)


def test_shipped_schema_files_equal_the_generated_ones() -> None:
    generated = all_schemas()
    shipped = {p.stem: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert set(shipped) == set(generated), "run: roomctl schema mqtt --write schemas/mqtt"
    for name, schema in generated.items():
        assert shipped[name] == render(schema), f"schemas/mqtt/{name}.json is stale"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_cli_prints_every_schema_and_one_by_topic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["schema", "mqtt"]) == 0
    assert json.loads(capsys.readouterr().out) == all_schemas()
    assert main(["schema", "mqtt", "--topic", "vitals/spo2"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Vital"
    assert main(["schema", "mqtt", "--write", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(all_schemas())


def test_cli_unknown_topic_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "mqtt", "--topic", "vitals/a/b"]) == 1
    err = capsys.readouterr().err
    assert "no schema for topic 'vitals/a/b'" in err
    assert "Traceback" not in err


def test_every_encoded_payload_validates(shipped_schemas: dict[str, dict[str, Any]]) -> None:
    topics = Topics(MqttConfig(), RoomSection(site="clinic", room="willow"))
    strict = all_schemas(strict=True)
    for seq, event in enumerate(one_of_each(NOW), start=1):
        msg, _ = encode(topics, OutboxRecord(seq, event.kind, "s1", event.model_dump_json()))
        relative = msg.topic.removeprefix(topics.root + "/")
        entry = entry_for(relative)
        assert entry is not None, relative
        assert entry.retained == msg.retain
        payload = json.loads(msg.payload)
        jsonschema.validate(payload, strict[entry.name])
        assert payload["seq"] == seq


def test_vital_payload_is_exactly_the_contract() -> None:
    topics = Topics(MqttConfig(topic_prefix="clinics/north"), RoomSection(site="clinic", room="willow"))
    event = one_of_each(NOW)[3]  # pulse rate, value missing
    msg, _ = encode(topics, OutboxRecord(7, "reading", None, event.model_dump_json()))
    assert msg.topic == "clinics/north/clinic/willow/vitals/pulse_rate"
    assert (msg.retain, msg.expires) == (False, True)
    assert json.loads(msg.payload) == {
        "ts": "2026-03-01T09:30:00.123Z",
        "value": None,
        "unit": "bpm",
        "device": "oxi",
        "session": None,
        "seq": 7,
        "quality": "invalid",
    }


def test_published_schemas_accept_additions_strict_ones_do_not(shipped_schemas: dict[str, dict[str, Any]]) -> None:
    """Consumers must accept fields a later version adds; the project's own checks use the strict form."""
    strict = all_schemas(strict=True)
    for name, schema in shipped_schemas.items():
        text = json.dumps(schema)
        if schema["x-mqtt"]["direction"] == "published":
            assert '"additionalProperties": false' not in text, name
        else:
            assert '"additionalProperties": false' in text, name  # commands: roomctl rejects unknown fields
        assert name in strict


def test_schema_rejects_a_payload_that_drifts(shipped_schemas: dict[str, dict[str, Any]]) -> None:
    good = {
        "ts": "2026-03-01T09:30:00.123Z",
        "value": 1,
        "unit": "%",
        "device": "d",
        "session": None,
        "seq": 1,
        "quality": "ok",
    }
    jsonschema.validate(good, shipped_schemas["vital"])
    jsonschema.validate(good | {"extra": 1}, shipped_schemas["vital"])  # a later version's addition
    strict = all_schemas(strict=True)["vital"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good | {"extra": 1}, strict)
    for bad in (good | {"ts": "2026-03-01 09:30"}, {k: v for k, v in good.items() if k != "seq"}):
        for schema in (shipped_schemas["vital"], strict):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(bad, schema)


def test_session_events_carry_kind_time_and_allowed_numbers_never_free_text() -> None:
    topics = Topics(MqttConfig(), RoomSection(site="clinic", room="willow"))
    dose = one_of_each(NOW)[6]  # a dose with the note "120 mg" and data {"amount_mg": 120}
    msg, _ = encode(topics, OutboxRecord(9, "event", "s1", dose.model_dump_json()))
    assert json.loads(msg.payload) == {
        "id": "e1",
        "session": "s1",
        "event": "dose",
        "ts": "2026-03-01T09:30:00.123Z",
        "data": {"amount_mg": 120},
        "seq": 9,
    }
    assert b"120 mg" not in msg.payload  # the note's text stays on the Pi


def test_the_feed_table_covers_every_stored_kind_and_the_docs_list_every_topic() -> None:
    from roomctl.mqtt.feed import BY_RECORD, FEED
    from roomctl.storage.rows import STORED_KINDS

    assert set(STORED_KINDS) <= set(BY_RECORD)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mqtt.md").read_text()
    for entry in FEED:
        assert f"| `…/{entry.topic}` |" in docs, entry.topic
        assert f"`{entry.name}.json`" in docs, entry.name


def test_each_history_row_is_its_live_row_with_history_for_vitals_and_no_expiry() -> None:
    from roomctl.mqtt.feed import BY_NAME, FEED, HISTORY_HEAD, LIVE_HEAD

    history = [e for e in FEED if e.history_of is not None]
    assert {e.history_of for e in history} == {"vital", "rr_intervals"}
    for entry in history:
        live = BY_NAME[entry.history_of]  # type: ignore[index]
        assert live.expires
        assert entry.model is live.model  # the same payload and schema
        assert not entry.retained
        assert not entry.expires
        assert entry.record is None  # made by the history lane from the live row's records
        assert entry.topic == HISTORY_HEAD + live.topic.removeprefix(LIVE_HEAD)
        assert "message_expiry" not in schema_of(entry)["x-mqtt"]
        assert schema_of(entry)["properties"] == schema_of(live)["properties"]
