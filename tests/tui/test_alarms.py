"""How each alarm priority shows: colour class, prefix, flashing only while unacknowledged, the pause countdown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from roomctl.models import AlarmAction, AudioPause, Priority
from roomctl.tui.app import RoomApp
from tests.tui.conftest import Served, alarm_event, connected, flashing, until


def banner_text(app: RoomApp) -> str:
    return app.banner.shown


def banner_classes(app: RoomApp) -> set[str]:
    """The banner's look in words (priority-high, acknowledged, flashing, flash-off): a look is a cached style, not
    a CSS class."""
    return app.banner.look_words


@pytest.mark.parametrize(
    ("priority", "prefix", "flashes"),
    [(Priority.HIGH, "*** ", True), (Priority.MEDIUM, "** ", True), (Priority.LOW, "* ", False)],
)
async def test_alarm_priority_colour_prefix_and_flashing(
    served: Served, priority: Priority, prefix: str, flashes: bool
) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert banner_text(app).strip() == "no alarms"
        assert not app.flash_timer_running
        served.hub.publish(alarm_event(priority))
        await until(pilot, lambda: f"priority-{priority.value}" in banner_classes(app))
        text = banner_text(app)
        assert text.startswith(f"{prefix}SpO2 low ({priority.value})")
        others = {f"priority-{p.value}" for p in Priority if p is not priority}
        assert not others & banner_classes(app)
        assert app.flash_timer_running is flashes
        assert ("flashing" in banner_classes(app)) is flashes
        if flashes:  # the banner really alternates (about 2 Hz for high, 0.6 Hz for medium)
            await until(pilot, lambda: "flash-off" in banner_classes(app))
            await until(pilot, lambda: "flash-off" not in banner_classes(app))
        # acknowledged: still shown in its colour, steady, marked acknowledged
        served.hub.publish(alarm_event(priority, acknowledged=True))
        await until(pilot, lambda: "[acknowledged]" in banner_text(app))
        assert f"priority-{priority.value}" in banner_classes(app)
        assert "acknowledged" in banner_classes(app)
        assert not app.flash_timer_running
        assert not {"flashing", "flash-off"} & banner_classes(app)


async def test_audio_pause_countdown_and_a_higher_alarm_breaks_through(served: Served) -> None:
    app = served.app()
    now = served.clock.now()
    served.hub.publish(alarm_event(Priority.MEDIUM, acknowledged=True))
    served.hub.publish(AudioPause(until=now + timedelta(seconds=90), remaining_s=90))
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert "audio paused 1:30" in banner_text(app)
        assert not app.flash_timer_running
        served.clock.advance(31)
        app.refresh_view()  # what the 1 s tick does
        assert "audio paused 0:59" in banner_text(app)
        served.hub.publish(alarm_event(Priority.HIGH, alarm_id="a2"))
        await until(pilot, lambda: "priority-high" in banner_classes(app))
        lines = banner_text(app).splitlines()
        assert lines[0].startswith("*** SpO2 low (high)")
        assert "audio paused 0:59" in lines[1]
        assert "** SpO2 low (medium)" in lines[1]
        assert app.flash_timer_running
        assert "acknowledged" not in banner_classes(app)
        served.clock.advance(60)
        app.refresh_view()
        assert "audio paused" not in banner_text(app)


async def test_cleared_alarm_leaves_the_banner(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await flashing(pilot, served)
        cleared = alarm_event(Priority.HIGH).model_copy(update={"action": AlarmAction.CLEARED})
        served.hub.publish(cleared)
        await until(pilot, lambda: banner_text(app).strip() == "no alarms")
        assert not app.flash_timer_running
        assert not {f"priority-{p.value}" for p in Priority} & banner_classes(app)


async def test_screen_keeps_updating_under_a_dialog(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await pilot.press("n", *"resting")
        assert app.screen.query("#dialog")
        served.hub.publish(alarm_event(Priority.HIGH))
        await until(pilot, lambda: "***" in banner_text(app))
        served.clock.advance(2)
        app.refresh_view()  # the 1 s tick runs while the dialog is open
        await pilot.press("enter")
        assert (await served.handler.next()).command == "mark"
        assert "priority-high" in banner_classes(app)


async def test_the_pause_countdown_ignores_wall_clock_steps(served: Served) -> None:
    app = served.app()
    now = served.clock.now()
    served.hub.publish(alarm_event(Priority.MEDIUM, acknowledged=True))
    served.hub.publish(AudioPause(until=now + timedelta(seconds=90), remaining_s=90))  # in the snapshot
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        for step in (+3600, -7200):  # NTP steps the wall clock an hour either way
            served.clock.jump_wall(step)
            app.refresh_view()
            assert "audio paused 1:30" in banner_text(app)
        served.clock.advance(30)
        served.hub.publish(AudioPause(until=served.clock.now() + timedelta(seconds=60), remaining_s=60))  # an event
        await until(pilot, lambda: "audio paused 1:00" in banner_text(app))
        served.clock.jump_wall(+3600)
        served.clock.advance(15)
        app.refresh_view()
        assert "audio paused 0:45" in banner_text(app)


async def test_a_reannunciated_alarm_flashes_again(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.hub.publish(alarm_event(Priority.MEDIUM, acknowledged=True))
        await until(pilot, lambda: "acknowledged" in banner_classes(app))
        assert not app.flash_timer_running
        again = alarm_event(Priority.MEDIUM).model_copy(update={"action": AlarmAction.REANNUNCIATED})
        served.hub.publish(again)
        await until(pilot, lambda: app.flash_timer_running)
        assert "acknowledged" not in banner_classes(app)
