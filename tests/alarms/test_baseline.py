"""Limits relative to the patient's own baseline, under a hard ceiling: only a baseline the team confirmed or entered
(a ``baseline`` session event, or one kept with the session for a restart); data alone never make one."""

from __future__ import annotations

from roomctl.alarms.baseline import BaselineRecord
from roomctl.config.alarms import LimitRule
from roomctl.models import AlarmAction, Quantity

from .conftest import MakeRoom, Room, alarm_events, config

HR = Quantity.HEART_RATE


def relative_hr_room(make_room: MakeRoom) -> Room:
    rule = LimitRule(quantity=HR, low=40, high=140, high_from_baseline=1.25, condition_delay_s=5, hysteresis=2)
    return make_room(config(rule, latching=False, baseline_window_s=60))


def confirmed(room: Room, value: float, session: str = "s1", source: str = "confirmed") -> None:
    room.baseline(HR, value, session, source)


def test_the_high_limit_follows_the_confirmed_baseline(make_room: MakeRoom) -> None:
    room = relative_hr_room(make_room)
    room.session("s1")
    room.hold(HR, 70, 30, device="strap")
    confirmed(room, 70)
    room.hold(HR, 85, 30, device="strap")  # under 70 x 1.25 = 87.5
    assert alarm_events(room.events) == []
    out = room.hold(HR, 95, 6, device="strap")
    (raised,) = alarm_events(out, AlarmAction.RAISED)
    assert raised.alarm.limit == 87.5
    assert raised.alarm.message == "Heart rate high: 95 bpm (limit 87.5 = 1.25 × baseline 70)"


def test_data_without_a_confirmation_never_make_a_baseline(make_room: MakeRoom) -> None:
    """Before: the first minute of data was the baseline (60 bpm: limit 75). Now the absolute limits hold all along."""
    room = relative_hr_room(make_room)
    room.session("s1")
    room.hold(HR, 60, 600, device="strap")
    assert baseline_limit(room) is None
    assert alarm_events(room.hold(HR, 100, 30, device="strap")) == []
    out = room.hold(HR, 150, 6, device="strap")
    assert [e.alarm.limit for e in alarm_events(out, AlarmAction.RAISED)] == [140]


def test_the_hard_ceiling_caps_a_high_baseline(make_room: MakeRoom) -> None:
    room = relative_hr_room(make_room)
    room.session("s1")
    confirmed(room, 120)  # 120 x 1.25 = 150, above the 140 ceiling
    room.hold(HR, 139, 10, device="strap")
    assert alarm_events(room.events) == []
    out = room.hold(HR, 145, 6, device="strap")
    (raised,) = alarm_events(out, AlarmAction.RAISED)
    assert raised.alarm.limit == 140
    assert raised.alarm.message == "Heart rate high: 145 bpm (limit 140)"


def test_a_new_session_resets_the_baseline_and_another_sessions_is_not_taken(make_room: MakeRoom) -> None:
    room = relative_hr_room(make_room)
    room.session("s1")
    confirmed(room, 60)  # limit 75
    room.hold(HR, 80, 6, device="strap")
    assert room.conditions() == {"heart_rate_high"}
    room.hold(HR, 60, 2, device="strap")
    assert room.conditions() == set()
    room.session("s2")
    confirmed(room, 50, session="s1")  # a late event of the session before: not this one's
    room.hold(HR, 95, 30, device="strap")  # absolute limits again
    assert room.conditions() == set()
    assert baseline_limit(room) is None
    confirmed(room, 80, session="s2")  # limit 100
    room.hold(HR, 95, 10, device="strap")
    assert room.conditions() == set()
    assert baseline_limit(room) == 100


def test_the_low_limit_follows_the_baseline_but_never_below_its_floor(make_room: MakeRoom) -> None:
    rule = LimitRule(quantity=HR, low=45, low_from_baseline=0.8, condition_delay_s=0)
    room = make_room(config(rule, latching=False, baseline_window_s=30))
    room.session("s1")
    room.hold(HR, 70, 1, device="strap")
    confirmed(room, 70)  # limit 56
    (raised,) = alarm_events(room.hold(HR, 55, 1, device="strap"), AlarmAction.RAISED)
    assert raised.alarm.limit == 56
    room.hold(HR, 70, 1, device="strap")
    room.session("s2")
    confirmed(room, 50, session="s2", source="entered")  # 50 x 0.8 = 40, under the 45 floor
    (raised,) = alarm_events(room.hold(HR, 44, 1, device="strap"), AlarmAction.RAISED)
    assert raised.alarm.limit == 45


def test_without_a_session_there_is_no_baseline(make_room: MakeRoom) -> None:
    room = relative_hr_room(make_room)
    confirmed(room, 60)  # no session is running: nothing to apply it to
    room.hold(HR, 100, 10, device="strap")
    assert alarm_events(room.events) == []


def baseline_limit(room: Room) -> float | None:
    limits = room.hub.state.limits
    found = [x.limit for x in limits.limits if x.source == "baseline"] if limits is not None else []
    return found[0] if found else None


def test_a_restart_takes_no_baseline_at_the_peak_only_the_one_kept(make_room: MakeRoom) -> None:
    room = relative_hr_room(make_room)
    room.session("s1")
    room.hold(HR, 120, 120, device="strap")  # the dose peak, longer than the window
    assert baseline_limit(room) is None  # the hard limits, not 1.25 x 120
    room.publish([room.engine.use_baselines([kept(70)])])  # the one kept with the session
    assert baseline_limit(room) == 87.5


def test_a_baseline_for_the_patient_applies_to_every_wearable_of_its_quantity(make_room: MakeRoom) -> None:
    """A baseline for the patient (no wearable: what the team confirms or enters) applies to every wearable of it."""
    room = relative_hr_room(make_room)
    room.session("s1")
    room.hold(HR, 70, 5, device="strap")
    confirmed(room, 80, source="entered")
    room.hold(HR, 70, 2, device="second-strap")  # a wearable seen only after it
    limits = room.hub.state.limits
    assert limits is not None
    assert {(x.device, x.limit) for x in limits.limits if x.source == "baseline"} == {
        ("strap", 100),
        ("second-strap", 100),
    }


def test_baselines_kept_with_a_session_are_read_back_leaving_out_what_does_not_parse() -> None:
    good = kept(70).model_dump(mode="json")
    saved = [good, {"quantity": "heart_rate"}, "junk", {**good, "value": "NaN"}, {**good, "quantity": "oxygen"}]
    assert BaselineRecord.parse_all(saved) == [kept(70)]
    assert BaselineRecord.parse_all({"not": "a list"}) == []


def kept(value: float, device: str | None = "strap", source: str = "confirmed") -> BaselineRecord:
    return BaselineRecord.model_validate(
        {
            "quantity": "heart_rate",
            "value": value,
            "device": device,
            "source": source,
            "taken_at": "2026-01-01T09:05:00Z",
        }
    )
