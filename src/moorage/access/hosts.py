"""Registry resolution from the Host header: `<name>.<suffix>`, or the bare host for the default.

Lookups are cached for a short time; a name not found is always asked again, so a registry
created a moment ago answers at once.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable

from moorage.domain.errors import RegistryNotFound
from moorage.domain.registry import Registry
from moorage.store.registries import RegistryStore

CACHE_SECONDS = 1.0


def split_host(host: str) -> tuple[str, str | None]:
    """(host name, port) of a Host header, lower case, without the trailing dot of a fully
    qualified name and without the brackets of an IPv6 literal."""
    host = host.strip().lower().rstrip(".")
    port: str | None = None
    if host.startswith("["):  # [v6]:port
        end = host.find("]")
        if end > 0:
            host, rest = host[1:end], host[end + 1 :]
            port = rest[1:] if rest.startswith(":") else None
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    return host.rstrip("."), port


def registry_name_from_host(host: str, suffix: str) -> str | None:
    """The registry a Host header names (`<name>.<suffix>`, with or without the port, any case,
    with or without the trailing dot), or None when it names none."""
    name, _ = split_host(host)
    suffix_name, _ = split_host(suffix)
    if name.endswith("." + suffix_name) and len(name) > len(suffix_name) + 1:
        return name[: -len(suffix_name) - 1]
    return None


def is_bare_host(host: str, suffix: str, also: Iterable[str] = ()) -> bool:
    """Whether a Host header names the service itself (the default registry's data plane): an
    IP literal, `localhost`, the suffix's own host, or one of `also` (the public URL's host)."""
    name, _ = split_host(host)
    if not name:
        return True  # no Host header (HTTP/1.0): the address the client dialled
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return True
    bare = {"localhost", split_host(suffix)[0], *(split_host(h)[0] for h in also)}
    return name in bare


class RegistryResolver:
    def __init__(self, store: RegistryStore, default_registry: str) -> None:
        self._store = store
        self.default_registry = default_registry
        self._cache: dict[str, tuple[float, Registry]] = {}

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
