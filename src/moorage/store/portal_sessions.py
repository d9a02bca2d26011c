"""Portal sign-in sessions in the metadata store, so that they outlive a restart and every
replica on the same database shares them.

The browser holds a random id; the store keeps only its SHA-256, so reading the database (or a
backup of it) gives no one a session. A session ends after `IDLE` without use, after `LIFETIME`
in any case, when it is ended, or with its principal (ON DELETE CASCADE). `seen_at` is written
at most once per `TOUCH_EVERY`, not on every page, so idle expiry is exact to that much.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.store.database import Database
from moorage.store.schema import portal_sessions
from moorage.store.types import as_utc, utcnow

IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)
MAX_PER_PRINCIPAL = 50
"""Sessions one principal may hold at once; a new one beyond it ends the oldest."""


def session_key(session_id: str) -> str:
    """What the store keeps of a session id: its SHA-256, in hex."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PortalSession:
    key: str  # session_key(id): the id itself is only in the browser's cookie
    app_id: str
    display_name: str
    csrf: str
    started_at: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A new session and its id: the only time the id is known to the server."""

    id: str
    session: PortalSession


def _session(row: Any) -> PortalSession:
    return PortalSession(
        key=row.id,
        app_id=row.app_id,
        display_name=row.display_name,
        csrf=row.csrf,
        started_at=as_utc(row.started_at),
        seen_at=as_utc(row.seen_at),
    )


class PortalSessionStore:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    def _expired(self, session: PortalSession, now: datetime) -> bool:
        return now - session.seen_at > IDLE or now - session.started_at > LIFETIME

    async def start(self, app_id: str, display_name: str) -> StartedSession:
        """A new session of the principal (which must exist). Expired sessions of everyone are
        purged on the way, and the principal's oldest beyond `MAX_PER_PRINCIPAL` end."""
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        session = PortalSession(
            key=session_key(session_id),
            app_id=app_id,
            display_name=display_name,
            csrf=secrets.token_urlsafe(32),
            started_at=now,
            seen_at=now,
        )
        async with self._db.write() as conn:
            await self._purge(conn, now)
            await conn.execute(
                insert(portal_sessions).values(
                    id=session.key,
                    app_id=app_id,
                    display_name=display_name,
                    csrf=session.csrf,
                    started_at=now,
                    seen_at=now,
                )
            )
            beyond = (
                select(portal_sessions.c.id)
                .where(portal_sessions.c.app_id == app_id)
                .order_by(portal_sessions.c.started_at.desc(), portal_sessions.c.seen_at.desc())
                .offset(MAX_PER_PRINCIPAL)
            )
            await conn.execute(delete(portal_sessions).where(portal_sessions.c.id.in_(beyond)))
        return StartedSession(session_id, session)

    async def get(self, session_id: str) -> PortalSession | None:
        """The live session of that id, None when there is none or it has expired (and is then
        removed). Marks it seen when it was last marked `TOUCH_EVERY` ago or more."""
        key = session_key(session_id)
        async with self._db.read() as conn:
            row = (
                await conn.execute(select(portal_sessions).where(portal_sessions.c.id == key))
            ).first()
        if row is None:
            return None
        session = _session(row)
        now = self._clock()
        if self._expired(session, now):
            await self.end(session_id)
            return None
        if now - session.seen_at >= TOUCH_EVERY:
            async with self._db.write() as conn:
                await conn.execute(
                    update(portal_sessions).where(portal_sessions.c.id == key).values(seen_at=now)
                )
            session = replace(session, seen_at=now)
        return session

    async def end(self, session_id: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(portal_sessions).where(portal_sessions.c.id == session_key(session_id))
            )
        return bool(result.rowcount)

    async def purge_expired(self) -> int:
        """Remove every expired session; how many there were."""
        async with self._db.write() as conn:
            return await self._purge(conn, self._clock())

    async def _purge(self, conn: AsyncConnection, now: datetime) -> int:
        result = await conn.execute(
            delete(portal_sessions).where(
                or_(
                    portal_sessions.c.seen_at < now - IDLE,
                    portal_sessions.c.started_at < now - LIFETIME,
                )
            )
        )
        return int(result.rowcount)
