"""The room's music: MPD plays a stored playlist per session phase; roomctl fades, ducks, logs and shows it."""
