"""The room's record: SQLite (WAL) with readings, events, alarms, session metadata and the MQTT outbox."""

from roomctl.storage.database import Database
from roomctl.storage.store import Store
from roomctl.storage.writer import StorageWriter

__all__ = ["Database", "StorageWriter", "Store"]
