"""``central.toml``: which broker (the same ``[mqtt]`` keys as a room file), which sites, and how the station serves.

Validated like a room file (``roomctl central --check FILE``): one line per problem with the file, the key and its
line, exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints

from roomctl.config import load_toml
from roomctl.config.base import Section
from roomctl.config.mqtt import BrokerConfig

DEFAULT_PATH = Path("/etc/roomctl/central.toml")


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

    def summary(self) -> str:
        sites = "every site" if "*" in self.station.sites else ", ".join(self.station.sites)
        tls = " (TLS)" if self.mqtt.tls else ""
        return (
            f"{sites} from {self.mqtt.host}:{self.mqtt.port}{tls}; browser view on {self.serve.host}:{self.serve.port}"
        )


def load_central_config(path: Path | str) -> CentralConfig:
    return load_toml(CentralConfig, path)
