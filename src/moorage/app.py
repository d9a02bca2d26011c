"""Wiring: build the application from settings. No module-level singletons."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from moorage.access.hosts import RegistryResolver
from moorage.blobs.filesystem import FilesystemDriver
from moorage.config import Settings
from moorage.distribution.context import CONTENT, RESOLVER
from moorage.distribution.routes import create_v2_app
from moorage.distribution.service import RegistryContent
from moorage.store.content import ContentStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from moorage.store.uploads import UploadStore

log = logging.getLogger("moorage")
SETTINGS: Final = web.AppKey("settings", Settings)
REGISTRIES: Final = web.AppKey("registries", RegistryStore)
PURGE_EVERY_SECONDS = 3600.0


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


async def open_stores(settings: Settings) -> tuple[Database, RegistryStore]:
    """Open (and migrate) the metadata store; used by the server and by offline commands."""
    prepare_data_dir(settings)
    db = Database(settings.database_url)
    await db.migrate()
    registries = RegistryStore(db, login_server_suffix=settings.suffix, location=settings.location)
    return db, registries


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_manifest_bytes + 1024)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_get("/v2", _to_v2_root)  # before the sub-app, whose prefix would take it
    app.add_subapp("/v2", create_v2_app())
    return app


async def _to_v2_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/v2/")


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db, registries = await open_stores(settings)
    await registries.ensure(settings.default_registry)
    driver = FilesystemDriver(settings.data_dir)
    content = RegistryContent(
        ContentStore(db), UploadStore(db), driver, max_manifest_bytes=settings.max_manifest_bytes
    )
    app[REGISTRIES] = registries
    app[CONTENT] = content
    app[RESOLVER] = RegistryResolver(registries, settings.default_registry)
    purger = asyncio.create_task(_purge_uploads(content, settings))
    try:
        yield
    finally:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
        await db.close()


async def _purge_uploads(content: RegistryContent, settings: Settings) -> None:
    while True:
        try:
            purged = await content.purge_stale(settings.upload_ttl)
            if purged:
                log.info("purged %d abandoned uploads", purged)
        except Exception:
            log.exception("purging abandoned uploads failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
