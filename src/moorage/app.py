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
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import DBAPIError

from moorage import health
from moorage.access.audit import DenialAudit
from moorage.access.client import ClientResolver, Forwarding, client_of
from moorage.access.gate import GATE, Gate, GateStores, Handler
from moorage.access.hosts import RegistryResolver, registry_name_from_host
from moorage.access.listeners import LISTENERS, Listeners
from moorage.access.policy import PolicyCache
from moorage.auth.bootstrap import OWNER_FILE, ensure_owner_credential
from moorage.auth.cipher import SecretBox
from moorage.auth.dataplane import AUTHENTICATOR, Authenticator
from moorage.auth.identity import IDENTITY, IdentityService, identity_routes
from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_oauth import RegistryTokenService
from moorage.auth.registry_tokens import RegistryTokens
from moorage.auth.secrets import new_hashed_secret
from moorage.auth.throttle import THROTTLE, LoginThrottle
from moorage.auth.tokens import TokenService
from moorage.auth.trusted import trusted_service
from moorage.blobs.driver import BlobDriver
from moorage.blobs.filesystem import FilesystemDriver
from moorage.blobs.s3 import open_s3_driver
from moorage.config import EndpointSpec, Settings
from moorage.distribution import errors as oci_errors
from moorage.distribution.acr import create_acr_app
from moorage.distribution.context import CONTENT, RESOLVER
from moorage.distribution.oauth import TOKENS, token_routes
from moorage.distribution.routes import create_v2_app
from moorage.distribution.service import RegistryContent
from moorage.domain.registry import Registry
from moorage.management.private_endpoints import (
    ENDPOINT_LISTENERS,
    PRIVATE_ENDPOINTS,
    PrivateEndpoints,
)
from moorage.management.registries import AUDIT, SERVICE
from moorage.management.repository_access import REPOSITORY_ACCESS, RepositoryAccess
from moorage.management.router import Router
from moorage.management.routes import ROUTES
from moorage.management.service import ManagementService
from moorage.portal import networking as portal_networking
from moorage.portal import registries as portal_registries
from moorage.portal import registry_pages as portal_registry_pages
from moorage.portal import web as portal_web
from moorage.portal.sessions import Sessions
from moorage.startup import StartupError, cannot_listen
from moorage.store.audit import AuditStore
from moorage.store.content import ContentStore
from moorage.store.credentials import CredentialStore
from moorage.store.database import Database
from moorage.store.listings import ContentListings
from moorage.store.management import SubscriptionStore
from moorage.store.portal_sessions import PortalSessionStore
from moorage.store.private_endpoints import PrivateEndpointStore
from moorage.store.registries import RegistryStore
from moorage.store.repository_tokens import TokenStore
from moorage.store.scope_maps import ScopeMapStore
from moorage.store.uploads import UploadStore
from moorage.store.virtual_network_rules import VirtualNetworkRuleStore
from moorage.store.virtual_networks import VirtualNetworkStore

log = logging.getLogger("moorage")
SETTINGS: Final = web.AppKey("settings", Settings)
REGISTRIES: Final = web.AppKey("registries", RegistryStore)
CLIENTS: Final = web.AppKey("clients", ClientResolver)
PURGE_EVERY_SECONDS = 3600.0


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


async def open_stores(settings: Settings) -> tuple[Database, RegistryStore]:
    """Open (and migrate) the metadata store; used by the server and by offline commands."""
    prepare_data_dir(settings)
    db = Database(settings.database_url)
    try:
        await db.migrate()
    except (OSError, DBAPIError) as e:
        await db.close()
        if db.is_sqlite:
            raise
        raise StartupError(f"--database: cannot use {db.address}: {e}") from None
    registries = RegistryStore(
        db,
        login_server_suffix=settings.suffix,
        location=settings.location,
        max_ip_rules=settings.max_ip_rules,
    )
    return db, registries


