"""Looks: scenes become targets for every channel; levels keep a group's mix; saved looks fit today's channels."""

from __future__ import annotations

from roomctl.lighting.looks import look_from_json, scene_look, with_level
from tests.lighting.conftest import lighting_config

RGB = lighting_config(
    channels=[{"id": "strip", "kind": "rgb", "pins": [20, 21, 26]}, {"id": "lamp", "pins": [18]}],
    scenes={"dusk": {"strip": [0.6, 0.3, 0.0]}, "plain": {"strip": 0.4, "lamp": 0.2}},
    break_scene=None,
    alarm_scene=None,
)


def test_rgb_outputs_are_named_per_colour_and_left_out_channels_are_off() -> None:
    state = scene_look(RGB, "dusk", "phase").state(RGB.channels)
    assert state.levels == {"strip.r": 0.6, "strip.g": 0.3, "strip.b": 0.0, "lamp": 0.0}


def test_one_level_for_a_group_sets_every_pin() -> None:
    assert scene_look(RGB, "plain", "phase").targets == {"strip": (0.4, 0.4, 0.4), "lamp": (0.2,)}


def test_level_for_all_channels_keeps_each_mix() -> None:
    look = with_level(RGB, scene_look(RGB, "dusk", "phase"), None, 0.3)
    assert look.targets == {"strip": (0.3, 0.15, 0.0), "lamp": (0.3,)}  # the dark lamp comes up to the level
    assert (look.reason, look.override, look.scene) == ("override", True, "dusk")


def test_saved_look_is_fitted_to_the_channels_configured_now() -> None:
    saved = {"targets": {"strip": [0.1, 0.2, 0.3], "lamp": [7], "gone": [0.5]}, "scene": "dusk", "reason": "phase"}
    look = look_from_json(RGB, saved)
    assert look is not None
    assert look.targets == {"strip": (0.1, 0.2, 0.3), "lamp": (RGB.safe_level,)}  # out of range -> safe
    assert look_from_json(RGB, ["not", "a", "look"]) is None
