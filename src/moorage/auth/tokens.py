"""Access tokens: RS256 JWTs shaped like Microsoft Entra ID's v2.0 app-only tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

from moorage.auth.keys import SigningKeys, UnknownKey

ALGORITHM = "RS256"
LEEWAY_SECONDS = 60
_RESERVED = frozenset({"iss", "aud", "iat", "nbf", "exp"})


class InvalidToken(Exception):
    """The token cannot be accepted; `message` says why (safe to show to the client)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def issuer_for(base_url: str, tenant_id: str) -> str:
    """The `iss` of tokens for a tenant, as Entra writes it: {authority}/{tenant}/v2.0."""
    return f"{base_url.rstrip('/')}/{tenant_id}/v2.0"


def normalize_audience(audience: str) -> str:
    """ "https://management.azure.com" and "https://management.azure.com/" are one audience."""
    return audience.rstrip("/").lower()


class TokenService:
    def __init__(self, keys: SigningKeys, issuer: str) -> None:
        self.keys = keys
        self.issuer = issuer

    def issue(
        self,
        subject: str,
        audience: str,
        *,
        tenant_id: str,
        ttl: int = 3600,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        if ttl <= 0:
            raise ValueError(f"token lifetime must be positive, not {ttl}")
        clash = _RESERVED.intersection(extra or {})
        if clash:
            raise ValueError(f"extra claims may not replace {sorted(clash)}")
        now = int(time.time())
        token_id = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "sub": subject,
            "oid": subject,
            "appid": subject,
            "azp": subject,
            "appidacr": "1",  # authenticated with a client secret
            "azpacr": "1",
            "idtyp": "app",
            "tid": tenant_id,
            "ver": "2.0",
            "uti": token_id,
            "jti": token_id,
        }
        claims.update(extra or {})
        kid = self.keys.current_kid
        return jwt.encode(
            claims,
            self.keys.private_key(kid),
            algorithm=ALGORITHM,
            headers={"kid": kid, "typ": "JWT"},
        )

    def verify(self, token: str, audiences: Collection[str]) -> dict[str, Any]:
        """The claims of a valid token for one of `audiences`; InvalidToken says what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"the token is malformed: {error}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(
                f"the token is signed with {header.get('alg')!r}; only {ALGORITHM} is accepted"
            )
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token header names no signing key (kid)")
        try:
            key = self.keys.public_key(kid)
        except UnknownKey:
            raise InvalidToken(
                f"the token is signed with an unknown key (kid {kid!r}); get a new token"
            ) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["iss", "aud", "sub", "iat", "nbf", "exp"],
                    "verify_aud": False,  # checked below, ignoring a trailing "/"
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token signature does not verify") from None
        except jwt.ExpiredSignatureError:
            raise InvalidToken(
                f"the token expired at {_when(_unverified(token).get('exp'))}; get a new token"
            ) from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken(
                f"the token is not valid before {_when(_unverified(token).get('nbf'))}"
            ) from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(
                f"the token was issued by {_unverified(token).get('iss')!r}, not {self.issuer!r}"
            ) from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"the token has no {error.claim!r} claim") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"the token is invalid: {error}") from None
        audience = claims["aud"]
        given = [audience] if isinstance(audience, str) else list(audience)
        accepted = {normalize_audience(a) for a in audiences}
        if not any(isinstance(a, str) and normalize_audience(a) in accepted for a in given):
            raise InvalidToken(
                f"the token is for audience {audience!r}, not one of {sorted(audiences)}"
            )
        return claims


def _unverified(token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims


def _when(timestamp: object) -> str:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    return repr(timestamp)
