"""Alarms: physiological limits and technical conditions, with IEC 60601-1-8 semantics (see docs/alarms.md).

roomctl is not a certified medical device and not an alarm system of record.
"""

from roomctl.alarms.engine import AlarmEngine

__all__ = ["AlarmEngine"]
