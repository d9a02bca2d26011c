from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from moorage.auth.bearer import Principal, Unauthenticated, principal_from_request, www_authenticate
from moorage.auth.identity import IdentityService
from moorage.auth.principals import PrincipalStore
from moorage.auth.roles import RoleAssignment
from tests.unit.auth.conftest import BASE_URL, MANAGEMENT
from tests.unit.auth.test_identity import make_identity

SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"


@pytest.fixture
def identity(principals: PrincipalStore, tenant_id: str, tmp_path: Path) -> IdentityService:
    return make_identity(principals, tenant_id, tmp_path)


def _request(authorization: str | None) -> web.Request:
    headers = {} if authorization is None else {"Authorization": authorization}
    return make_mocked_request("GET", "/subscriptions", headers=headers)


async def test_a_valid_token_gives_the_principal_and_its_roles(
    identity: IdentityService, principals: PrincipalStore
) -> None:
    created, _ = await principals.create("ci", trusted=True)
    await principals.assign(created.app_id, "Contributor", SUB)
    token = identity.tokens.issue(created.app_id, MANAGEMENT, tenant_id=identity.tenant_id)
    principal = await principal_from_request(
        _request(f"Bearer {token}"), identity, ["https://management.azure.com"]
    )
    assert principal == Principal(
        app_id=created.app_id,
        display_name="ci",
        trusted=True,
        roles=(RoleAssignment("Contributor", SUB),),
    )


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        (None, "no Authorization header"),
        ("Basic dXNlcjpwYXNz", "'Basic' scheme"),
        ("Bearer ", "no token"),
        ("Bearer not.a.token", "malformed"),
    ],
)
async def test_bad_headers(identity: IdentityService, authorization: str | None, says: str) -> None:
    with pytest.raises(Unauthenticated, match=says):
        await principal_from_request(_request(authorization), identity, [MANAGEMENT])


async def test_expired_wrong_audience_other_tenant_and_deleted_principal(
    identity: IdentityService, principals: PrincipalStore
) -> None:
    created, _ = await principals.create("ci")
    tokens, tenant = identity.tokens, identity.tenant_id
    cases = [
        (tokens.issue(created.app_id, "https://vault.azure.net", tenant_id=tenant), "audience"),
        (tokens.issue(created.app_id, MANAGEMENT, tenant_id="other"), "tenant 'other'"),
    ]
    for token, says in cases:
        with pytest.raises(Unauthenticated, match=says):
            await principal_from_request(_request(f"Bearer {token}"), identity, [MANAGEMENT])
    token = tokens.issue(created.app_id, MANAGEMENT, tenant_id=tenant)
    await principals.delete(created.app_id)
    with pytest.raises(Unauthenticated, match="no longer exists"):
        await principal_from_request(_request(f"bearer {token}"), identity, [MANAGEMENT])


async def test_expired(identity: IdentityService, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 7200)
    token = identity.tokens.issue("x", MANAGEMENT, tenant_id=identity.tenant_id)
    monkeypatch.setattr(time, "time", lambda: now)
    with pytest.raises(Unauthenticated, match=r"^The token expired at .*get a new token\.$"):
        await principal_from_request(_request(f"Bearer {token}"), identity, [MANAGEMENT])


def test_www_authenticate(identity: IdentityService) -> None:
    value = www_authenticate(identity, 'The token "x" expired.\r\nInjected: yes')
    assert value == (
        f'Bearer authorization_uri="{BASE_URL}/{identity.tenant_id}/oauth2/authorize", '
        'error="invalid_token", error_description="The token \\"x\\" expired. Injected: yes"'
    )
    assert "error_description=" in www_authenticate(identity)
