"""``central.toml``: which broker (the same ``[mqtt]`` keys as a room file), which sites, and how the station serves.

Validated like a room file (``roomctl central --check FILE``): one line per problem with the file, the key and its
line, exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from roomctl.central.parse import ID
from roomctl.config import load_toml
from roomctl.config.base import Section
from roomctl.config.mqtt import BrokerConfig

DEFAULT_PATH = Path("/etc/roomctl/central.toml")


def _room_ref(value: str) -> str:
    site, slash, room = value.partition("/")
    if not slash or ID.fullmatch(site) is None or ID.fullmatch(room) is None:
        raise ValueError(
            "must be \"site/room\", as the room's [room] site and room (lower-case letters, digits, '-', '_')"
        )
    return value


RoomRef = Annotated[str, AfterValidator(_room_ref)]
"""A room as ``site/room`` (its ``[room] site`` and ``room``)."""

SiteFilter = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z0-9][a-z0-9_-]{0,62})$")]
"""A site id as in the rooms' ``[room] site`` (lower-case letters, digits, '-' and '_'), or ``*`` for every site."""


class StationSection(Section):
    title: str = Field("roomctl nursing station", min_length=1, max_length=60, description="shown in the header")
    sites: tuple[SiteFilter, ...] = Field(
        ("*",), min_length=1, description='site ids to show (as in the rooms\' [room] site), or ["*"] for every site'
    )
    vitals_stale_s: float = Field(
        15.0, gt=0, le=600, description='a vital whose ts is older than this shows "no data" (its expiry applies too)'
    )
    rooms: tuple[RoomRef, ...] = Field(
        (),
        description='the rooms to expect, as "site/room"; others are shown apart, after every expected room, and never '
        "counted with them; empty: every room heard of is expected",
    )
    clock_skew_s: float = Field(
        120.0,
        ge=0,
        le=86400,
        description="an alarm raised further in the future than this is marked suspect and sorted as the oldest",
    )

    def expected(self) -> frozenset[tuple[str, str]]:
        """``rooms`` as (site, room) keys."""
        return frozenset((site, room) for site, _, room in (ref.partition("/") for ref in self.rooms))


class LimitsSection(Section):
    """What one station keeps at most; beyond it, messages are dropped, counted and the count shown on screen.
    Expected rooms (``[station] rooms``) are always kept."""

    sites: int = Field(20, ge=1, le=1000, description='sites kept (with sites = ["*"])')
    rooms_per_site: int = Field(2000, ge=1, le=100_000, description="rooms kept per site")
    rooms: int = Field(3000, ge=1, le=100_000, description="rooms kept in all")
    devices_per_room: int = Field(16, ge=1, le=1000, description="wearables (devices/<id> topics) kept per room")
    alarms_per_room: int = Field(64, ge=1, le=1000, description="alarms kept per room (the most urgent)")
    payload_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024, description="larger messages are dropped unread")


class ServeSection(Section):
    host: str = Field(
        "127.0.0.1", min_length=1, description="address to serve the browser view on (loopback: local only)"
    )
    port: int = Field(8420, ge=1, le=65535)
    public_url: str | None = Field(
        None,
        description="the URL people open, when a reverse proxy (TLS, login) is in front: https://station.clinic.lan",
    )


class CentralConfig(Section):
    station: StationSection = Field(default_factory=StationSection)
    mqtt: BrokerConfig = Field(default_factory=BrokerConfig)
    serve: ServeSection = Field(default_factory=ServeSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)

    def summary(self) -> str:
        sites = "every site" if "*" in self.station.sites else ", ".join(self.station.sites)
        tls = " (TLS)" if self.mqtt.tls else ""
        expected = f", {len(self.station.rooms)} room(s) expected" if self.station.rooms else ""
        return (
            f"{sites}{expected} from {self.mqtt.host}:{self.mqtt.port}{tls}; "
            f"browser view on {self.serve.host}:{self.serve.port}"
        )


def load_central_config(path: Path | str) -> CentralConfig:
    return load_toml(CentralConfig, path)
