"""[mqtt]: the broker the dashboards read from. Secrets never inline: a credentials file."""

from __future__ import annotations

from typing import Self

from pydantic import Field, StrictBool, model_validator

from roomctl.config.base import ExistingFile, Section


class TlsConfig(Section):
    ca_file: ExistingFile | None = Field(None, description="CA that signed the broker's certificate; None: system CAs")
    cert_file: ExistingFile | None = Field(None, description="client certificate, for brokers that require one")
    key_file: ExistingFile | None = Field(None, description="client key, with cert_file")

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class BrokerConfig(Section):
    """Where the broker is and how to reach it: shared by a room's ``[mqtt]`` and the nursing station's ``[mqtt]``."""

    host: str = Field("localhost", min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    tls: TlsConfig | None = None
    credentials_file: ExistingFile | None = Field(
        None, description="file with two lines: username, then password (mode 0600)"
    )
    topic_prefix: str = Field("roomctl", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    client_id: str | None = Field(None, max_length=64)
    keepalive_s: int = Field(30, ge=5, le=600)
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="first retry delay; doubles per failed attempt")
    reconnect_max_s: float = Field(30.0, gt=0, le=600, description="longest delay between reconnect attempts")

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self


class MqttConfig(BrokerConfig):
    """A room's ``[mqtt]``: the broker, and what the room publishes there."""

    enabled: StrictBool = False
    vitals_expiry_s: int = Field(30, ge=1, le=3600, description="MQTT v5 message expiry on live vitals")
    replay_rate_per_s: float = Field(200.0, gt=0, le=10_000, description="pace of outbox replay after a reconnect")
    commands_enabled: StrictBool = Field(False, description="accept lighting and acknowledge commands over MQTT")
    ha_discovery: StrictBool = Field(False, description="publish Home Assistant MQTT discovery")
    ha_discovery_prefix: str = Field("homeassistant", pattern=r"^[A-Za-z0-9_-]+$")
    max_inflight: int = Field(100, ge=1, le=1000, description="unacknowledged messages at once (bounds RAM)")
