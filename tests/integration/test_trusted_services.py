"""The trusted-services bypass: a service principal marked trusted passes a registry's Deny rule
set or disabled public endpoint once authenticated, while `networkRuleBypassOptions` is
AzureServices; everyone else gets the 403 before any credential check."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.support.management import Management, client_from
from tests.support.server import Server

SOURCE = "127.0.0.7"  # an address no rule admits
NOT_A_TOKEN = "x.y.z"  # noqa: S105 - a token that is not one


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


def trusted_principal(mgmt: Management, role: str, scope: str, trusted: bool) -> tuple[str, str]:
    r = mgmt.http.post(
        f"/subscriptions/{mgmt.subscription}/providers/Moorage.Identity/servicePrincipals",
        params={"api-version": "2024-11-01"},
        json={"displayName": "svc", "role": role, "scopes": [scope], "trusted": trusted},
    )
    assert r.status_code == 201, r.text
    return r.json()["appId"], r.json()["password"]


def get(
    server: Server,
    name: str,
    path: str,
    *,
    auth: tuple[str, str] | None = None,
    params: dict[str, str] | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"Host": f"{name}.localhost:{server.port}"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with client_from(SOURCE, base_url=server.url, timeout=30) as c:
        return c.get(path, headers=headers, auth=auth, params=params)


def refused(r: httpx.Response, status: int = 403) -> str:
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED", error
    assert SOURCE in error["message"]
    return str(error["message"])


@pytest.mark.parametrize(
    "settings",
    [
        {"networkRuleSet": {"defaultAction": "Deny"}},
        {"publicNetworkAccess": "Disabled"},
    ],
    ids=["deny-rule-set", "public-access-disabled"],
)
def test_a_trusted_service_passes_once_authenticated(
    shared_server: Server, mgmt: Management, settings: dict[str, object]
) -> None:
    name = f"trust{secrets.token_hex(4)}"
    mgmt.create(name)
    scope = mgmt.path(name)
    trusted = trusted_principal(mgmt, "AcrPull", scope, trusted=True)
    untrusted = trusted_principal(mgmt, "AcrPull", scope, trusted=False)
    mgmt.update(name, **settings)

    assert get(shared_server, name, "/v2/_catalog", auth=trusted).status_code == 200
    # Through the token service too, as the container tools go.
    login_server = f"{name}.localhost:{shared_server.port}"
    r = get(
        shared_server,
        name,
        "/oauth2/token",
        params={"service": login_server, "scope": "registry:catalog:*"},
        auth=trusted,
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = get(shared_server, name, "/v2/_catalog", token=token)
    assert r.status_code == 200, r.text

    # Everyone else: the same refusal whatever they send.
    answers = {
        refused(get(shared_server, name, "/v2/_catalog", auth=untrusted)),
        refused(get(shared_server, name, "/v2/_catalog", auth=(trusted[0], "wrong"))),
        refused(get(shared_server, name, "/v2/_catalog")),
        refused(get(shared_server, name, "/v2/_catalog", token=NOT_A_TOKEN)),
    }
    assert len(answers) == 1, answers

    # Bypass off: the trusted service is refused like anyone.
    mgmt.update(name, networkRuleBypassOptions="None")
    refused(get(shared_server, name, "/v2/_catalog", auth=trusted))
    r = get(shared_server, name, "/v2/_catalog", token=token)
    refused(r)
