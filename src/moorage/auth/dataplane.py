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
Failed logins are slowed per (address, identity) and per identity by `LoginThrottle`. A
successful Basic login is remembered for a few seconds, so a client sending Basic on every
request pays argon2 once; every use of a remembered login, and of a token, asks `SourceChecks`
whether the credential behind it still stands, and a change of a registry's credentials
announced by the store forgets what was remembered at once.
"""

from __future__ import annotations

import asyncio
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

from aiohttp import web

from moorage.auth.callers import (
    ANONYMOUS_PERMISSIONS,
    Caller,
    Throttled,
    Unauthorized,
)
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import RegistryClaims, RegistryTokens, Source, Use, fingerprint
from moorage.auth.roles import check_role, covers
from moorage.auth.sources import SourceChecks, TokenLogins
from moorage.auth.throttle import LoginThrottle, TooManyFailures, principal_identity
from moorage.auth.tokens import InvalidToken
from moorage.domain.access import Permissions, parse_scope_map
from moorage.domain.registry import Registry
from moorage.store.changes import CredentialsChanged
from moorage.store.credentials import CredentialStore

log = logging.getLogger("moorage.auth")

REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105 (a user name)
CHECKS_PER_LOGIN = 2  # the most passwords an identity has (admin user, tokens)
LOGIN_CACHE_SECONDS = 5.0
LOGIN_CACHE_SIZE = 4096
MAX_USERNAME = 256
MAX_PASSWORD = 4096
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
WRONG_LOGIN = "incorrect username or password"
_LoginKey = tuple[int, str, str, bytes]


class Cipher(Protocol):
    def decrypt(self, token: str) -> str: ...


def login_identity(registry: Registry, username: str) -> str:
    """What a login names, for the throttle: a service principal is one identity on every
    registry (and at the identity endpoint and the portal); the others belong to a registry."""
    if GUID.match(username):
        return principal_identity(username)
    return f"registry:{registry.id}:{username.lower()}"


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    name: str
    label: str  # which password, for messages ("password2")
    hashed: str | None
    generation: str  # fingerprint of what is stored
    expires_at: datetime | None = None
    legacy: tuple[str, str] | None = None  # (name, encrypted) of an admin password not hashed

    def source(self) -> Source:
        via = "secret" if self.kind == "principal" else self.kind
        expires = int(self.expires_at.timestamp()) if self.expires_at is not None else None
        return Source(via, self.label, self.generation, expires)


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
        self.sources = SourceChecks(credentials, tokens, principals, clock)
        self._clock = clock
        self._logins: OrderedDict[_LoginKey, tuple[float, Caller]] = OrderedDict()
        self._checking: dict[_LoginKey, asyncio.Future[Caller]] = {}
        self._generation = 0

    def forget(self, change: CredentialsChanged) -> None:
        """The store announced a change of credentials: what was remembered of them goes."""
        self._generation += 1
        self.sources.forget(change)
        if change.registry_id is None:
            self._logins.clear()
        else:
            for key in [k for k in self._logins if k[0] == change.registry_id]:
                del self._logins[key]

    # -- Basic: user name and password ---------------------------------------------------------

    async def login(self, registry: Registry, username: str, password: str, client: str) -> Caller:
        """The caller these credentials prove, or Unauthorized / Throttled."""
        if username == REFRESH_TOKEN_USER:
            # A signed token: nothing to guess, no argon2 to spend; not throttled.
            return await self.from_refresh_token(registry, password)
        key = (registry.id, registry.etag, username.lower(), _digest(password))
        caller = await self._remembered(registry, key)
        if caller is not None:
            return caller
        identity = login_identity(registry, username)
        async with self.throttle.turn(client, identity):
            # Proved while this request waited its turn (parallel pulls with one password).
            caller = await self._remembered(registry, key)
            if caller is not None:
                return caller
            try:
                with self.throttle.attempt(client, identity) as attempt:
                    generation = self._generation
                    try:
                        caller = await self._shared_check(key, registry, username, password)
                    except Unauthorized:
                        attempt.failed()
                        raise
                    attempt.succeeded()
            except TooManyFailures as error:
                raise Throttled(error.retry_after, client, username) from None
        if generation == self._generation:  # no change of credentials while it was checked
            self._logins[key] = (self._clock() + LOGIN_CACHE_SECONDS, caller)
            while len(self._logins) > LOGIN_CACHE_SIZE:
                self._logins.popitem(last=False)
        return caller

    async def _remembered(self, registry: Registry, key: _LoginKey) -> Caller | None:
        remembered = self._logins.get(key)
        if remembered is None or remembered[0] <= self._clock():
            return None
        caller = remembered[1]
        if await self.sources.refusal(registry, caller.kind, caller.name, caller.source) is None:
            return caller
        self._logins.pop(key, None)
        return None

    async def _shared_check(
        self, key: _LoginKey, registry: Registry, username: str, password: str
    ) -> Caller:
        """Requests sending the same credentials at once (from any address) share one check."""
        if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
            raise Unauthorized(WRONG_LOGIN)
        check = self._checking.get(key)
        if check is None:
            check = asyncio.ensure_future(self._login(registry, username, password))
            self._checking[key] = check
            check.add_done_callback(lambda _: self._checking.pop(key, None))
        return await asyncio.shield(check)

    async def _login(self, registry: Registry, username: str, password: str) -> Caller:
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
            return await self._caller(registry, candidate.kind, candidate.name, candidate.source())
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
                    fingerprint(encrypted),
                    legacy=None if hashed else (name, encrypted),
                )
                for name, (encrypted, hashed) in sorted(stored.items())
            ]
        candidates: list[_Candidate] = []
        if GUID.match(username):
            found = await self.principals.login(username)
            if found is not None:
                principal, hashed = found
                candidates.append(
                    _Candidate("principal", principal.app_id, "secret", hashed, fingerprint(hashed))
                )
        if not candidates:
            token = await self.tokens.login(registry.id, username)
            if token is not None:
                if not token.enabled:
                    log.info(
                        "login as token %s of %s, which is disabled", token.name, registry.name
                    )
                    return []
                candidates = [
                    _Candidate(
                        "token",
                        token.name,
                        p.name,
                        p.value_hash,
                        fingerprint(p.value_hash),
                        p.expires_at,
                    )
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

    async def _caller(
        self, registry: Registry, kind: str, name: str, source: Source | None
    ) -> Caller:
        permissions = await self.permissions(registry, kind, name)
        return Caller(kind, name, permissions=permissions, source=source)

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

    # -- tokens --------------------------------------------------------------------------------

    async def from_refresh_token(self, registry: Registry, token: str) -> Caller:
        """The caller of a refresh token whose credential still stands; Unauthorized says why
        not (the grant type refresh_token, /oauth2/exchange, and the refresh token as a
        password all come here)."""
        claims = self._verify(token, registry, "refresh")
        if claims.source is None:
            raise Unauthorized(
                "refresh token refused: it does not record the credential that issued it (an "
                "older release made it); log in again"
            )
        await self._still_standing(registry, claims, "refresh")
        return await self._caller(registry, claims.kind, claims.subject, claims.source)

    async def from_access_token(self, registry: Registry, token: str) -> Caller:
        claims = self._verify(token, registry, "access")
        await self._still_standing(registry, claims, "access")
        return Caller(
            claims.kind,
            claims.subject,
            access=claims.access,
            catalog=claims.catalog,
            source=claims.source,
            refused=claims.refused,
        )

    async def _still_standing(self, registry: Registry, claims: RegistryClaims, use: Use) -> None:
        reason = await self.sources.refusal(registry, claims.kind, claims.subject, claims.source)
        if reason is not None:
            raise Unauthorized(f"{use} token refused: {reason}; log in again")

    def _verify(self, token: str, registry: Registry, use: Use) -> RegistryClaims:
        try:
            return self.registry_tokens.verify(token, registry, use)
        except InvalidToken as error:
            raise Unauthorized(f"{use} token refused: {error.message}") from None

    async def from_management_token(
        self, registry: Registry, principal_id: str, generation: str | None = None
    ) -> Caller:
        """A principal signed in at the identity endpoint (the token checked by the caller),
        with the generation of the secret that signed it in (None from an older release): what
        it is issued is bound to that secret."""
        found = await self.principals.login(principal_id)
        if found is None:
            raise Unauthorized(
                f"the service principal {principal_id!r} of the token does not exist"
            )
        principal, hashed = found
        if generation is not None and generation != fingerprint(hashed):
            raise Unauthorized(
                f"access token refused: the secret of service principal {principal.app_id!r} "
                "was reset since it was issued; sign in again"
            )
        source = Source("identity", "secret", fingerprint(hashed))
        return await self._caller(registry, "principal", principal.app_id, source)


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


AUTHENTICATOR: Final = web.AppKey("authenticator", Authenticator)
