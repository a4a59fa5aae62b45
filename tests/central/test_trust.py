"""The station trusts no room: hostile strings made safe where they are parsed, rooms not expected shown apart, alarm
times from the future suspect, and everything a room can send bounded (dropped, counted, said on screen)."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pytest

from roomctl.central.config import LimitsSection
from roomctl.central.parse import PLACEHOLDER, TEXT_MAX, safe_text
from roomctl.central.state import Facility, RoomState, Urgency
from roomctl.central.tiles import SUSPECT, Clocks, detail_text, summary_line, tile_text
from roomctl.clock import FakeClock
from roomctl.models import AlarmAction, LinkState, Priority, Quantity
from tests.central.conftest import drawn, make_app, order, started, tile_of
from tests.central.script import Message, RoomScript

OSC_TITLE = "\x1b]0;PWNED\x07"
CURSOR_HOME = "\x1b[5;1H"
HOSTILE = {
    "osc title and cursor move": f"Willow{OSC_TITLE}{CURSOR_HOME}no alarms",
    "osc ended by ST": "Willow\x1b]2;PWNED\x1b\\",
    "8-bit CSI": "Willow\x9b2J",
    "colour and erase": "\x1b[31;1mWillow\x1b[2K\x1b[0m",
    "bidi override": "Willow\u202e\u2066smrala on\u2069",
    "NUL, bell, DEL, newline": "Wil\x00low\x07\x7f\nline two",
    "line separator and zero width": "Wil\u2028low\u200b",
    "stacked combining marks": "W" + "\u0301" * 500 + "illow",
    "very long": "Willow" * 5000,
}
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def unsafe(text: str) -> set[str]:
    """Characters a terminal or a browser could act on, or that hide or reorder what is shown."""
    return {ch for ch in text if unicodedata.category(ch) in UNSAFE_CATEGORIES and ch != "\n"}


def tampered(original: Message, ascii_escapes: bool, /, **fields: Any) -> Message:
    """``message`` (made by the project's encoder) with some fields replaced, as a hostile room would send it: with
    ``ascii_escapes`` JSON's \\u escapes, else the raw UTF-8."""
    topic, payload, expiry = original
    body = json.loads(payload)
    for path, value in fields.items():
        node = body
        *parents, last = path.split("__")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return topic, json.dumps(body, ensure_ascii=ascii_escapes).encode(), expiry


def hostile_room(clock: FakeClock, text: str, ascii_escapes: bool) -> list[Message]:
    """A room whose name, alarm text, device and phase all carry ``text``."""
    script = RoomScript("harbor", "willow", "Willow")
    now = clock.now()
    online = script.online(now)
    out = []
    for message in online:
        if message[0].endswith("/info"):
            message = tampered(message, ascii_escapes, name=text)
        elif message[0].endswith("/session"):
            message = tampered(message, ascii_escapes, phase=text)
        elif message[0].endswith("/devices/oximeter"):
            message = tampered(message, ascii_escapes, device=text, profile=text)
        out.append(message)
    for message in script.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH):
        if message[0].endswith("/alarms"):
            message = tampered(message, ascii_escapes, message=text)
        else:  # the retained list
            message = tampered(message, ascii_escapes, alarms__0__message=text)
        out.append(message)
    return out + script.vitals(now)


