"""Portal sessions in the metadata store: expiry, what is stored, the bound per principal."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from moorage.auth.principals import PrincipalStore, ServicePrincipal
from moorage.store.database import Database
from moorage.store.portal_sessions import (
    IDLE,
    LIFETIME,
    MAX_PER_PRINCIPAL,
    TOUCH_EVERY,
    PortalSessionStore,
)
from moorage.store.schema import portal_sessions
from moorage.store.types import utcnow

USED_NOW_AND_THEN = [IDLE - TOUCH_EVERY] * 8


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> PortalSessionStore:
    return PortalSessionStore(db, clock=clock)


@pytest.fixture
def principals(db: Database) -> PrincipalStore:
    return PrincipalStore(db, hashing_concurrency=1)


@pytest.fixture
async def principal(principals: PrincipalStore) -> ServicePrincipal:
    created, _secret = await principals.create("portal user")
    return created


async def _rows(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(portal_sessions.c.id, portal_sessions.c.app_id, portal_sessions.c.csrf)
        )
        return [tuple(row) for row in rows]


async def test_start_then_get_and_only_the_hash_is_stored(
    store: PortalSessionStore, principal: ServicePrincipal, db: Database
) -> None:
    started = await store.start(principal.app_id, "portal user")
    assert len(started.id) >= 43  # 32 random bytes
    found = await store.get(started.id)
    assert found == started.session
    assert (found.app_id, found.display_name) == (principal.app_id, "portal user")

    key = hashlib.sha256(started.id.encode()).hexdigest()
    assert await _rows(db) == [(key, principal.app_id, found.csrf)]
    assert started.id not in repr(await _rows(db))
    # The stored hash is not itself a session id.
    assert await store.get(key) is None
    assert await store.get("no-such-session") is None


@pytest.mark.parametrize(
    ("steps", "alive"),
    [
        ([IDLE], True),  # an hour to the microsecond is still within it
        ([IDLE + timedelta(seconds=1)], False),
        # Used every 59 minutes it lives on (7 h 52 min here), up to 8 h and not beyond.
        (USED_NOW_AND_THEN, True),
        ([*USED_NOW_AND_THEN, LIFETIME - sum(USED_NOW_AND_THEN, timedelta())], True),
        ([*USED_NOW_AND_THEN, LIFETIME - sum(USED_NOW_AND_THEN, timedelta()) + TOUCH_EVERY], False),
    ],
)
async def test_a_session_expires_when_idle_and_at_its_lifetime(
    store: PortalSessionStore,
    principal: ServicePrincipal,
    clock: Clock,
    db: Database,
    steps: list[timedelta],
    alive: bool,
) -> None:
    started = await store.start(principal.app_id, "p")
    found = None
    for step in steps:
        clock.advance(step)
        found = await store.get(started.id)
    assert (found is not None) is alive
    if not alive:
        assert await _rows(db) == []  # an expired session is removed once seen expired


async def test_seen_at_is_written_at_most_once_a_minute(
    store: PortalSessionStore, principal: ServicePrincipal, clock: Clock
) -> None:
    started = await store.start(principal.app_id, "p")
    first = started.session.seen_at
    clock.advance(TOUCH_EVERY - timedelta(seconds=1))
    found = await store.get(started.id)
    assert found is not None and found.seen_at == first
    clock.advance(timedelta(seconds=1))
    found = await store.get(started.id)
    assert found is not None and found.seen_at == clock.now
    # What was written is what the next read sees.
    clock.advance(timedelta(seconds=5))
    again = await store.get(started.id)
    assert again is not None and again.seen_at == found.seen_at


async def test_end_and_purge_expired(
    store: PortalSessionStore, principal: ServicePrincipal, clock: Clock, db: Database
) -> None:
    ended = await store.start(principal.app_id, "p")
    assert await store.end(ended.id) is True
    assert await store.end(ended.id) is False
    assert await store.get(ended.id) is None

    old = await store.start(principal.app_id, "p")
    clock.advance(IDLE + timedelta(seconds=1))
    fresh = await store.start(principal.app_id, "p")  # a sign-in purges the expired
    assert [row[0] for row in await _rows(db)] == [fresh.session.key]
    assert await store.get(old.id) is None

    clock.advance(IDLE + timedelta(seconds=1))
    assert await store.purge_expired() == 1
    assert await _rows(db) == []


async def test_a_principal_keeps_its_newest_sessions_only(
    store: PortalSessionStore,
    principals: PrincipalStore,
    principal: ServicePrincipal,
    clock: Clock,
) -> None:
    other, _ = await principals.create("other")
    theirs = await store.start(other.app_id, "other")
    started = []
    for _ in range(MAX_PER_PRINCIPAL + 2):
        clock.advance(timedelta(seconds=1))
        started.append(await store.start(principal.app_id, "p"))
    alive = [s for s in started if await store.get(s.id) is not None]
    assert alive == started[2:]  # the two oldest ended
    assert await store.get(theirs.id) is not None  # another principal's are its own


async def test_deleting_the_principal_ends_its_sessions(
    store: PortalSessionStore,
    principals: PrincipalStore,
    principal: ServicePrincipal,
    db: Database,
) -> None:
    other, _ = await principals.create("other")
    mine = [await store.start(principal.app_id, "p") for _ in range(3)]
    theirs = await store.start(other.app_id, "other")
    assert await principals.delete(principal.app_id)
    for session in mine:
        assert await store.get(session.id) is None
    assert [row[0] for row in await _rows(db)] == [theirs.session.key]
