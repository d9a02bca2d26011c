"""A bounded cache of hot reads (manifests, blob sizes), kept per repository.

Only positive answers are cached. Every write through the store bumps the repository's
generation, which drops its entries at once in this process; an entry also expires after
`ttl` seconds, which bounds how long a write made by another process can go unseen. A read
records the generation before it asks the database, so a read that races a write never
caches what the write replaced.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
RepositoryKey = tuple[int, str]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    generation: int
    expires: float
    value: T
    size: int


class ReadCache(Generic[T]):
    def __init__(self, *, ttl: float = 1.0, max_entries: int = 20_000, max_bytes: int = 64 << 20):
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[RepositoryKey, Hashable], _Entry[T]] = OrderedDict()
        self._generations: dict[RepositoryKey, int] = {}
        self._bytes = 0

    def generation(self, repository: RepositoryKey) -> int:
        return self._generations.get(repository, 0)

    def get(self, repository: RepositoryKey, key: Hashable) -> T | None:
        entry = self._entries.get((repository, key))
        if entry is None:
            return None
        if entry.generation != self.generation(repository) or entry.expires < time.monotonic():
            self._drop((repository, key))
            return None
        self._entries.move_to_end((repository, key))
        return entry.value

    def put(
        self, repository: RepositoryKey, key: Hashable, value: T, generation: int, size: int = 0
    ) -> None:
        """Cache a value read while the repository was at `generation` (taken before the read)."""
        if generation != self.generation(repository) or size > self.max_bytes // 16:
            return
        self._drop((repository, key))
        self._entries[(repository, key)] = _Entry(
            generation, time.monotonic() + self.ttl, value, size
        )
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def invalidate(self, repository: RepositoryKey) -> None:
        self._generations[repository] = self.generation(repository) + 1

    def _drop(self, full_key: tuple[RepositoryKey, Hashable]) -> None:
        entry = self._entries.pop(full_key, None)
        if entry is not None:
            self._bytes -= entry.size
