"""The station's tiles under Pilot: order by urgency, alarm states, offline rooms, expired and old vitals, keys."""

from __future__ import annotations

from datetime import timedelta

from roomctl.central.app import DetailScreen
from roomctl.clock import FakeClock
from roomctl.models import AlarmAction, AlarmCategory, LinkState, Priority
from tests.central.conftest import drawn, make_app, order, started, tile_of
from tests.central.script import Message, RoomScript


def calm_rooms(clock: FakeClock, *names: str) -> tuple[dict[str, RoomScript], list[Message]]:
    """Rooms of the harbor site by name, and the messages that bring each online with its vitals."""
    rooms = {name: RoomScript("harbor", name) for name in names}
    messages: list[Message] = []
    for script in rooms.values():
        messages += script.online(clock.now()) + script.vitals(clock.now())
    return rooms, messages


def facility_of_six(clock: FakeClock) -> tuple[dict[str, RoomScript], list[Message]]:
    rooms, messages = calm_rooms(clock, "ash", "birch", "cedar", "elm", "fir", "oak")
    now = clock.now()
    messages += rooms["oak"].alarm(AlarmAction.RAISED, now, priority=Priority.LOW, message="Heart rate high: 121 bpm")
    messages += rooms["elm"].alarm(AlarmAction.RAISED, now, priority=Priority.HIGH, message="SpO2 low: 83 % (limit 85)")
    messages += rooms["cedar"].alarm(
        AlarmAction.RAISED,
        now,
        category=AlarmCategory.TECHNICAL,
        priority=Priority.MEDIUM,
        message="Wearable lost: oximeter",
    )
    messages += rooms["fir"].alarm(AlarmAction.RAISED, now, priority=Priority.MEDIUM)
    messages += rooms["birch"].status("offline")
    return rooms, messages


async def test_tiles_sort_by_urgency_high_medium_low_offline_technical_calm(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, feed)
        _, messages = facility_of_six(clock)
        feed.send(messages)
        await drawn(pilot)
        assert order(app) == ["elm", "fir", "oak", "birch", "cedar", "ash"]
        assert tile_of(app, "elm").has_class("priority-high")
        assert tile_of(app, "elm").has_class("flashing")
        assert tile_of(app, "fir").has_class("priority-medium")
        assert tile_of(app, "oak").has_class("priority-low")
        assert not tile_of(app, "oak").has_class("flashing")
        assert tile_of(app, "cedar").has_class("technical")
        assert tile_of(app, "ash").has_class("calm")
        summary = app.query_one("#summary").render()
        assert "ALARMING 3 (1 high, 1 medium, 1 low)" in str(summary)
        assert app.flash_timers == {Priority.HIGH, Priority.MEDIUM}


