"""[room], [storage] and [api]: who this room is and where it keeps its state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from roomctl.config.base import Section, Slug


class RoomSection(Section):
    site: Slug = Field(description="site (clinic) id, used in MQTT topics; no patient data")
    room: Slug = Field(description="room id, used in MQTT topics")
    name: str | None = Field(None, max_length=60, description="display name on the screen")


class StorageConfig(Section):
    path: Path = Field(Path("/var/lib/roomctl/roomctl.db"), description="SQLite database (WAL)")
    flush_interval_s: float = Field(0.5, gt=0, le=1.0, description="readings reach disk within this time")
    retention_days: int = Field(400, ge=1, le=36_500, description="sessions older than this are deleted")


class ApiConfig(Section):
    socket_path: Path = Field(Path("/run/roomctl/api.sock"), description="local API Unix socket")
    socket_group: str | None = Field(
        None, description="group allowed to use the socket (mode 0660), e.g. roomctl-screen; None: owner only"
    )
