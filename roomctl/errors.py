"""One family of errors. Foreign errors are translated at the boundary and chained with ``from``."""


class RoomctlError(Exception):
    """Root of every error roomctl raises on purpose; its message is fit to show a user."""


class ConfigError(RoomctlError):
    """The room configuration is unreadable or invalid. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class DecodeError(RoomctlError, ValueError):
    """Bytes from a wearable that do not form a valid measurement."""


class StorageError(RoomctlError):
    """The room's database cannot be opened, read or written."""
