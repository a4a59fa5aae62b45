"""Bookkeeping a clinician can trust (issue 10), with the fake clock, the real hub and the engine: one condition is one
alarm, acknowledge has a scope, signals come back after the pause, a new high breaks through, NaN is no data."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from roomctl.alarms.signal import sounding
from roomctl.api.protocol import Snapshot
from roomctl.cli.main import main
from roomctl.clock import FakeClock
from roomctl.config.alarms import AlarmsConfig, LimitRule
from roomctl.hub import Hub
from roomctl.models import AlarmAction, LinkState, Priority, Quality, Quantity

from .conftest import OXIMETER, STRAP, MakeRoom, Room, alarm_events, config, pauses

SPO2 = Quantity.SPO2
HR = Quantity.HEART_RATE


def test_spo2_83_then_87_stays_one_alarm_with_one_id(room: Room) -> None:
    room.hold(SPO2, 83, 6)  # high after 5 s (the medium rule's 10 s have not passed yet)
    alarm = room.only("spo2_low")
    assert alarm.priority is Priority.HIGH
    room.hold(SPO2, 87, 30)  # below 90: the same condition goes on
    assert [(e.action, e.alarm.id) for e in alarm_events(room.events)] == [(AlarmAction.RAISED, alarm.id)]
    assert room.only("spo2_low").id == alarm.id
    assert room.only("spo2_low").active
    room.hold(SPO2, 96, 2)
    assert [e.action for e in alarm_events(room.events)] == [AlarmAction.RAISED, AlarmAction.LATCHED]


def test_with_the_shipped_defaults_85_percent_is_high_and_86_is_medium(make_room: MakeRoom) -> None:
    at_85 = make_room(AlarmsConfig())
    at_85.hold(SPO2, 85, 6)
    assert at_85.only("spo2_low").priority is Priority.HIGH
    at_86 = Room(Hub(), FakeClock(), AlarmsConfig())  # a second room
    at_86.hold(SPO2, 86, 30)
    assert at_86.only("spo2_low").priority is Priority.MEDIUM


def test_a_new_high_breaks_through_after_acknowledge_all_cleared_the_latched_high(room: Room) -> None:
    room.hold(SPO2, 80, 6)  # high
    room.hold(SPO2, 97, 2)  # latched
    assert room.only("spo2_low").latched
    room.hold(HR, 130, 11, device="strap")  # medium, active
    out = room.acknowledge()
    assert [e.alarm.condition for e in alarm_events(out, AlarmAction.CLEARED)] == ["spo2_low"]
    assert room.engine.audio_paused_s() == 120
    out = room.health("storage", ok=False, detail="disk full")  # a new high
    assert [p.until for p in pauses(out)] == [None]
    assert room.engine.audio_paused_s() == 0
    assert room.hub.state.audio_pause is None


def test_the_same_condition_coming_back_at_high_breaks_through_once_the_acknowledged_high_cleared(
    make_room: MakeRoom,
) -> None:
    room = make_room(config(latching=False))
    room.hold(SPO2, 80, 6)  # high
    room.acknowledge()
    room.hold(SPO2, 97, 2)  # acknowledged and over: cleared
    assert room.engine.alarms == {}
    out = room.hold(SPO2, 80, 6)  # a new high alarm, nothing silenced above it
    assert len(alarm_events(out, AlarmAction.RAISED)) == 1
    assert [p.until for p in pauses(out)] == [None]


def test_acknowledging_one_alarm_by_id_leaves_the_others_signalling(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.hold(HR, 130, 11, device="strap")
    spo2_id, hr_id = room.only("spo2_low").id, room.only("heart_rate_high").id
    out = room.acknowledge(spo2_id)
    assert [(e.action, e.alarm.id) for e in alarm_events(out)] == [(AlarmAction.ACKNOWLEDGED, spo2_id)]
    assert pauses(out) == []  # no room-wide pause: the heart-rate alarm still sounds
    assert room.engine.audio_paused_s() == 0
    assert room.hub.state.audio_pause is None
    assert room.hub.state.alarms[hr_id].acknowledged_at is None
    out = room.acknowledge()  # the screen's key: everything shown, and the audio pause
    assert [e.alarm.id for e in alarm_events(out, AlarmAction.ACKNOWLEDGED)] == [hr_id]
    assert len(pauses(out)) == 1
    assert room.engine.audio_paused_s() == 120


@pytest.mark.parametrize("pause_s", [120.0, 45.0])
def test_signals_come_back_when_the_pause_ends_and_the_condition_still_exists(
    pause_s: float, make_room: MakeRoom
) -> None:
    room = make_room(config(audio_pause_s=pause_s))
    room.hold(SPO2, 88, 11)
    alarm_id = room.only("spo2_low").id
    room.acknowledge()
    out = room.hold(SPO2, 88, round(pause_s) - 1)
    assert alarm_events(out) == []
    assert pauses(out) == []
    assert room.hub.state.alarms[alarm_id].acknowledged_at is not None  # silenced, still shown
    out = room.hold(SPO2, 88, 1)
    (ended,) = pauses(out)
    assert ended.until is None
    (again,) = alarm_events(out, AlarmAction.REANNUNCIATED)
    assert again.alarm.id == alarm_id
    assert again.alarm.acknowledged_at is None
    assert room.hub.state.alarms[alarm_id].acknowledged_at is None
    assert out.index(ended) < out.index(again)


def test_an_alarm_acknowledged_by_id_comes_back_after_the_pause_too(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    alarm_id = room.only("spo2_low").id
    room.acknowledge(alarm_id)
    assert alarm_events(room.hold(SPO2, 88, 119), AlarmAction.REANNUNCIATED) == []
    (again,) = alarm_events(room.hold(SPO2, 88, 1), AlarmAction.REANNUNCIATED)
    assert again.alarm.id == alarm_id


def test_an_alarm_whose_condition_ended_during_the_pause_does_not_come_back(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.acknowledge()
    room.hold(SPO2, 97, 5)  # acknowledged, over: cleared
    assert room.engine.alarms == {}
    out = room.wait(130)
    assert alarm_events(out) == []


def test_nan_is_no_data_never_a_comparison(make_room: MakeRoom) -> None:
    """(That NaN is never part of the proposed baseline: tests/session/test_baseline_confirm.py.)"""
    rule = LimitRule(quantity=HR, low=40, high=140, high_from_baseline=1.25, condition_delay_s=5, hysteresis=2)
    room = make_room(config(rule, latching=False, baseline_window_s=60), [STRAP])
    room.session("s1")
    room.reading(HR, 70, device="strap")
    room.baseline(HR, 70)
    out = room.hold(HR, 95, 6, device="strap")
    (raised,) = alarm_events(out, AlarmAction.RAISED)
    assert raised.alarm.limit == 87.5
    # A NaN now neither ends the alarm nor starts anything.
    room.reading(HR, math.nan, device="strap")
    assert room.only("heart_rate_high").active
    assert room.only("heart_rate_high").value == 95


def test_a_nan_reading_does_not_complete_a_condition_delay(room: Room) -> None:
    room.hold(SPO2, 88, 5)
    room.reading(SPO2, math.nan)
    room.reading(SPO2, math.inf)
    room.hold(SPO2, 88, 9)
    assert room.engine.alarms == {}  # the delay restarted after the NaN: 9 s < 10 s
    room.hold(SPO2, 88, 2)
    assert room.conditions() == {"spo2_low"}


def test_questionable_readings_are_judged_against_the_limits(room: Room) -> None:
    for _ in range(11):
        room.reading(SPO2, 88, quality=Quality.QUESTIONABLE)
        room.wait(1)
    assert room.conditions() == {"spo2_low"}


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_config_check_refuses_nan_and_infinite_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    room = tmp_path / "room.toml"
    room.write_text(
        f'[room]\nsite = "s"\nroom = "r"\nname = "R"\n\n[[alarms.rules]]\nquantity = "spo2"\nlow = {value}\n',
        encoding="utf-8",
    )
    assert main(["config", "check", str(room)]) == 2
    err = capsys.readouterr().err
    assert "alarms.rules[0].low" in err
    assert "finite number" in err
    assert "Traceback" not in err


def test_a_snapshot_counts_the_pause_down_on_the_monotonic_clock(room: Room) -> None:
    room.hold(SPO2, 88, 11)
    room.acknowledge()
    room.clock.jump_wall(-3600)
    room.hold(SPO2, 88, 30)
    snapshot = Snapshot.from_state(room.hub.state, room.clock.now(), room.engine.audio_paused_s())
    assert snapshot.audio_pause is not None
    assert snapshot.audio_pause.remaining_s == 90


def test_only_the_highest_unacknowledged_priority_sounds_and_nothing_during_the_pause(room: Room) -> None:
    room.hold(SPO2, 88, 11)  # medium
    room.health("mqtt", ok=False)  # low
    assert sounding(room.hub.state.alarms.values(), paused=False) is Priority.MEDIUM
    room.acknowledge(room.only("spo2_low").id)
    assert sounding(room.hub.state.alarms.values(), room.hub.state.audio_pause is not None) is Priority.LOW
    room.acknowledge()
    assert sounding(room.hub.state.alarms.values(), room.hub.state.audio_pause is not None) is None


def test_lost_counts_from_the_last_data_not_from_when_the_link_reports_it(make_room: MakeRoom) -> None:
    room = make_room(wearables=[OXIMETER])  # stale_after_s 10, lost_after_s 30
    room.device(LinkState.CONNECTED)
    room.hold(SPO2, 97, 5)  # the last data 1 s before the clock stops here
    room.wait(9)
    room.device(LinkState.STALE)  # the link's own stale period: 10 s after the last data
    assert room.conditions() == {"data_stale"}
    room.wait(19)
    assert room.conditions() == {"data_stale"}
    room.wait(1)  # 30 s after the last data (the link, ticking, reports disconnected a moment later)
    assert room.conditions() == {"data_stale", "device_disconnected"}
    room.device(LinkState.DISCONNECTED)
    assert room.conditions() == {"data_stale", "device_disconnected"}
