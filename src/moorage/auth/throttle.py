"""Failed logins slow their sender down: once a client address has used its free failures,
it must wait before its next attempt is even checked (429 with Retry-After), and each further
failure doubles the wait. Other addresses are not affected; a success clears the address's record.

The state is in memory, per process, bounded: the oldest records are dropped first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Record:
    failures: int
    first: float
    blocked_until: float


class LoginThrottle:
    def __init__(
        self,
        *,
        free_failures: int = 5,
        window: float = 300.0,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if free_failures < 1 or window <= 0 or base_delay <= 0 or max_delay < base_delay:
            raise ValueError("throttle settings must be positive, with max_delay >= base_delay")
        self.free_failures = free_failures
        self.window = window
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_clients = max_clients
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._pending: dict[str, int] = {}

    def begin(self, client: str) -> int:
        """Before checking a client's credentials: 0 when it may try now (the attempt is then
        counted as in flight until `end`), else the seconds to wait. Attempts in flight count
        against the free failures, so a burst of parallel guesses gets no more than a series."""
        wait = self.retry_after(client)
        if wait:
            return wait
        pending = self._pending.get(client, 0)
        record = self._records.get(client)
        failures = record.failures if record is not None else 0
        if pending and failures + pending >= self.free_failures:
            return 1
        self._pending[client] = pending + 1
        return 0

    def end(self, client: str) -> None:
        pending = self._pending.get(client, 0) - 1
        if pending > 0:
            self._pending[client] = pending
        else:
            self._pending.pop(client, None)

    def retry_after(self, client: str) -> int:
        """Whole seconds the client must wait before its next attempt; 0 when it may try."""
        record = self._records.get(client)
        if record is None:
            return 0
        wait = record.blocked_until - self._clock()
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, client: str) -> None:
        now = self._clock()
        record = self._records.get(client)
        if record is None or (now - record.first > self.window and now >= record.blocked_until):
            record = _Record(0, now, 0.0)
        record.failures += 1
        over = record.failures - self.free_failures + 1  # the free ones used up: wait
        if over > 0:
            delay = min(self.base_delay * 2 ** min(over - 1, 32), self.max_delay)
            record.blocked_until = now + delay
            record.first = now  # the window runs from the latest penalty
        self._records[client] = record
        self._records.move_to_end(client)
        while len(self._records) > self.max_clients:
            self._records.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._records.pop(client, None)
