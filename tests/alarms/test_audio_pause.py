"""The timed audio pause: at most 2 minutes, a visible countdown, broken through by a higher priority."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from roomctl.alarms.pause import AudioPauseTimer
from roomctl.clock import FakeClock
from roomctl.commands import Acknowledge
from roomctl.config.alarms import AlarmsConfig
from roomctl.models import AlarmAction, AudioPause, HubEvent, Priority, Quantity

from .conftest import MakeRoom, Room, alarm_events, config, pauses

SPO2 = Quantity.SPO2


def test_acknowledge_pauses_audio_for_the_configured_time_then_it_ends(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    out = room.acknowledge()
    (pause,) = pauses(out)
    assert pause.until == room.clock.now() + timedelta(seconds=120)
    assert pause.remaining_s == 120
    assert pauses(room.wait(119)) == []
    assert room.engine.audio_paused_s() == pytest.approx(1.0)
    (ended,) = pauses(room.wait(1))
    assert ended.until is None
    assert ended.remaining_s == 0
    assert room.engine.audio_paused_s() == 0
    assert room.only("spo2_low").acknowledged_at is None  # the pause ended, the condition exists: it signals again


def test_a_shorter_pause_is_configurable_and_does_not_follow_the_wall_clock(make_room: MakeRoom) -> None:
    room = make_room(config(audio_pause_s=60))
    room.hold(SPO2, 88, 11)
    room.acknowledge()
    room.clock.jump_wall(-3600)
    assert pauses(room.wait(59)) == []
    assert len(pauses(room.wait(1))) == 1


def test_a_pause_longer_than_two_minutes_is_refused() -> None:
    with pytest.raises(ValidationError, match="120"):
        AlarmsConfig(audio_pause_s=300)
    with pytest.raises(ValueError, match="120"):
        AudioPauseTimer(FakeClock(), 121)


def test_a_higher_priority_alarm_breaks_through_the_pause(room: Room) -> None:
    room.hold(SPO2, 88, 11)  # medium
    room.acknowledge()
    assert room.engine.audio_paused_s() > 0
    out = room.health("storage", ok=False, detail="disk full")  # high
    assert [e.alarm.condition for e in alarm_events(out, AlarmAction.RAISED)] == ["storage_failure"]
    (ended,) = pauses(out)
    assert ended.until is None
    assert room.engine.audio_paused_s() == 0
    assert out.index(ended) > out.index(alarm_events(out)[0])


def test_an_alarm_of_the_same_or_lower_priority_stays_paused(room: Room) -> None:
    room.hold(SPO2, 88, 11)  # medium
    room.acknowledge()
    out: list[HubEvent] = []
    out += room.hold(Quantity.HEART_RATE, 130, 11, device="strap")  # medium
    out += room.health("mqtt", ok=False)  # low
    assert {e.alarm.condition for e in alarm_events(out, AlarmAction.RAISED)} == {
        "heart_rate_high",
        "broker_unreachable",
    }
    assert pauses(out) == []
    assert room.engine.audio_paused_s() > 0


def test_escalation_of_an_acknowledged_alarm_breaks_through_and_needs_a_new_acknowledgement(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.acknowledge()
    out = room.hold(SPO2, 83, 6)
    (escalated,) = alarm_events(out, AlarmAction.ESCALATED)
    assert escalated.alarm.priority is Priority.HIGH
    assert escalated.alarm.acknowledged_at is None
    assert [p.until for p in pauses(out)] == [None]


def test_a_pause_started_while_a_high_alarm_is_present_is_not_broken_by_another_high(make_room: MakeRoom) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 80, 6)  # high
    room.acknowledge()
    out = room.health("storage", ok=False)  # high too: not higher than what was acknowledged
    assert len(alarm_events(out, AlarmAction.RAISED)) == 1
    assert pauses(out) == []


def test_acknowledge_command_publishes_and_reports_in_words(room: Room) -> None:
    published: list[HubEvent] = []
    result = room.engine.acknowledge_command(Acknowledge(), published.append)
    assert (result.ok, result.message) == (True, "no alarms to acknowledge")
    room.hold(SPO2, 88, 11)
    result = room.engine.acknowledge_command(Acknowledge(alarm_id="nope"), published.append)
    assert not result.ok
    assert "nope" in result.message
    assert published == []
    alarm_id = room.only("spo2_low").id
    result = room.engine.acknowledge_command(Acknowledge(alarm_id=alarm_id), published.append)
    assert result.ok
    assert "120 s" in result.message
    assert [type(e) for e in published] == [type(alarm_events(room.events)[0])]  # by id: no room-wide pause
    assert alarm_events(published)[0].action is AlarmAction.ACKNOWLEDGED
    result = room.engine.acknowledge_command(Acknowledge(), published.append)
    assert result.message == "acknowledged; audio paused for 120 s"
    assert isinstance(published[-1], AudioPause)
