"""The emulator's physiology: rest, two peaks after the doses, RR consistent with HR, SpO2 band, battery, episodes."""

from __future__ import annotations

import statistics

from roomctl.clock import FakeClock
from roomctl.emulator import Episode, Scenario


def at_minute(scenario: Scenario, clock: FakeClock, minute: float) -> None:
    clock.advance(minute * 60 / scenario.speed - scenario.real_s())


def mean_hr(scenario: Scenario) -> float:
    return statistics.mean(scenario.heart_rate() for _ in range(50))


def test_heart_rate_rises_after_the_dose_and_again_after_the_supplemental_dose(clock: FakeClock) -> None:
    scenario = Scenario(seed=3, speed=60.0, clock=clock)
    rest = mean_hr(scenario)
    at_minute(scenario, clock, scenario.dose_min + 70)
    first_peak = mean_hr(scenario)
    at_minute(scenario, clock, scenario.supplemental_min + 60)
    second_peak = mean_hr(scenario)
    at_minute(scenario, clock, 8 * 60)
    late = mean_hr(scenario)
    assert 65 <= rest <= 75
    assert 100 <= first_peak <= 115
    assert first_peak < second_peak <= 120
    assert late < first_peak


def test_rr_intervals_match_the_heart_rate_and_vary_less_when_it_is_high(clock: FakeClock) -> None:
    scenario = Scenario(seed=3, speed=60.0, clock=clock)
    rest = [r for _ in range(30) for r in scenario.rr_intervals(1.0)]
    at_minute(scenario, clock, scenario.dose_min + 70)
    high = [r for _ in range(30) for r in scenario.rr_intervals(1.0)]
    assert 60 / statistics.mean(rest) == pytest_approx(70, 6)
    assert 60 / statistics.mean(high) == pytest_approx(106, 9)
    assert statistics.stdev(high) < statistics.stdev(rest)


def pytest_approx(value: float, tolerance: float) -> object:
    import pytest

    return pytest.approx(value, abs=tolerance)


def test_spo2_stays_in_band_with_occasional_artefacts() -> None:
    scenario = Scenario(seed=5, artefact_chance=0.05, clock=FakeClock())
    samples = [scenario.spo2() for _ in range(2000)]
    clean = [v for v, artefact in samples if not artefact]
    artefacts = [v for v, artefact in samples if artefact]
    assert all(96 <= v <= 99 for v in clean)
    assert 40 <= len(artefacts) <= 160
    assert all(v < 96 for v in artefacts)


def test_battery_runs_down_and_episodes_follow_real_time(clock: FakeClock) -> None:
    scenario = Scenario(speed=60.0, clock=clock, episodes=[Episode("finger_off", "AA", 10.0, 5.0, repeat_s=60.0)])
    full = scenario.battery("AA")
    assert not scenario.finger_off("AA")
    clock.advance(12.0)
    assert scenario.finger_off("AA")
    clock.advance(5.0)
    assert not scenario.finger_off("AA")
    clock.advance(55.0)  # 72 s: 2 s into the second episode
    assert scenario.finger_off("AA")
    clock.advance(4 * 60 * 60 / 60.0)  # four scenario hours
    assert scenario.minutes() == 312.0  # 72 s + 240 s real, at 60x
    assert scenario.battery("AA") == round(full - 85 * 312 / 480)  # 85 % over an 8-hour session
    scenario.force("drop_out", "AA", 3.0)
    assert scenario.dropped_out("AA")
    clock.advance(3.0)
    assert not scenario.dropped_out("AA")
