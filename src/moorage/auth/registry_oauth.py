"""The registries' token service: what /oauth2/token and /oauth2/exchange answer on a login
server (HTTP in distribution/oauth.py).

- `GET /oauth2/token?service=&scope=` (Docker token specification): Basic credentials, or none
  for an anonymous token (only when the registry has anonymous pull on). `offline_token=true`
  adds a refresh token.
- `POST /oauth2/token` (Docker OAuth2 specification): grant_type `password` (username,
  password; `access_type=offline` adds a refresh token), `refresh_token`, or `access_token`
  (a token of moorage's identity endpoint, as the cloud accepts an Entra token).
- `POST /oauth2/exchange` (the cloud's): grant_type `access_token` (identity-endpoint token ->
  refresh token), `access_token_refresh_token` or `refresh_token` (refresh token -> new one).

An access token grants the requested actions the identity holds, never more, and asking for
more is not an error: the grant is smaller. What a refresh token grants is worked out anew
each time it is used, so a removed role or a disabled token stops it at once. Every token
records the credential that proved its identity (a refresh token renewed through the exchange
keeps its first one): it is refused, with the reason, once that credential is deleted,
regenerated, disabled or expired, and never lives past the credential's own expiry.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from moorage.auth.callers import Caller, Unauthorized, anonymous
from moorage.auth.dataplane import Authenticator
from moorage.auth.identity import SECRET_GENERATION, IdentityService
from moorage.auth.registry_tokens import RegistryTokens
from moorage.auth.tokens import InvalidToken
from moorage.domain.access import InvalidTokenRequest, Scope, grant, parse_scopes, refused
from moorage.domain.registry import Registry

REGISTRY_AUDIENCE = "https://containerregistry.azure.net"


class RegistryTokenService:
    def __init__(
        self,
        authenticator: Authenticator,
        tokens: RegistryTokens,
        identity: IdentityService,
        management_audiences: Collection[str],
    ) -> None:
        self.authenticator = authenticator
        self.tokens = tokens
        self.identity = identity
        self.exchange_audiences = [*management_audiences, REGISTRY_AUDIENCE]

    # -- GET /oauth2/token ---------------------------------------------------------------------

    async def token_get(
        self,
        registry: Registry,
        query: Mapping[str, str],
        scopes: Sequence[str],
        basic: tuple[str, str] | None,
        client: str,
    ) -> dict[str, Any]:
        _check_service(registry, query.get("service"))
        requested = parse_scopes(scopes)
        if basic is None:
            caller = anonymous(registry)
            if caller is None:
                raise Unauthorized(
                    f"authentication required: registry {registry.name!r} does not allow "
                    "anonymous pull; log in with a user name and password"
                )
            return self._access(registry, caller, requested)
        caller = await self.authenticator.login(registry, basic[0], basic[1], client)
        body = self._access(registry, caller, requested)
        if query.get("offline_token", "").lower() == "true":
            body["refresh_token"] = self._refresh(registry, caller)
        return body

    # -- POST /oauth2/token --------------------------------------------------------------------

    async def token_post(
        self, registry: Registry, form: Mapping[str, str], scopes: Sequence[str], client: str
    ) -> dict[str, Any]:
        _check_service(registry, form.get("service"))
        requested = parse_scopes(scopes)
        grant_type = _required(form, "grant_type")
        offline = False
        if grant_type == "password":
            caller = await self.authenticator.login(
                registry, _required(form, "username"), _required(form, "password"), client
            )
            offline = form.get("access_type", "").lower() == "offline"
        elif grant_type == "refresh_token":
            caller = await self.authenticator.from_refresh_token(
                registry, _required(form, "refresh_token")
            )
        elif grant_type == "access_token":
            caller = await self._from_identity_token(registry, form)
        else:
            raise InvalidTokenRequest(
                f"grant_type {grant_type[:40]!r} is not supported; use 'password', "
                "'refresh_token' or 'access_token'",
                field="grant_type",
            )
        body = self._access(registry, caller, requested)
        if offline:
            body["refresh_token"] = self._refresh(registry, caller)
        return body

    # -- POST /oauth2/exchange -----------------------------------------------------------------

    async def exchange(self, registry: Registry, form: Mapping[str, str]) -> dict[str, Any]:
        _check_service(registry, _required(form, "service"))
        grant_type = _required(form, "grant_type")
        if grant_type in ("access_token", "access_token_refresh_token") and form.get(
            "access_token"
        ):
            caller = await self._from_identity_token(registry, form)
        elif grant_type in ("refresh_token", "access_token_refresh_token"):
            caller = await self.authenticator.from_refresh_token(
                registry, _required(form, "refresh_token")
            )
        else:
            raise InvalidTokenRequest(
                f"grant_type {grant_type[:40]!r} is not supported here; use 'access_token' "
                "(with access_token) or 'refresh_token' (with refresh_token)",
                field="grant_type",
            )
        return {"refresh_token": self._refresh(registry, caller)}

    async def _from_identity_token(self, registry: Registry, form: Mapping[str, str]) -> Caller:
        token = _required(form, "access_token")
        try:
            claims = self.identity.tokens.verify(token, self.exchange_audiences)
        except InvalidToken as error:
            raise Unauthorized(f"access token refused: {error.message}") from None
        tenant = form.get("tenant")
        if claims.get("tid") != self.identity.tenant_id or (
            tenant and tenant.lower() != self.identity.tenant_id.lower()
        ):
            raise Unauthorized(
                f"the access token is for tenant {claims.get('tid')!r}; this service's tenant "
                f"is {self.identity.tenant_id!r}"
            )
        app_id = claims.get("appid") or claims.get("sub")
        if not isinstance(app_id, str) or await self.identity.principals.get(app_id) is None:
            raise Unauthorized(f"the service principal {app_id!r} of the token does not exist")
        generation = claims.get(SECRET_GENERATION)
        return await self.authenticator.from_management_token(
            registry, app_id, generation if isinstance(generation, str) else None
        )

    # -- answers -------------------------------------------------------------------------------

    def _access(
        self, registry: Registry, caller: Caller, requested: Sequence[Scope]
    ) -> dict[str, Any]:
        assert caller.permissions is not None
        granted = grant(caller.permissions, requested)
        try:
            token = self.tokens.issue_access(
                registry,
                caller.kind,
                caller.name,
                granted,
                caller.permissions.catalog_patterns() if caller.permissions.catalog else (),
                source=caller.source,
                refused=refused(requested, granted),
            )
        except InvalidToken as error:  # the credential expired a moment ago
            raise Unauthorized(f"no access token: {error.message}") from None
        expires_in = self.tokens.access_ttl
        if caller.source is not None and caller.source.expires_at is not None:
            expires_in = min(expires_in, caller.source.expires_at - int(time.time()))
        return {
            "token": token,
            "access_token": token,
            "expires_in": expires_in,
            "issued_at": datetime.fromtimestamp(int(time.time()), UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "scope": " ".join(str(s) for s in granted),
        }

    def _refresh(self, registry: Registry, caller: Caller) -> str:
        if caller.kind == "anonymous":
            raise Unauthorized("anonymous clients get no refresh token")
        try:
            return self.tokens.issue_refresh(
                registry, caller.kind, caller.name, source=caller.source
            )
        except InvalidToken as error:  # the credential expired a moment ago
            raise Unauthorized(f"no refresh token: {error.message}") from None


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value.strip():
        raise InvalidTokenRequest(f"the request has no {name!r}", field=name)
    return value.strip() if name != "password" else value


def _check_service(registry: Registry, service: str | None) -> None:
    if service and service.lower() != registry.login_server.lower():
        raise InvalidTokenRequest(
            f"service {service[:200]!r} is not this registry's; use {registry.login_server!r}",
            field="service",
            value=service[:200],
        )
