"""set_limit: a limit for the current session only, applied to every wearable, announced, reset when the session ends."""

from __future__ import annotations

import pytest

from roomctl.alarms.session_limits import LimitChange
from roomctl.commands import CommandRejected, SetLimit, parse_command
from roomctl.config.alarms import LimitRule
from roomctl.models import AlarmAction, AlarmLimits, Priority, Quantity

from .conftest import MakeRoom, Room, alarm_events, config

SPO2 = Quantity.SPO2
HR = Quantity.HEART_RATE


def set_limit(room: Room, **kw: object) -> LimitChange:
    change = room.engine.limit_change(SetLimit.model_validate(kw))
    assert isinstance(change, LimitChange), change
    room.feed(room.engine.apply_limit(change))
    return change


def in_force(room: Room, quantity: Quantity, direction: str, priority: Priority) -> tuple[float, str]:
    limits = room.hub.state.limits
    assert limits is not None
    (lim,) = [
        x
        for x in limits.limits
        if (x.quantity, x.direction, x.priority, x.device) == (quantity, direction, priority, None)
    ]
    return lim.limit, lim.source


def test_a_session_limit_applies_at_once_and_ends_with_the_session(room: Room) -> None:
    room.session("s1")
    room.hold(SPO2, 89, 3)  # a watch exists already: the change must reach it
    change = set_limit(room, quantity="spo2", low=88)
    assert change.describe() == "SpO2 limits for this session: low (medium) 88 (was 90)"
    assert in_force(room, SPO2, "low", Priority.MEDIUM) == (88, "session")
    assert in_force(room, SPO2, "low", Priority.HIGH) == (85, "configured")
    room.hold(SPO2, 89, 30)
    assert room.engine.alarms == {}  # 89 is inside the session's limit
    (raised,) = alarm_events(room.hold(SPO2, 87, 11), AlarmAction.RAISED)
    assert raised.alarm.limit == 88
    assert raised.alarm.message == "SpO2 low: 87 % (limit 88)"
    room.hold(SPO2, 97, 2)
    room.acknowledge()
    out = room.session(None)  # the session ends: the room's limits again
    assert [type(e) for e in out] == [AlarmLimits]
    assert in_force(room, SPO2, "low", Priority.MEDIUM) == (90, "configured")
    (raised,) = alarm_events(room.hold(SPO2, 89, 11), AlarmAction.RAISED)
    assert raised.alarm.limit == 90


def test_a_new_wearable_gets_the_session_limit_too(room: Room) -> None:
    room.session("s1")
    set_limit(room, quantity="heart_rate", high=150)
    room.hold(HR, 140, 20, device="strap")
    assert room.engine.alarms == {}


def test_a_baseline_rule_keeps_following_the_baseline_under_the_new_ceiling(make_room: MakeRoom) -> None:
    rule = LimitRule(quantity=HR, low=40, high=140, high_from_baseline=1.25, condition_delay_s=5, hysteresis=2)
    room = make_room(config(rule, latching=False, baseline_window_s=60))
    room.session("s1")
    room.hold(HR, 70, 61, device="strap")  # baseline 70: limit 87.5
    assert in_force_for(room, "strap") == 87.5
    set_limit(room, quantity="heart_rate", high=80)  # a lower ceiling than the baseline-derived limit
    assert in_force_for(room, "strap") is None  # the hard limit rules now
    assert in_force(room, HR, "high", Priority.MEDIUM) == (80, "session")
    (raised,) = alarm_events(room.hold(HR, 85, 6, device="strap"), AlarmAction.RAISED)
    assert raised.alarm.limit == 80


def in_force_for(room: Room, device: str) -> float | None:
    limits = room.hub.state.limits
    assert limits is not None
    found = [x.limit for x in limits.limits if x.device == device and x.source == "baseline"]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ({"quantity": "spo2", "low": 84}, "SpO2 low (medium) 84 would be beyond the high-priority limit 85"),
        ({"quantity": "spo2", "low": 80, "priority": "high"}, None),
        ({"quantity": "temperature", "low": 35}, "Temperature has no low limit to change"),
        ({"quantity": "perfusion_index", "low": 0.5}, "this room has no alarm limits on Perfusion index"),
        ({"quantity": "heart_rate", "low": 130}, "Heart rate low limit 130 must be below the high limit 120"),
        ({"quantity": "spo2", "high": 99, "priority": "low"}, "SpO2 has no low-priority high limit to change"),
    ],
)
def test_a_limit_that_makes_no_sense_is_refused_in_words(room: Room, command: dict[str, object], words: str) -> None:
    room.session("s1")
    change = room.engine.limit_change(SetLimit.model_validate(command))
    if words is None:
        assert isinstance(change, LimitChange)
    else:
        assert isinstance(change, str)
        assert change.startswith(words), change


def test_without_a_session_no_limit_is_set(room: Room) -> None:
    change = room.engine.limit_change(SetLimit(quantity=SPO2, low=88))
    assert isinstance(change, str)
    assert "no session is running" in change


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('{"command": "set_limit", "quantity": "spo2"}', "give low, high or both"),
        ('{"command": "set_limit", "quantity": "spo2", "low": 95, "high": 90}', "low 95 must be below high 90"),
        ('{"command": "set_limit", "quantity": "spo2", "low": "88"}', "low"),
        ('{"command": "set_limit", "quantity": "oxygen", "low": 88}', "quantity"),
        ('{"command": "set_limit", "quantity": "spo2", "low": NaN}', "command refused"),
    ],
)
def test_set_limit_is_parsed_strictly(raw: str, words: str) -> None:
    with pytest.raises(CommandRejected, match=words):
        parse_command(raw)
