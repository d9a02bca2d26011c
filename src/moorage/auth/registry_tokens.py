"""Tokens of the registries' token service: short-lived access tokens that carry what they grant
(`access`, as the Docker token specification shapes it), and refresh tokens that only say who
the holder is (what they grant is worked out again each time one is used).

Both record the credential that issued them (`src`: a `Source`), which is checked on every use:
a token dies with the password, token, secret or principal behind it, and never lives past
that credential's own expiry.

Both are RS256 JWTs signed with the service's keys (auth/keys.py), with an issuer of their own,
so a management token is never taken for a registry token. Their audience is the registry's
login server and `rid` its id: a token of registry A is refused by registry B, and by a new
registry that reuses A's name.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from moorage.auth.keys import SigningKeys
from moorage.auth.tokens import InvalidToken, TokenService
from moorage.domain.access import Scope, access_from_claim
from moorage.domain.registry import Registry

Use = Literal["access", "refresh"]
ACCESS_TTL = 300
REFRESH_TTL = 3 * 3600
CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Source:
    """The credential that proved an identity, as a token records it.

    `via`: admin (an admin password), token (a token's password), secret (a service
    principal's secret), identity (a token of the identity endpoint, itself from the secret);
    `credential`: the password's name ("password", "password2", "password1"), or "secret";
    `generation`: a fingerprint of the stored credential, which changes when it is regenerated;
    `expires_at`: when the credential itself expires (epoch seconds), if it does.
    """

    via: str
    credential: str
    generation: str
    expires_at: int | None = None

    def claim(self) -> dict[str, Any]:
        claim: dict[str, Any] = {"via": self.via, "cred": self.credential, "gen": self.generation}
        if self.expires_at is not None:
            claim["exp"] = self.expires_at
        return claim

    @classmethod
    def from_claim(cls, claim: object) -> Source | None:
        if not isinstance(claim, dict):
            return None
        via, credential, generation = claim.get("via"), claim.get("cred"), claim.get("gen")
        expires_at = claim.get("exp")
        if not (
            isinstance(via, str) and isinstance(credential, str) and isinstance(generation, str)
        ):
            return None
        if expires_at is not None and not isinstance(expires_at, int):
            return None
        return cls(via, credential, generation, expires_at)


def fingerprint(stored: str) -> str:
    """A short digest of a stored credential (a hash or ciphertext, never a clear secret): it
    changes when the credential is regenerated and says nothing useful about it."""
    return hashlib.sha256(stored.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RegistryClaims:
    """A verified registry token."""

    use: Use
    kind: str  # admin | token | principal | anonymous
    subject: str
    expires_at: int
    access: tuple[Scope, ...] = ()
    catalog: tuple[str, ...] = ()
    source: Source | None = None
    refused: tuple[Scope, ...] = ()
    """Repository actions the token request asked for and did not get."""


class RegistryTokens:
    def __init__(
        self,
        keys: SigningKeys,
        issuer: str,
        tenant_id: str,
        *,
        access_ttl: int = ACCESS_TTL,
        refresh_ttl: int = REFRESH_TTL,
    ) -> None:
        self._jwt = TokenService(keys, issuer)
        self.tenant_id = tenant_id
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        # Verified access tokens by their text: a pull sends the same token many times, and
        # checking an RSA signature costs more than the rest of a manifest GET.
        self._verified: OrderedDict[str, tuple[int, RegistryClaims]] = OrderedDict()

    def issue_access(
        self,
        registry: Registry,
        kind: str,
        subject: str,
        access: Sequence[Scope],
        catalog: Sequence[str] = (),
        *,
        source: Source | None = None,
        refused: Sequence[Scope] = (),
    ) -> str:
        extra: dict[str, Any] = {
            "use": "access",
            "kind": kind,
            "rid": registry.id,
            "access": [scope.claim() for scope in access],
        }
        if refused:  # asked for and not granted: a later refusal names what was meant
            extra["refused"] = [scope.claim() for scope in refused]
        if catalog:
            extra["catalog"] = list(catalog)
        return self._issue(registry, subject, self.access_ttl, extra, source)

    def issue_refresh(
        self, registry: Registry, kind: str, subject: str, *, source: Source | None
    ) -> str:
        extra = {"use": "refresh", "kind": kind, "rid": registry.id, "grant_type": "refresh_token"}
        return self._issue(registry, subject, self.refresh_ttl, extra, source)

    def _issue(
        self,
        registry: Registry,
        subject: str,
        ttl: int,
        extra: dict[str, Any],
        source: Source | None,
    ) -> str:
        if source is not None:
            extra["src"] = source.claim()
            if source.expires_at is not None:  # never past the credential's own expiry
                ttl = min(ttl, source.expires_at - int(time.time()))
                if ttl <= 0:
                    raise InvalidToken(f"the {source.credential} that proved it has expired")
        return self._jwt.issue(
            subject, registry.login_server, tenant_id=self.tenant_id, ttl=ttl, extra=extra
        )

    def verify(self, token: str, registry: Registry, use: Use) -> RegistryClaims:
        """The claims of a valid token of `use` for `registry`; InvalidToken says why not."""
        cached = self._verified.get(token)
        if cached is not None:
            audience, claims = cached
            if claims.expires_at > time.time() and audience == registry.id and claims.use == use:
                return claims
        claims_dict = self._jwt.verify(token, [registry.login_server])
        found_use = claims_dict.get("use")
        if found_use != use:
            what = {"access": "an access token", "refresh": "a refresh token"}
            raise InvalidToken(
                f"the token is {what.get(str(found_use), 'not a registry token')}, where "
                f"{what[use]} is needed"
            )
        if claims_dict.get("rid") != registry.id:
            raise InvalidToken(
                f"the token was issued for another registry than {registry.name!r} (one that "
                "had the same name before); get a new token"
            )
        kind, subject = claims_dict.get("kind"), claims_dict.get("sub")
        if not isinstance(kind, str) or not isinstance(subject, str):
            raise InvalidToken("the token names no identity")
        catalog = claims_dict.get("catalog")
        claims = RegistryClaims(
            use=use,
            kind=kind,
            subject=subject,
            expires_at=int(claims_dict["exp"]),
            access=tuple(access_from_claim(claims_dict.get("access"))),
            catalog=tuple(c for c in catalog if isinstance(c, str))
            if isinstance(catalog, list)
            else (),
            source=Source.from_claim(claims_dict.get("src")),
            refused=tuple(access_from_claim(claims_dict.get("refused"))),
        )
        if use == "access":
            self._verified[token] = (registry.id, claims)
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims
