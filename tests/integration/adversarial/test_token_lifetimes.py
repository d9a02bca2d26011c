"""A credential's end is the end of everything it issued (issue 13 §3, §4 third bullet), over
HTTP against the real application in-process on a real TCP port: refresh tokens through every
door that takes one (POST /oauth2/token grant_type refresh_token, /oauth2/exchange, and the
refresh token as a password), access tokens, and Basic logins the server remembers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from moorage.auth.keys import SigningKeys
from moorage.auth.registry_tokens import RegistryTokens
from moorage.domain.registry import NetworkRuleSet, PublicNetworkAccess, Registry, Sku
from tests.support.management import API, Management, token_for
from tests.support.server import Server

ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def doors(app_server: Server) -> Iterator[Callable[[str], Doors]]:
    """Doors(app_server, registry), closed when the test ends."""
    opened: list[Doors] = []

    def open_doors(registry: str) -> Doors:
        opened.append(Doors(app_server, registry))
        return opened[-1]

    yield open_doors
    for d in opened:
        d.http.close()


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


class Doors:
    """Every way a registry takes a refresh token or an access token, on one login app_server."""

    def __init__(self, app_server: Server, registry: str) -> None:
        self.service = f"{registry}.localhost:{app_server.port}"
        self.http = httpx.Client(
            base_url=app_server.url, headers={"Host": self.service}, timeout=120
        )

    def login(self, username: str, password: str) -> tuple[str, str]:
        """(refresh token, access token) for a password."""
        r = self.http.post(
            "/oauth2/token",
            data={
                "grant_type": "password",
                "username": username,
                "password": password,
                "service": self.service,
                "scope": "repository:app:pull",
                "access_type": "offline",
            },
        )
        assert r.status_code == 200, r.text
        return r.json()["refresh_token"], r.json()["access_token"]

    def refresh_grant(self, refresh: str) -> httpx.Response:
        return self.http.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "service": self.service,
                "scope": "repository:app:pull",
            },
        )

    def exchange(self, refresh: str) -> httpx.Response:
        return self.http.post(
            "/oauth2/exchange",
            data={"grant_type": "refresh_token", "refresh_token": refresh, "service": self.service},
        )

    def as_password(self, refresh: str) -> httpx.Response:
        return self.http.get("/v2/", auth=(ZERO, refresh))

    def bearer(self, access: str) -> httpx.Response:
        return self.http.get("/v2/", headers={"Authorization": f"Bearer {access}"})

    def basic(self, username: str, password: str) -> httpx.Response:
        return self.http.get("/v2/", auth=(username, password))

    def refusals(self, refresh: str) -> list[httpx.Response]:
        return [self.refresh_grant(refresh), self.exchange(refresh), self.as_password(refresh)]


def _message(r: httpx.Response) -> str:
    assert r.status_code == 401, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "UNAUTHORIZED"
    return str(error["message"])


def _token(app_mgmt: Management, registry: str, name: str) -> tuple[str, str]:
    return app_mgmt.scoped_token(registry, name, ["repositories/app/content/read"])


def _regenerate_admin(app_mgmt: Management, registry: str) -> None:
    r = app_mgmt.http.post(
        app_mgmt.path(registry) + "/regenerateCredential", params=API, json={"name": "password"}
    )
    assert r.status_code == 200, r.text


def _tokens(app_mgmt: Management, registry: str) -> str:
    return f"{app_mgmt.path(registry)}/tokens"


# Each ending: (registry name, who logs in: admin | token, the change, the reason's words)
Ending = tuple[str, str, Callable[[Management, str], object], str]
ENDINGS: dict[str, Ending] = {
    "admin password regenerated": (
        "endadmin1",
        "admin",
        _regenerate_admin,
        "the admin user's password was regenerated since",
    ),
    "admin user disabled": (
        "endadmin2",
        "admin",
        lambda m, r: m.update(r, adminUserEnabled=False),
        "the admin user of registry 'endadmin2' is disabled",
    ),
    "token password regenerated": (
        "endtoken1",
        "token",
        lambda m, r: m.http.post(
            f"{m.path(r)}/generateCredentials",
            params=API,
            json={"tokenId": f"{_tokens(m, r)}/lifetoken", "name": "password1"},
        ),
        "password1 of token 'lifetoken' was regenerated since",
    ),
    "token disabled": (
        "endtoken2",
        "token",
        lambda m, r: m.http.patch(
            f"{_tokens(m, r)}/lifetoken", params=API, json={"properties": {"status": "disabled"}}
        ),
        "token 'lifetoken' is disabled",
    ),
    "token deleted": (
        "endtoken3",
        "token",
        lambda m, r: m.http.delete(f"{_tokens(m, r)}/lifetoken", params=API),
        "token 'lifetoken' was deleted",
    ),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_everything_a_credential_issued_ends_with_it(
    doors: Callable[[str], Doors], app_mgmt: Management, ending: str
) -> None:
    registry, who, change, reason = ENDINGS[ending]
    app_mgmt.create(registry, adminUserEnabled=True)
    if who == "admin":
        username, password, _ = app_mgmt.credentials(registry)
    else:
        username, password = _token(app_mgmt, registry, "lifetoken")
    door = doors(registry)
    refresh, access = door.login(username, password)
    renewed = door.exchange(refresh).json()["refresh_token"]
    for token in (refresh, renewed):  # both work until the change
        assert [r.status_code for r in door.refusals(token)] == [200, 200, 200]
    assert door.bearer(access).status_code == 200
    assert door.basic(username, password).status_code == 200  # remembered from now on

    change(app_mgmt, registry)
    # At once: no cache the change must wait out.
    assert door.basic(username, password).status_code == 401
    for token in (refresh, renewed):
        for r in door.refusals(token):
            assert _message(r) == f"refresh token refused: {reason}; log in again"
    assert _message(door.bearer(access)) == f"access token refused: {reason}; log in again"


def test_the_other_admin_password_changing_leaves_a_token_alone(
    doors: Callable[[str], Doors], app_mgmt: Management
) -> None:
    app_mgmt.create("keepadmin", adminUserEnabled=True)
    username, _, password2 = app_mgmt.credentials("keepadmin")
    door = doors("keepadmin")
    refresh, _ = door.login(username, password2)
    _regenerate_admin(app_mgmt, "keepadmin")  # "password", not "password2"
    assert [r.status_code for r in door.refusals(refresh)] == [200, 200, 200]


def test_no_token_outlives_its_password_and_renewal_cannot_extend_it(
    doors: Callable[[str], Doors], app_mgmt: Management
) -> None:
    app_mgmt.create("expiring1")
    token, _ = _token(app_mgmt, "expiring1", "shortlived")
    expiry = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    r = app_mgmt.http.post(
        f"{app_mgmt.path('expiring1')}/generateCredentials",
        params=API,
        json={
            "tokenId": f"{_tokens(app_mgmt, 'expiring1')}/shortlived",
            "name": "password2",
            "expiry": expiry.isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    password = r.json()["passwords"][0]["value"]
    door = doors("expiring1")
    refresh, access = door.login(token, password)
    assert claims(refresh)["exp"] == int(expiry.timestamp())  # not 3 h
    assert claims(access)["exp"] <= int(expiry.timestamp())
    renewed = door.exchange(refresh).json()["refresh_token"]
    assert claims(renewed)["exp"] == int(expiry.timestamp())
    r = door.refresh_grant(renewed)
    assert r.status_code == 200 and claims(r.json()["access_token"])["exp"] <= expiry.timestamp()


def test_a_refresh_token_that_names_no_credential_is_refused(
    app_server: Server, doors: Callable[[str], Doors], app_mgmt: Management
) -> None:
    """As an older release made them: signed by the server, but with no `src`."""
    app_mgmt.create("oldtokens", adminUserEnabled=True)
    username, password, _ = app_mgmt.credentials("oldtokens")
    door = doors("oldtokens")
    current = claims(door.login(username, password)[0])
    registry = Registry(
        id=current["rid"],
        name="oldtokens",
        login_server=door.service,
        location="local",
        sku=Sku.PREMIUM,
        public_network_access=PublicNetworkAccess.ENABLED,
        network_rule_set=NetworkRuleSet(),
        created_at=datetime.now(UTC),
    )
    keys = SigningKeys.load_or_create(app_server.data_dir)
    old = RegistryTokens(keys, current["iss"], current["tid"])
    legacy = old.issue_refresh(registry, "admin", username, source=None)
    for r in door.refusals(legacy):
        assert "does not record the credential that issued it" in _message(r)


def test_an_identity_token_and_what_it_is_exchanged_for_die_with_the_secret(
    app_server: Server, doors: Callable[[str], Doors], app_mgmt: Management
) -> None:
    app_mgmt.create("identity1")
    app_id, secret = app_mgmt.principal("AcrPull", app_mgmt.path("identity1"))
    tenant = app_server.owner["tenant"]
    door = doors("identity1")

    def exchange(aad: str) -> httpx.Response:
        return door.http.post(
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": door.service,
                "tenant": tenant,
                "access_token": aad,
            },
        )

    aad = token_for(app_server, app_id, secret, tenant)
    registry_path = app_mgmt.path("identity1")
    with httpx.Client(base_url=app_server.url, timeout=120) as api:
        management = api.get(registry_path, params=API, headers={"Authorization": f"Bearer {aad}"})
    assert management.status_code != 401, management.text
    r = exchange(aad)
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    assert [x.status_code for x in door.refusals(refresh)] == [200, 200, 200]

    path = f"/subscriptions/{app_mgmt.subscription}/providers/Moorage.Identity/servicePrincipals"
    r = app_mgmt.http.post(f"{path}/{app_id}/resetCredential", params={"api-version": "2024-11-01"})
    assert r.status_code == 200, r.text
    reason = f"the secret of service principal {app_id!r} was reset since"
    for x in door.refusals(refresh):
        assert _message(x) == f"refresh token refused: {reason}; log in again"
    # The identity token of the old secret is exchanged for nothing more.
    assert "was reset since it was issued" in _message(exchange(aad))
    # And so is the management API.
    with httpx.Client(base_url=app_server.url, timeout=120) as api:
        management = api.get(registry_path, params=API, headers={"Authorization": f"Bearer {aad}"})
    assert management.status_code == 401, management.text
    assert "was reset after the token was issued" in management.text
    new_secret = r.json()["password"]
    assert exchange(token_for(app_server, app_id, new_secret, tenant)).status_code == 200
