"""``roomctl demo``: the whole room on one machine, launched as a user would run it (not part of the daemon).

:mod:`roomctl.demo.launcher` starts the BlueZ emulator, the real daemon (``roomctl run``) and the screen, and keeps
the screen running; :mod:`roomctl.demo.session` starts the demo's dosing session through the local API.
"""
