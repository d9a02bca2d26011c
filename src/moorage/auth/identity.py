"""The identity endpoints of the management host, answering as Microsoft Entra ID does, so
MSAL (inside azure-identity and the az CLI) can sign a service principal in against moorage:

    GET  /{tenant}/v2.0/.well-known/openid-configuration   (and the v1 form without /v2.0)
    GET  /{tenant}/discovery/v2.0/keys                       (and /discovery/keys)
    POST /{tenant}/oauth2/v2.0/token                         (and /oauth2/token, v1)

{tenant} is the service's tenant id, or "organizations" / "common" for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from moorage.auth.oauth import (
    ClientCredentials,
    Failure,
    OAuthError,
    correlation_id,
    error_body,
    parse_token_request,
)
from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import fingerprint
from moorage.auth.throttle import LoginThrottle, TooManyFailures, principal_identity
from moorage.auth.tokens import TokenService, issuer_for

log = logging.getLogger("moorage.auth")
TENANT_ALIASES = frozenset({"organizations", "common"})
# A claim of moorage's own: the fingerprint of the hash of the secret that signed in.
SECRET_GENERATION = "sgen"  # noqa: S105 (a claim's name)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    app_id: str
    audience: str
    expires_in: int
    expires_on: int
    not_before: int


@dataclass(frozen=True)
class IdentityService:
    """What the identity endpoints need; `base_url` is the authority clients are given
    (e.g. https://127.0.0.1:5443), and `tokens` must issue for `{base_url}/{tenant_id}/v2.0`.
    Wrong secrets are slowed by `throttle`, per (address, principal) and per principal."""

    principals: PrincipalStore
    tokens: TokenService
    tenant_id: str
    base_url: str
    token_ttl: int = 3600
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # The client's address as the wiring resolves it (behind a trusted proxy: not the proxy's).
    client_of: Callable[[web.Request], str] = lambda request: str(request.remote)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.tokens.issuer != self.issuer:
            raise ValueError(
                f"the token service issues as {self.tokens.issuer!r}, but the identity "
                f"endpoints announce {self.issuer!r}"
            )
        if self.token_ttl < 60:
            raise ValueError(f"token lifetime {self.token_ttl} s is under 60 s")

    @property
    def issuer(self) -> str:
        return issuer_for(self.base_url, self.tenant_id)

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant_id}"

    def resolve_tenant(self, value: str) -> str:
        if value.lower() == self.tenant_id.lower() or value.lower() in TENANT_ALIASES:
            return self.tenant_id
        raise OAuthError(
            Failure.TENANT_NOT_FOUND,
            f"Tenant '{value[:100]}' not found. Check to make sure you have the correct tenant "
            f"ID and are signing into the correct cloud. This server's tenant is "
            f"'{self.tenant_id}' ('organizations' and 'common' name it too).",
        )

    def openid_configuration(self, *, version: int = 2) -> dict[str, Any]:
        """The discovery document; v1 points at the v1 endpoints, as Entra's does. Both name
        the one issuer moorage's tokens carry."""
        authority = self.authority
        oauth2 = f"{authority}/oauth2/v2.0" if version == 2 else f"{authority}/oauth2"
        host = urlsplit(self.base_url).netloc
        return {
            "issuer": self.issuer,
            "token_endpoint": f"{oauth2}/token",
            "authorization_endpoint": f"{oauth2}/authorize",
            "device_authorization_endpoint": f"{oauth2}/devicecode",
            "end_session_endpoint": f"{oauth2}/logout",
            "jwks_uri": f"{authority}/discovery/v2.0/keys"
            if version == 2
            else f"{authority}/discovery/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": ["client_credentials"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": [
                *("sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver", "oid"),
                *("appid", "azp", "idtyp", "cloud_instance_name", "msgraph_host"),
            ],
            "request_uri_parameter_supported": False,
            "http_logout_supported": False,
            "frontchannel_logout_supported": False,
            "tenant_region_scope": None,
            "cloud_instance_name": host,
            "cloud_graph_host_name": host,
            "msgraph_host": host,
            "rbac_url": self.base_url,
        }

    async def issue(self, request: ClientCredentials, client: str) -> IssuedToken:
        identity = principal_identity(request.client_id)
        async with self.throttle.turn(client, identity):
            try:
                with self.throttle.attempt(client, identity) as attempt:
                    found = await self.principals.login(request.client_id)
                    proved = await self.principals.verify(
                        found[1] if found else None, request.client_secret
                    )
                    if found is None or not proved:
                        attempt.failed()
                        raise await self._refusal(request)
                    attempt.succeeded()
            except TooManyFailures as error:
                raise OAuthError(
                    Failure.THROTTLED,
                    f"Too many failed sign-ins from {client} as '{request.client_id[:64]}'; "
                    f"retry in {error.retry_after} s.",
                    retry_after=error.retry_after,
                ) from None
        principal, hashed = found
        now = int(time.time())
        token = self.tokens.issue(
            principal.app_id,
            request.audience,
            tenant_id=self.tenant_id,
            ttl=self.token_ttl,
            # Which secret proved it: what the token is exchanged for dies with that secret.
            extra={SECRET_GENERATION: fingerprint(hashed)},
        )
        return IssuedToken(
            access_token=token,
            app_id=principal.app_id,
            audience=request.audience,
            expires_in=self.token_ttl - 1,  # as Entra: a second short of the lifetime
            expires_on=now + self.token_ttl,
            not_before=now,
        )

    async def _refusal(self, request: ClientCredentials) -> OAuthError:
        if await self.principals.get(request.client_id) is None:
            return OAuthError(
                Failure.UNKNOWN_CLIENT,
                f"Application with identifier '{request.client_id[:64]}' was not found in "
                f"the directory '{self.tenant_id}'. Check the client id (appId) of the "
                "service principal.",
            )
        return OAuthError(
            Failure.WRONG_SECRET,
            "Invalid client secret provided. Ensure the secret being sent in the request "
            f"is the client secret of app '{request.client_id.strip()[:64]}'; if it is lost, "
            "reset the service principal's secret.",
        )


IDENTITY: Final = web.AppKey("identity", IdentityService)


def _error(request: web.Request, error: OAuthError) -> web.Response:
    trace_id = str(uuid.uuid4())
    correlation = correlation_id(request.headers.get("client-request-id"))
    headers = {**_NO_STORE, "x-ms-request-id": trace_id, "client-request-id": correlation}
    if error.failure is Failure.WRONG_SECRET and request.headers.get(
        "Authorization", ""
    ).lower().startswith("basic"):
        headers["WWW-Authenticate"] = 'Basic realm="moorage"'  # RFC 6749 5.2
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return web.json_response(
        error_body(error, trace_id=trace_id, correlation_id=correlation),
        status=error.failure.status,
        headers=headers,
    )


async def _discovery(request: web.Request, *, version: int) -> web.Response:
    identity = request.config_dict[IDENTITY]
    try:
        identity.resolve_tenant(request.match_info["tenant"])
    except OAuthError as error:
        return _error(request, error)
    return web.json_response(identity.openid_configuration(version=version))


async def openid_configuration_v2(request: web.Request) -> web.Response:
    return await _discovery(request, version=2)


async def openid_configuration_v1(request: web.Request) -> web.Response:
    return await _discovery(request, version=1)


async def keys(request: web.Request) -> web.Response:
    identity = request.config_dict[IDENTITY]
    try:
        identity.resolve_tenant(request.match_info["tenant"])
    except OAuthError as error:
        return _error(request, error)
    return web.json_response(identity.tokens.keys.jwks())


async def _token(request: web.Request, *, version: int) -> web.Response:
    identity = request.config_dict[IDENTITY]
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        identity.resolve_tenant(request.match_info["tenant"])
        credentials = parse_token_request(
            form, request.headers.get("Authorization"), version=version
        )
        issued = await identity.issue(credentials, identity.client_of(request))
    except OAuthError as error:
        log.info(
            "token refused: %s (client_id %r, peer %s)",
            error.description,
            form.get("client_id", "")[:64],
            identity.client_of(request),
        )
        return _error(request, error)
    log.info("token issued to %s for %s", issued.app_id, issued.audience)
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "ext_expires_in": issued.expires_in,
        "access_token": issued.access_token,
    }
    if version == 1:  # v1 answers with strings, and says when and for what
        body = {
            "token_type": "Bearer",
            "expires_in": str(issued.expires_in),
            "ext_expires_in": str(issued.expires_in),
            "expires_on": str(issued.expires_on),
            "not_before": str(issued.not_before),
            "resource": issued.audience,
            "access_token": issued.access_token,
        }
    headers = {**_NO_STORE}
    if "client-request-id" in request.headers:
        headers["client-request-id"] = correlation_id(request.headers["client-request-id"])
    return web.json_response(body, headers=headers)


