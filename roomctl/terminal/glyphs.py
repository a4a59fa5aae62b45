"""Large digits and sparklines drawn only with glyphs every Linux console font has: █ ▀ ▄ and '_'.

Textual's Digits and Sparkline widgets use box-drawing and eighth-block glyphs that console fonts lack
(reference: platform.md, "The terminal"), so roomctl draws its own.
"""

from __future__ import annotations

from collections.abc import Sequence

# A 3x5 pixel font ('#' = lit). The decimal point is one pixel wide.
FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "-": ("...", "...", "###", "...", "..."),
    ".": (".", ".", ".", ".", "#"),
    " ": ("...", "...", "...", "...", "..."),
}


def _pixels(text: str) -> list[str]:
    """Five rows of pixels for ``text``, one blank pixel column between characters."""
    rows = ["", "", "", "", ""]
    for i, ch in enumerate(text):
        glyph = FONT.get(ch, FONT[" "])
        for r in range(5):
            rows[r] += ("." if i else "") + glyph[r]
    return rows


def big_digits(text: str) -> str:
    """Five rows tall, each pixel two cells wide of '█': readable from across the room."""
    return "\n".join(row.replace("#", "██").replace(".", "  ") for row in _pixels(text))


_HALF = {("#", "#"): "█", ("#", "."): "▀", (".", "#"): "▄", (".", "."): " "}


def medium_digits(text: str) -> str:
    """Three rows tall (two pixel rows per cell with ▀ ▄ █), one cell per pixel: square pixels, compact."""
    rows = [*_pixels(text), ""]
    rows[5] = "." * len(rows[0])
    out = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        out.append("".join(_HALF[(a, b)] for a, b in zip(top, bottom, strict=True)))
    return "\n".join(out)


# Sparkline levels from the bottom row up: '_' marks the lowest level so a flat trend still shows.
_BOTTOM = ("_", "▄", "█", "█", "█")
_TOP = (" ", " ", " ", "▄", "█")


def sparkline(values: Sequence[float | None], width: int, height: int, min_span: float) -> str:
    """``values`` resampled onto ``width`` columns (mean per column), drawn ``height`` (1 or 2) rows tall.

    Missing stretches (None) stay blank. The scale spans the data, at least ``min_span`` so noise does not look like drama.
    """
    if width <= 0:
        return "\n".join("" for _ in range(height))
    columns = _resample(values, width)
    present = [v for v in columns if v is not None]
    if not present:
        return "\n".join(" " * width for _ in range(height))
    lo, hi = min(present), max(present)
    if hi - lo < min_span:
        mid = (hi + lo) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    top_level = 2 if height == 1 else 4  # 1 row: _ ▄ █; 2 rows: _ ▄ █ then ▄ █ above
    levels = [None if v is None else round((v - lo) / (hi - lo) * top_level) for v in columns]
    if height == 1:
        return "".join(" " if lv is None else _BOTTOM[lv] for lv in levels)
    top = "".join(" " if lv is None else _TOP[lv] for lv in levels)
    bottom = "".join(" " if lv is None else _BOTTOM[lv] for lv in levels)
    return f"{top}\n{bottom}"


def _resample(values: Sequence[float | None], width: int) -> list[float | None]:
    """Right-aligned: with fewer values than columns the line grows from the right, newest at the right edge."""
    n = len(values)
    if n <= width:
        return [None] * (width - n) + list(values)
    out: list[float | None] = []
    for c in range(width):
        chunk = [v for v in values[c * n // width : (c + 1) * n // width] if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out
