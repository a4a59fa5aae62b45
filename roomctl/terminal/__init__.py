"""The terminal kit both screens draw with (the room's screen, :mod:`roomctl.tui`, and the nursing station,
:mod:`roomctl.central`): console-safe glyphs and sparklines, painted cells, how an alarm and a clock read, an app that
knows it is quitting. No room or station logic here."""
