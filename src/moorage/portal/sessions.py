"""Portal sign-in sessions: a random id in an HttpOnly cookie, the session kept on the server
(who signed in, its CSRF token, when it ends). Kept in memory: a restart signs everyone out."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

IDLE_SECONDS = 3600.0
MAX_SECONDS = 8 * 3600.0
MAX_SESSIONS = 10_000


@dataclass(slots=True)
class Session:
    id: str
    app_id: str
    display_name: str
    csrf: str
    started: float
    seen: float
    flash: list[tuple[str, str]] = field(default_factory=list)
    """Messages for the next page: (kind, text), kind "ok" or "error"."""

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def start(self, app_id: str, display_name: str) -> Session:
        now = self._clock()
        if len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions.values(), key=lambda s: s.seen)
            self._sessions.pop(oldest.id, None)
        session = Session(
            secrets.token_urlsafe(32), app_id, display_name, secrets.token_urlsafe(32), now, now
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._clock()
        if now - session.seen > IDLE_SECONDS or now - session.started > MAX_SECONDS:
            self._sessions.pop(session_id, None)
            return None
        session.seen = now
        return session

    def end(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)
