"""The network rules' bypass for trusted services: whether a request's Authorization header
proves a service principal marked trusted."""

from __future__ import annotations

import jwt

from moorage.auth.callers import Throttled, Unauthorized, basic_credentials
from moorage.auth.dataplane import GUID, Authenticator
from moorage.domain.registry import Registry


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
            if not GUID.match(username):
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
