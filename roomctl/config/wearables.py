"""[ble] and [[wearables]]: which wearables this room uses and how to find them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator

from roomctl.config.base import Section, Slug
from roomctl.sensors.profiles import PROFILE_NAMES

if TYPE_CHECKING:
    ProfileName = str
else:  # the names the vendor modules define (roomctl.sensors.profiles): a closed choice in the schema and errors
    ProfileName = Literal[PROFILE_NAMES]


class BleConfig(Section):
    adapter: str = Field("hci0", pattern=r"^hci[0-9]+$", description="Bluetooth adapter")
    connect_timeout_s: float = Field(20.0, gt=0, le=120, description="one connection attempt gives up after this long")
    max_connect_attempts: int = Field(4, ge=1, le=20, description="attempts per connection round before backing off")
    scanner_restart_s: float = Field(
        90.0, gt=0, le=3600, description="restart a scanner that has seen nothing for this long"
    )


class WearableConfig(Section):
    id: Slug = Field(description="unique id: used in MQTT topics, logs and the record")
    profile: ProfileName = Field(description="which protocol the wearable speaks (docs/wearables.md)")
    address: str | None = Field(None, description="BLE address AA:BB:CC:DD:EE:FF")
    name_pattern: str | None = Field(None, description="regular expression matched against the advertised name")
    label: str | None = Field(None, max_length=30, description="shown on the screen")
    stale_after_s: float = Field(10.0, gt=0, le=600, description="no reading for this long: data stale")
    lost_after_s: float = Field(30.0, gt=0, le=3600, description="disconnected this long: wearable lost alarm")
    poll_interval_s: float = Field(2.0, ge=0.2, le=60, description="for request/response protocols")
    battery_low_percent: int = Field(20, ge=0, le=100, description="low-battery technical alarm at or below this")
    battery_read_interval_s: float = Field(300.0, ge=10, le=86_400, description="how often the battery level is read")

    @field_validator("address")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", v):
            raise ValueError("a BLE address looks like AA:BB:CC:DD:EE:FF")
        return v.upper() if v else v

    @field_validator("name_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from e
        return v

    @model_validator(mode="after")
    def _one_way_to_find(self) -> Self:
        if (self.address is None) == (self.name_pattern is None):
            raise ValueError("give exactly one of address or name_pattern")
        if self.lost_after_s < self.stale_after_s:
            raise ValueError(
                f"lost_after_s ({self.lost_after_s}) must not be shorter than stale_after_s ({self.stale_after_s})"
            )
        return self
