"""``roomctl tui``: the therapists' screen, a client of the local API."""
