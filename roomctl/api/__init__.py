"""The local API: a Unix socket through which ``roomctl tui`` (or any local client) watches and commands the room."""
