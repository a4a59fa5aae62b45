from __future__ import annotations

from roomctl.terminal.glyphs import big_digits, medium_digits, sparkline
from roomctl.trends import Trend


def test_big_digits_are_five_rows_of_block_glyphs() -> None:
    rows = big_digits("120").split("\n")
    assert len(rows) == 5
    assert {len(r) for r in rows} == {3 * 6 + 2 * 2}
    assert set("".join(rows)) == {" ", "█"}
    assert big_digits("--").split("\n")[2] == "██████  ██████"


def test_medium_digits_are_three_rows_with_half_blocks() -> None:
    rows = medium_digits("2.4").split("\n")
    assert rows == ["▀▀█   █ █", "█▀▀   ▀▀█", "▀▀▀ ▀   ▀"]


def test_sparkline_shows_gaps_as_blank_and_scales_to_the_data() -> None:
    assert sparkline([60, None, 100], 3, 1, 10) == "_ █"
    assert sparkline([60, 80, 100], 3, 2, 10) == "  █\n_██"
    assert sparkline([97, 97], 4, 1, 6) == "  ▄▄"  # flat: the middle, right-aligned
    assert sparkline([], 4, 1, 6) == "    "
    assert sparkline([1.0, 2.0, 3.0, 4.0], 2, 1, 0.1) == "_█"  # resampled by mean


def test_trend_window_and_gaps() -> None:
    trend = Trend(10, span_s=60)
    for t, v in ((0, 70), (5, 72), (20, 80), (70, 90)):
        trend.add(t, v)
    assert trend.series(until=70) == [80, None, None, None, None, 90]  # 10-20 s onwards: 0-10 s fell out
    assert trend.range(until=70) == (80, 90)


def test_session_trend_stays_bounded_by_coarsening() -> None:
    trend = Trend(1, max_points=100)
    for t in range(10_000):
        trend.add(t, float(t % 10))
    assert len(trend) <= 100
    assert trend.bucket_s == 128
    values = [v for v in trend.series() if v is not None]
    assert all(4.4 <= v <= 4.6 for v in values[:-1])  # means of whole cycles
