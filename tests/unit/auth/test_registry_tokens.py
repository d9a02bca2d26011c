"""Access and refresh tokens of the registries' token service: issued, verified, refused."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Self

import jwt
import jwt.api_jwt
import pytest

from moorage.auth.keys import SigningKeys
from moorage.auth.registry_tokens import (
    ACCESS_TTL,
    REFRESH_TTL,
    RegistryClaims,
    RegistryTokens,
    Source,
)
from moorage.auth.tokens import InvalidToken, TokenService, issuer_for
from moorage.domain.access import Scope
from moorage.domain.registry import NetworkRuleSet, PublicNetworkAccess, Registry, Sku

ISSUER = "https://127.0.0.1:5443/oauth2/token"
SOURCE = Source("secret", "secret", "0123456789abcdef")
TENANT = "11111111-2222-3333-4444-555555555555"
ACCESS = (
    Scope("repository", "app", ("pull", "push")),
    Scope("repository", "team/x", ("pull",)),
    Scope("registry", "catalog", ("*",)),
)

REGISTRY_A = Registry(
    id=1,
    name="registrya",
    login_server="registrya.localhost:5000",
    location="local",
    sku=Sku.STANDARD,
    public_network_access=PublicNetworkAccess.ENABLED,
    network_rule_set=NetworkRuleSet(),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)
REGISTRY_B = dataclasses.replace(
    REGISTRY_A, id=2, name="registryb", login_server="registryb.localhost:5000"
)
# Registry A deleted, and a new registry made with its name: same login server, new id.
REGISTRY_A2 = dataclasses.replace(REGISTRY_A, id=3)


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    return SigningKeys.load_or_create(tmp_path / "service")


@pytest.fixture
def service(keys: SigningKeys) -> RegistryTokens:
    return RegistryTokens(keys, ISSUER, TENANT)


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _forge(keys: SigningKeys, **changes: Any) -> str:
    """A token signed with the service's current key, with the claims an access token of
    registry A has, changed by `changes` (None removes a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": REGISTRY_A.login_server,
        "sub": "app-token",
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TTL,
        "use": "access",
        "kind": "token",
        "rid": REGISTRY_A.id,
        "access": [scope.claim() for scope in ACCESS],
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    kid = keys.current_kid
    return jwt.encode(claims, keys.private_key(kid), algorithm="RS256", headers={"kid": kid})


class _Later:
    """Moves the clocks tokens are judged by (ours and PyJWT's) `seconds` from now."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def __call__(self, seconds: float) -> None:
        moved = time.time() + seconds

        class Shifted(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> Self:
                return cls.fromtimestamp(moved, tz)

        self._monkeypatch.setattr(time, "time", lambda: moved)
        self._monkeypatch.setattr(jwt.api_jwt, "datetime", Shifted)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> _Later:
    return _Later(monkeypatch)


# -- round trips ----------------------------------------------------------------------------


def test_access_token_round_trip(service: RegistryTokens, keys: SigningKeys) -> None:
    before = int(time.time())
    token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS, ["team/*", "docs"])
    claims = service.verify(token, REGISTRY_A, "access")
    assert claims == RegistryClaims(
        use="access",
        kind="token",
        subject="app-token",
        expires_at=claims.expires_at,
        access=ACCESS,
        catalog=("team/*", "docs"),
    )
    assert before + ACCESS_TTL <= claims.expires_at <= int(time.time()) + ACCESS_TTL

    raw = _claims(token)
    assert raw["iss"] == ISSUER
    assert raw["aud"] == REGISTRY_A.login_server
    assert raw["tid"] == TENANT
    assert raw["rid"] == REGISTRY_A.id
    assert raw["access"] == [s.claim() for s in ACCESS]
    assert jwt.get_unverified_header(token)["kid"] == keys.current_kid


def test_access_token_without_catalog_or_access(service: RegistryTokens) -> None:
    token = service.issue_access(REGISTRY_A, "anonymous", "", [])
    assert "catalog" not in _claims(token)
    claims = service.verify(token, REGISTRY_A, "access")
    assert (claims.kind, claims.subject, claims.access, claims.catalog) == ("anonymous", "", (), ())


def test_refresh_token_round_trip(service: RegistryTokens) -> None:
    before = int(time.time())
    token = service.issue_refresh(REGISTRY_A, "principal", "a-principal", source=SOURCE)
    claims = service.verify(token, REGISTRY_A, "refresh")
    assert (claims.use, claims.kind, claims.subject) == ("refresh", "principal", "a-principal")
    assert claims.access == () and claims.catalog == ()
    assert before + REFRESH_TTL <= claims.expires_at <= int(time.time()) + REFRESH_TTL
    assert _claims(token)["grant_type"] == "refresh_token"
    assert claims.source == SOURCE
    assert _claims(token)["src"] == {"via": "secret", "cred": "secret", "gen": "0123456789abcdef"}


def test_a_token_never_outlives_its_credential(service: RegistryTokens) -> None:
    ending = Source("token", "password1", "ab", int(time.time()) + 100)
    for token in (
        service.issue_refresh(REGISTRY_A, "token", "app-token", source=ending),
        service.issue_access(REGISTRY_A, "token", "app-token", ACCESS, source=ending),
    ):
        claims = _claims(token)
        assert claims["exp"] == ending.expires_at
        assert claims["src"]["exp"] == ending.expires_at
    ended = Source("token", "password1", "ab", int(time.time()))
    with pytest.raises(InvalidToken, match="the password1 that proved it has expired"):
        service.issue_refresh(REGISTRY_A, "token", "app-token", source=ended)


def test_lifetimes_can_be_set(keys: SigningKeys) -> None:
    service = RegistryTokens(keys, ISSUER, TENANT, access_ttl=60, refresh_ttl=120)
    access = _claims(service.issue_access(REGISTRY_A, "admin", "registrya", ACCESS))
    refresh = _claims(service.issue_refresh(REGISTRY_A, "admin", "registrya", source=SOURCE))
    assert access["exp"] - access["iat"] == 60
    assert refresh["exp"] - refresh["iat"] == 120


# -- refusals -------------------------------------------------------------------------------


def test_an_access_token_is_not_a_refresh_token(service: RegistryTokens) -> None:
    token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS)
    with pytest.raises(InvalidToken, match="is an access token, where a refresh token is needed"):
        service.verify(token, REGISTRY_A, "refresh")
    # Verified (and remembered) as an access token first: still not a refresh token.
    service.verify(token, REGISTRY_A, "access")
    with pytest.raises(InvalidToken, match="where a refresh token is needed"):
        service.verify(token, REGISTRY_A, "refresh")


def test_a_refresh_token_is_not_an_access_token(service: RegistryTokens) -> None:
    token = service.issue_refresh(REGISTRY_A, "token", "app-token", source=SOURCE)
    with pytest.raises(InvalidToken, match="is a refresh token, where an access token is needed"):
        service.verify(token, REGISTRY_A, "access")


@pytest.mark.parametrize("use", [None, "id", 1])
def test_a_token_of_no_registry_use_is_refused(
    service: RegistryTokens, keys: SigningKeys, use: object
) -> None:
    with pytest.raises(InvalidToken, match="is not a registry token, where an access token"):
        service.verify(_forge(keys, use=use), REGISTRY_A, "access")


def test_a_token_for_another_registry_is_refused(service: RegistryTokens) -> None:
    token = service.issue_access(REGISTRY_A, "admin", "registrya", ACCESS)
    assert service.verify(token, REGISTRY_A, "access").subject == "registrya"
    with pytest.raises(InvalidToken, match=re.escape("audience 'registrya.localhost:5000'")):
        service.verify(token, REGISTRY_B, "access")
    refresh = service.issue_refresh(REGISTRY_A, "admin", "registrya", source=SOURCE)
    with pytest.raises(InvalidToken, match=re.escape("audience 'registrya.localhost:5000'")):
        service.verify(refresh, REGISTRY_B, "refresh")


@pytest.mark.parametrize("use", ["access", "refresh"])
def test_a_token_of_a_former_registry_with_the_same_name_is_refused(
    service: RegistryTokens, use: str
) -> None:
    if use == "access":
        token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS)
        service.verify(token, REGISTRY_A, "access")  # remembered for registry A
        with pytest.raises(InvalidToken, match="issued for another registry than 'registrya'"):
            service.verify(token, REGISTRY_A2, "access")
    else:
        token = service.issue_refresh(REGISTRY_A, "token", "app-token", source=SOURCE)
        with pytest.raises(InvalidToken, match="issued for another registry than 'registrya'"):
            service.verify(token, REGISTRY_A2, "refresh")


@pytest.mark.parametrize("rid", [None, "1", 1.5])
def test_a_token_without_the_registry_id_is_refused(
    service: RegistryTokens, keys: SigningKeys, rid: object
) -> None:
    with pytest.raises(InvalidToken, match="issued for another registry"):
        service.verify(_forge(keys, rid=rid), REGISTRY_A, "access")


def test_a_token_signed_by_another_key_set_is_refused(
    service: RegistryTokens, tmp_path: Path
) -> None:
    other = RegistryTokens(SigningKeys.load_or_create(tmp_path / "other"), ISSUER, TENANT)
    token = other.issue_access(REGISTRY_A, "admin", "registrya", ACCESS)
    assert other.verify(token, REGISTRY_A, "access").subject == "registrya"
    with pytest.raises(InvalidToken, match="signed with an unknown key"):
        service.verify(token, REGISTRY_A, "access")


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    service: RegistryTokens, keys: SigningKeys, tmp_path: Path
) -> None:
    stranger = SigningKeys.load_or_create(tmp_path / "stranger")
    forged = jwt.encode(
        _claims(_forge(keys)),
        stranger.private_key(stranger.current_kid),
        algorithm="RS256",
        headers={"kid": keys.current_kid},
    )
    with pytest.raises(InvalidToken, match="signature does not verify"):
        service.verify(forged, REGISTRY_A, "access")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_a_tampered_payload_is_refused(service: RegistryTokens) -> None:
    token = service.issue_access(
        REGISTRY_A, "token", "app-token", [Scope("repository", "app", ("pull",))]
    )
    header, _, signature = token.split(".")
    claims = _claims(token)
    claims["access"] = [{"type": "repository", "name": "app", "actions": ["pull", "delete"]}]
    tampered = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    with pytest.raises(InvalidToken, match="signature does not verify"):
        service.verify(tampered, REGISTRY_A, "access")
    # The genuine token still verifies, with what it really grants.
    assert service.verify(token, REGISTRY_A, "access").access == (
        Scope("repository", "app", ("pull",)),
    )


def test_an_unsigned_token_is_refused(service: RegistryTokens, keys: SigningKeys) -> None:
    token = jwt.encode(_claims(_forge(keys)), key="", algorithm="none")
    with pytest.raises(InvalidToken, match="signed with 'none'; only RS256 is accepted"):
        service.verify(token, REGISTRY_A, "access")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_malformed_tokens_are_refused(service: RegistryTokens, token: str) -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        service.verify(token, REGISTRY_A, "access")


def test_an_expired_token_is_refused(service: RegistryTokens, keys: SigningKeys) -> None:
    now = int(time.time())
    expired = _forge(keys, iat=now - 600, nbf=now - 600, exp=now - 61)
    with pytest.raises(InvalidToken, match=r"the token expired at .*; get a new token"):
        service.verify(expired, REGISTRY_A, "access")
    refresh = _forge(keys, iat=now - 600, nbf=now - 600, exp=now - 61, use="refresh")
    with pytest.raises(InvalidToken, match="the token expired at"):
        service.verify(refresh, REGISTRY_A, "refresh")


def test_a_token_expired_within_the_leeway_is_accepted(
    service: RegistryTokens, keys: SigningKeys
) -> None:
    now = int(time.time())
    token = _forge(keys, iat=now - 600, nbf=now - 600, exp=now - 30)
    assert service.verify(token, REGISTRY_A, "access").expires_at == now - 30


def test_a_management_token_is_not_a_registry_token(
    service: RegistryTokens, keys: SigningKeys
) -> None:
    """The identity endpoint signs with the same keys, under another issuer."""
    management = TokenService(keys, issuer_for("https://127.0.0.1:5443", TENANT))
    token = management.issue(
        "a-principal",
        REGISTRY_A.login_server,
        tenant_id=TENANT,
        extra={"use": "access", "kind": "principal", "rid": REGISTRY_A.id, "access": []},
    )
    with pytest.raises(
        InvalidToken,
        match=re.escape(f"was issued by 'https://127.0.0.1:5443/{TENANT}/v2.0', not '{ISSUER}'"),
    ):
        service.verify(token, REGISTRY_A, "access")


def test_a_token_naming_no_identity_is_refused(service: RegistryTokens, keys: SigningKeys) -> None:
    with pytest.raises(InvalidToken, match="names no identity"):
        service.verify(_forge(keys, kind=None), REGISTRY_A, "access")
    with pytest.raises(InvalidToken, match="names no identity"):
        service.verify(_forge(keys, kind=["admin"]), REGISTRY_A, "access")


def test_malformed_access_and_catalog_claims_grant_nothing(
    service: RegistryTokens, keys: SigningKeys
) -> None:
    token = _forge(
        keys,
        access=[{"type": "repository", "name": "app", "actions": "pull"}, "junk"],
        catalog=["team/*", 3, None],
    )
    claims = service.verify(token, REGISTRY_A, "access")
    assert claims.access == ()
    assert claims.catalog == ("team/*",)
    claims = service.verify(_forge(keys, access="everything", catalog="*"), REGISTRY_A, "access")
    assert claims.access == () and claims.catalog == ()


# -- keys -----------------------------------------------------------------------------------


def test_tokens_signed_before_and_after_a_rotation_verify(
    service: RegistryTokens, keys: SigningKeys
) -> None:
    old_kid = keys.current_kid
    older = service.issue_access(REGISTRY_A, "admin", "registrya", ACCESS)
    old_refresh = service.issue_refresh(REGISTRY_A, "admin", "registrya", source=SOURCE)
    new_kid = keys.rotate()
    assert new_kid != old_kid and keys.current_kid == new_kid
    newer = service.issue_access(REGISTRY_A, "admin", "registrya", ACCESS)
    assert jwt.get_unverified_header(older)["kid"] == old_kid
    assert jwt.get_unverified_header(newer)["kid"] == new_kid
    # A fresh service (nothing remembered) over the same keys verifies both.
    fresh = RegistryTokens(keys, ISSUER, TENANT)
    for service_ in (service, fresh):
        assert service_.verify(older, REGISTRY_A, "access").access == ACCESS
        assert service_.verify(newer, REGISTRY_A, "access").access == ACCESS
        assert service_.verify(old_refresh, REGISTRY_A, "refresh").kind == "admin"


def test_a_key_rotated_by_another_process_verifies(
    service: RegistryTokens, keys: SigningKeys, tmp_path: Path
) -> None:
    other_process = SigningKeys.load_or_create(tmp_path / "service")
    other_process.rotate()
    token = RegistryTokens(other_process, ISSUER, TENANT).issue_access(
        REGISTRY_A, "admin", "registrya", ACCESS
    )
    assert service.verify(token, REGISTRY_A, "access").subject == "registrya"


# -- the verification cache -----------------------------------------------------------------


def test_a_remembered_token_is_refused_once_it_expires(
    service: RegistryTokens, later: _Later
) -> None:
    token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS)
    assert service.verify(token, REGISTRY_A, "access").subject == "app-token"
    assert service.verify(token, REGISTRY_A, "access").subject == "app-token"  # remembered
    later(ACCESS_TTL + 61)
    with pytest.raises(InvalidToken, match="expired at"):
        service.verify(token, REGISTRY_A, "access")


def test_a_remembered_token_is_still_checked_for_its_registry_and_use(
    service: RegistryTokens,
) -> None:
    token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS)
    service.verify(token, REGISTRY_A, "access")
    with pytest.raises(InvalidToken, match="audience"):
        service.verify(token, REGISTRY_B, "access")
    with pytest.raises(InvalidToken, match="another registry"):
        service.verify(token, REGISTRY_A2, "access")
    with pytest.raises(InvalidToken, match="where a refresh token is needed"):
        service.verify(token, REGISTRY_A, "refresh")
    assert service.verify(token, REGISTRY_A, "access").access == ACCESS


def test_the_clock_shift_reaches_pyjwt(
    service: RegistryTokens, keys: SigningKeys, later: _Later
) -> None:
    """`later` really moves PyJWT's clock: a token issued now is not yet valid on a clock
    moved back beyond the leeway (so the test above expires the token in PyJWT too)."""
    token = service.issue_access(REGISTRY_A, "token", "app-token", ACCESS)
    later(-120)
    with pytest.raises(InvalidToken, match="not valid before"):
        RegistryTokens(keys, ISSUER, TENANT).verify(token, REGISTRY_A, "access")
