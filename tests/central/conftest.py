"""The station under Pilot: a scripted feed on the app's loop, rooms made by the project's encoder; the clock is the
root fixture (:mod:`tests.conftest`)."""

from __future__ import annotations

from textual.pilot import Pilot

from roomctl.central.app import CentralApp, Tile
from roomctl.central.state import Facility
from roomctl.clock import FakeClock
from tests.central.script import ScriptedFeed


def make_app(clock: FakeClock, *, stale_s: float = 15.0, flash: bool = True) -> tuple[CentralApp, ScriptedFeed]:
    feed = ScriptedFeed(clock)
    app = CentralApp(feed, Facility(), title="Harbor clinic", stale_s=stale_s, clock=clock, flash=flash)
    return app, feed


async def started(pilot: Pilot[None], feed: ScriptedFeed) -> None:
    """Until the feed runs and the grid has its slots."""
    app = pilot.app
    assert isinstance(app, CentralApp)
    await feed.ready.wait()
    for _ in range(500):
        if app.slots:
            break
        await pilot.pause(0.01)
    assert app.slots, "the grid never got its tiles"


async def drawn(pilot: Pilot[None]) -> None:
    """Until the coalesced redraw after the last message has run and painted."""
    app = pilot.app
    assert isinstance(app, CentralApp)
    for _ in range(500):
        if not app.render_pending:
            break
        await pilot.pause(0.01)
    app.redraw()
    await pilot.pause()


def tile_of(app: CentralApp, room: str) -> Tile:
    for tile in app.slots:
        if tile.room_key is not None and tile.room_key[1] == room:
            return tile
    raise AssertionError(f"{room} is not on screen: {[t.room_key for t in app.slots]}")


def order(app: CentralApp) -> list[str]:
    return [t.room_key[1] for t in app.slots if t.room_key is not None]
