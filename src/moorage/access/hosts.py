"""Registry resolution from the Host header: `<name>.<suffix>`, or the bare host for the default.

Lookups are cached for a short time; a name not found is always asked again, so a registry
created a moment ago answers at once.
"""

from __future__ import annotations

import time

from moorage.domain.errors import RegistryNotFound
from moorage.domain.registry import Registry
from moorage.store.registries import RegistryStore

CACHE_SECONDS = 1.0


def registry_name_from_host(host: str, suffix: str) -> str | None:
    """The registry a Host header names, or None for the bare host (the default registry)."""
    host = host.strip().lower().rstrip(".")
    suffix = suffix.lower()
    if host.endswith("." + suffix):
        return host[: -len(suffix) - 1]
    # A Host without the port of a suffix that has one (or the other way round) still counts.
    bare_host, _, _ = host.partition(":")
    bare_suffix, _, _ = suffix.partition(":")
    if host.count(":") <= 1 and bare_host.endswith("." + bare_suffix):
        return bare_host[: -len(bare_suffix) - 1]
    return None


class RegistryResolver:
    def __init__(self, store: RegistryStore, default_registry: str) -> None:
        self._store = store
        self.default_registry = default_registry
        self._cache: dict[str, tuple[float, Registry]] = {}

    async def for_host(self, host: str) -> Registry:
        name = registry_name_from_host(host, self._store.suffix) or self.default_registry
        return await self.by_name(name)

    def name_for_host(self, host: str) -> str | None:
        """The registry a Host names; None for the bare host."""
        return registry_name_from_host(host, self._store.suffix)

    async def by_name(self, name: str) -> Registry:
        key = name.lower()
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None:
            if now - hit[0] < CACHE_SECONDS:
                return hit[1]
            # Aged out: one small query tells whether anything changed (a registry with
            # thousands of rules is reloaded only when it did).
            if await self._store.etag(key) == hit[1].etag:
                self._cache[key] = (now, hit[1])
                return hit[1]
        if "." in key or not key:
            raise RegistryNotFound(f"no registry has the login server {name!r}", name=name)
        registry = await self._store.get(key)
        self._cache[key] = (now, registry)
        return registry

    def forget(self, name: str) -> None:
        self._cache.pop(name.lower(), None)
