"""`GET /healthz` (the process is alive) and `GET /readyz` (database and blob store reachable),
for load balancers.

Both answer on every host and listener, before the network gate: a load balancer's probe is
not a registry client, and a registry's rules must not take a replica out of rotation. They say
nothing a client could use: the status of each part, and on failure what was tried.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from sqlalchemy import text

from moorage.access.gate import Handler
from moorage.blobs.driver import BlobDriver
from moorage.store.database import Database

PATHS: Final = ("/healthz", "/readyz")
CHECK_TIMEOUT = 2.0
"""A part that does not answer within this is not ready."""
CACHE_SECONDS = 0.5
"""Probes arriving closer together than this share one check."""


@dataclass
class Readiness:
    db: Database
    driver: BlobDriver
    _checked_at: float = 0.0
    _last: tuple[bool, dict[str, str]] | None = None
    _lock: asyncio.Lock | None = None

    async def _database(self) -> None:
        async with self.db.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def check(self) -> tuple[bool, dict[str, str]]:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._last is not None and time.monotonic() - self._checked_at < CACHE_SECONDS:
                return self._last
            parts: dict[str, str] = {}
            for name, probe, where in (
                ("database", self._database(), self.db.address),
                ("blobStore", self.driver.check(), self.driver.address),
            ):
                try:
                    await asyncio.wait_for(probe, CHECK_TIMEOUT)
                    parts[name] = "ok"
                except Exception as e:
                    reason = "no answer" if isinstance(e, TimeoutError) else type(e).__name__
                    parts[name] = f"unreachable: {where} ({reason})"
            self._last = (all(v == "ok" for v in parts.values()), parts)
            self._checked_at = time.monotonic()
            return self._last


READINESS: Final = web.AppKey("readiness", Readiness)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path not in PATHS or request.method not in ("GET", "HEAD"):
        return await handler(request)
    if request.path == "/healthz":
        return web.json_response({"status": "alive"})
    readiness = request.app.get(READINESS)
    if readiness is None:
        return web.json_response({"status": "starting"}, status=503)
    ready, parts = await readiness.check()
    return web.json_response(
        {"status": "ready" if ready else "not ready", **parts}, status=200 if ready else 503
    )
