"""Tokens of the registries' token service: short-lived access tokens that carry what they grant
(`access`, as the Docker token specification shapes it), and refresh tokens that only say who
the holder is (what they grant is worked out again each time one is used).

Both are RS256 JWTs signed with the service's keys (auth/keys.py), with an issuer of their own,
so a management token is never taken for a registry token. Their audience is the registry's
login server and `rid` its id: a token of registry A is refused by registry B, and by a new
registry that reuses A's name.
"""

from __future__ import annotations

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
class RegistryClaims:
    """A verified registry token."""

    use: Use
    kind: str  # admin | token | principal | anonymous
    subject: str
    expires_at: int
    access: tuple[Scope, ...] = ()
    catalog: tuple[str, ...] = ()


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
    ) -> str:
        extra: dict[str, Any] = {
            "use": "access",
            "kind": kind,
            "rid": registry.id,
            "access": [scope.claim() for scope in access],
        }
        if catalog:
            extra["catalog"] = list(catalog)
        return self._issue(registry, subject, self.access_ttl, extra)

    def issue_refresh(self, registry: Registry, kind: str, subject: str) -> str:
        extra = {"use": "refresh", "kind": kind, "rid": registry.id, "grant_type": "refresh_token"}
        return self._issue(registry, subject, self.refresh_ttl, extra)

    def _issue(self, registry: Registry, subject: str, ttl: int, extra: dict[str, Any]) -> str:
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
        )
        if use == "access":
            self._verified[token] = (registry.id, claims)
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims
