from __future__ import annotations

import base64
import json
import re
import time

import jwt
import pytest

from moorage.auth.keys import SigningKeys
from moorage.auth.tokens import InvalidToken, TokenService, issuer_for
from tests.unit.auth.conftest import BASE_URL, MANAGEMENT

ISSUER = issuer_for(BASE_URL, "tenant-1")


def _issue(tokens: TokenService, *, ttl: int = 3600, extra: dict[str, str] | None = None) -> str:
    return tokens.issue("app-1", MANAGEMENT, tenant_id="tenant-1", ttl=ttl, extra=extra)


def test_issue_and_verify(tokens: TokenService, keys: SigningKeys) -> None:
    token = tokens.issue("app-1", MANAGEMENT, tenant_id="tenant-1", extra={"roles": ["x"]})
    assert jwt.get_unverified_header(token)["kid"] == keys.current_kid
    claims = tokens.verify(token, [MANAGEMENT])
    assert claims["iss"] == ISSUER == "https://127.0.0.1:5443/tenant-1/v2.0"
    assert claims["aud"] == MANAGEMENT
    assert claims["sub"] == claims["oid"] == claims["appid"] == claims["azp"] == "app-1"
    assert claims["tid"] == "tenant-1"
    assert claims["ver"] == "2.0"
    assert claims["roles"] == ["x"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["uti"]


@pytest.mark.parametrize(
    ("issued_for", "accepted"),
    [
        ("https://management.azure.com/", ["https://management.azure.com"]),
        ("https://management.azure.com", ["https://management.azure.com/"]),
        ("https://management.core.windows.net/", ["https://management.core.windows.net//"]),
    ],
)
def test_trailing_slash_audiences_are_equal(
    tokens: TokenService, issued_for: str, accepted: list[str]
) -> None:
    token = tokens.issue("app-1", issued_for, tenant_id="t")
    assert tokens.verify(token, accepted)["aud"] == issued_for


def test_wrong_audience(tokens: TokenService) -> None:
    token = tokens.issue("app-1", "https://vault.azure.net", tenant_id="t")
    with pytest.raises(InvalidToken, match=r"audience 'https://vault.azure.net', not one of"):
        tokens.verify(token, [MANAGEMENT])


def test_expired_beyond_the_leeway(tokens: TokenService, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 3600 - 61)
    token = _issue(tokens)
    monkeypatch.setattr(time, "time", lambda: now)
    with pytest.raises(InvalidToken, match="expired at"):
        tokens.verify(token, [MANAGEMENT])


def test_expired_within_the_leeway_is_accepted(
    tokens: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 3600 - 30)
    token = _issue(tokens)
    monkeypatch.setattr(time, "time", lambda: now)
    assert tokens.verify(token, [MANAGEMENT])["sub"] == "app-1"


def test_not_yet_valid(tokens: TokenService, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 600)
    token = _issue(tokens)
    monkeypatch.setattr(time, "time", lambda: now)
    with pytest.raises(InvalidToken, match="not valid before"):
        tokens.verify(token, [MANAGEMENT])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tampered_payload(tokens: TokenService) -> None:
    header, payload, signature = _issue(tokens).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    with pytest.raises(InvalidToken, match="signature does not verify"):
        tokens.verify(forged, [MANAGEMENT])


def test_unknown_kid(tokens: TokenService, tmp_path_factory: pytest.TempPathFactory) -> None:
    stranger = TokenService(SigningKeys.load_or_create(tmp_path_factory.mktemp("other")), ISSUER)
    token = stranger.issue("app-1", MANAGEMENT, tenant_id="tenant-1")
    with pytest.raises(InvalidToken, match="unknown key"):
        tokens.verify(token, [MANAGEMENT])


def test_other_issuer(keys: SigningKeys) -> None:
    token = TokenService(keys, "https://elsewhere/t/v2.0").issue("a", MANAGEMENT, tenant_id="t")
    with pytest.raises(InvalidToken, match=re.escape("issued by 'https://elsewhere/t/v2.0'")):
        TokenService(keys, ISSUER).verify(token, [MANAGEMENT])


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "malformed"),
        ("abc", "malformed"),
        ("a.b.c", "malformed"),
        (_b64(b'{"alg":"none","kid":"x"}') + "." + _b64(b"{}") + ".", "only RS256"),
        (_b64(b'{"alg":"HS256","kid":"x"}') + "." + _b64(b"{}") + ".c2ln", "only RS256"),
        (_b64(b'{"alg":"RS256"}') + "." + _b64(b"{}") + ".c2ln", "no signing key"),
    ],
)
def test_malformed(tokens: TokenService, token: str, message: str) -> None:
    with pytest.raises(InvalidToken, match=message):
        tokens.verify(token, [MANAGEMENT])


def test_rotation_keeps_old_tokens_valid(tokens: TokenService, keys: SigningKeys) -> None:
    old_kid = keys.current_kid
    old = _issue(tokens)
    new_kid = keys.rotate()
    new = _issue(tokens)
    assert jwt.get_unverified_header(new)["kid"] == new_kid != old_kid
    assert tokens.verify(old, [MANAGEMENT])["sub"] == "app-1"
    assert tokens.verify(new, [MANAGEMENT])["sub"] == "app-1"


def test_missing_claim(keys: SigningKeys) -> None:
    kid = keys.current_kid
    token = jwt.encode(
        {"iss": ISSUER, "aud": MANAGEMENT, "exp": int(time.time()) + 60},
        keys.private_key(kid),
        algorithm="RS256",
        headers={"kid": kid},
    )
    with pytest.raises(InvalidToken, match="has no 'sub' claim"):
        TokenService(keys, ISSUER).verify(token, [MANAGEMENT])


def test_issue_refuses_bad_arguments(tokens: TokenService) -> None:
    with pytest.raises(ValueError, match="positive"):
        _issue(tokens, ttl=0)
    with pytest.raises(ValueError, match="'aud'"):
        _issue(tokens, extra={"aud": "x"})
