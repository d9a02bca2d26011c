from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from moorage.auth.cipher import SecretBox
from moorage.auth.dataplane import Authenticator
from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import RegistryTokens
from moorage.auth.secrets import hash_secret, new_hashed_secret
from moorage.auth.throttle import LoginThrottle
from moorage.auth.tokens import TokenService, issuer_for
from moorage.domain.registry import Registry, RegistryChanges
from moorage.store.credentials import CredentialStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from moorage.store.repository_tokens import TokenStore

BASE_URL = "https://127.0.0.1:5443"
MANAGEMENT = "https://management.azure.com/"


@pytest.fixture
def principals(db: Database) -> PrincipalStore:
    return PrincipalStore(db)


@pytest.fixture
async def tenant_id(principals: PrincipalStore) -> str:
    return await principals.ensure_tenant()


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    return SigningKeys.load_or_create(tmp_path)


@pytest.fixture
def tokens(keys: SigningKeys) -> TokenService:
    return TokenService(keys, issuer_for(BASE_URL, "tenant-1"))


# -- an Authenticator over the real stores --------------------------------------------------


class CountingPrincipals(PrincipalStore):
    """The real store, counting its argon2 verifications."""

    verifications = 0

    async def verify(self, hashed: str | None, secret: str) -> bool:
        self.verifications += 1
        return await super().verify(hashed, secret)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    auth: Authenticator
    registry: Registry
    principals: CountingPrincipals
    tokens: TokenStore
    registry_tokens: RegistryTokens
    credentials: CredentialStore
    cipher: SecretBox
    clock: Clock
    admin_password: str
    token_password: str
    principal_id: str
    principal_secret: str


ADMIN_PASSWORD = "admin-password-1"  # noqa: S105 (a test value)


@cache
def _hashed(password: str) -> str:
    """argon2 hashes cost ~0.1 s: the admin passwords' are made once for all tests."""
    return hash_secret(password)


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> World:
    registries = RegistryStore(db, login_server_suffix="localhost:5000", location="local")
    await registries.create("registrya", changes=RegistryChanges(admin_user_enabled=True))
    registry = await registries.get("registrya")
    assert registry.admin_user_enabled

    cipher = SecretBox.load_or_create(tmp_path)
    credentials = CredentialStore(db)
    await credentials.put(
        registry.id, "password", cipher.encrypt(ADMIN_PASSWORD), _hashed(ADMIN_PASSWORD)
    )
    await credentials.put(
        registry.id, "password2", cipher.encrypt("admin-password-2"), _hashed("admin-password-2")
    )

    tokens = TokenStore(db, new_secret=new_hashed_secret)
    await tokens.put(registry.id, "pulltoken", scope_map="_repositories_pull")
    _, generated = await tokens.generate(registry.id, "pulltoken", ["password1"])

    principals = CountingPrincipals(db)
    tenant = await principals.ensure_tenant()
    principal, secret = await principals.create("ci")
    await principals.assign(principal.app_id, "AcrPush", "/")

    clock = Clock()
    registry_tokens = RegistryTokens(
        SigningKeys.load_or_create(tmp_path), "https://127.0.0.1:5443/oauth2/token", tenant
    )
    auth = Authenticator(
        credentials,
        cipher,
        tokens,
        principals,
        registry_tokens,
        throttle=LoginThrottle(clock=clock),
        clock=clock,
    )
    db.changes.subscribe(auth.forget)  # as the application wires it
    return World(
        auth,
        registry,
        principals,
        tokens,
        registry_tokens,
        credentials,
        cipher,
        clock,
        ADMIN_PASSWORD,
        generated[0].value,
        principal.app_id,
        secret,
    )
