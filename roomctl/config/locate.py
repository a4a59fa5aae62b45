"""Find the line of a key path (``lighting.channels[1].pin``) in TOML text, for error messages.

tomllib gives values, not positions; this scans the text for table headers (``[a.b]``, ``[[a.b]]``) and ``key =`` lines.
It covers what room files are made of; for anything it cannot place, the message just has no line.
"""

from __future__ import annotations

import re

Loc = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=""")


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)", key)]


def key_lines(text: str) -> dict[Loc, int]:
    """Map every table and key path found in ``text`` to its 1-based line number."""
    lines: dict[Loc, int] = {}
    array_counts: dict[Loc, int] = {}
    table: Loc = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            parts = _split_key(header.group(2))
            if header.group(1) == "[[":
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
            lines.setdefault((*table, *_split_key(key.group(1))), number)
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
