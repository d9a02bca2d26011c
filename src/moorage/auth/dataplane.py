"""Who is calling a registry, and what they may do there.

Identities of the data plane:

- the admin user: the registry's name, with either of its two passwords (when it is on);
- repository-scoped tokens: their name, with either unexpired password, holding their scope map;
- service principals: their appId and secret, holding the data-plane rights of their roles on
  the registry (AcrPull, AcrPush, AcrDelete; Owner, Contributor and Reader too);
- a refresh token of the registry's token service, sent with the user name
  00000000-0000-0000-0000-000000000000, as the cloud's `az acr login` does;
- anonymous callers, for pulls alone, when the registry has anonymous pull on.

A login costs the same whether the user name exists or not: every failed attempt runs exactly
`CHECKS_PER_LOGIN` argon2 verifications (padded with verifications against a dummy hash).
Failed logins from one client address are slowed by `LoginThrottle`. A successful Basic login
is remembered for a few seconds, so a client sending Basic on every request pays argon2 once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

import jwt
from aiohttp import web

from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import RegistryClaims, RegistryTokens, Use
from moorage.auth.roles import check_role, covers
from moorage.auth.throttle import LoginThrottle
from moorage.auth.tokens import InvalidToken
from moorage.domain.access import (
    Action,
    Permissions,
    Rule,
    Scope,
    parse_scope_map,
    permits,
)
from moorage.domain.registry import Registry
from moorage.store.credentials import CredentialStore

log = logging.getLogger("moorage.auth")

REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105 (a user name)
CHECKS_PER_LOGIN = 2  # the most passwords an identity has (admin user, tokens)
LOGIN_CACHE_SECONDS = 5.0
LOGIN_CACHE_SIZE = 4096
ACTIVE_CACHE_SECONDS = 1.0
MAX_USERNAME = 256
MAX_PASSWORD = 4096
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
WRONG_LOGIN = "incorrect username or password"


class Unauthorized(Exception):
    """The credentials were refused; `message` is safe to show (it names no secret)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Throttled(Exception):
    def __init__(self, retry_after: int, client: str) -> None:
        super().__init__(f"too many failed logins from {client}; retry in {retry_after} s")
        self.retry_after = retry_after
        self.message = str(self)


class Cipher(Protocol):
    def decrypt(self, token: str) -> str: ...


class TokenPasswordLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value_hash(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...


class TokenLoginLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def actions(self) -> tuple[str, ...]: ...
    @property
    def passwords(self) -> tuple[TokenPasswordLike, ...]: ...


class TokenLogins(Protocol):
    async def login(self, registry_id: int, name: str) -> TokenLoginLike | None: ...


@dataclass(frozen=True, slots=True)
class Caller:
    """An identity on one registry, with what it may do: `permissions` when it proved who it
    is here (Basic), `access` when it shows a token (the token's grant)."""

    kind: str  # admin | token | principal | anonymous
    name: str
    permissions: Permissions | None = None
    access: tuple[Scope, ...] | None = None
    catalog: tuple[str, ...] = ()

    def may(self, action: Action, repository: str) -> bool:
        if self.permissions is not None:
            return action in self.permissions.actions_on(repository)
        return permits(self.access or (), "repository", repository, action.value)

    def may_everywhere(self, action: Action) -> bool:
        """Whether the caller holds `action` on every repository (a token's grant names
        repositories one by one, so it never does)."""
        if self.permissions is None:
            return False
        return any(r.pattern == "*" and r.action is action for r in self.permissions.rules)

    def may_list(self) -> bool:
        if self.permissions is not None:
            return self.permissions.catalog
        return permits(self.access or (), "registry", "catalog", "*")

    def catalog_patterns(self) -> list[str]:
        if self.permissions is not None:
            return self.permissions.catalog_patterns()
        return list(self.catalog) if self.may_list() else []

    def describe(self) -> str:
        return {
            "admin": f"the admin user {self.name!r}",
            "token": f"token {self.name!r}",
            "principal": f"service principal {self.name!r}",
            "anonymous": "an anonymous client",
        }.get(self.kind, self.name)


def basic_credentials(value: str) -> tuple[str, str]:
    """(user name, password) of the value of an `Authorization: Basic ...` header."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized("the Basic credentials are not base64 of 'username:password'") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthorized("the Basic credentials are not base64 of 'username:password'")
    return username, password


async def trusted_service(
    authenticator: Authenticator, request_authorization: str | None, registry: Registry, client: str
) -> bool:
    """Whether the Authorization header proves a service principal marked trusted (the network
    rules' bypass). Nothing is verified for anyone else: a header naming an identity that is not
    a trusted service is refused as it is, before any credential check."""
    if not request_authorization or not request_authorization.strip():
        return False
    scheme, _, value = request_authorization.strip().partition(" ")
    try:
        if scheme.lower() == "basic":
            username, password = basic_credentials(value)
            if not _GUID.match(username):
                return False
            principal = await authenticator.principals.get(username)
            if principal is None or not principal.trusted:
                return False
            caller = await authenticator.login(registry, username, password, client)
        elif scheme.lower() == "bearer" and value.strip():
            subject = _unverified_subject(value.strip())
            if subject is None:
                return False
            principal = await authenticator.principals.get(subject)
            if principal is None or not principal.trusted:
                return False
            caller = await authenticator.from_access_token(registry, value.strip())
        else:
            return False
    except (Unauthorized, Throttled):
        return False
    return caller.kind == "principal"


def _unverified_subject(token: str) -> str | None:
    """The `sub` of a registry access token of kind principal, read without verifying it (only
    to decide whether verifying is worth it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    subject = claims.get("sub")
    if claims.get("kind") != "principal" or not isinstance(subject, str):
        return None
    return subject


ANONYMOUS_PERMISSIONS = Permissions((Rule("*", Action.PULL),), catalog=False)


def anonymous(registry: Registry) -> Caller | None:
    """The anonymous caller, when the registry lets anyone pull."""
    if not registry.anonymous_pull_enabled:
        return None
    return Caller("anonymous", "", permissions=ANONYMOUS_PERMISSIONS)


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    name: str
    label: str  # which password, for messages ("password2")
    hashed: str | None
    expires_at: datetime | None = None
    legacy: tuple[str, str] | None = None  # (name, encrypted) of an admin password not hashed


class Authenticator:
    def __init__(
        self,
        credentials: CredentialStore,
        cipher: Cipher,
        tokens: TokenLogins,
        principals: PrincipalStore,
        registry_tokens: RegistryTokens,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.cipher = cipher
        self.tokens = tokens
        self.principals = principals
        self.registry_tokens = registry_tokens
        self.throttle = throttle or LoginThrottle()
        self._clock = clock
        self._logins: OrderedDict[tuple[int, str, str, bytes], tuple[float, Caller]] = OrderedDict()
        self._active: dict[tuple[int, str, str], tuple[float, bool]] = {}
        self._checking: dict[tuple[int, str, str, bytes], asyncio.Future[Caller]] = {}

    # -- Basic: user name and password ---------------------------------------------------------

    async def login(self, registry: Registry, username: str, password: str, client: str) -> Caller:
        """The caller these credentials prove, or Unauthorized / Throttled."""
        secret = hashlib.sha256(password.encode()).digest()
        key = (registry.id, registry.etag, username.lower(), secret)
        remembered = self._logins.get(key)
        if remembered is not None and remembered[0] > self._clock():
            caller = remembered[1]
            if await self.still_active(registry, caller.kind, caller.name):
                self.throttle.succeeded(client)
                return caller
            self._logins.pop(key, None)
        wait = self.throttle.begin(client)
        if wait:
            raise Throttled(wait, client)
        try:
            if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
                raise Unauthorized(WRONG_LOGIN)
            # Requests sending the same credentials at once share one check.
            check = self._checking.get(key)
            if check is None:
                check = asyncio.ensure_future(self._login(registry, username, password))
                self._checking[key] = check
                check.add_done_callback(lambda _: self._checking.pop(key, None))
            caller = await asyncio.shield(check)
        except Unauthorized:
            self.throttle.failed(client)
            raise
        finally:
            self.throttle.end(client)
        self.throttle.succeeded(client)
        self._logins[key] = (self._clock() + LOGIN_CACHE_SECONDS, caller)
        while len(self._logins) > LOGIN_CACHE_SIZE:
            self._logins.popitem(last=False)
        return caller

    async def _login(self, registry: Registry, username: str, password: str) -> Caller:
        if username == REFRESH_TOKEN_USER:
            return await self.from_refresh_token(registry, password)
        candidates = await self._candidates(registry, username)
        checks = 0
        for candidate in candidates[:CHECKS_PER_LOGIN]:
            checks += 1
            if not await self._matches(registry, candidate, password):
                continue
            if candidate.expires_at is not None and candidate.expires_at <= datetime.now(UTC):
                raise Unauthorized(
                    f"{candidate.label} of token {candidate.name!r} expired at "
                    f"{candidate.expires_at.isoformat(timespec='seconds')}; generate a new one "
                    f"with `moorage acr token credential generate --name {candidate.name} "
                    f"--registry {registry.name}`"
                )
            return await self._caller(registry, candidate.kind, candidate.name)
        for _ in range(CHECKS_PER_LOGIN - checks):
            await self.principals.verify(None, password)
        raise Unauthorized(WRONG_LOGIN)

    async def _candidates(self, registry: Registry, username: str) -> list[_Candidate]:
        if username.lower() == registry.name.lower():
            if not registry.admin_user_enabled:
                log.info("login as the admin user of %s, which is disabled", registry.name)
                return []
            stored = await self.credentials.logins(registry.id)
            return [
                _Candidate(
                    "admin",
                    registry.name,
                    name,
                    hashed,
                    legacy=None if hashed else (name, encrypted),
                )
                for name, (encrypted, hashed) in sorted(stored.items())
            ]
        candidates: list[_Candidate] = []
        if _GUID.match(username):
            found = await self.principals.login(username)
            if found is not None:
                principal, hashed = found
                candidates.append(_Candidate("principal", principal.app_id, "secret", hashed))
        if not candidates:
            token = await self.tokens.login(registry.id, username)
            if token is not None:
                if not token.enabled:
                    log.info(
                        "login as token %s of %s, which is disabled", token.name, registry.name
                    )
                    return []
                candidates = [
                    _Candidate("token", token.name, p.name, p.value_hash, p.expires_at)
                    for p in token.passwords
                ]
        return candidates

    async def _matches(self, registry: Registry, candidate: _Candidate, password: str) -> bool:
        if candidate.legacy is None:
            return await self.principals.verify(candidate.hashed, password)
        # An admin password stored before hashing: compare, spend what a check spends, and
        # keep its hash for next time.
        name, encrypted = candidate.legacy
        clear = self.cipher.decrypt(encrypted)
        await self.principals.verify(None, password)
        if not hmac.compare_digest(clear.encode(), password.encode()):
            return False
        await self.credentials.add_hash(
            registry.id, name, encrypted, await self.principals.hash(clear)
        )
        return True

    # -- what an identity holds ----------------------------------------------------------------

    async def _caller(self, registry: Registry, kind: str, name: str) -> Caller:
        return Caller(kind, name, permissions=await self.permissions(registry, kind, name))

    async def permissions(self, registry: Registry, kind: str, name: str) -> Permissions:
        """What the identity holds on the registry now (nothing if it is gone or disabled)."""
        if kind == "admin":
            return Permissions.everything() if registry.admin_user_enabled else Permissions()
        if kind == "anonymous":
            return ANONYMOUS_PERMISSIONS if registry.anonymous_pull_enabled else Permissions()
        if kind == "token":
            token = await self.tokens.login(registry.id, name)
            if token is None or not token.enabled:
                return Permissions()
            return Permissions.of_scope_map(parse_scope_map(token.actions))
        if kind == "principal":
            if await self.principals.get(name) is None:
                return Permissions()
            assignments = await self.principals.assignments(name)
            roles = [
                check_role(a.role) for a in assignments if covers(a.scope, registry.resource_id)
            ]
            return Permissions.of_roles(roles)
        return Permissions()

    async def still_active(self, registry: Registry, kind: str, name: str) -> bool:
        """Whether a token's identity still exists and is enabled (remembered for a second)."""
        if kind == "admin":
            return registry.admin_user_enabled
        if kind == "anonymous":
            return registry.anonymous_pull_enabled
        key = (registry.id, kind, name.lower())
        now = self._clock()
        cached = self._active.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        active = False
        if kind == "token":
            token = await self.tokens.login(registry.id, name)
            active = token is not None and token.enabled
        elif kind == "principal":
            active = await self.principals.get(name) is not None
        if len(self._active) > LOGIN_CACHE_SIZE:
            self._active.clear()
        self._active[key] = (now + ACTIVE_CACHE_SECONDS, active)
        return active

    # -- tokens --------------------------------------------------------------------------------

    async def from_refresh_token(self, registry: Registry, token: str) -> Caller:
        claims = self._verify(token, registry, "refresh")
        return await self._caller(registry, claims.kind, claims.subject)

    async def from_access_token(self, registry: Registry, token: str) -> Caller:
        claims = self._verify(token, registry, "access")
        if not await self.still_active(registry, claims.kind, claims.subject):
            raise Unauthorized(
                f"the identity of the token ({claims.kind} {claims.subject!r}) is deleted or "
                "disabled; log in again"
            )
        return Caller(claims.kind, claims.subject, access=claims.access, catalog=claims.catalog)

    def _verify(self, token: str, registry: Registry, use: Use) -> RegistryClaims:
        try:
            return self.registry_tokens.verify(token, registry, use)
        except InvalidToken as error:
            raise Unauthorized(f"{use} token refused: {error.message}") from None

    async def from_management_token(self, registry: Registry, principal_id: str) -> Caller:
        """A principal signed in at the identity endpoint (the token checked by the caller)."""
        return await self._caller(registry, "principal", principal_id)


AUTHENTICATOR: Final = web.AppKey("authenticator", Authenticator)