@pytest.mark.parametrize("ascii_escapes", [True, False], ids=["json-escapes", "raw-utf8"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_no_string_from_a_room_reaches_a_view_unsafe(clock: FakeClock, name: str, ascii_escapes: bool) -> None:
    facility = Facility()
    for topic, payload, expiry in hostile_room(clock, HOSTILE[name], ascii_escapes):
        facility.apply(topic, payload, now=clock.now(), mono=clock.monotonic(), expiry_s=expiry)
    assert facility.unreadable == 0, facility.last_problem
    room = facility.rooms[("harbor", "willow")]
    assert room.name is not None
    assert room.name.lstrip(PLACEHOLDER).startswith("W")
    assert room.session is not None
    assert room.session.phase is not None
    assert any(d.device.lstrip(PLACEHOLDER).startswith("W") for d in room.devices.values())
    clocks = Clocks(clock.now(), clock.monotonic(), 15.0)
    shown = tile_text(room, clocks) + "\n" + detail_text(room, clocks)
    assert unsafe(shown) == set(), f"{name}: {sorted(map(hex, map(ord, unsafe(shown))))}"
    assert "\x1b" not in shown
    assert "PWNED" not in shown
    strings = [room.name, room.session.phase, *(a.message for a in room.alarms.values())]
    strings += [s for d in room.devices.values() for s in (d.device, d.profile)]
    for text in strings:
        assert len(text) <= TEXT_MAX
        assert max((len(run) for run in _mark_runs(text)), default=0) <= 2
        assert "\n" not in text


def _mark_runs(text: str) -> list[str]:
    runs, run = [], ""
    for ch in text:
        run = run + ch if unicodedata.combining(ch) else ""
        runs.append(run)
    return runs


def test_safe_text_shows_where_something_was_and_keeps_what_is_harmless() -> None:
    assert safe_text(HOSTILE["osc title and cursor move"]) == f"Willow{PLACEHOLDER}{PLACEHOLDER}no alarms"
    assert safe_text("Willow\u202eevil") == f"Willow{PLACEHOLDER}evil"
    assert safe_text("tab\there") == f"tab{PLACEHOLDER}here"
    assert safe_text("Zimmer Müller – Süd") == "Zimmer Müller – Süd"  # letters and dashes of any language stay
    assert safe_text("a\u00a0b") == "a b"  # odd spaces become a plain space
    long = safe_text("x" * 1000)
    assert len(long) == TEXT_MAX
    assert long.endswith("\u2026")
    text = "Willow"
    assert safe_text(text) is text  # the common case costs nothing


def test_a_topic_whose_site_or_room_is_no_id_is_dropped_and_counted(clock: FakeClock) -> None:
    facility = Facility()
    script = RoomScript("harbor", "willow")
    for bad in ("Willow\x1b[2J", "willow\u202e", "WILLOW", "-x", "a" * 64):
        topic = f"roomctl/harbor/{bad}/status"
        assert facility.apply(topic, b"online", now=clock.now(), mono=0.0) is None
        assert facility.apply(f"roomctl-bridge/harbor/{bad}", b"0", now=clock.now(), mono=0.0) is None
    assert facility.rooms == {}
    assert facility.dropped == {"topics whose site or room is not an id": 10}
    facility.apply(script.status("online")[0][0], b"online", now=clock.now(), mono=0.0)
    assert list(facility.rooms) == [("harbor", "willow")]


def apply_all(facility: Facility, clock: FakeClock, messages: list[Message]) -> None:
    for topic, payload, expiry in messages:
        facility.apply(topic, payload, now=clock.now(), mono=clock.monotonic(), expiry_s=expiry)


def test_unexpected_rooms_sort_after_every_expected_room_and_are_counted_apart(clock: FakeClock) -> None:
    facility = Facility(expected=frozenset({("harbor", "willow"), ("harbor", "oak"), ("harbor", "quiet")}))
    assert set(facility.rooms) == {("harbor", "willow"), ("harbor", "oak"), ("harbor", "quiet")}  # before any word
    now = clock.now()
    willow, oak, fake = RoomScript("harbor", "willow"), RoomScript("harbor", "oak"), RoomScript("elsewhere", "fake")
    apply_all(facility, clock, willow.online(now) + oak.online(now) + fake.online(now))
    apply_all(facility, clock, willow.alarm(AlarmAction.RAISED, now - timedelta(minutes=5), priority=Priority.LOW))
    apply_all(facility, clock, fake.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH))
    ordered = [r.room for r in facility.in_order()]
    assert ordered[-1] == "fake"  # below the calm and the silent expected rooms too
    assert ordered[0] == "willow"
    assert facility.counts()[Urgency.HIGH] == 0
    assert facility.counts()[Urgency.LOW] == 1
    assert [r.room for r in facility.unexpected()] == ["fake"]
    clocks = Clocks(now, clock.monotonic(), 15.0)
    assert tile_text(facility.rooms[("elsewhere", "fake")], clocks).startswith("? ")
    assert "NOT IN central.toml" in detail_text(facility.rooms[("elsewhere", "fake")], clocks)
    assert "unexpected 1" in summary_line("t", facility.counts(), now, len(facility.unexpected()))


def test_without_a_room_list_every_room_is_expected(clock: FakeClock) -> None:
    facility = Facility()
    apply_all(facility, clock, RoomScript("elsewhere", "fake").online(clock.now()))
    assert facility.rooms[("elsewhere", "fake")].expected
    assert facility.unexpected() == []


def test_an_alarm_from_the_future_is_suspect_not_the_newest(clock: FakeClock) -> None:
    facility = Facility(skew_s=120.0)
    now = clock.now()
    real, liar, skewed = RoomScript("harbor", "real"), RoomScript("harbor", "liar"), RoomScript("harbor", "skewed")
    apply_all(facility, clock, real.online(now) + liar.online(now) + skewed.online(now))
    apply_all(facility, clock, real.alarm(AlarmAction.RAISED, now - timedelta(minutes=10), priority=Priority.HIGH))
    apply_all(
        facility, clock, liar.alarm(AlarmAction.RAISED, datetime(2035, 1, 1, tzinfo=now.tzinfo), priority=Priority.HIGH)
    )
    assert [r.room for r in facility.in_order()][:2] == ["real", "liar"]
    liar_room = facility.rooms[("harbor", "liar")]
    clocks = Clocks(now, clock.monotonic(), 15.0)
    assert SUSPECT in tile_text(liar_room, clocks)
    assert "raised in the future" in detail_text(liar_room, clocks)
    # a room whose clock is a minute ahead (within the skew) is believed: its alarm is the newest
    apply_all(facility, clock, skewed.alarm(AlarmAction.RAISED, now + timedelta(seconds=60), priority=Priority.HIGH))
    assert [r.room for r in facility.in_order()][:3] == ["skewed", "real", "liar"]
    assert SUSPECT not in tile_text(facility.rooms[("harbor", "skewed")], clocks)
    # the retained list is judged the same way
    liar.seq += 10
    apply_all(
        facility,
        clock,
        liar.alarm(AlarmAction.ESCALATED, datetime(2035, 1, 1, tzinfo=now.tzinfo), priority=Priority.HIGH),
    )
    assert liar_room.suspect == {"liar-a1"}


def test_thirty_thousand_device_topics_keep_sixteen_devices(clock: FakeClock) -> None:
    facility = Facility()
    script = RoomScript("harbor", "willow")
    apply_all(facility, clock, script.online(clock.now()))
    for i in range(30_000):
        apply_all(facility, clock, script.device(f"fake-{i:05d}", LinkState.CONNECTED))
    room = facility.rooms[("harbor", "willow")]
    assert len(room.devices) == 16
    assert {"chest-strap", "oximeter"} <= room.devices.keys()  # the real ones came first and stay
    assert facility.dropped == {"devices beyond limits.devices_per_room (16)": 30_000 - 14}
    apply_all(facility, clock, script.device("oximeter", LinkState.DISCONNECTED))  # a known device still updates
    assert room.devices["oximeter"].state is LinkState.DISCONNECTED


def test_rooms_sites_and_totals_are_bounded_but_an_expected_room_always_comes_in(clock: FakeClock) -> None:
    limits = LimitsSection(sites=2, rooms_per_site=3, rooms=5)
    facility = Facility(limits=limits, expected=frozenset({("late", "listed")}))
    for site in ("a", "b", "c"):
        for i in range(4):
            apply_all(facility, clock, RoomScript(site, f"r{i}").online(clock.now()))
    kept = sorted(k for k in facility.rooms if k != ("late", "listed"))
    # "late" (the listed room's site) is one of the two sites; "a" came next; "b" and "c" are over limits.sites
    assert kept == [("a", "r0"), ("a", "r1"), ("a", "r2")]
    assert facility.dropped["rooms beyond limits.rooms_per_site (3)"] > 0
    assert facility.dropped["sites beyond limits.sites (2)"] > 0
    apply_all(facility, clock, RoomScript("late", "listed").online(clock.now()))
    assert facility.rooms[("late", "listed")].status == "online"

    facility = Facility(limits=LimitsSection(sites=10, rooms_per_site=10, rooms=5))
    for i in range(8):
        apply_all(facility, clock, RoomScript(f"s{i}", "r").online(clock.now()))
    assert len(facility.rooms) == 5
    assert facility.dropped["rooms beyond limits.rooms (5)"] > 0


def test_a_payload_over_the_limit_is_dropped_unread(clock: FakeClock) -> None:
    facility = Facility(limits=LimitsSection(payload_bytes=1024))
    script = RoomScript("harbor", "willow")
    topic, payload, _ = script.info(clock.now())[0]
    body = json.loads(payload)
    body["config"] = "x" * 1_000_000
    facility.apply(topic, json.dumps(body).encode(), now=clock.now(), mono=0.0)
    assert facility.rooms == {}
    assert facility.unreadable == 0
    assert facility.dropped == {"messages over limits.payload_bytes (1024)": 1}


def test_alarms_per_room_keep_the_most_urgent(clock: FakeClock) -> None:
    facility = Facility(limits=LimitsSection(alarms_per_room=4))
    script = RoomScript("harbor", "willow")
    now = clock.now()
    apply_all(facility, clock, script.online(now))
    for i in range(10):
        apply_all(facility, clock, script.alarm(AlarmAction.RAISED, now, priority=Priority.LOW, alarm_id=f"low{i}"))
    apply_all(facility, clock, script.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH, alarm_id="high"))
    room: RoomState = facility.rooms[("harbor", "willow")]
    assert len(room.alarms) == 4
    assert "willow-high" in room.alarms
    assert room.urgency() is Urgency.HIGH
    # 7 from the events, and each retained list after them drops what is over the limit: 1 + 2 + ... + 7
    assert facility.dropped["alarms beyond limits.alarms_per_room (4)"] == 7 + sum(range(1, 8))


