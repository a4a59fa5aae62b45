"""Audible alarm signals: IEC 60601-1-8-style bursts per priority, through ALSA (``aplay``) and a GPIO buzzer.

See docs/alarms.md ("Audible signals"). roomctl is not a certified medical device and claims no conformance.
"""

from roomctl.sound.bursts import BURSTS, SELF_TEST, Burst
from roomctl.sound.players import SoundError

__all__ = ["BURSTS", "SELF_TEST", "Burst", "SoundError"]
