"""What is wrong with the record's disk, in the words the ``storage_failure`` alarm shows.

SQLite's result codes (the primary code: the low byte of an extended one) and the operating system's errno are read
from the error and its causes. An I/O error or "cannot open" is looked at once more through the folder's file system:
a read-only or full file system is named as such (SQLite reports some of those as plain I/O errors).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

FULL = "recording stopped: the disk is full"
READ_ONLY = "recording stopped: the storage is read-only"
IO_ERROR = "recording stopped: I/O error"
DAMAGED = "recording stopped: the database file is damaged"
CANNOT_OPEN = "recording stopped: the database cannot be opened"
BUSY = "recording delayed: the database is locked by another program"
OTHER = "recording stopped"

_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26

_BY_SQLITE = {
    _SQLITE_FULL: FULL,
    _SQLITE_READONLY: READ_ONLY,
    _SQLITE_IOERR: IO_ERROR,
    _SQLITE_CORRUPT: DAMAGED,
    _SQLITE_NOTADB: DAMAGED,
    _SQLITE_CANTOPEN: CANNOT_OPEN,
    _SQLITE_BUSY: BUSY,
    _SQLITE_LOCKED: BUSY,
}
_BY_ERRNO = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EIO: IO_ERROR}


class DamagedDatabase(sqlite3.DatabaseError):
    """``PRAGMA quick_check`` found the file damaged (raised as SQLite's own "corrupt" would be)."""

    sqlite_errorcode = _SQLITE_CORRUPT


def describe(error: BaseException, folder: Path | None = None) -> str:
    """The alarm's words for ``error`` (a StorageError, sqlite3.Error or OSError, or one chained to such)."""
    words = OTHER
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            code = getattr(seen, "sqlite_errorcode", None)
            words = _BY_SQLITE.get(code & 0xFF, words) if isinstance(code, int) else words
            break
        if isinstance(seen, OSError) and seen.errno in _BY_ERRNO:
            words = _BY_ERRNO[seen.errno]
            break
        seen = seen.__cause__ or seen.__context__
    if words in (IO_ERROR, CANNOT_OPEN, OTHER) and folder is not None:
        words = _file_system(folder) or words
    return words


def is_damaged(error: BaseException) -> bool:
    """The file itself is damaged (so it is moved aside), not the disk failing under it."""
    return describe(error) == DAMAGED


def _file_system(folder: Path) -> str | None:
    """READ_ONLY or FULL when the folder's file system says so; None when it looks fine (or cannot be asked)."""
    for candidate in (folder, *folder.parents):
        try:
            st = os.statvfs(candidate)
        except FileNotFoundError:
            continue
        except OSError:
            return IO_ERROR
        if st.f_flag & os.ST_RDONLY:
            return READ_ONLY
        if st.f_bavail == 0 or (st.f_files and st.f_favail == 0):
            return FULL
        return None
    return None
