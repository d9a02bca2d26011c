"""Callers of a registry's data plane, and the Authenticator over the real stores."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from moorage.auth.cipher import SecretBox
from moorage.auth.dataplane import (
    CHECKS_PER_LOGIN,
    LOGIN_CACHE_SECONDS,
    REFRESH_TOKEN_USER,
    WRONG_LOGIN,
    Authenticator,
    Caller,
    Throttled,
    Unauthorized,
    anonymous,
)
from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import RegistryTokens
from moorage.auth.secrets import hash_secret, new_hashed_secret
from moorage.auth.throttle import LoginThrottle
from moorage.domain.access import Action, Permissions, Scope, parse_scope_map
from moorage.domain.registry import (
    NetworkRuleSet,
    PublicNetworkAccess,
    Registry,
    RegistryChanges,
    Sku,
)
from moorage.domain.repository_access import TokenStatus
from moorage.store.credentials import CredentialStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from moorage.store.repository_tokens import TokenStore

REGISTRY = Registry(
    id=1,
    name="registrya",
    login_server="registrya.localhost:5000",
    location="local",
    sku=Sku.STANDARD,
    public_network_access=PublicNetworkAccess.ENABLED,
    network_rule_set=NetworkRuleSet(),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)

# -- Caller ---------------------------------------------------------------------------------

SCOPE_MAP = Permissions.of_scope_map(
    parse_scope_map(
        [
            "repositories/app/content/read",
            "repositories/app/content/write",
            "repositories/team/*/content/read",
            "repositories/team/*/metadata/read",
            "repositories/*/content/delete",
        ]
    )
)
GRANT = (
    Scope("repository", "app", ("pull", "push")),
    Scope("repository", "team/x", ("metadata_read",)),
    Scope("registry", "catalog", ("*",)),
)


@pytest.mark.parametrize(
    ("action", "repository", "allowed"),
    [
        (Action.PULL, "app", True),
        (Action.PUSH, "app", True),
        (Action.METADATA_READ, "app", False),
        (Action.PULL, "team/x", True),
        (Action.PULL, "team/x/y", True),
        (Action.PUSH, "team/x", False),
        (Action.PULL, "team", False),
        (Action.PULL, "other", False),
        (Action.DELETE, "other", True),
        (Action.DELETE, "team/x", True),
    ],
)
def test_may_with_permissions(action: Action, repository: str, allowed: bool) -> None:
    assert Caller("token", "t", permissions=SCOPE_MAP).may(action, repository) is allowed


@pytest.mark.parametrize(
    ("action", "repository", "allowed"),
    [
        (Action.PULL, "app", True),
        (Action.PUSH, "app", True),
        (Action.DELETE, "app", False),
        (Action.METADATA_READ, "team/x", True),
        (Action.PULL, "team/x", False),
        (Action.METADATA_READ, "team/y", False),
        (Action.PULL, "catalog", False),
        (Action.PULL, "other", False),
    ],
)
def test_may_with_an_access_grant(action: Action, repository: str, allowed: bool) -> None:
    assert Caller("token", "t", access=GRANT).may(action, repository) is allowed


def test_permissions_win_over_an_access_grant() -> None:
    caller = Caller("token", "t", permissions=Permissions(), access=GRANT, catalog=("*",))
    assert not caller.may(Action.PULL, "app")
    assert not caller.may_list()
    assert caller.catalog_patterns() == []


def test_a_caller_holding_nothing_may_nothing() -> None:
    caller = Caller("token", "t")
    assert not any(caller.may(action, "app") for action in Action)
    assert not any(caller.may_everywhere(action) for action in Action)
    assert not caller.may_list()
    assert caller.catalog_patterns() == []


def test_may_everywhere() -> None:
    caller = Caller("token", "t", permissions=SCOPE_MAP)
    assert caller.may_everywhere(Action.DELETE)
    assert not caller.may_everywhere(Action.PULL)  # app and team/* only
    assert not caller.may_everywhere(Action.METADATA_READ)
    owner = Caller("admin", "registrya", permissions=Permissions.everything())
    assert all(owner.may_everywhere(action) for action in Action)
    pull = Caller("principal", "p", permissions=Permissions.of_roles(["AcrPull"]))
    assert pull.may_everywhere(Action.PULL) and pull.may_everywhere(Action.METADATA_READ)
    assert not pull.may_everywhere(Action.PUSH)
    # A token's grant names repositories one by one, even when it holds `*`.
    everything = (Scope("repository", "app", ("*",)),)
    granted = Caller("admin", "registrya", access=everything)
    assert granted.may(Action.DELETE, "app")
    assert not any(granted.may_everywhere(action) for action in Action)


def test_listing_with_permissions() -> None:
    caller = Caller("token", "t", permissions=SCOPE_MAP)
    assert caller.may_list()
    assert caller.catalog_patterns() == ["team/*"]
    reader = Caller("principal", "p", permissions=Permissions.of_roles(["Reader"]))
    assert reader.may_list() and reader.catalog_patterns() == ["*"]
    deleter = Caller("principal", "p", permissions=Permissions.of_roles(["AcrDelete"]))
    assert not deleter.may_list() and deleter.catalog_patterns() == []


def test_listing_with_an_access_grant() -> None:
    caller = Caller("token", "t", access=GRANT, catalog=("team/*", "app"))
    assert caller.may_list()
    assert caller.catalog_patterns() == ["team/*", "app"]
    # The patterns alone list nothing: the grant must name the catalog.
    no_catalog = Caller("token", "t", access=GRANT[:2], catalog=("team/*",))
    assert not no_catalog.may_list()
    assert no_catalog.catalog_patterns() == []
    # The catalog granted with no patterns lists nothing either.
    bare = Caller("token", "t", access=GRANT)
    assert bare.may_list() and bare.catalog_patterns() == []
    # Only `registry:catalog:*` names the catalog.
    pull_catalog = Caller("token", "t", access=(Scope("registry", "catalog", ("pull",)),))
    assert not pull_catalog.may_list()


@pytest.mark.parametrize(
    ("kind", "name", "described"),
    [
        ("admin", "registrya", "the admin user 'registrya'"),
        ("token", "pulltoken", "token 'pulltoken'"),
        ("principal", "0000-app", "service principal '0000-app'"),
        ("anonymous", "", "an anonymous client"),
        ("something", "who", "who"),
    ],
)
def test_describe(kind: str, name: str, described: str) -> None:
    assert Caller(kind, name).describe() == described


def test_anonymous_only_when_the_registry_allows_it() -> None:
    assert anonymous(REGISTRY) is None
    caller = anonymous(dataclasses.replace(REGISTRY, anonymous_pull_enabled=True))
    assert caller is not None
    assert (caller.kind, caller.name) == ("anonymous", "")
    assert caller.describe() == "an anonymous client"
    for repository in ("app", "team/x/y"):
        assert caller.may(Action.PULL, repository)
        assert not any(caller.may(a, repository) for a in Action if a is not Action.PULL)
    assert caller.may_everywhere(Action.PULL)
    assert not caller.may_everywhere(Action.PUSH)
    assert not caller.may_list()
    assert caller.catalog_patterns() == []


# -- Authenticator over the real stores -----------------------------------------------------


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
    return World(
        auth,
        registry,
        principals,
        tokens,
        registry_tokens,
        clock,
        ADMIN_PASSWORD,
        generated[0].value,
        principal.app_id,
        secret,
    )


@pytest.mark.parametrize(
    "who",
    [
        "unknown user",
        "unknown GUID",
        "admin user, wrong password",
        "admin user in another case, wrong password",
        "admin user disabled",
        "token with one password, wrong password",
        "token disabled",
        "principal, wrong secret",
    ],
)
async def test_every_failed_login_costs_the_same(world: World, who: str) -> None:
    registry = world.registry
    username = {
        "unknown user": "nosuchuser",
        "unknown GUID": str(uuid.uuid4()),
        "admin user, wrong password": "registrya",
        "admin user in another case, wrong password": "RegistryA",
        "admin user disabled": "registrya",
        "token with one password, wrong password": "pulltoken",
        "token disabled": "pulltoken",
        "principal, wrong secret": world.principal_id,
    }[who]
    given = "wrong"
    if who == "admin user disabled":
        registry = dataclasses.replace(registry, admin_user_enabled=False)
        given = world.admin_password
    if who == "token disabled":
        await world.tokens.update(registry.id, "pulltoken", status=TokenStatus.DISABLED)
        given = world.token_password
    with pytest.raises(Unauthorized) as refused:
        await world.auth.login(registry, username, given, "192.0.2.1")
    assert refused.value.message == WRONG_LOGIN
    assert world.principals.verifications == CHECKS_PER_LOGIN


@pytest.mark.parametrize(
    ("username", "password"),
    [("", "x"), ("u" * 257, "x"), ("pulltoken", "p" * 4097)],
)
async def test_oversized_or_empty_credentials_are_refused_unchecked(
    world: World, username: str, password: str
) -> None:
    with pytest.raises(Unauthorized, match=WRONG_LOGIN):
        await world.auth.login(world.registry, username, password, "192.0.2.1")
    assert world.principals.verifications == 0


async def test_right_credentials_log_in(world: World) -> None:
    auth, registry = world.auth, world.registry
    admin = await auth.login(registry, "REGISTRYA", world.admin_password, "192.0.2.1")
    assert (admin.kind, admin.name) == ("admin", "registrya")
    assert admin.permissions == Permissions.everything()

    token = await auth.login(registry, "PullToken", world.token_password, "192.0.2.1")
    assert (token.kind, token.name) == ("token", "pulltoken")
    assert token.may(Action.PULL, "any/repo") and not token.may(Action.PUSH, "any/repo")
    assert not token.may_list()

    principal = await auth.login(
        registry, world.principal_id.upper(), world.principal_secret, "192.0.2.1"
    )
    assert (principal.kind, principal.name) == ("principal", world.principal_id)
    assert principal.permissions == Permissions.of_roles(["AcrPush"])


async def test_throttle_after_five_failures_from_one_client_only(world: World) -> None:
    auth, registry = world.auth, world.registry
    for _ in range(5):
        with pytest.raises(Unauthorized):
            await auth.login(registry, "pulltoken", "wrong", "192.0.2.1")
    assert world.principals.verifications == 5 * CHECKS_PER_LOGIN

    # Even the right password is not checked now.
    with pytest.raises(Throttled) as throttled:
        await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    assert throttled.value.retry_after == 1
    assert "192.0.2.1" in throttled.value.message
    assert world.principals.verifications == 5 * CHECKS_PER_LOGIN

    # Another client is not affected.
    with pytest.raises(Unauthorized):
        await auth.login(registry, "pulltoken", "wrong", "192.0.2.2")
    caller = await auth.login(registry, "pulltoken", world.token_password, "192.0.2.2")
    assert caller.name == "pulltoken"

    # Once the wait is over (and the login above is no longer remembered), a success clears
    # the record: the free failures are free again.
    world.clock.now += LOGIN_CACHE_SECONDS + 1
    spent = world.principals.verifications
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent + 1
    for _ in range(4):
        with pytest.raises(Unauthorized):
            await auth.login(registry, "pulltoken", "wrong", "192.0.2.1")
    assert auth.throttle.retry_after("192.0.2.1") == 0


async def test_a_remembered_success_clears_the_throttle_too(world: World) -> None:
    auth, registry = world.auth, world.registry
    for _ in range(5):
        with pytest.raises(Unauthorized):
            await auth.login(registry, "pulltoken", "wrong", "192.0.2.1")
    # The same credentials, checked from another address: remembered for a few seconds.
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.2")
    world.clock.now += 1  # the first wait is over, the login still remembered
    spent = world.principals.verifications
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent  # served from memory: a success all the same
    with pytest.raises(Unauthorized):
        await auth.login(registry, "pulltoken", "wrong", "192.0.2.1")
    assert auth.throttle.retry_after("192.0.2.1") == 0


async def test_a_success_is_remembered_for_a_few_seconds(world: World) -> None:
    auth, registry = world.auth, world.registry
    first = await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    spent = world.principals.verifications
    assert spent == 1
    again = await auth.login(registry, "PULLTOKEN", world.token_password, "192.0.2.9")
    assert again == first
    assert world.principals.verifications == spent

    # Another password is checked, and wrong.
    with pytest.raises(Unauthorized):
        await auth.login(registry, "pulltoken", world.token_password + "x", "192.0.2.1")
    assert world.principals.verifications == spent + CHECKS_PER_LOGIN
    spent = world.principals.verifications

    # A changed registry (another etag) is checked again.
    changed = dataclasses.replace(registry, etag="changed")
    await auth.login(changed, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent + 1
    spent += 1

    # And so is everything once the few seconds have passed.
    world.clock.now += LOGIN_CACHE_SECONDS + 0.1
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent + 1


async def test_a_remembered_login_of_a_disabled_token_is_refused(world: World) -> None:
    auth, registry = world.auth, world.registry
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    await world.tokens.update(registry.id, "pulltoken", status=TokenStatus.DISABLED)
    world.clock.now += 1.5  # past the second an identity is known to be active
    with pytest.raises(Unauthorized, match=WRONG_LOGIN):
        await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")


async def test_a_refresh_token_logs_in_without_argon2(world: World) -> None:
    auth, registry = world.auth, world.registry
    refresh = world.registry_tokens.issue_refresh(registry, "token", "pulltoken")
    caller = await auth.login(registry, REFRESH_TOKEN_USER, refresh, "192.0.2.1")
    assert (caller.kind, caller.name) == ("token", "pulltoken")
    assert caller.may(Action.PULL, "app") and not caller.may(Action.PUSH, "app")
    assert world.principals.verifications == 0

    access = world.registry_tokens.issue_access(registry, "token", "pulltoken", [])
    with pytest.raises(Unauthorized, match="refresh token refused: the token is an access"):
        await auth.login(registry, REFRESH_TOKEN_USER, access, "192.0.2.1")
    assert auth.throttle.retry_after("192.0.2.1") == 0  # one failure of five


async def test_an_access_token_of_a_deleted_identity_is_refused(world: World) -> None:
    auth, registry = world.auth, world.registry
    grant = [Scope("repository", "app", ("pull",))]
    token = world.registry_tokens.issue_access(registry, "token", "pulltoken", grant)
    caller = await auth.from_access_token(registry, token)
    assert caller.access == tuple(grant) and caller.permissions is None
    assert caller.may(Action.PULL, "app") and not caller.may(Action.PULL, "other")

    assert await world.tokens.delete(registry.id, "pulltoken")
    world.clock.now += 1.5
    with pytest.raises(Unauthorized, match="is deleted or disabled"):
        await auth.from_access_token(registry, token)
