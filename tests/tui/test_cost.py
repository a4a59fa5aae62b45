"""What the screen repaints: only the rows (and columns) whose text changed; the big digits only when the number
changes; a flash swaps two cached looks of the banner. bench/bench_tui.py measures what that costs."""

from __future__ import annotations

from roomctl.models import Quantity
from roomctl.terminal.glyphs import big_digits
from roomctl.tui.widgets import Vitals
from tests.tui.conftest import Served, connected, flashing, reading, until, vital


async def test_a_reading_repaints_the_digits_only_when_the_number_changes(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        vitals = app._main.query_one(Vitals)
        assert vital(app, Quantity.HEART_RATE, "value") == big_digits("84")
        repainted, built = vitals.rows_repainted, vitals.strips_built
        served.hub.publish(reading(Quantity.HEART_RATE, 84.2, served.clock.now()))  # shown as 84 again
        await until(pilot, lambda: app.view.latest[Quantity.HEART_RATE].value == 84.2)
        app.refresh_view()
        await pilot.pause()
        assert (vitals.rows_repainted, vitals.strips_built) == (repainted, built)  # the same number: nothing drawn
        served.hub.publish(reading(Quantity.HEART_RATE, 91, served.clock.now()))
        await until(pilot, lambda: app.view.latest[Quantity.HEART_RATE].value == 91)
        app.refresh_view()
        await pilot.pause()
        assert vital(app, Quantity.HEART_RATE, "value") == big_digits("91")
        assert 0 < vitals.rows_repainted - repainted <= 5  # the heart rate's digit rows, nothing else
        assert 0 < vitals.strips_built - built <= 5


async def test_a_flash_repaints_only_the_banner_from_two_cached_looks(served: Served) -> None:
    app = served.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await flashing(pilot, served)
        banner, vitals = app.banner, app._main.query_one(Vitals)
        classes = set(banner.classes)

        async def flashes(times: int) -> None:
            for _ in range(times):
                await until(pilot, lambda: not banner.lit)
                await until(pilot, lambda: banner.lit)
            await pilot.pause()

        await flashes(1)  # both looks built
        built, repainted, vitals_repainted = banner.strips_built, banner.rows_repainted, vitals.rows_repainted
        await flashes(2)
        assert banner.rows_repainted - repainted >= 8  # two rows per half-beat
        assert banner.strips_built == built  # both looks come from the cache
        assert vitals.rows_repainted == vitals_repainted  # nothing else is drawn for a flash
        assert set(banner.classes) == classes  # a look is not a CSS class: no style recomputation
