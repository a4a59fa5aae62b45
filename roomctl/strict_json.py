"""Reading JSON from outside the Pi (local API lines, MQTT payloads) without surprises.

The standard library's ``json.loads`` accepts ``NaN`` and ``Infinity``, turns ``1e999`` into ``inf``, converts a 4,000-digit
integer (slowly) and raises ``RecursionError`` on deep nesting. :func:`load_object` refuses all of these with a reason in words
(:class:`BadJson`), in time linear in the input.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 8
"""Objects and arrays nested deeper than this are refused; a command is two levels deep."""
MAX_NUMBER_CHARS = 32
"""A number written with more characters than this is refused (no 5,000-digit integers)."""


class BadJson(ValueError):
    """Input that is not one acceptable JSON object; the message says why, in words."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of objects/arrays in ``text``, ignoring brackets inside strings. One linear pass."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadJson(f"a number with {len(text)} digits is not acceptable (at most {MAX_NUMBER_CHARS} characters)")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadJson(f"a number written with {len(text)} characters is not acceptable (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {text} is too large")
    return value


def _constant(text: str) -> Any:
    raise BadJson(f"{text} is not a number JSON allows")


def load_object(raw: bytes | str, *, max_bytes: int, example: str = "") -> dict[str, Any]:
    """Parse ``raw`` as one JSON object, or raise :class:`BadJson` with a reason in words."""
    if len(raw) > max_bytes:
        raise BadJson(f"{len(raw)} bytes is over the {max_bytes}-byte limit")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("not UTF-8 text") from None
    else:
        text = raw
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise BadJson(f"nested {depth} levels deep; at most {MAX_DEPTH} are accepted")
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except BadJson:
        raise
    except (ValueError, RecursionError) as e:
        reason = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
        raise BadJson(f"not valid JSON ({reason[:120]})") from None
    if not isinstance(data, dict):
        raise BadJson("not a JSON object" + (f" like {example}" if example else ""))
    return data
