"""Numbers are shown only while they are fresh: "no data" instead of a frozen number; the link to the daemon."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from roomctl.alarms.engine import AlarmEngine
from roomctl.clock import FakeClock
from roomctl.config import demo_config_text, parse_config
from roomctl.daemon.room_info import room_info
from roomctl.hub import Hub
from roomctl.models import (
    AlarmLimits,
    DeviceState,
    LimitInForce,
    LinkState,
    Priority,
    Quality,
    Quantity,
    TechnicalCondition,
)
from roomctl.terminal.glyphs import big_digits, medium_digits
from roomctl.terminal.painted import TextCell
from roomctl.tui.app import RoomApp
from roomctl.tui.widgets import VitalBlock, Vitals
from tests import builders
from tests.tui.conftest import Served, connected, reading, room_state, until, vital


def digits(app: RoomApp, quantity: Quantity) -> str:
    return vital(app, quantity, "value")


def label(app: RoomApp, quantity: Quantity) -> str:
    return vital(app, quantity, "label")


def link(app: RoomApp) -> str:
    return app._cell("link").shown


def panel(app: RoomApp, quantity: Quantity) -> VitalBlock:
    return app._main.query_one(Vitals).block(quantity)


async def test_fresh_values_in_large_digits(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert digits(app, Quantity.HEART_RATE) == big_digits("84")
        assert digits(app, Quantity.SPO2) == big_digits("97")
        assert digits(app, Quantity.PULSE_RATE) == medium_digits("85")
        assert digits(app, Quantity.PERFUSION_INDEX) == medium_digits("2.4")
        assert label(app, Quantity.HEART_RATE).splitlines() == ["HR bpm", "50-120"]
        assert not panel(app, Quantity.HEART_RATE).nodata


async def test_stale_reading_shows_no_data_not_the_old_number(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.clock.advance(4)  # the demo wearables go stale after 5 s
        app.refresh_view()
        assert digits(app, Quantity.HEART_RATE) == big_digits("84")
        served.clock.advance(3)
        app.refresh_view()
        assert digits(app, Quantity.HEART_RATE) == big_digits("--")
        assert label(app, Quantity.HEART_RATE).splitlines()[2] == "no data for 7 s"
        assert panel(app, Quantity.HEART_RATE).nodata
        served.hub.publish(reading(Quantity.HEART_RATE, 90, served.clock.now()))
        await until(pilot, lambda: digits(app, Quantity.HEART_RATE) == big_digits("90"))


async def test_missing_or_invalid_value_shows_no_data(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.hub.publish(reading(Quantity.SPO2, None, served.clock.now()))
        await until(pilot, lambda: digits(app, Quantity.SPO2) == big_digits("--"))
        assert "no data: invalid reading" in label(app, Quantity.SPO2)
        invalid = reading(Quantity.SPO2, 97, served.clock.now()).model_copy(update={"quality": Quality.INVALID})
        served.hub.publish(invalid)
        served.hub.publish(reading(Quantity.PULSE_RATE, 88, served.clock.now()))
        await until(pilot, lambda: digits(app, Quantity.PULSE_RATE) == medium_digits("88"))
        assert digits(app, Quantity.SPO2) == big_digits("--")


async def test_disconnected_wearable_shows_no_data_at_once(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.hub.publish(DeviceState(device="oximeter", profile="plx", state=LinkState.DISCONNECTED))
        await until(pilot, lambda: digits(app, Quantity.SPO2) == big_digits("--"))
        assert "no data: disconnected" in label(app, Quantity.SPO2)
        assert digits(app, Quantity.HEART_RATE) == big_digits("84")  # the strap is still fine
        assert "Oximeter       disconnected" in app._cell("wearables").shown


async def test_no_daemon_then_daemon_starts_restarts_and_the_screen_follows(served: Served) -> None:
    await served.stop()
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "retrying" in link(app))
        assert link(app).startswith("daemon not reachable (")
        assert "NO LINK TO THE ROOM DAEMON" in app.banner.shown
        assert digits(app, Quantity.HEART_RATE) == big_digits("--")
        await served.start()
        await until(pilot, lambda: link(app) == "daemon ok")
        await until(pilot, lambda: digits(app, Quantity.HEART_RATE) == big_digits("84"))
        await served.stop()  # the daemon restarts
        await until(pilot, lambda: "retrying" in link(app))
        assert digits(app, Quantity.HEART_RATE) == big_digits("--")  # no frozen number while the link is down
        served.hub.publish(reading(Quantity.HEART_RATE, 101, served.clock.now()))
        await served.start()
        await until(pilot, lambda: digits(app, Quantity.HEART_RATE) == big_digits("101"))
        assert link(app) == "daemon ok"


async def test_session_clock_phase_and_trends(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        session = app._cell("session").shown
        assert "since start 1:00 h" in session
        assert "since dose 0:30 h" in session
        assert "Phase: Dose (T0)  (suggested: Onset)" in session
        assert "vitals check in 12 min" in session
        for minute in range(1, 6):  # five minutes of readings feed both trends
            served.clock.advance(60)
            served.hub.publish(reading(Quantity.HEART_RATE, 80 + 5 * minute, served.clock.now()))
        # the history from the daemon holds the reading at connect (84), then five minutes of readings; trends show
        # finished 10 s means, so the last reading appears once its bucket is over
        await until(pilot, lambda: "15m 84-100" in vital(app, Quantity.HEART_RATE, "range"))
        served.clock.advance(10)
        app.refresh_view()
        await until(pilot, lambda: "15m 84-105" in vital(app, Quantity.HEART_RATE, "range"))
        recent = vital(app, Quantity.HEART_RATE, "recent")
        assert "█" in recent
        assert "_" in recent  # the lowest value of the range is drawn as '_'
        assert "since start 1:05 h" in app._cell("session").shown
        assert app._cell("lighting").shown == "Light: arrival 45% (phase)"


async def test_daemon_health_shows_in_the_header(served: Served) -> None:
    from roomctl.models import ServiceHealth

    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.hub.publish(ServiceHealth(service="mqtt", ok=False, detail="broker unreachable", ts=served.clock.now()))
        await until(pilot, lambda: link(app) == "daemon ok  mqtt DOWN")
        ts = served.clock.now() + timedelta(seconds=1)
        served.hub.publish(ServiceHealth(service="mqtt", ok=True, ts=ts))
        await until(pilot, lambda: link(app) == "daemon ok  mqtt ok")


async def test_the_limits_shown_are_those_in_force(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert label(app, Quantity.HEART_RATE).splitlines()[-1] == "50-120"  # configured, before any announcement
        device = served.hub.state.latest[Quantity.HEART_RATE].device
        limits = (
            LimitInForce(quantity=Quantity.HEART_RATE, direction="low", priority=Priority.MEDIUM, limit=50),
            LimitInForce(
                quantity=Quantity.HEART_RATE, direction="high", priority=Priority.MEDIUM, limit=140, source="session"
            ),
            LimitInForce(
                quantity=Quantity.HEART_RATE,
                direction="high",
                priority=Priority.MEDIUM,
                limit=105,
                source="baseline",
                device=device,
            ),
            LimitInForce(quantity=Quantity.HEART_RATE, direction="high", priority=Priority.HIGH, limit=99, device="x"),
        )
        served.hub.publish(AlarmLimits(limits=limits))
        await until(pilot, lambda: label(app, Quantity.HEART_RATE).splitlines()[-1] == "50-105")
        served.hub.publish(AlarmLimits(limits=limits[:2]))  # baseline gone (a new session): the session's limit
        await until(pilot, lambda: label(app, Quantity.HEART_RATE).splitlines()[-1] == "50-140*")  # * this session


async def test_every_cell_has_room_for_text_that_arrives_later(tmp_path: Path, hub: Hub, clock: FakeClock) -> None:
    """Cells repaint without a layout (TextCell.show): each must have its height from the stylesheet, or a second wearable
    (a second line) arriving later would be cut off."""
    from roomctl.models import LightingState

    served = Served(tmp_path, hub, clock)
    served.hub.publish(LightingState(scene="arrival", levels={"ceiling": 0.4}, reason="phase"))
    served.hub.publish(DeviceState(device="chest-strap", profile="heart_rate", state=LinkState.CONNECTED))
    await served.start()
    try:
        app = served.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await connected(pilot)
            assert len(app._cell("wearables").shown.splitlines()) == 2  # the oximeter: "unknown" until it reports
            served.hub.publish(DeviceState(device="oximeter", profile="plx", state=LinkState.CONNECTED, battery=50))
            await until(pilot, lambda: "Oximeter       connected batt 50%" in app._cell("wearables").shown)
            served.hub.publish(reading(Quantity.HEART_RATE, 84, served.clock.now() - timedelta(seconds=40)))
            await until(pilot, lambda: "no data" in label(app, Quantity.HEART_RATE))
            await pilot.pause()
            for cell in app._main.query(TextCell):
                lines = len(cell.shown.splitlines())
                assert cell.size.height >= lines, f"#{cell.id} shows {lines} lines in {cell.size.height} rows"
    finally:
        await served.stop()


def ticked(engine: AlarmEngine, hub: Hub) -> None:
    for event in engine.tick():
        hub.publish(event)


async def test_after_the_wall_clock_steps_back_a_silent_wearable_shows_no_data(served: Served) -> None:
    """Ages come from the monotonic clock: NTP stepping the wall clock back a minute does not make a 25 s old number
    fresh (before: the HR panel showed 84 while data_stale was raised). The wearable's "stale" shows as no data too."""
    config = parse_config(demo_config_text())
    engine = AlarmEngine(config.alarms, config.wearables, clock=served.clock)
    served.hub.add_processor(engine)
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.clock.jump_wall(-60)  # NTP: the wall clock steps back a minute
        served.clock.advance(25)  # the strap says nothing for 25 s
        app.refresh_view()
        assert digits(app, Quantity.HEART_RATE) == big_digits("--")
        assert label(app, Quantity.HEART_RATE).splitlines()[2] == "no data for 25 s"
        served.hub.publish(DeviceState(device="chest-strap", profile="heart_rate", state=LinkState.STALE))
        ticked(engine, served.hub)
        await until(pilot, lambda: "No data from Chest strap" in app.banner.shown)
        assert digits(app, Quantity.HEART_RATE) == big_digits("--")
        assert panel(app, Quantity.HEART_RATE).nodata


