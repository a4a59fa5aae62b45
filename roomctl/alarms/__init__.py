"""Alarms: physiological limits and technical conditions, with IEC 60601-1-8 semantics (see docs/alarms.md).

roomctl is not a certified medical device and not an alarm system of record. The engine is
:class:`roomctl.alarms.engine.AlarmEngine`; nothing is imported here, so the screens can use the alarm texts
(:mod:`roomctl.alarms.texts`) without loading the engine and, through its technical alarms, the vendor registry.
"""
