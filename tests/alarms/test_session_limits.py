"""set_limit: a limit for the current session only, applied to every wearable, announced, reset when the session ends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from roomctl.alarms.session_limits import LimitChange
from roomctl.api.protocol import Snapshot
from roomctl.clock import FakeClock
from roomctl.commands import CommandRejected, SetLimit, parse_command
from roomctl.config.alarms import AlarmsConfig, LimitRule, SettableRange
from roomctl.hub import Hub
from roomctl.models import AlarmAction, AlarmLimits, Priority, Quantity
from roomctl.tui.view import RoomView
from tests.builders import param_id

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


def test_a_session_limit_replaces_a_baseline_derived_one_within_the_rules_ceiling(make_room: MakeRoom) -> None:
    """Issue 22: `L hr high 130` on a rule "high 140, 1.4 x baseline" with baseline 70 (derived 98) is the limit used and
    shown, not a new ceiling the derived 98 stays under."""
    rule = LimitRule(quantity=HR, low=40, high=140, high_from_baseline=1.4, condition_delay_s=5, hysteresis=2)
    room = make_room(config(rule, latching=False, baseline_window_s=60))
    room.session("s1")
    room.hold(HR, 70, 1, device="strap")
    room.baseline(HR, 70)  # confirmed by the team: limit 98
    assert in_force_for(room, "strap") == 98
    change = set_limit(room, quantity="heart_rate", high=130)
    assert change.describe() == "Heart rate limits for this session: high (medium) 130 (was 98)"
    assert in_force_for(room, "strap") is None  # no derived limit any more: the session's replaces it
    assert in_force(room, HR, "high", Priority.MEDIUM) == (130, "session")
    room.hold(HR, 120, 30, device="strap")
    assert room.engine.alarms == {}  # 120 is above the derived 98 but inside the session's 130
    (raised,) = alarm_events(room.hold(HR, 135, 6, device="strap"), AlarmAction.RAISED)
    assert raised.alarm.limit == 130
    assert raised.alarm.message == "Heart rate high: 135 bpm (limit 130)"

    refused = room.engine.limit_change(SetLimit(quantity=HR, high=150))  # beyond the rule's hard ceiling
    assert isinstance(refused, str)
    assert refused == (
        "Heart rate high limit 150 refused: this limit follows 1.4 × the patient's baseline with a ceiling of 140; "
        "a session limit can replace it within that ceiling"
    )
    set_limit(room, quantity="heart_rate", high=90)  # tighter than the derived one: used as well
    assert in_force(room, HR, "high", Priority.MEDIUM) == (90, "session")


def test_a_session_limit_on_a_derived_rule_is_shown_with_a_star(make_room: MakeRoom) -> None:
    rule = LimitRule(quantity=HR, low=40, high=140, high_from_baseline=1.4, condition_delay_s=5)
    room = make_room(config(rule, baseline_window_s=60))
    room.session("s1")
    room.hold(HR, 70, 1, device="strap")
    room.baseline(HR, 70)
    view = RoomView(connected=True)
    view.apply_update(Snapshot.from_state(room.hub.state, room.clock.now()))
    assert view.limits_text(HR) == "40-98"  # derived from the baseline
    set_limit(room, quantity="heart_rate", high=130)
    view.apply_update(Snapshot.from_state(room.hub.state, room.clock.now()))
    assert view.limits_text(HR) == "40-130*"


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (
            {"quantity": "spo2", "low": 0, "priority": "high"},
            "SpO2 low limit 0 refused: a low limit may not be set below 80 %",
        ),
        ({"quantity": "spo2", "low": 79.5, "priority": "high"}, "SpO2 low limit 79.5 refused: a low limit may not"),
        (
            {"quantity": "heart_rate", "high": 1000},
            "Heart rate high limit 1000 refused: a high limit may not be set above 200 bpm",
        ),
        (
            {"quantity": "heart_rate", "low": 29},
            "Heart rate low limit 29 refused: a low limit may not be set below 30 bpm",
        ),
        (
            {"quantity": "temperature", "high": 45},
            "Temperature high limit 45 refused: a high limit may not be set above 39.5 °C",
        ),
        (
            {"quantity": "systolic", "high": 260},
            "Systolic BP high limit 260 refused: a high limit may not be set above 200 mmHg",
        ),
    ],
    ids=param_id,
)
def test_set_limit_cannot_switch_an_alarm_off(room: Room, command: dict[str, object], words: str) -> None:
    room.session("s1")
    change = room.engine.limit_change(SetLimit.model_validate(command))
    assert isinstance(change, str)
    assert change.startswith(words), change
    assert "switch the alarm off" in change
    assert room.hub.state.limits is not None
    assert all(lim.source == "configured" for lim in room.hub.state.limits.limits)  # nothing changed


def test_the_edges_of_the_settable_range_are_allowed_and_alarm(room: Room) -> None:
    room.session("s1")
    set_limit(room, quantity="spo2", low=80, priority="high")
    set_limit(room, quantity="heart_rate", low=30, high=200, priority="high")  # the extreme tier first
    set_limit(room, quantity="heart_rate", low=30, high=200)
    tachycardia = alarm_events(room.hold(HR, 201, 11, device="strap"), AlarmAction.RAISED)
    assert {(r.alarm.priority, r.alarm.limit) for r in tachycardia} <= {(Priority.HIGH, 200), (Priority.MEDIUM, 200)}
    assert Priority.HIGH in {r.alarm.priority for r in tachycardia}
    (raised,) = alarm_events(room.hold(SPO2, 79, 6, device="oxi"), AlarmAction.RAISED)
    assert (raised.alarm.priority, raised.alarm.limit) == (Priority.HIGH, 80)


def test_the_settable_range_is_configurable_per_quantity_and_the_others_keep_their_defaults(
    make_room: MakeRoom,
) -> None:
    cfg = AlarmsConfig.model_validate({"settable": {"heart_rate": {"low_min": 40, "high_max": 180}}})
    assert cfg.settable[Quantity.SPO2] == SettableRange(low_min=80, high_max=100)  # a default kept
    room = make_room(cfg)
    room.session("s1")
    refused = room.engine.limit_change(SetLimit(quantity=HR, high=190))
    assert isinstance(refused, str)
    assert "may not be set above 180 bpm" in refused
    bare = Room(Hub(), FakeClock(), config(LimitRule(quantity=Quantity.PERFUSION_INDEX, low=0.5)))
    bare.session("s2")
    refused = bare.engine.limit_change(SetLimit(quantity=Quantity.PERFUSION_INDEX, low=0.1))
    assert isinstance(refused, str)
    assert "this room sets no range for it ([alarms.settable.perfusion_index])" in refused
    with pytest.raises(ValidationError, match="low_min 90 is not below high_max 80"):
        AlarmsConfig.model_validate({"settable": {"spo2": {"low_min": 90, "high_max": 80}}})


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
    ids=param_id,
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


def test_limits_kept_with_a_session_come_back_and_what_no_longer_fits_is_said(room: Room) -> None:
    room.session("s1")
    change = room.engine.limit_change(SetLimit(quantity=SPO2, low=92))
    assert isinstance(change, LimitChange)
    kept = room.engine.session_limits_record(change)
    assert kept == [{"quantity": "spo2", "direction": "low", "priority": "medium", "limit": 92}]
    saved = [
        *kept,
        {"quantity": "heart_rate", "direction": "high", "priority": "medium", "limit": 1000},  # beyond the range now
        {"quantity": "temperature", "direction": "low", "priority": "medium", "limit": 36},  # no such rule now
        {"quantity": "spo2", "direction": "sideways", "priority": "medium", "limit": 1},
        {"quantity": "spo2", "direction": "low", "priority": "medium", "limit": "NaN"},
        "junk",
    ]
    limits, left_out = room.engine.restore_limits(saved)
    room.feed(limits)
    assert in_force(room, SPO2, "low", Priority.MEDIUM) == (92, "session")
    assert in_force(room, HR, "high", Priority.MEDIUM) == (120, "configured")
    assert left_out == [
        "heart_rate high 1000: a high limit may not be set above 200 bpm in this room (it would all but switch the "
        "alarm off)",
        "temperature low (medium): no such rule now",
    ]
    assert room.engine.restore_limits({"not": "a list"})[1] == []
