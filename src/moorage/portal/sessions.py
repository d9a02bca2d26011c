"""Portal sign-in sessions: a random id in an HttpOnly cookie; the session itself (who signed
in, its CSRF token, when it ends) in the metadata store under the SHA-256 of that id
(store/portal_sessions.py), so it outlives a restart and replicas on one database share it.

Flash messages (a note for the next page, across the redirect after a form) are kept in this
process's memory, keyed by the session's hash, not in the store: they live for one redirect,
which lands on the same process in practice, and losing one loses a note, never the session.
They are bounded; beyond `MAX_FLASHED` sessions with pending messages, the oldest go.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from moorage.store.portal_sessions import PortalSession, PortalSessionStore, session_key

MAX_FLASHED = 10_000

Flash = list[tuple[str, str]]


@dataclass(slots=True)
class Session:
    id: str
    """The cookie's value. The store knows only its hash, `key`."""
    key: str
    app_id: str
    display_name: str
    csrf: str
    started: datetime
    seen: datetime
    flash: Flash = field(default_factory=list)
    """Messages for the next page: (kind, text), kind "ok" or "error"."""

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, store: PortalSessionStore) -> None:
        self.store = store
        self._flash: dict[str, Flash] = {}

    async def start(self, app_id: str, display_name: str) -> Session:
        started = await self.store.start(app_id, display_name)
        return self._session(started.id, started.session)

    async def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        stored = await self.store.get(session_id)
        if stored is None:
            self._flash.pop(session_key(session_id), None)
            return None
        return self._session(session_id, stored)

    async def end(self, session_id: str | None) -> None:
        if session_id:
            self._flash.pop(session_key(session_id), None)
            await self.store.end(session_id)

    def take_flash(self, session: Session) -> Flash:
        """The session's pending messages, which are then gone."""
        self._flash.pop(session.key, None)
        messages = list(session.flash)
        session.flash.clear()
        return messages

    def _session(self, session_id: str, stored: PortalSession) -> Session:
        flash = self._flash.get(stored.key)
        if flash is None:
            if len(self._flash) >= MAX_FLASHED:
                del self._flash[next(iter(self._flash))]  # the oldest: dicts keep insertion order
            flash = self._flash[stored.key] = []
        return Session(
            id=session_id,
            key=stored.key,
            app_id=stored.app_id,
            display_name=stored.display_name,
            csrf=stored.csrf,
            started=stored.started_at,
            seen=stored.seen_at,
            flash=flash,
        )
