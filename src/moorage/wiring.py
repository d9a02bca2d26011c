"""The services of a running server, built once at start-up from the settings.

`build_services` opens the stores and builds each part's services in the order they depend on
one another (stores, identity, management, data plane, gate); the application hands them to
each part's `setup(app, services)` (access/, auth/, distribution/, management/, portal/
wiring.py), which says, with a Protocol, what of them it needs.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import DBAPIError

from moorage import health
from moorage.access.audit import DenialAudit
from moorage.access.client import client_of
from moorage.access.gate import GateStores
from moorage.access.hosts import RegistryResolver
from moorage.access.listeners import Listeners
from moorage.auth.bootstrap import ensure_owner_credential
from moorage.auth.cipher import SecretBox
from moorage.auth.dataplane import Authenticator
from moorage.auth.identity import IdentityService
from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_oauth import RegistryTokenService
from moorage.auth.registry_tokens import RegistryTokens
from moorage.auth.secrets import new_hashed_secret
from moorage.auth.throttle import LoginThrottle
from moorage.auth.tokens import TokenService
from moorage.auth.trusted import trusted_service
from moorage.blobs.driver import BlobDriver
from moorage.blobs.filesystem import FilesystemDriver
from moorage.blobs.s3 import open_s3_driver
from moorage.config import Settings
from moorage.distribution.service import RegistryContent
from moorage.domain.registry import Registry
from moorage.management.private_endpoints import PrivateEndpoints
from moorage.management.repository_access import RepositoryAccess
from moorage.management.service import ManagementService
from moorage.portal.sessions import Sessions
from moorage.startup import StartupError
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


@dataclass(frozen=True, slots=True)
class Services:
    """Every long-lived object of a running server; the parts' setups read what they need."""

    db: Database
    closing: contextlib.AsyncExitStack
    """What to close after the database (the S3 driver's client)."""
    readiness: health.Readiness
    registries: RegistryStore
    resolver: RegistryResolver
    audit: DenialAudit
    content: RegistryContent
    identity: IdentityService
    authenticator: Authenticator
    tokens: RegistryTokenService
    management: ManagementService
    private_endpoints: PrivateEndpoints
    listeners: Listeners
    repository_access: RepositoryAccess
    sessions: Sessions
    gate_stores: GateStores
    """What the network gate (built with the application) reads, attached at start-up."""


@dataclass(frozen=True, slots=True)
class _Identity:
    principals: PrincipalStore
    tenant: str
    keys: SigningKeys
    identity: IdentityService
    default_group_id: int


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


async def _identity(settings: Settings, db: Database, throttle: LoginThrottle) -> _Identity:
    """The tenant, its default subscription and group, the signing keys, the owner credential
    and the identity endpoints' service."""
    principals = PrincipalStore(db)
    tenant = await principals.ensure_tenant()
    subscription, default_group = await SubscriptionStore(db).ensure_default(
        tenant, settings.location
    )
    keys = SigningKeys.load_or_create(settings.data_dir)
    tokens = TokenService(keys, issuer=f"{settings.base_url}/{tenant}/v2.0")
    credential = await ensure_owner_credential(
        principals, settings.data_dir, tenant_id=tenant, subscription_id=subscription.id
    )
    log.info("owner credential: %s", credential)
    identity = IdentityService(
        principals, tokens, tenant, settings.base_url, throttle=throttle, client_of=client_of
    )
    return _Identity(principals, tenant, keys, identity, default_group.id)


async def _private_endpoints(
    settings: Settings, db: Database, management: ManagementService, group_id: int
) -> PrivateEndpoints:
    """The endpoints `serve --private-endpoint` declares, made or claimed; the others released."""
    endpoints = PrivateEndpointStore(db)
    for spec in settings.endpoints:
        await endpoints.ensure_declared(spec.name, spec.address, spec.port, group_id)
    await endpoints.release_undeclared([spec.name for spec in settings.endpoints])
    return PrivateEndpoints(management, endpoints)


def _gate_stores(
    resolver: RegistryResolver, audit: DenialAudit, authenticator: Authenticator
) -> GateStores:
    async def trusted(request: web.Request, registry: Registry, client: str) -> bool:
        header = request.headers.get("Authorization")
        return await trusted_service(authenticator, header, registry, client)

    return GateStores(resolver, audit, trusted)


async def build_services(
    settings: Settings, listeners: Listeners, throttle: LoginThrottle
) -> Services:
    """`throttle` is the one login throttle of every sign-in (the portal's too)."""
    db, registries = await open_stores(settings)
    await registries.ensure(settings.default_registry)
    who = await _identity(settings, db, throttle)
    resolver = RegistryResolver(registries, settings.default_registry)
    audit = DenialAudit(AuditStore(db))
    closing = contextlib.AsyncExitStack()
    driver = await open_blob_driver(settings, closing)
    content = RegistryContent(
        ContentStore(db),
        UploadStore(db),
        driver,
        listings=ContentListings(db),
        max_manifest_bytes=settings.max_manifest_bytes,
    )
    cipher = SecretBox.load_or_create(settings.data_dir)
    credentials = CredentialStore(db)
    management = ManagementService(
        registries,
        SubscriptionStore(db),
        credentials,
        cipher,
        resolver,
        VirtualNetworkStore(db),
        VirtualNetworkRuleStore(db),
    )
    token_store = TokenStore(db, new_secret=new_hashed_secret)
    registry_tokens = RegistryTokens(
        who.keys, issuer=f"{settings.base_url}/oauth2/token", tenant_id=who.tenant
    )
    authenticator = Authenticator(
        credentials, cipher, token_store, who.principals, registry_tokens, throttle
    )
    db.changes.subscribe(authenticator.forget)
    return Services(
        db=db,
        closing=closing,
        readiness=health.Readiness(db, driver),
        registries=registries,
        resolver=resolver,
        audit=audit,
        content=content,
        identity=who.identity,
        authenticator=authenticator,
        tokens=RegistryTokenService(
            authenticator, registry_tokens, who.identity, settings.management_audiences
        ),
        management=management,
        private_endpoints=await _private_endpoints(settings, db, management, who.default_group_id),
        listeners=listeners,
        repository_access=RepositoryAccess(management, ScopeMapStore(db), token_store),
        sessions=Sessions(PortalSessionStore(db)),
        gate_stores=_gate_stores(resolver, audit, authenticator),
    )