async def test_a_stale_wearable_shows_no_data_whatever_the_age(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        served.clock.advance(2)  # within stale_after_s, but the link says stale (it just dropped)
        served.hub.publish(DeviceState(device="chest-strap", profile="heart_rate", state=LinkState.STALE))
        await until(pilot, lambda: digits(app, Quantity.HEART_RATE) == big_digits("--"))
        assert label(app, Quantity.HEART_RATE).splitlines()[2] == "no data for 2 s"


TWO_OXIMETERS = """
[[wearables]]
id = "oximeter-2"
profile = "plx"
address = "C0:FF:EE:00:00:05"
label = "Oximeter 2"
stale_after_s = 5
lost_after_s = 12
"""


async def test_an_invalid_second_oximeter_never_hides_a_desaturation_on_the_other(
    tmp_path: Path, hub: Hub, clock: FakeClock
) -> None:
    """One oximeter without a finger sends invalid values; the other reads 84 %: the panel shows 84 and which
    oximeter, the other's trouble beside it and as its own technical alarm (before: "--" "invalid reading" while a
    high SpO2 alarm was raised)."""
    config = parse_config(demo_config_text() + TWO_OXIMETERS)
    engine = AlarmEngine(config.alarms, config.wearables, clock=clock)
    hub.add_processor(engine)
    served = Served(tmp_path, hub, clock, info=room_info(config))
    room_state(hub, clock.now())
    hub.publish(DeviceState(device="oximeter-2", profile="plx", state=LinkState.CONNECTED))
    await served.start()
    try:
        app = served.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await connected(pilot)
            hub.publish(
                DeviceState(
                    device="oximeter",
                    profile="plx",
                    state=LinkState.CONNECTED,
                    conditions=(TechnicalCondition.FINGER_OFF,),
                )
            )
            for _ in range(12):  # the second reads 84 % each second, the first sends invalid values after it
                clock.advance(1)
                now = clock.now()
                hub.publish(builders.reading(84, Quantity.SPO2, device="oximeter-2", ts=now))
                hub.publish(builders.reading(None, Quantity.SPO2, device="oximeter", ts=now, quality=Quality.INVALID))
                ticked(engine, hub)
            conditions = {(a.device, a.condition) for a in engine.alarms.values()}
            assert ("oximeter-2", "spo2_low") in conditions
            assert ("oximeter", "finger_off") in conditions  # the invalid oximeter: its own technical notice
            app.refresh_view()
            await until(pilot, lambda: digits(app, Quantity.SPO2) == big_digits("84"))
            assert label(app, Quantity.SPO2).splitlines() == ["SpO2 %", "low 90", "Oximeter 2", "Oximeter: invalid"]
            assert app.banner.shown.startswith("*** SpO2 low: 84 %")
            assert "Finger off: Oximeter" in app.banner.shown
            assert not panel(app, Quantity.SPO2).nodata
    finally:
        await served.stop()