async def test_the_station_says_what_it_dropped_and_shows_unexpected_rooms_last(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    app.facility = Facility(expected=frozenset({("harbor", "willow"), ("harbor", "oak")}))
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, feed)
        now = clock.now()
        willow, oak, fake = RoomScript("harbor", "willow"), RoomScript("harbor", "oak"), RoomScript("harbor", "fake")
        feed.send(willow.online(now) + oak.online(now) + fake.online(now))
        feed.send(fake.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH))
        feed.send(
            oak.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH, acknowledged=True, message="SpO2 low: 83 %")
        )
        for i in range(40):
            feed.send(fake.device(f"extra-{i}", LinkState.CONNECTED))
        await drawn(pilot)
        assert order(app) == ["oak", "willow", "fake"]
        assert not tile_of(app, "fake").has_class("priority-high")  # never in alarm colours, never flashing
        assert not tile_of(app, "fake").has_class("flashing")
        assert tile_of(app, "fake").has_class("unexpected")
        notice = str(app.query_one("#notice").render())
        assert "1 room(s) not in central.toml, shown last (1 alarming): harbor/fake" in notice
        assert "DROPPED 26 message(s): devices beyond limits.devices_per_room (16)" in notice
        summary = str(app.query_one("#summary").render())
        assert "ALARMING 1 (1 high)" in summary
        assert "unexpected 1" in summary