async def token_v2(request: web.Request) -> web.Response:
    return await _token(request, version=2)


async def token_v1(request: web.Request) -> web.Response:
    return await _token(request, version=1)


async def unsupported_flow(request: web.Request) -> web.Response:
    return _error(
        request,
        OAuthError(
            Failure.UNSUPPORTED_FLOW,
            "moorage signs in service principals only (grant_type client_credentials); "
            "interactive and device-code sign-in are not available. Use `az login "
            "--service-principal` or azure-identity's ClientSecretCredential.",
        ),
    )


def identity_routes() -> list[tuple[str, str, Handler]]:
    """(method, path, handler) for the management host."""
    return [
        ("GET", "/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration_v2),
        ("GET", "/{tenant}/.well-known/openid-configuration", openid_configuration_v1),
        ("GET", "/{tenant}/discovery/v2.0/keys", keys),
        ("GET", "/{tenant}/discovery/keys", keys),
        ("POST", "/{tenant}/oauth2/v2.0/token", token_v2),
        ("POST", "/{tenant}/oauth2/token", token_v1),
        ("GET", "/{tenant}/oauth2/v2.0/authorize", unsupported_flow),
        ("GET", "/{tenant}/oauth2/authorize", unsupported_flow),
        ("POST", "/{tenant}/oauth2/v2.0/devicecode", unsupported_flow),
        ("POST", "/{tenant}/oauth2/devicecode", unsupported_flow),
    ]
