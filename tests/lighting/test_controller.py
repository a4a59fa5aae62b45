"""The controller over MockPWMPin: phase scenes with long fades, override, break, alarm, commands, safe stop, restore."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from roomctl.clock import FakeClock
from roomctl.commands import EndSession, ResetLighting, SetLevel, SetScene
from roomctl.config.lighting import LightingConfig
from roomctl.hub import Hub
from roomctl.lighting.controller import LightingController
from roomctl.lighting.perceptual import level_to_duty
from roomctl.models import AlarmAction, SessionState
from tests.builders import T0, alarm_event
from tests.lighting.conftest import PHASES, PINS, duty, history, lighting_config, next_lighting


def controller(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock, state_file: Path | None = None
) -> LightingController:
    return LightingController(config, hub, phase_scenes=PHASES, pin_factory=factory, clock=clock, state_file=state_file)


def shows(factory: MockFactory, levels: dict[str, float]) -> bool:
    return all(duty(factory, PINS[key]) == level_to_duty(level) for key, level in levels.items())


ARRIVAL = {"ceiling.warm": 0.55, "ceiling.cool": 0.25, "lamp": 0.5}
JOURNEY = {"ceiling.warm": 0.12, "ceiling.cool": 0.0, "lamp": 0.2}
CLINICAL = {"ceiling.warm": 0.8, "ceiling.cool": 0.7, "lamp": 0.8}
BREAK = {"ceiling.warm": 0.6, "ceiling.cool": 0.3, "lamp": 0.6}
SAFE = {"ceiling.warm": 0.35, "ceiling.cool": 0.35, "lamp": 0.35}


def session(phase: str | None, on_break: bool = False) -> SessionState:
    return SessionState(id="s1", phase=phase, started_at=T0, on_break=on_break)


async def phase_faded(hub: Hub, clock: FakeClock, config: LightingConfig, phase: str) -> None:
    """The session enters ``phase``, and the phase fade runs to its end."""
    hub.publish(session(phase))
    await clock.run_for(config.phase_fade_s + 10, step=5)


async def test_starts_at_the_safe_level_without_a_saved_look(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock):
        assert shows(factory, SAFE)
        assert hub.state.lighting is not None
        assert hub.state.lighting.reason == "safe"


async def test_phase_scene_fades_over_the_phase_fade_and_publishes_only_start_and_end(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    sub = hub.subscribe("test", kinds=["lighting"])
    async with controller(config, hub, factory, clock) as ctl:
        await next_lighting(sub)  # the start-up look
        hub.publish(session("arrival"))
        start = await next_lighting(sub)
        assert (start.scene, start.reason, start.levels) == ("arrival", "phase", ARRIVAL)
        await clock.run_for(config.phase_fade_s - 1, step=0.5)
        assert ctl.current is not None
        assert not shows(factory, ARRIVAL)
        await clock.run_for(1.01, step=0.5)
        end = await next_lighting(sub)
        assert end == start
        assert shows(factory, ARRIVAL)
        assert len(sub) == 0  # nothing per step
        assert len(history(factory, PINS["lamp"])) > 100  # yet the pin moved in many small steps


async def test_override_holds_until_the_next_phase_change(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock) as ctl:
        hub.publish(session("arrival"))
        result = await ctl.handle(SetScene(scene="journey", fade_s=0))
        assert result.ok, result.message
        assert shows(factory, JOURNEY)
        hub.publish(session("arrival", on_break=False))  # same phase: override stays
        # next phase: the phase scene (journey) takes over, override ends
        await phase_faded(hub, clock, config, "onset")
        assert ctl.current is not None
        assert (ctl.current.reason, ctl.current.override) == ("phase", False)
        await phase_faded(hub, clock, config, "arrival")  # a scene set by phase, not by hand
        assert shows(factory, ARRIVAL)


async def test_set_level_keeps_the_warm_cool_mix_and_reset_returns_to_the_phase(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock) as ctl:
        await phase_faded(hub, clock, config, "arrival")
        result = await ctl.handle(SetLevel(channel="ceiling", level=0.275, fade_s=0))
        assert result.ok
        assert shows(factory, {"ceiling.warm": 0.275, "ceiling.cool": 0.125, "lamp": 0.5})
        assert hub.state.lighting is not None
        assert hub.state.lighting.override
        result = await ctl.handle(ResetLighting())
        assert result.ok
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert shows(factory, ARRIVAL)
        assert hub.state.lighting is not None
        assert not hub.state.lighting.override


async def test_unknown_scene_channel_and_command_are_refused_with_a_reason(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock) as ctl:
        before = [len(history(factory, pin)) for pin in PINS.values()]
        bad_scene = await ctl.handle(SetScene(scene="disco"))
        bad_channel = await ctl.handle(SetLevel(channel="sofa", level=0.5))
        not_ours = await ctl.handle(EndSession())
        assert not bad_scene.ok
        assert "disco" in bad_scene.message
        assert "arrival" in bad_scene.message
        assert not bad_channel.ok
        assert "sofa" in bad_channel.message
        assert "lamp" in bad_channel.message
        assert not not_ours.ok
        assert "end_session" in not_ours.message
        assert [len(history(factory, pin)) for pin in PINS.values()] == before


async def test_break_scene_during_a_break_then_back(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock):
        await phase_faded(hub, clock, config, "onset")
        hub.publish(session("onset", on_break=True))
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert shows(factory, BREAK)
        hub.publish(session("onset", on_break=False))
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert shows(factory, JOURNEY)


async def test_high_alarm_raises_the_clinical_light_until_acknowledged_then_returns(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    async with controller(config, hub, factory, clock) as ctl:
        await phase_faded(hub, clock, config, "onset")
        hub.publish(alarm_event())
        await clock.run_for(config.alarm_fade_s + 0.1, step=0.05)
        assert shows(factory, CLINICAL)
        held = await ctl.handle(SetScene(scene="arrival", fade_s=0))  # accepted, shown after the alarm
        assert held.ok
        assert "alarm" in held.message
        assert shows(factory, CLINICAL)
        hub.publish(alarm_event(AlarmAction.ACKNOWLEDGED, acknowledged=True))
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert shows(factory, ARRIVAL)


async def test_until_cleared_policy_and_no_alarm_scene(hub: Hub, factory: MockFactory, clock: FakeClock) -> None:
    config = lighting_config(alarm_scene_until="cleared")
    async with controller(config, hub, factory, clock):
        hub.publish(alarm_event())
        hub.publish(alarm_event(AlarmAction.ACKNOWLEDGED, acknowledged=True))
        await clock.run_for(config.alarm_fade_s + 0.1, step=0.05)
        assert shows(factory, CLINICAL)
        hub.publish(alarm_event(AlarmAction.CLEARED))
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert shows(factory, SAFE)


async def test_without_an_alarm_scene_an_alarm_leaves_the_light_alone(
    hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    config = lighting_config(alarm_scene=None)
    async with controller(config, hub, factory, clock):
        changes = len(history(factory, PINS["lamp"]))
        hub.publish(alarm_event())
        await clock.run_for(2, step=0.05)
        assert len(history(factory, PINS["lamp"])) == changes
        assert shows(factory, SAFE)


async def test_stop_goes_to_the_safe_level_even_mid_fade(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    ctl = controller(config, hub, factory, clock)  # held: gpiozero closes (darkens) devices that are collected
    async with ctl:
        hub.publish(session("arrival"))
        await clock.run_for(30, step=1)
        assert 0.35 < history(factory, PINS["lamp"])[-1] < 0.5  # mid-fade
    assert shows(factory, SAFE)
    assert hub.state.lighting is not None
    assert hub.state.lighting.reason == "safe"
    settled = len(history(factory, PINS["lamp"]))
    await clock.run_for(60, step=1)
    assert len(history(factory, PINS["lamp"])) == settled  # the cancelled fade wrote nothing more
    assert ctl.current is not None
    assert ctl.current.reason == "safe"


async def test_restart_restores_the_last_scene_not_darkness(
    config: LightingConfig, hub: Hub, clock: FakeClock, tmp_path: Path
) -> None:
    state = tmp_path / "lighting.json"
    first = MockFactory(pin_class=__import__("gpiozero.pins.mock", fromlist=["MockPWMPin"]).MockPWMPin)
    async with controller(config, hub, first, clock, state) as ctl:
        hub.publish(session("onset"))
        await ctl.handle(SetLevel(channel="lamp", level=0.3, fade_s=0))
    saved = json.loads(state.read_text())
    assert saved["override"]["targets"]["lamp"] == [0.3]
    assert os.listdir(tmp_path) == [state.name]  # no temporary files left behind

    # a crash: a new process, a new hub whose session is not loaded yet
    second = MockFactory(pin_class=first.pin_class)
    hub2 = Hub()  # the new process's hub
    async with controller(config, hub2, second, clock, state):
        assert shows(second, {**JOURNEY, "lamp": 0.3})  # at once, not a fade up from black
        assert len(history(second, PINS["lamp"])) == 2  # 0 at claim, then straight to the restored level
        hub2.publish(session("onset"))  # the session comes back in the same phase: the override holds
        await clock.run_for(5, step=0.1)
        assert shows(second, {**JOURNEY, "lamp": 0.3})


async def test_a_corrupt_state_file_falls_back_to_the_safe_level(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock, tmp_path: Path
) -> None:
    state = tmp_path / "lighting.json"
    state.write_text("{ not json")
    async with controller(config, hub, factory, clock, state):
        assert shows(factory, SAFE)


async def test_the_alarm_light_comes_back_when_the_pause_ends_and_the_condition_still_exists(
    config: LightingConfig, hub: Hub, factory: MockFactory, clock: FakeClock
) -> None:
    from roomctl.alarms.engine import AlarmEngine
    from roomctl.config.alarms import AlarmsConfig, LimitRule
    from roomctl.models import UNITS, Priority, Quantity, Reading

    rule = LimitRule(quantity=Quantity.SPO2, low=90, priority=Priority.HIGH, condition_delay_s=0)
    engine = AlarmEngine(AlarmsConfig(rules=[rule], audio_pause_s=60), [], clock=clock)
    hub.add_processor(engine)
    async with controller(config, hub, factory, clock):
        await phase_faded(hub, clock, config, "onset")
        hub.publish(Reading(quantity=Quantity.SPO2, value=85, unit=UNITS[Quantity.SPO2], device="oxi", ts=T0))
        await clock.run_for(config.alarm_fade_s + 0.1, step=0.05)
        assert shows(factory, CLINICAL)
        for event in engine.acknowledge():  # the screen's key: light back to the room's scene while paused
            hub.publish(event)
        await clock.run_for(config.default_fade_s + 0.1, step=0.05)
        assert not shows(factory, CLINICAL)
        for _ in range(60):  # the daemon's tick through the 60 s pause; SpO2 is still low
            await clock.run_for(1, step=0.25)
            for event in engine.tick():
                hub.publish(event)
        await clock.run_for(config.alarm_fade_s + 0.1, step=0.05)
        assert shows(factory, CLINICAL)  # re-annunciated: the alarm light is back
