"""roomctl: room controller for MDMA-assisted therapy rooms.

Not a certified medical device: it borrows bedside-monitor alarm semantics to help a clinical team, never to replace one.
"""

__version__ = "0.1.0"
