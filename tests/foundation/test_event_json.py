"""Each event is encoded once: the record, the outbox and the local API reuse the same JSON text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from roomctl import models
from roomctl.models import UNITS, Quality, Quantity, Reading, event_json, iso_ms
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


_QUANTITIES = [q for q in Quantity if q is not Quantity.RR_INTERVALS]


@given(
    quantity=st.sampled_from(_QUANTITIES),
    value=st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
    device=st.text(min_size=1, max_size=20),
    ts=st.datetimes(timezones=st.just(UTC)),
    quality=st.sampled_from(list(Quality)),
)
def test_the_hot_path_reading_equals_a_validated_one(
    quantity: Quantity, value: float | None, device: str, ts: datetime, quality: Quality
) -> None:
    """``Reading.of`` (the link's constructor, no validation) makes exactly what ``Reading(...)`` makes."""
    validated = Reading(quantity=quantity, value=value, unit=UNITS[quantity], device=device, ts=ts, quality=quality)
    fast = Reading.of(quantity, value, device, ts, quality)
    assert fast == validated
    assert type(fast.value) is type(validated.value)  # an int becomes a float, as validation makes it
    assert fast.model_fields_set == validated.model_fields_set
    assert fast.model_dump_json() == validated.model_dump_json()
    assert fast.model_dump() == validated.model_dump()
    with pytest.raises(ValidationError):
        fast.value = 1.0  # type: ignore[misc]  # frozen like any model
    assert fast.model_copy(update={"value": 1.0}) == validated.model_copy(update={"value": 1.0})
    assert fast.model_fields_set == validated.model_fields_set  # the copy's update did not reach the original


@given(
    st.datetimes(
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])
    )
)
def test_iso_ms_is_utc_with_milliseconds(ts: datetime) -> None:
    utc = ts.astimezone(UTC)
    expected = f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
    assert iso_ms(ts) == expected
    assert iso_ms(ts + timedelta(seconds=1)) == iso_ms(utc + timedelta(seconds=1))  # the next second's text is its own
