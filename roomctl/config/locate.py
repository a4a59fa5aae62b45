"""Find the line of a key path (``lighting.channels[1].pin``) in TOML text, for error messages.

tomllib gives values, not positions; this scans the text for table headers (``[a.b]``, ``[[a.b]]``) and ``key =`` lines.
It covers what room files are made of; for anything it cannot place, the message just has no line.
Linear in the text: no backtracking patterns, and paths deeper than :data:`MAX_PARTS` (never in a room file) are not
placed, so a hostile file (a 50,000-part header) costs no more than reading it.
"""

from __future__ import annotations

import re

Loc = tuple[str | int, ...]

MAX_PARTS = 16
"""Key paths deeper than this are not placed (the deepest room setting has five parts)."""

# Possessive quantifiers: a line that is not a key fails at once, never by backtracking.
_KEY = re.compile(
    r"""\s*+("[^"]*+"|'[^']*+'|[A-Za-z0-9_-]++(?:\s*+\.\s*+(?:"[^"]*+"|'[^']*+'|[A-Za-z0-9_-]++))*+)\s*+="""
)


def _split_key(key: str) -> list[str]:
    """``a."b.c".d`` -> ``["a", "b.c", "d"]``; one pass."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in key:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _header(line: str) -> tuple[bool, str] | None:
    """``[a.b]`` -> (False, "a.b"), ``[[a.b]]`` -> (True, "a.b"); None when the line is no table header."""
    text = line.strip()
    if not text.startswith("["):
        return None
    double = text.startswith("[[")
    start = 2 if double else 1
    end = text.find("]", start)
    if end < 0:
        return None
    rest = text[end + 1 :]
    if rest.startswith("]"):
        rest = rest[1:]
    elif double:
        return None
    rest = rest.strip()
    body = text[start:end].strip()
    if not body or (rest and not rest.startswith("#")):
        return None
    return double, body


def overlong_key(text: str, limit: int = 2 * MAX_PARTS) -> str | None:
    """A problem in words when a table header or key has more than ``limit`` dotted parts (tomllib itself takes
    quadratic time on those: 13 s for 50,000 parts); None when there is none. One pass over the text."""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _header(line)
        found = header[1] if header is not None else (key.group(1) if (key := _KEY.match(line)) else None)
        if found is not None and found.count(".") >= limit:
            parts = len(_split_key(found))
            if parts > limit:
                return f"line {number}: a key of {parts} dotted parts; room settings have at most {MAX_PARTS // 3}"
    return None


def key_lines(text: str) -> dict[Loc, int]:
    """Map every table and key path found in ``text`` to its 1-based line number."""
    lines: dict[Loc, int] = {}
    array_counts: dict[Loc, int] = {}
    table: Loc | None = ()  # None: under a table too deep to place
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        header = _header(line)
        if header is not None:
            parts = _split_key(header[1])
            if len(parts) > MAX_PARTS:
                table = None
                continue
            if header[0]:
                base = (*_resolve(parts[:-1], array_counts), parts[-1])
                index = array_counts.get(base, 0)
                array_counts[base] = index + 1
                table = (*base, index)
            else:
                table = _resolve(parts, array_counts)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            parts = _split_key(key.group(1))
            if table is not None and len(table) + len(parts) <= MAX_PARTS:
                lines.setdefault((*table, *parts), number)
            rest = line[key.end() :]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                in_multiline = True
    return lines


def _resolve(parts: list[str], array_counts: dict[Loc, int]) -> Loc:
    """``[[a.b]]`` then ``[a.b.c]`` means the last element of a.b: insert the current array index."""
    loc: list[str | int] = []
    for part in parts:
        loc.append(part)
        count = array_counts.get(tuple(loc))
        if count:
            loc.append(count - 1)
    return tuple(loc)


def line_of(text: str, loc: Loc, table: dict[Loc, int] | None = None) -> int | None:
    """The line of ``loc``, or of its nearest ancestor that can be found."""
    table = key_lines(text) if table is None else table
    for end in range(len(loc), 0, -1):
        found = table.get(tuple(loc[:end]))
        if found is not None:
            return found
    return None


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
