"""Looks: what the light should be (target per channel) and why; built from scenes, commands and the safe level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomctl.config.lighting import ChannelConfig, LightingConfig
from roomctl.lighting.outputs import output_keys
from roomctl.models import LightingState

Targets = dict[str, tuple[float, ...]]
"""channel id -> one perceived level 0.0-1.0 per pin."""


@dataclass(frozen=True)
class Look:
    targets: Targets
    scene: str | None
    reason: str  # phase, override, alarm, break, restored, safe
    override: bool = False

    def state(self, channels: list[ChannelConfig]) -> LightingState:
        levels = {
            key: round(level, 4)
            for ch in channels
            for key, level in zip(output_keys(ch), self.targets.get(ch.id, ()), strict=False)
        }
        return LightingState(scene=self.scene, levels=levels, override=self.override, reason=self.reason)

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": {k: list(v) for k, v in self.targets.items()},
            "scene": self.scene,
            "reason": self.reason,
            "override": self.override,
        }


def scene_look(config: LightingConfig, scene: str, reason: str, *, override: bool = False) -> Look:
    """A scene as targets for every channel. A channel the scene leaves out is off in that scene."""
    levels = config.scenes[scene]
    targets: Targets = {}
    for ch in config.channels:
        value = levels.get(ch.id, 0.0)
        targets[ch.id] = tuple(value) if isinstance(value, list) else (value,) * len(ch.pins)
    return Look(targets, scene, reason, override)


def safe_look(config: LightingConfig) -> Look:
    return Look({ch.id: (config.safe_level,) * len(ch.pins) for ch in config.channels}, None, "safe")


def with_level(config: LightingConfig, base: Look, channel: str | None, level: float) -> Look:
    """``base`` with one channel (or all) brought to ``level``. A group keeps its mix: its brightest pin gets ``level``."""
    targets = dict(base.targets)
    for ch in config.channels:
        if channel is not None and ch.id != channel:
            continue
        current = targets.get(ch.id, (0.0,) * len(ch.pins))
        peak = max(current)
        targets[ch.id] = tuple(v * level / peak for v in current) if peak > 0 else (level,) * len(ch.pins)
    return Look(targets, base.scene, "override", override=True)


def look_from_json(config: LightingConfig, data: Any) -> Look | None:
    """A look read back from the state file, fitted to the channels configured now; None when unusable."""
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        return None
    saved = data["targets"]
    targets: Targets = {}
    for ch in config.channels:
        value = saved.get(ch.id)
        ok = (
            isinstance(value, list)
            and len(value) == len(ch.pins)
            and all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in value)
        )
        targets[ch.id] = tuple(float(v) for v in value) if ok else (config.safe_level,) * len(ch.pins)
    scene = data.get("scene")
    return Look(
        targets,
        scene if isinstance(scene, str) else None,
        str(data.get("reason", "restored")),
        bool(data.get("override", False)),
    )