async def test_a_hostile_name_paints_nothing_over_another_rooms_alarm(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, feed)
        now = clock.now()
        oak = RoomScript("harbor", "oak", "Oak")
        feed.send(oak.online(now) + oak.vitals(now))
        feed.send(
            oak.alarm(AlarmAction.RAISED, now, priority=Priority.HIGH, acknowledged=True, message="SpO2 low: 83 %")
        )
        feed.send(hostile_room(clock, HOSTILE["osc title and cursor move"], ascii_escapes=True))
        await drawn(pilot)
        assert "SpO2 low: 83 % [ack in room]" in tile_of(app, "oak").shown
        hostile = tile_of(app, "willow").shown
        assert "\x1b" not in hostile
        assert unsafe(hostile) == set()
        assert hostile.splitlines()[0] == f"Willow{PLACEHOLDER}{PLACEHOLDER}no alarms"


def test_a_reading_from_the_future_is_never_a_frozen_number(clock: FakeClock) -> None:
    """A reading stamped years ahead without an expiry would pass an age check on its ts forever: it shows "no data"
    beyond the clock skew, and any reading goes after vitals_stale_s from its arrival."""
    facility = Facility(skew_s=120.0)
    script = RoomScript("harbor", "willow")
    now = clock.now()
    apply_all(facility, clock, script.online(now))
    future: list[Message] = [(t, p, None) for t, p, _ in script.vitals(datetime(2035, 1, 1, tzinfo=now.tzinfo), hr=150)]
    apply_all(facility, clock, future)
    room = facility.rooms[("harbor", "willow")]
    hr = room.vital(Quantity.HEART_RATE, 0, now=now, mono=clock.monotonic(), stale_s=15)
    assert (hr.text, hr.why) == ("--", "no data (time?)")
    ahead: list[Message] = [
        (t, p, None) for t, p, _ in script.vitals(now + timedelta(seconds=60), hr=91)
    ]  # within the skew
    apply_all(facility, clock, ahead)
    assert room.vital(Quantity.HEART_RATE, 0, now=now, mono=clock.monotonic(), stale_s=15).text == "91"
    clock.advance(16)
    later = room.vital(Quantity.HEART_RATE, 0, now=clock.now(), mono=clock.monotonic(), stale_s=15)
    assert (later.text, later.why) == ("--", "no data (old)")  # its ts is still "fresh"; it came 16 s ago


def test_an_expected_room_that_never_reports_is_never_calm(clock: FakeClock) -> None:
    facility = Facility(expected=frozenset({("harbor", "silent"), ("harbor", "willow")}))
    apply_all(facility, clock, RoomScript("harbor", "willow").online(clock.now()))
    silent = facility.rooms[("harbor", "silent")]
    assert silent.urgency() is Urgency.OFFLINE
    assert facility.counts()[Urgency.CALM] == 1
    assert facility.counts()[Urgency.OFFLINE] == 1
    assert "waiting for the room's status" in tile_text(silent, Clocks(clock.now(), clock.monotonic(), 15.0))
    apply_all(facility, clock, RoomScript("harbor", "silent").online(clock.now()))
    assert silent.urgency() is Urgency.CALM
