"""Exported text made safe to open: no control characters or bidi overrides, no spreadsheet formulas.

Anything a person typed (a note, a phase label, a device name in the configuration) reaches the clinic's CSV, JSON and
PDF files through here. A cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab or CR first:
OWASP's CSV injection) gets a leading ``'``; a cell that is a plain number (``-1.5``) stays a number.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters except tab and newline (CR goes too), and the bidi marks, embeddings, overrides and
isolates that can make a text read differently from what it holds."""
_FORMULA_START = ("=", "+", "-", "@", "\t")  # and CR, which cleaning removes
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def clean_text(text: str) -> str:
    """``text`` without control characters (tab and newline stay) and bidi controls."""
    return _UNSAFE.sub("", text)


def clean_json(value: Any) -> Any:
    """Every string in a JSON value (dicts, lists, keys too) cleaned; other values as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def csv_cell(value: Any) -> Any:
    """A CSV cell: numbers as they are; text cleaned, and a leading ``'`` on text a spreadsheet would run as a formula."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)  # first: "\x00=HYPERLINK(...)" must not become a formula once cleaned
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
