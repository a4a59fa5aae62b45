"""Messages from the feed, parsed with the project's own payload models (:mod:`roomctl.mqtt.payloads`), and made safe.

The published schemas promise that later versions only add fields; the station reads with lenient copies of the same
models (extra fields ignored), so an older station keeps working with a newer room. Nothing here copies a payload shape.

**The station trusts no room.** Every string a message brings (room name, alarm text, device names, phase, anything)
is made safe here, once, before any view sees it (:func:`safe_text`): escape sequences (CSI, OSC, DCS, ...) and control
characters become one visible placeholder each, bidi overrides and other invisible format characters too, runs of
combining marks are cut, and the length is bounded. Site and room ids come from the topic and must be ids as a room's
``[room] site`` and ``room`` are (:data:`ID`); anything else is not a room.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from roomctl.models import Model
from roomctl.mqtt import payloads as p
from roomctl.mqtt.schemas import entry_for

M = TypeVar("M", bound=BaseModel)

TEXT_MAX = 120
"""Characters kept of any one string from a room (a tile is ~24 wide; the detail view shows a line)."""
PLACEHOLDER = "\ufffd"
"""Shown where a control character, an escape sequence or an invisible format character was."""
COMBINING_MAX = 2
"""Combining marks kept after one character (more only stack up over the neighbouring lines)."""

ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""A site or room id, as :data:`roomctl.config.base.Slug` allows in a room's configuration."""

_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI: cursor moves, colours, erase, ...
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC .. ST
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"  # the other ESC sequences (and a lone ESC)
)
_SAFE_PAYLOAD = re.compile(rb"[\x20-\x5b\x5d-\x7e\t\n\r]*")
"""Printable ASCII without a backslash: the JSON strings in it hold no escape, control or format character (raw
control characters are invalid JSON, refused by the parser), so nothing in it needs making safe but its length."""
_LONG_STRING = re.compile(rb'"[^"]{%d,}"' % (TEXT_MAX + 1))


def safe_text(text: str, limit: int = TEXT_MAX) -> str:
    """``text`` as it may reach a terminal or a browser: see the module's docstring."""
    if text.isascii() and text.isprintable():
        return text if len(text) <= limit else text[: limit - 1] + "\u2026"
    text = _ESCAPE.sub(PLACEHOLDER, text)
    out: list[str] = []
    marks = 0
    for ch in text:
        if ch.isprintable():
            if unicodedata.combining(ch):
                marks += 1
                if marks > COMBINING_MAX:
                    continue
            else:
                marks = 0
            out.append(ch)
        else:  # Cc, Cf (bidi overrides, zero-width), Cs, Co, Cn, Zl, Zp; other spaces become a plain one
            marks = 0
            out.append(" " if unicodedata.category(ch) == "Zs" else PLACEHOLDER)
        if len(out) > limit:
            break
    if len(out) > limit:
        out[limit - 1 :] = ["\u2026"]
    return "".join(out)


def _safe(value: Any) -> Any:
    """``value`` with every string in it made safe (the same object when nothing needed it)."""
    if isinstance(value, Enum):
        return value  # the model's own values
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            field = getattr(value, name)
            safe = _safe(field)
            if safe is not field:
                updates[name] = safe
        return value.model_copy(update=updates) if updates else value
    if isinstance(value, list | tuple):
        items = [_safe(v) for v in value]
        return type(value)(items) if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        pairs = [(_safe(k), _safe(v)) for k, v in value.items()]
        changed = any(a is not k or b is not v for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return dict(pairs) if changed else value
    return value


@cache
def lenient(model: type[M]) -> type[M]:
    """``model`` that ignores fields it does not know (a newer room's additions)."""
    return cast(type[M], type(model.__name__, (model,), {"model_config": ConfigDict(extra="ignore")}))


@dataclass(frozen=True, slots=True)
class Address:
    site: str
    room: str
    rest: str  # below the room's root: "status", "vitals/spo2", "devices/oximeter", ...


def split_topic(topic: str, prefix: str) -> Address | None:
    """``<prefix>/<site>/<room>/<rest>`` into its parts; None for a topic outside the tree."""
    if not topic.startswith(prefix + "/"):
        return None
    parts = topic[len(prefix) + 1 :].split("/", 2)
    if len(parts) < 3 or not all(parts):
        return None
    return Address(parts[0], parts[1], parts[2])


def valid_ids(address: Address) -> bool:
    """Site and room are ids a room can have (anything else came from no room's configuration)."""
    return ID.fullmatch(address.site) is not None and ID.fullmatch(address.room) is not None


class FeedError(ValueError):
    """A message the station cannot read (the tile keeps what it had; the count is shown on screen)."""


@cache
def model_for(rest: str) -> type[BaseModel] | None:
    """The payload model of a topic below the room root, from the project's topic table; None: not a JSON topic."""
    entry = entry_for(rest)
    if entry is None or not isinstance(entry.model, type) or not issubclass(entry.model, Model):
        return None
    return lenient(entry.model)


def parse(rest: str, payload: bytes) -> Any:
    """The payload of one message as its model, every string in it safe (``status``: the plain text), or
    :class:`FeedError`."""
    if rest == "status":  # plain text, not JSON
        text = payload.decode("utf-8", "replace").strip()
        try:
            return p.Status.model_validate(text).root
        except ValidationError as e:
            raise FeedError(f"status {safe_text(text, 20)!r} is neither online nor offline") from e
    model = model_for(rest)
    if model is None:
        raise FeedError(f"no payload model for topic {safe_text(rest, 40)!r}")
    try:
        message = model.model_validate_json(payload)
    except ValidationError as e:
        raise FeedError(f"{safe_text(rest, 40)}: {e.error_count()} problem(s): {e.errors()[0]['msg']}") from e
    if _SAFE_PAYLOAD.fullmatch(payload) is not None and (len(payload) <= TEXT_MAX or not _LONG_STRING.search(payload)):
        return message  # most messages (every vital): nothing in them is unsafe or too long
    return _safe(message)