async def test_alarm_raised_escalated_cleared(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        rooms, messages = calm_rooms(clock, "ash", "birch", "willow")
        feed.send(messages)
        await drawn(pilot)
        assert order(app) == ["ash", "birch", "willow"]
        assert app.flash_timers == set()

        willow = rooms["willow"]
        feed.send(willow.alarm(AlarmAction.RAISED, clock.now(), priority=Priority.MEDIUM))
        await drawn(pilot)
        tile = tile_of(app, "willow")
        assert order(app)[0] == "willow"
        assert "** SpO2 low: 88 %" in tile.shown
        assert tile.has_class("priority-medium")
        assert tile.has_class("flashing")
        assert app.flash_timers == {Priority.MEDIUM}

        feed.send(
            willow.alarm(
                AlarmAction.ESCALATED, clock.now(), priority=Priority.HIGH, message="SpO2 low: 83 % (limit 85)"
            )
        )
        await drawn(pilot)
        tile = tile_of(app, "willow")
        assert "*** SpO2 low: 83 %" in tile.shown
        assert tile.has_class("priority-high")
        assert not tile.has_class("priority-medium")
        assert app.flash_timers == {Priority.HIGH}

        feed.send(willow.alarm(AlarmAction.CLEARED, clock.now(), priority=Priority.HIGH))
        await drawn(pilot)
        tile = tile_of(app, "willow")
        assert "no alarms" in tile.shown
        assert tile.has_class("calm")
        assert order(app) == ["ash", "birch", "willow"]
        assert app.flash_timers == set()


async def test_acknowledged_in_the_room_stays_shown_steady(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        willow = RoomScript("harbor", "willow")
        feed.send(willow.online(clock.now()) + willow.alarm(AlarmAction.RAISED, clock.now(), priority=Priority.HIGH))
        feed.send(willow.alarm(AlarmAction.ACKNOWLEDGED, clock.now(), priority=Priority.HIGH, acknowledged=True))
        await drawn(pilot)
        tile = tile_of(app, "willow")
        assert "[ack in room]" in tile.shown
        assert tile.has_class("priority-high")
        assert tile.has_class("acknowledged")
        assert not tile.has_class("flashing")
        assert app.flash_timers == set()


async def test_room_offline_from_the_last_will_is_never_calm(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        ash, willow = RoomScript("harbor", "ash"), RoomScript("harbor", "willow")
        feed.send(ash.online(clock.now()) + ash.vitals(clock.now()))
        feed.send(willow.online(clock.now()) + willow.vitals(clock.now()))
        await drawn(pilot)
        assert "HR  82  SpO2  97" in tile_of(app, "willow").shown

        feed.send(willow.status("offline"))  # what the broker publishes as the room's last will
        await drawn(pilot)
        tile = tile_of(app, "willow")
        assert order(app) == ["willow", "ash"]
        assert "ROOM OFFLINE" in tile.shown
        assert "HR" not in tile.shown
        assert tile.has_class("offline")
        assert not tile.has_class("calm")
        assert "offline 1" in str(app.query_one("#summary").render())

        feed.send(willow.status("online") + willow.vitals(clock.now()))
        await drawn(pilot)
        assert "HR  82  SpO2  97" in tile_of(app, "willow").shown
        assert order(app) == ["ash", "willow"]


async def test_vitals_expire_and_old_ts_show_no_data(clock: FakeClock) -> None:
    app, feed = make_app(clock, stale_s=15.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        willow = RoomScript("harbor", "willow")
        feed.send(willow.online(clock.now()) + willow.vitals(clock.now()))
        await drawn(pilot)
        assert "HR  82  SpO2  97" in tile_of(app, "willow").shown

        clock.advance(14)  # fresh still
        await drawn(pilot)
        assert "HR  82  SpO2  97" in tile_of(app, "willow").shown

        clock.advance(2)  # ts older than vitals_stale_s
        await drawn(pilot)
        assert "HR  --  SpO2  --  no data (old)" in tile_of(app, "willow").shown

        feed.send(willow.vitals(clock.now() - timedelta(seconds=40)))  # a replayed, old reading: not live
        await drawn(pilot)
        assert "no data (old)" in tile_of(app, "willow").shown

        feed.send(willow.vitals(clock.now(), hr=90, spo2=None))  # the oximeter marks SpO2 missing
        await drawn(pilot)
        assert "HR  90  SpO2  --  no data (no valid value)" in tile_of(app, "willow").shown

        feed.send(willow.vitals(clock.now(), hr=91, spo2=96))
        clock.advance(31)  # past the MQTT expiry the broker gave (30 s): gone, whatever its ts says
        app.stale_s = 600
        await drawn(pilot)
        assert "HR  --  SpO2  --  no data (expired)" in tile_of(app, "willow").shown


async def test_disconnected_wearable_hides_its_number(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        willow = RoomScript("harbor", "willow")
        feed.send(willow.online(clock.now()) + willow.vitals(clock.now()))
        feed.send(willow.device("oximeter", LinkState.DISCONNECTED))
        await drawn(pilot)
        shown = tile_of(app, "willow").shown
        assert "HR  82  SpO2  --  no data (disconnected)" in shown
        assert "oximeter disconnected" in shown


async def test_a_new_alarm_is_never_below_the_fold(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        rooms = [RoomScript("harbor", f"room-{i:02d}") for i in range(1, 31)]
        for script in rooms:
            feed.send(script.online(clock.now()) + script.vitals(clock.now()))
        await drawn(pilot)
        per_page = len(app.slots)
        assert per_page < 30
        await pilot.press("pagedown")
        await drawn(pilot)
        assert app.page == 1

        last = rooms[-1]  # sorted last of all while calm
        feed.send(last.alarm(AlarmAction.RAISED, clock.now(), priority=Priority.MEDIUM))
        await drawn(pilot)
        summary = str(app.query_one("#summary").render())
        notice = str(app.query_one("#notice").render())
        assert "ALARMING 1 (1 medium)" in summary
        assert "1 alarming room(s) not shown: room-30 (home)" in notice
        await pilot.press("home")
        await drawn(pilot)
        assert order(app)[0] == "room-30"


async def test_keys_filter_detail_and_no_acknowledge(clock: FakeClock) -> None:
    app, feed = make_app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, feed)
        rooms, messages = calm_rooms(clock, "ash", "birch", "willow")
        feed.send(messages)
        feed.send(rooms["birch"].alarm(AlarmAction.RAISED, clock.now(), priority=Priority.LOW))
        await drawn(pilot)

        await pilot.press("u")  # alarming rooms only
        await drawn(pilot)
        assert order(app) == ["birch"]
        await pilot.press("u")
        await pilot.press("slash", *"wil", "enter")
        await drawn(pilot)
        assert order(app) == ["willow"]
        await pilot.press("escape")
        await drawn(pilot)
        assert order(app) == ["birch", "ash", "willow"]

        await pilot.press("right", "right", "enter")  # the first key selects the first tile; then the second; open it
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.key == ("harbor", "ash")
        body = app.screen.query_one("#detail-body").render()
        assert "Wearables:" in str(body)
        assert "oximeter (plx): connected battery 80%" in str(body)
        await pilot.press("a")  # the station acknowledges nothing
        await pilot.pause()
        assert any("acknowledges nothing" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert "[ack in room]" not in tile_of(app, "birch").shown  # nothing was acknowledged: still alarming
        assert tile_of(app, "birch").has_class("priority-low")


async def test_a_high_alarm_flashes_between_its_colour_and_the_colour_as_text(clock: FakeClock) -> None:
    """The dark half-beat is drawn by the tile (no restyle): the alarm's colour as text on the screen's background."""
    app, feed = make_app(clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, feed)
        elm = RoomScript("harbor", "elm")
        feed.send(elm.online(clock.now()) + elm.alarm(AlarmAction.RAISED, clock.now(), priority=Priority.HIGH))
        await drawn(pilot)
        tile = tile_of(app, "elm")
        seen = set()
        for _ in range(300):  # the flash timer is Textual's (real time): ~2 Hz
            await pilot.pause(0.02)
            style = next(iter(tile.render_lines(tile.region.reset_offset)[0])).style
            assert style is not None
            seen.add(
                (
                    tile.flash_off,
                    style.color.number if style.color else None,
                    style.bgcolor.number if style.bgcolor else None,
                )
            )
            if {True, False} <= {s[0] for s in seen}:
                break
        assert (False, 15, 1) in seen  # bright white on red
        assert (True, 1, 0) in seen  # red on black
