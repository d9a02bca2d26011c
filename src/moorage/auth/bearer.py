"""Bearer authentication of management requests: the token, then the principal it names and
the roles that principal holds now (a deleted principal's tokens stop working at once)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from aiohttp import web

from moorage.auth.identity import SECRET_GENERATION, IdentityService
from moorage.auth.registry_tokens import fingerprint
from moorage.auth.roles import RoleAssignment
from moorage.auth.tokens import InvalidToken

DEFAULT_DESCRIPTION = "The request carries no valid access token."


class Unauthenticated(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    app_id: str
    display_name: str
    trusted: bool
    roles: tuple[RoleAssignment, ...]


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if header is None:
        raise Unauthenticated(
            "The request has no Authorization header; send 'Authorization: Bearer <token>' "
            "with a token from the identity endpoint."
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated(
            f"The Authorization header uses the {scheme[:20]!r} scheme; the management API "
            "takes 'Bearer <token>'."
        )
    if not token.strip():
        raise Unauthenticated("The Authorization header has 'Bearer' but no token.")
    return token.strip()


async def principal_from_request(
    request: web.Request, identity: IdentityService, audiences: Collection[str]
) -> Principal:
    token = bearer_token(request)
    try:
        claims = identity.tokens.verify(token, audiences)
    except InvalidToken as error:
        raise Unauthenticated(error.message[:1].upper() + error.message[1:] + ".") from None
    if claims.get("tid") != identity.tenant_id:
        raise Unauthenticated(
            f"The token is for tenant {claims.get('tid')!r}, not {identity.tenant_id!r}."
        )
    app_id = claims.get("appid") or claims.get("sub")
    if not isinstance(app_id, str):
        raise Unauthenticated("The token names no application (appid).")
    found = await identity.principals.login(app_id)
    if found is None:
        raise Unauthenticated(f"The service principal {app_id!r} of the token no longer exists.")
    service_principal, hashed = found
    generation = claims.get(SECRET_GENERATION)
    if isinstance(generation, str) and generation != fingerprint(hashed):
        raise Unauthenticated(
            f"The secret of service principal {app_id!r} was reset after the token was issued; "
            "get a new token."
        )
    roles = await identity.principals.assignments(service_principal.app_id)
    return Principal(
        app_id=service_principal.app_id,
        display_name=service_principal.display_name,
        trusted=service_principal.trusted,
        roles=tuple(roles),
    )


def www_authenticate(identity: IdentityService, description: str = DEFAULT_DESCRIPTION) -> str:
    """The WWW-Authenticate value of a 401, as Azure Resource Manager sends it."""
    text = " ".join(description.split()).replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'Bearer authorization_uri="{identity.authority}/oauth2/authorize", '
        f'error="invalid_token", error_description="{text}"'
    )
