"""Messages from the feed, parsed with the project's own payload models (:mod:`roomctl.mqtt.payloads`).

The published schemas promise that later versions only add fields; the station reads with lenient copies of the same
models (extra fields ignored), so an older station keeps working with a newer room. Nothing here copies a payload shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from roomctl.models import Model
from roomctl.mqtt import payloads as p
from roomctl.mqtt.schemas import entry_for

M = TypeVar("M", bound=BaseModel)


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
    """The payload of one message as its model (``status``: the plain text), or :class:`FeedError`."""
    if rest == "status":  # plain text, not JSON
        text = payload.decode("utf-8", "replace").strip()
        try:
            return p.Status.model_validate(text).root
        except ValidationError as e:
            raise FeedError(f"status {text[:20]!r} is neither online nor offline") from e
    model = model_for(rest)
    if model is None:
        raise FeedError(f"no payload model for topic {rest!r}")
    try:
        return model.model_validate_json(payload)
    except ValidationError as e:
        raise FeedError(f"{rest}: {e.error_count()} problem(s): {e.errors()[0]['msg']}") from e
