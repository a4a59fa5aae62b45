"""``roomctl central``: the nursing station. Every room of a facility at a glance, fed only by the facility's broker.

It is an information display: it never acknowledges or silences anything (the room's screen is where alarms are handled).
"""
