"""Each event is encoded once: the record, the outbox and the local API reuse the same JSON text."""

from __future__ import annotations

from roomctl import models
from roomctl.models import event_json
from roomctl.storage.rows import RowMaker
from tests.builders import reading


def test_one_encoding_serves_every_consumer() -> None:
    event = reading(72)
    text = event_json(event)
    assert text == event.model_dump_json()
    assert event_json(event) is text  # the second consumer gets the same text, not a new encoding
    row = RowMaker(None).make(event, 0.0)
    assert row is not None
    assert row.payload is text


def test_an_equal_but_different_event_is_encoded_for_itself() -> None:
    first, second = reading(72), reading(72, at_s=1)
    assert event_json(first) != event_json(second)


def test_the_cache_keeps_only_the_newest_events() -> None:
    events = [reading(60 + i % 50, at_s=i) for i in range(models._JSON_CACHE_SIZE + 10)]
    texts = [event_json(e) for e in events]
    assert len(models._JSON_CACHE) <= models._JSON_CACHE_SIZE
    assert event_json(events[-1]) is texts[-1]
    assert event_json(events[0]) == texts[0]  # evicted: encoded again, to the same text
