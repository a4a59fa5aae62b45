"""History survives a restart of the screen: the daemon sends the recent and the session trend on connect."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from roomctl.clock import FakeClock
from roomctl.hub import Hub
from roomctl.models import LightingState, Quantity, SessionState
from tests.builders import T0
from tests.tui.conftest import Served, connected, reading, until, vital


async def test_a_restarted_screen_gets_the_trends_back(tmp_path: Path, hub: Hub, clock: FakeClock) -> None:
    served = Served(tmp_path, hub, clock)
    served.hub.publish(LightingState(scene="arrival", levels={"ceiling": 0.4}, reason="phase"))
    for i in range(60, 0, -1):  # 10 minutes of heart rate, one reading every 10 s, with a 40 s gap
        if not 20 <= i < 24:
            served.hub.publish(reading(Quantity.HEART_RATE, 70 + i % 5, T0 - timedelta(seconds=10 * i)))
    daemon = served.hub.state.trends
    now = T0.timestamp()
    expected = daemon.recent[Quantity.HEART_RATE].series(now)
    assert [v is None for v in expected[-24:-20]] == [True] * 4  # the gap is a gap on the daemon's side too

    await served.start()
    try:
        await screen_twice(served, expected)
    finally:
        await served.stop()


async def screen_twice(served: Served, expected: list[float | None]) -> None:
    daemon, now = served.hub.state.trends, T0.timestamp()
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        mine = app.view.trends
        await until(pilot, lambda: mine.recent[Quantity.HEART_RATE].series(now) == expected)  # after the snapshot
        assert mine.whole[Quantity.HEART_RATE].series(now) == daemon.whole[Quantity.HEART_RATE].series(now)
        assert len([v for v in expected if v is not None]) == 56
        spark = vital(app, Quantity.HEART_RATE, "recent")
        assert any(c in spark for c in "▄█_")  # drawn, not empty
        await pilot.press("q")

    served.hub.publish(SessionState(id="next"))  # a new session: the session trend starts again, on both sides
    assert daemon.whole[Quantity.HEART_RATE].series(now) == []
    again = served.app()
    async with again.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await until(pilot, lambda: again.view.trends.recent[Quantity.HEART_RATE].series(now) == expected)
        assert again.view.trends.whole[Quantity.HEART_RATE].series(now) == []
