"""Wiring: build the application from settings. No module-level singletons."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from moorage import health
from moorage.access import wiring as access_wiring
from moorage.access.client import ClientResolver, Forwarding
from moorage.access.gate import GATE, Gate, Handler
from moorage.access.hosts import registry_name_from_host
from moorage.access.listeners import LISTENERS, Listeners
from moorage.access.policy import PolicyCache
from moorage.auth import wiring as auth_wiring
from moorage.auth.bootstrap import OWNER_FILE
from moorage.auth.identity import identity_routes
from moorage.auth.throttle import THROTTLE, LoginThrottle
from moorage.config import EndpointSpec, Settings
from moorage.distribution import errors as oci_errors
from moorage.distribution import wiring as distribution_wiring
from moorage.distribution.acr import create_acr_app
from moorage.distribution.oauth import token_routes
from moorage.distribution.routes import create_v2_app
from moorage.distribution.service import RegistryContent
from moorage.management import wiring as management_wiring
from moorage.management.private_endpoints import (
    PRIVATE_ENDPOINTS,
)
from moorage.management.router import Router
from moorage.management.routes import ROUTES
from moorage.portal import networking as portal_networking
from moorage.portal import registries as portal_registries
from moorage.portal import registry_pages as portal_registry_pages
from moorage.portal import web as portal_web
from moorage.portal import wiring as portal_wiring
from moorage.startup import cannot_listen
from moorage.store.registries import RegistryStore
from moorage.wiring import Services, build_services
from moorage.wiring import prepare_data_dir as prepare_data_dir

log = logging.getLogger("moorage")
SETTINGS: Final = web.AppKey("settings", Settings)
REGISTRIES: Final = web.AppKey("registries", RegistryStore)
CLIENTS: Final = web.AppKey("clients", ClientResolver)
PURGE_EVERY_SECONDS = 3600.0
# Each part keeps what it needs of the services (its wiring.py says what).
PART_SETUPS: Final[tuple[Callable[[web.Application, Services], None], ...]] = (
    access_wiring.setup,
    auth_wiring.setup,
    distribution_wiring.setup,
    management_wiring.setup,
    portal_wiring.setup,
)


def create_app(settings: Settings) -> web.Application:
    clients = ClientResolver(settings.trusted_proxies, settings.believed_header)
    listeners = Listeners()
    # The network gate, in front of every route (it lets non-data-plane requests pass); its
    # stores are attached at start-up (_lifecycle), before the first request.
    gate = Gate(
        clients,
        PolicyCache(),
        settings.suffix,
        oci_errors.respond,
        listeners,
        bare_hosts=(urlsplit(settings.base_url).netloc,),
    )
    app = web.Application(
        client_max_size=settings.max_manifest_bytes + 1024,
        # Health probes answer first (no registry rules apply to a load balancer); then the
        # client and its scheme are resolved, once, for every route; then the network gate.
        middlewares=[health.middleware, Forwarding(clients).middleware, gate.middleware],
    )
    app[SETTINGS] = settings
    app[CLIENTS] = clients
    app[LISTENERS] = listeners
    app[GATE] = gate
    app[THROTTLE] = LoginThrottle()  # one for every sign-in: a secret is guessed anywhere
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_get("/v2", _to_v2_root)
    app.add_subapp("/v2", create_v2_app())
    app.add_subapp("/acr/v1", create_acr_app())
    router = Router(ROUTES, settings.management_audiences)

    management = _management_host_only(router.handle, settings.suffix)
    app.router.add_route("*", "/subscriptions{tail:.*}", management)
    app.router.add_route("*", "/openapi.json", management)
    for method, path, handler in identity_routes():
        app.router.add_route(method, path, _management_host_only(handler, settings.suffix))
    for method, path, handler in token_routes():
        app.router.add_route(method, path, handler)
    portal_web.setup(app, settings.suffix, settings.data_dir / OWNER_FILE)
    portal_registries.setup(app)
    portal_networking.setup(app)
    portal_registry_pages.setup(app)
    return app


def _management_host_only(handler: Handler, suffix: str) -> Handler:
    """The management API and the identity endpoints answer on the management host only: the
    bare host of the public listener. A registry's login server and a private endpoint's
    listener (which serves registries only) answer 404, whatever the Host."""

    async def there(request: web.Request) -> web.StreamResponse:
        if (
            registry_name_from_host(request.host, suffix) is not None
            or request.app[LISTENERS].endpoint_for(request) is not None
        ):
            raise web.HTTPNotFound(text="served on the management host only\n")
        return await handler(request)

    return there


async def _to_v2_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/v2/")


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    services = await build_services(settings, app[LISTENERS], app[THROTTLE])
    for setup in PART_SETUPS:
        setup(app, services)
    app[health.READINESS] = services.readiness
    app[REGISTRIES] = services.registries
    tasks = [
        asyncio.create_task(_purge_uploads(services.content, settings)),
        asyncio.create_task(services.audit.run()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await services.audit.flush()
        await services.db.close()
        await services.closing.aclose()


async def _purge_uploads(content: RegistryContent, settings: Settings) -> None:
    while True:
        try:
            purged = await content.purge_stale(settings.upload_ttl)
            if purged:
                log.info("purged %d abandoned uploads", purged)
        except Exception:
            log.exception("purging abandoned uploads failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


async def serve(
    app: web.Application,
    settings: Settings,
    ssl_context: ssl.SSLContext | None,
    ready: Callable[[], None],
) -> None:
    """Run the application on the public listener and on every private endpoint's listener,
    until SIGINT or SIGTERM (aiohttp's GracefulExit)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as e:
            raise cannot_listen("the public listener", settings.host, settings.port, e) from None
        listeners = app[LISTENERS]
        listeners.attach(runner, ssl_context)
        for endpoint in await private_endpoints(app):
            try:
                await listeners.start(endpoint.name, endpoint.address, endpoint.port)
            except OSError as e:
                what = f"private endpoint {endpoint.name}"
                raise cannot_listen(what, endpoint.address, endpoint.port, e) from None
        ready()
        await asyncio.Event().wait()  # until a signal ends the run
    finally:
        await runner.cleanup()


async def private_endpoints(app: web.Application) -> list[EndpointSpec]:
    """The private endpoints to listen on: those `serve` declares, and those made through the
    API (kept in the metadata store)."""
    return [
        EndpointSpec(e.name, e.listener.address, e.listener.port)
        for e in await app[PRIVATE_ENDPOINTS].all_endpoints()
    ]
