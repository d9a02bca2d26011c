"""Whether a failure is the storage running out of space, whichever store it came from.

A full disk reaches us as ENOSPC (or EDQUOT) from a blob write, as SQLITE_FULL ("database or
disk is full") from SQLite, as SQLSTATE 53100 (disk_full) from PostgreSQL; SQLAlchemy wraps the
last two. Every plane answers them as 507 with words that say the storage is full, and logs
them loudly, instead of a 500 that says nothing.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

from moorage.domain.errors import StorageFull

log = logging.getLogger("moorage.storage")
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13


def storage_full(exc: BaseException) -> StorageFull | None:
    """A StorageFull that says which store is full, when `exc` (or its cause) is one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageFull):
            return current
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return StorageFull(
                "the registry's storage is full: no space left on the device for blobs; "
                "the operator must free space or grow the volume, then retry",
                store="blobs",
            )
        if _database_full(current):
            return StorageFull(
                "the registry's storage is full: no space left on the device for the metadata "
                "database; the operator must free space or grow the volume, then retry",
                store="metadata",
            )
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _database_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == _SQLITE_FULL or "database or disk is full" in str(exc)
    return getattr(exc, "sqlstate", None) == "53100"


def report(full: StorageFull, what: str) -> None:
    """Say it loudly: an operator must act, and nothing else will tell them."""
    log.critical("STORAGE FULL while %s: %s", what, full.message)
