"""The room configuration: one TOML file per room, validated once into frozen pydantic models.

``load_config(path)`` returns a :class:`RoomConfig` or raises :class:`~roomctl.errors.ConfigError` whose ``problems``
name the file, the key path and, where it can be found, the line, in words a facility staff member understands.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from roomctl.config.alarms import AlarmsConfig, LimitRule
from roomctl.config.base import Section
from roomctl.config.lighting import ChannelConfig, LightingConfig
from roomctl.config.locate import Loc, format_loc, key_lines, line_of, overlong_key
from roomctl.config.mqtt import BrokerConfig, MqttConfig, TlsConfig
from roomctl.config.music import MusicConfig, PhaseMusic
from roomctl.config.room import ApiConfig, RoomSection, StorageConfig
from roomctl.config.session import PhaseConfig, SessionConfig
from roomctl.config.wearables import BleConfig, WearableConfig
from roomctl.errors import ConfigError

__all__ = [
    "AlarmsConfig",
    "ApiConfig",
    "BleConfig",
    "BrokerConfig",
    "ChannelConfig",
    "ConfigError",
    "LightingConfig",
    "LimitRule",
    "MqttConfig",
    "MusicConfig",
    "PhaseConfig",
    "PhaseMusic",
    "RoomConfig",
    "RoomSection",
    "SessionConfig",
    "StorageConfig",
    "TlsConfig",
    "WearableConfig",
    "demo_config_text",
    "load_config",
    "load_toml",
    "parse_config",
    "parse_toml",
]

M = TypeVar("M", bound=BaseModel)


class RoomConfig(Section):
    room: RoomSection
    wearables: list[WearableConfig] = Field(default_factory=list)
    ble: BleConfig = Field(default_factory=BleConfig)
    lighting: LightingConfig = Field(default_factory=LightingConfig)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    session: SessionConfig = Field(default_factory=SessionConfig)
    music: MusicConfig = Field(default_factory=MusicConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        problems = []
        ids = [w.id for w in self.wearables]
        for dupe in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"wearable id '{dupe}' is used twice")
        addresses = [w.address for w in self.wearables if w.address]
        for dupe in sorted({a for a in addresses if addresses.count(a) > 1}):
            problems.append(f"BLE address {dupe} is given to two wearables")
        for phase in self.session.phases:
            if phase.scene is not None and phase.scene not in self.lighting.scenes:
                problems.append(f"phase '{phase.id}' uses scene '{phase.scene}', which is not in lighting.scenes")
        phase_ids = [p.id for p in self.session.phases]
        for phase_id in self.music.playlists:
            if phase_id not in phase_ids:
                problems.append(
                    f"music.playlists.{phase_id}: '{phase_id}' is not a session phase (phases: {', '.join(phase_ids)})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def advisories(self) -> list[str]:
        """Valid but inadvisable settings, for ``config check`` to print as warnings."""
        notes = self.lighting.advisories()
        if self.music.enabled and not self.music.playlists:
            notes.append("music is enabled but music.playlists names none: roomctl only follows what MPD plays")
        return notes

    def summary(self) -> str:
        mqtt = (
            f"MQTT to {self.mqtt.host}:{self.mqtt.port}{' (TLS)' if self.mqtt.tls else ''}"
            if self.mqtt.enabled
            else "MQTT off"
        )
        return (
            f"site {self.room.site} / room {self.room.room}: {len(self.wearables)} wearable(s), "
            f"{len(self.lighting.channels)} light channel(s), {len(self.lighting.scenes)} scene(s), "
            f"{len(self.alarms.rules)} alarm limit(s), {mqtt}"
            + (f", music from MPD at {self.music.address}" if self.music.enabled else "")
        )


_FRIENDLY: dict[str, str] = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known setting (check the spelling)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number, not nan or inf",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text in quotes",
    "list_type": "must be a list [ ... ]",
    "dict_type": "must be a table",
    "model_type": "must be a table",
}


def _describe(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _FRIENDLY:
        return _FRIENDLY[kind]
    ctx = err.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "may use only lower-case letters, digits, '-' and '_'" if "a-z0-9" in str(ctx) else err["msg"]
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def _problems(exc: ValidationError, text: str, source: str) -> list[str]:
    table = key_lines(text)
    out = []
    for err in exc.errors():
        loc: Loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic adds the union member tried ("float", "list[float]"); users never wrote those.
        loc = tuple(p for p in loc if p not in ("float", "list[float]", "Quantity"))
        line = line_of(text, loc, table) if loc else None
        where = f"{source}:{line}" if line else source
        path = format_loc(loc) or "(whole file)"
        out.append(f"{where}: {path}: {_describe(err)}")
    return list(dict.fromkeys(out))


def parse_toml(model: type[M], text: str, source: str = "<config>", base_dir: Path | None = None) -> M:
    """Validate TOML text into ``model``, with the room file's wording of problems. Relative file paths are resolved
    against ``base_dir``."""
    overlong = overlong_key(text)
    if overlong is not None:
        raise ConfigError([f"{source}: not a room configuration: {overlong}"])
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{source}: not valid TOML: {e}"]) from e
    except RecursionError:
        raise ConfigError([f"{source}: not a room configuration: arrays or tables nested far too deeply"]) from None
    except ValueError as e:  # e.g. an integer of thousands of digits
        raise ConfigError([f"{source}: not valid TOML: {str(e)[:120]}"]) from None
    try:
        return model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as e:
        raise ConfigError(_problems(e, text, source)) from e
    except RecursionError:
        raise ConfigError([f"{source}: not a room configuration: values nested far too deeply"]) from None


def load_toml(model: type[M], path: Path | str) -> M:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError([f"{path}: no such file"]) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: cannot be read: {e}"]) from e
    return parse_toml(model, text, str(path), path.parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path | None = None) -> RoomConfig:
    """Validate a room's TOML text. Relative file paths are resolved against ``base_dir``."""
    return parse_toml(RoomConfig, text, source, base_dir)


def load_config(path: Path | str) -> RoomConfig:
    return load_toml(RoomConfig, path)


def demo_config_text() -> str:
    """The demo room's configuration, embedded in the package (``config/demo.toml`` links to it)."""
    return resources.files("roomctl.defaults").joinpath("demo.toml").read_text(encoding="utf-8")