async def open_blob_driver(settings: Settings, stack: contextlib.AsyncExitStack) -> BlobDriver:
    """The filesystem driver in the data directory, or the S3 driver of `--blob-store` once
    its bucket answers (closed with `stack`)."""
    location = settings.s3_location
    if location is None:
        return FilesystemDriver(settings.data_dir)
    driver = await stack.enter_async_context(open_s3_driver(location))
    try:
        await driver.check()
    except (ClientError, BotoCoreError, OSError) as e:
        await stack.aclose()
        raise StartupError(f"--blob-store: cannot use {location.address}: {e}") from None
    return driver


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
    db, registries = await open_stores(settings)
    await registries.ensure(settings.default_registry)
    principals = PrincipalStore(db)
    tenant = await principals.ensure_tenant()
    subscriptions = SubscriptionStore(db)
    subscription, default_group = await subscriptions.ensure_default(tenant, settings.location)
    keys = SigningKeys.load_or_create(settings.data_dir)
    tokens = TokenService(keys, issuer=f"{settings.base_url}/{tenant}/v2.0")
    credential = await ensure_owner_credential(
        principals, settings.data_dir, tenant_id=tenant, subscription_id=subscription.id
    )
    log.info("owner credential: %s", credential)
    resolver = RegistryResolver(registries, settings.default_registry)
    audit = DenialAudit(AuditStore(db))
    listeners = app[LISTENERS]
    app[AUDIT] = audit
    stack = contextlib.AsyncExitStack()
    driver = await open_blob_driver(settings, stack)
    content = RegistryContent(
        ContentStore(db),
        UploadStore(db),
        driver,
        listings=ContentListings(db),
        max_manifest_bytes=settings.max_manifest_bytes,
    )
    app[REGISTRIES] = registries
    app[CONTENT] = content
    app[health.READINESS] = health.Readiness(db, driver)
    app[RESOLVER] = resolver
    identity = app[IDENTITY] = IdentityService(
        principals, tokens, tenant, settings.base_url, throttle=app[THROTTLE], client_of=client_of
    )
    app[portal_web.SESSIONS] = Sessions(PortalSessionStore(db))
    cipher = SecretBox.load_or_create(settings.data_dir)
    credentials = CredentialStore(db)
    app[SERVICE] = ManagementService(
        registries,
        subscriptions,
        credentials,
        cipher,
        resolver,
        VirtualNetworkStore(db),
        VirtualNetworkRuleStore(db),
    )
    registry_tokens = RegistryTokens(
        keys, issuer=f"{settings.base_url}/oauth2/token", tenant_id=tenant
    )
    endpoints = PrivateEndpointStore(db)
    for spec in settings.endpoints:
        await endpoints.ensure_declared(spec.name, spec.address, spec.port, default_group.id)
    await endpoints.release_undeclared([spec.name for spec in settings.endpoints])
    app[PRIVATE_ENDPOINTS] = PrivateEndpoints(app[SERVICE], endpoints)
    app[ENDPOINT_LISTENERS] = listeners
    token_store = TokenStore(db, new_secret=new_hashed_secret)
    app[REPOSITORY_ACCESS] = RepositoryAccess(app[SERVICE], ScopeMapStore(db), token_store)
    authenticator = app[AUTHENTICATOR] = Authenticator(
        credentials, cipher, token_store, principals, registry_tokens, app[THROTTLE]
    )
    db.changes.subscribe(authenticator.forget)
    app[TOKENS] = RegistryTokenService(
        authenticator, registry_tokens, identity, settings.management_audiences
    )

    async def trusted(request: web.Request, registry: Registry, client: str) -> bool:
        header = request.headers.get("Authorization")
        return await trusted_service(authenticator, header, registry, client)

    app[GATE].open(GateStores(resolver, audit, trusted))
    tasks = [
        asyncio.create_task(_purge_uploads(content, settings)),
        asyncio.create_task(audit.run()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await audit.flush()
        await db.close()
        await stack.aclose()


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
