"""The bursts through the real ALSA library (aplay) into a ``file`` PCM, measured with numpy per priority."""

from __future__ import annotations

import pytest

from roomctl.models import Priority
from roomctl.sound import BURSTS, SELF_TEST, SoundError
from roomctl.sound.players import AplayOutput

from .analysis import EXPECTED, measure
from .conftest import AlsaFile

TOLERANCE_S = 0.006  # the 5 % threshold sits a few ms inside each 15 % ramp


@pytest.mark.parametrize("priority", list(Priority))
async def test_each_priority_sounds_as_specified(alsa_file: AlsaFile, priority: Priority) -> None:
    count, length, gaps, f0 = EXPECTED[priority]
    await AplayOutput(alsa_file.device, environ=alsa_file.environ).play(BURSTS[priority], 0.5)
    m = measure(alsa_file.take())
    assert len(m.pulses) == count
    for _, measured in m.pulses:
        assert measured == pytest.approx(length, abs=TOLERANCE_S)
    assert m.gaps == pytest.approx(gaps, abs=TOLERANCE_S)
    assert m.f0 == pytest.approx([f0] * count, abs=2.0)
    for levels in m.harmonics_db:  # at least 4 harmonics in 300-4000 Hz within 15 dB of f0 (a speaker can)
        assert all(-15 <= db <= 0 for db in levels), levels
    assert m.peak == pytest.approx(0.9 * 0.5, rel=0.02)


def test_the_ranges_of_the_standard_hold_for_the_tables() -> None:
    for priority, (count, length, gaps, _) in EXPECTED.items():
        burst = BURSTS[priority]
        assert 150 <= burst.f0 <= 1000
        ts = min(gaps)
        if priority is Priority.HIGH:
            assert 0.075 <= length <= 0.200
            assert 0.050 <= ts <= 0.125
            assert gaps[2] == gaps[7] == pytest.approx(2 * ts + length)
            assert 0.35 <= gaps[4] <= 1.30
            assert 2.5 <= burst.interval_s <= 15
        else:
            assert 0.125 <= length <= 0.250
            assert 0.125 <= ts <= 0.250
            assert burst.interval_s > 15 if priority is Priority.LOW else 2.5 <= burst.interval_s <= 30
        assert len(burst.pulses) == count


async def test_volume_scales_the_level(alsa_file: AlsaFile) -> None:
    output = AplayOutput(alsa_file.device, environ=alsa_file.environ)
    await output.play(SELF_TEST, 0.3)
    quiet = measure(alsa_file.take()).peak
    await output.play(SELF_TEST, 0.9)
    loud = measure(alsa_file.take()).peak
    assert loud / quiet == pytest.approx(3.0, rel=0.02)


async def test_a_missing_device_or_player_fails_in_words(alsa_file: AlsaFile) -> None:
    with pytest.raises(SoundError, match=r"ALSA device 'nowhere' cannot play: Unknown PCM nowhere"):
        await AplayOutput("nowhere", environ=alsa_file.environ).play(SELF_TEST, 0.3)
    with pytest.raises(SoundError, match="aplay is not installed"):
        await AplayOutput(alsa_file.device, aplay="/nonexistent/aplay").play(SELF_TEST, 0.3)
