"""Failed logins slow the guesser down, and only the guesser.

Failures are counted per (client address, identity) and per identity (an admin user, a token,
a service principal), never per address alone. Each count has its free failures; once they are
used, the next attempt must wait before it is even checked (429 with Retry-After), and each
further failure doubles the wait up to `max_delay`.

- A success clears the (address, identity) count of that identity alone: a good login to a
  registry the guesser owns clears nothing of another identity's.
- The per-identity count (more free failures: many honest clients share an identity) stops a
  guesser who spreads the guesses over many addresses. A success does not clear it (the
  guesser's failures are not the honest client's to forgive), but an address that proved the
  identity within `proven_for` is not held back by it: an honest client is not locked out by
  someone else's guessing.
- Nothing is counted before its result is known: attempts of one (address, identity) take
  turns (`turn`, then `attempt`), so parallel guesses get no more checks than a series, and parallel
  requests with the right password are never refused for each other.

The state is in memory, per process, bounded: the oldest records are dropped first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Final, TypeVar

from aiohttp import web

K = TypeVar("K", bound=Hashable)


class TooManyFailures(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(slots=True)
class _Record:
    failures: int = 0
    first: float = 0.0
    blocked_until: float = 0.0
    proven_until: float = 0.0


class Attempt:
    """The outcome of one checked attempt; one left unsaid (an error, a cancelled request)
    counts for nothing."""

    def __init__(self) -> None:
        self.outcome: bool | None = None

    def succeeded(self) -> None:
        self.outcome = True

    def failed(self) -> None:
        self.outcome = False


class LoginThrottle:
    def __init__(
        self,
        *,
        free_failures: int = 5,
        identity_free_failures: int = 20,
        window: float = 300.0,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        proven_for: float = 86_400.0,
        max_records: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (
            min(free_failures, identity_free_failures) < 1
            or window <= 0
            or base_delay <= 0
            or max_delay < base_delay
        ):
            raise ValueError("throttle settings must be positive, with max_delay >= base_delay")
        self.free_failures = free_failures
        self.identity_free_failures = identity_free_failures
        self.window = window
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.proven_for = proven_for
        self.max_records = max_records
        self._clock = clock
        self._pairs: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._identities: OrderedDict[str, _Record] = OrderedDict()
        self._turns: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def retry_after(self, client: str, identity: str) -> int:
        """Whole seconds the client must wait before its next attempt at `identity`."""
        now = self._clock()
        pair = self._pairs.get((client, identity))
        wait = pair.blocked_until - now if pair is not None else 0.0
        if pair is None or pair.proven_until <= now:
            held = self._identities.get(identity)
            if held is not None:
                wait = max(wait, held.blocked_until - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, client: str, identity: str) -> None:
        now = self._clock()
        self._count(self._pairs, (client, identity), self.free_failures, now)
        self._count(self._identities, identity, self.identity_free_failures, now)

    def succeeded(self, client: str, identity: str) -> None:
        now = self._clock()
        self._keep(self._pairs, (client, identity), _Record(proven_until=now + self.proven_for))

    @asynccontextmanager
    async def turn(self, client: str, identity: str) -> AsyncIterator[None]:
        """Hold the turn of (client, identity): its attempts are checked one at a time."""
        key = (client, identity)
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[key]
            if users > 1:
                self._turns[key] = (lock, users - 1)
            else:
                del self._turns[key]

    @contextmanager
    def attempt(self, client: str, identity: str) -> Iterator[Attempt]:
        """One checked attempt, made while holding the turn: TooManyFailures when the client
        must wait first; what the caller marks on the Attempt is counted when the block ends."""
        wait = self.retry_after(client, identity)
        if wait:
            raise TooManyFailures(wait)
        attempt = Attempt()
        try:
            yield attempt
        finally:
            if attempt.outcome is True:
                self.succeeded(client, identity)
            elif attempt.outcome is False:
                self.failed(client, identity)

    def _count(self, records: OrderedDict[K, _Record], key: K, free: int, now: float) -> None:
        record = records.get(key) or _Record(first=now)
        if now - record.first > self.window and now >= record.blocked_until:
            record = _Record(first=now, proven_until=record.proven_until)  # a fresh start
        record.failures += 1
        over = record.failures - free + 1  # the free ones used up: wait
        if over > 0:
            record.blocked_until = now + min(
                self.base_delay * 2 ** min(over - 1, 32), self.max_delay
            )
            record.first = now  # the window runs from the latest penalty
        self._keep(records, key, record)

    def _keep(self, records: OrderedDict[K, _Record], key: K, record: _Record) -> None:
        records[key] = record
        records.move_to_end(key)
        while len(records) > self.max_records:
            records.popitem(last=False)


def principal_identity(app_id: str) -> str:
    """A service principal is one identity wherever its secret is tried: a registry's login,
    the identity endpoint, the portal's sign-in."""
    return f"principal:{app_id.strip().lower()}"


THROTTLE: Final = web.AppKey("login_throttle", LoginThrottle)
