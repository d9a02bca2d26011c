from __future__ import annotations

import time

import pytest

from moorage.store.cache import ReadCache

REPO = (1, "app")
OTHER = (1, "other")


def test_hit_until_the_repository_changes() -> None:
    cache: ReadCache[str] = ReadCache(ttl=60)
    cache.put(REPO, "v1", "manifest", cache.generation(REPO))
    cache.put(OTHER, "v1", "other manifest", cache.generation(OTHER))
    assert cache.get(REPO, "v1") == "manifest"
    cache.invalidate(REPO)
    assert cache.get(REPO, "v1") is None
    assert cache.get(OTHER, "v1") == "other manifest"


def test_a_read_that_raced_a_write_is_not_cached() -> None:
    cache: ReadCache[str] = ReadCache(ttl=60)
    before = cache.generation(REPO)  # taken before asking the database
    cache.invalidate(REPO)  # a write lands while the read is in flight
    cache.put(REPO, "v1", "what the write replaced", before)
    assert cache.get(REPO, "v1") is None


def test_entries_expire() -> None:
    cache: ReadCache[str] = ReadCache(ttl=0.05)
    cache.put(REPO, "v1", "manifest", 0)
    time.sleep(0.06)
    assert cache.get(REPO, "v1") is None


@pytest.mark.parametrize(("max_entries", "max_bytes", "kept"), [(3, 10_000, 3), (100, 1600, 16)])
def test_bounded_by_count_and_bytes(max_entries: int, max_bytes: int, kept: int) -> None:
    cache: ReadCache[int] = ReadCache(ttl=60, max_entries=max_entries, max_bytes=max_bytes)
    for n in range(20):
        cache.put(REPO, n, n, 0, size=100)
    present = [n for n in range(20) if cache.get(REPO, n) is not None]
    assert present == list(range(20 - kept, 20))  # the least recently used went first


def test_an_entry_over_a_sixteenth_of_the_budget_is_not_cached() -> None:
    cache: ReadCache[int] = ReadCache(ttl=60, max_bytes=1600)
    cache.put(REPO, "big", 1, 0, size=101)
    assert cache.get(REPO, "big") is None
