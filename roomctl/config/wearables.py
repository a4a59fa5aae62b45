"""[ble] and [[wearables]]: which wearables this room uses and how to find them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic_core import CoreSchema

from roomctl.config.base import Section, Slug


def _profile_names() -> tuple[str, ...]:
    """The names the vendor modules define. The vendor registry is loaded only when a room's wearables are checked
    (or the schema is written), so importing the configuration's models loads no BLE code."""
    from roomctl.sensors.profiles import PROFILE_NAMES

    return PROFILE_NAMES


def _known_profile(name: str) -> str:
    names = _profile_names()
    if name not in names:
        raise ValueError(f"must be one of {', '.join(repr(n) for n in names[:-1])} or {names[-1]!r}")
    return name


class _ClosedChoice:
    """In the JSON Schema and the configuration reference the profile is a closed choice: the registry's names."""

    @staticmethod
    def choices() -> tuple[str, ...]:
        return _profile_names()

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema: dict[str, Any] = handler(schema)
        json_schema["enum"] = list(_profile_names())
        return json_schema


ProfileName = Annotated[str, AfterValidator(_known_profile), _ClosedChoice()]


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
    max_notify_hz: float | None = Field(
        None,
        gt=0,
        le=2000,
        description="most notifications a second decoded per characteristic (default: the profile's; more: coalesced)",
    )

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
