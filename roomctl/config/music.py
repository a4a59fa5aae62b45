"""[music]: the room's music. MPD plays it; roomctl chooses a stored playlist per session phase and sets its volume."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, StrictBool, field_validator, model_validator

from roomctl.config.base import Section, Slug


class PhaseMusic(Section):
    """``[music.playlists.<phase id>]``: what plays in one session phase."""

    playlist: str = Field(min_length=1, max_length=200, description="MPD stored playlist (`mpc lsplaylists`)")
    volume: float = Field(0.4, ge=0, le=1, description="music volume in this phase, 0-1 of MPD's volume")

    @field_validator("playlist")
    @classmethod
    def _mpd_name(cls, value: str) -> str:
        if "/" in value or value.startswith(".") or any(ord(c) < 32 for c in value):
            raise ValueError(
                f"{value!r} cannot be an MPD playlist name (no '/', no leading '.', no control characters)"
            )
        return value


class MusicConfig(Section):
    """The room's music player: MPD, over its TCP port or its Unix socket (docs/operations.md, "Music")."""

    enabled: StrictBool = Field(False, description="play the room's music through MPD (a low alarm when MPD is away)")
    host: str = Field("localhost", min_length=1, max_length=253, description="MPD's host name or address")
    port: int = Field(6600, ge=1, le=65535, description="MPD's TCP port")
    socket: Path | None = Field(None, description="MPD's Unix socket (e.g. /run/mpd/socket); given: used, not host")
    duck_volume: float = Field(0.1, ge=0, le=1, description="music volume (0-1) while an alarm sounds")
    duck_restore_s: float = Field(
        4.0, ge=0.5, le=30, description="back to the phase's volume over this long after the alarm is paused or ends"
    )
    end_fade_s: float = Field(30.0, ge=0, le=600, description="the music fades out over this long when a session ends")
    talk_fade_s: float = Field(2.0, ge=0, le=30, description="fade out for 'music off for talking', and back in")
    volume_step: float = Field(0.05, gt=0, le=0.5, description="one press of the screen's volume keys")
    timeout_s: float = Field(2.0, gt=0, le=30, description="an MPD call taking longer counts as MPD unreachable")
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="first retry delay; doubles per failed attempt")
    reconnect_max_s: float = Field(30.0, gt=0, le=600, description="longest delay between reconnect attempts")
    playlists: dict[Slug, PhaseMusic] = Field(
        default_factory=dict,
        description="session phase id -> its playlist and volume; a phase not listed keeps what plays",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError("a Unix socket goes in music.socket, not music.host")
        if any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not a host name (it has spaces)")
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        if self.socket is not None and not self.socket.is_absolute():
            raise ValueError(f"music.socket must be an absolute path, not {str(self.socket)!r}")
        return self

    @property
    def address(self) -> str:
        """Where MPD is, in words: ``localhost:6600`` or the socket's path."""
        return str(self.socket) if self.socket is not None else f"{self.host}:{self.port}"
