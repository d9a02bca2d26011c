"""Data-plane authentication and authorization over HTTP, against the real server: the
challenge, the token service (GET and POST /oauth2/token, /oauth2/exchange), Basic on /v2,
each kind of identity, anonymous pull, refusals by status and code, and the login throttle."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.management import API, Management, client_from, token_for
from tests.support.oci import OCI_MANIFEST, make_image
from tests.support.registry_http import digest_of, owner_auth
from tests.support.server import Server

REPO_PREFIX = "auth"


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


def new_registry(mgmt: Management, sku: str = "Premium", **properties: Any) -> str:
    name = f"auth{secrets.token_hex(4)}"
    mgmt.create(name, sku, **properties)
    return name


class Registry:
    """Raw HTTP to one registry's login server (by Host header), as a client would."""

    def __init__(self, server: Server, name: str, source: str = "127.0.0.1") -> None:
        self.server = server
        self.name = name
        self.login_server = f"{name}.localhost:{server.port}"
        self.http = client_from(
            source, base_url=server.url, headers={"Host": self.login_server}, timeout=30
        )

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def token(self, scope: str | list[str], auth: tuple[str, str] | None = None) -> str:
        r = self.request(
            "GET",
            "/oauth2/token",
            params={"service": self.login_server, "scope": scope},
            auth=auth,
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def push(self, repo: str, auth: Any, tag: str = "v1") -> httpx.Response:
        """Push a small image (blobs then manifest); the first failing answer, or the last."""
        image = make_image(seed=len(repo), layers=1)
        for blob in (image.config, *image.layers):
            r = self.request(
                "POST",
                f"/v2/{repo}/blobs/uploads/",
                params={"digest": digest_of(blob)},
                content=blob,
                auth=auth,
            )
            if r.status_code != 201:
                return r
        return self.request(
            "PUT",
            f"/v2/{repo}/manifests/{tag}",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
            auth=auth,
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["errors"][0]
    assert error["code"] == code, error
    return error


def challenge(r: httpx.Response) -> dict[str, str]:
    header = r.headers["WWW-Authenticate"]
    assert header.startswith("Bearer "), header
    parts = {}
    for item in header.removeprefix("Bearer ").split('",'):
        key, _, value = item.partition("=")
        parts[key.strip()] = value.strip().strip('"')
    return parts


# -- the challenge -------------------------------------------------------------------------


def test_no_credentials_get_the_bearer_challenge(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt)
    with Registry(shared_server, name) as reg:
        r = reg.request("GET", "/v2/")
        error_of(r, 401, "UNAUTHORIZED")
        parts = challenge(r)
        assert parts["realm"] == f"http://{reg.login_server}/oauth2/token"
        assert parts["service"] == reg.login_server
        assert "scope" not in parts

        r = reg.request("GET", "/v2/app/manifests/v1")
        error_of(r, 401, "UNAUTHORIZED")
        assert challenge(r)["scope"] == "repository:app:pull"
        r = reg.request("POST", "/v2/app/blobs/uploads/")
        assert challenge(r)["scope"] == "repository:app:pull,push"
        r = reg.request("DELETE", f"/v2/app/manifests/{digest_of(b'x')}")
        assert challenge(r)["scope"] == "repository:app:delete"
        r = reg.request("GET", "/v2/_catalog")
        assert challenge(r)["scope"] == "registry:catalog:*"
        # HEAD answers the same status and challenge, without a body.
        r = reg.request("HEAD", "/v2/app/manifests/v1")
        assert r.status_code == 401 and r.content == b""
        assert challenge(r)["scope"] == "repository:app:pull"


def test_every_v2_route_needs_an_identity(shared_server: Server) -> None:
    with httpx.Client(base_url=shared_server.url, timeout=30) as c:
        for method, path in [
            ("GET", "/v2/"),
            ("GET", "/v2/_catalog"),
            ("GET", "/v2/a/tags/list"),
            ("GET", "/v2/a/manifests/v1"),
            ("PUT", "/v2/a/manifests/v1"),
            ("DELETE", "/v2/a/manifests/v1"),
            ("POST", "/v2/a/blobs/uploads/"),
            ("GET", "/v2/a/blobs/uploads/x"),
            ("PATCH", "/v2/a/blobs/uploads/x"),
            ("PUT", "/v2/a/blobs/uploads/x"),
            ("DELETE", "/v2/a/blobs/uploads/x"),
            ("GET", f"/v2/a/blobs/{digest_of(b'x')}"),
            ("DELETE", f"/v2/a/blobs/{digest_of(b'x')}"),
            ("GET", f"/v2/a/referrers/{digest_of(b'x')}"),
        ]:
            error_of(c.request(method, path), 401, "UNAUTHORIZED")


# -- the admin user and the token service --------------------------------------------------


def test_admin_user_basic_and_token_flow(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, password, password2 = mgmt.credentials(name)
    assert username == name
    with Registry(shared_server, name) as reg:
        assert reg.push("team/app", (username, password)).status_code == 201
        assert reg.request("GET", "/v2/", auth=(username, password2)).status_code == 200
        assert reg.request("GET", "/v2/", auth=(username.upper(), password)).status_code == 200

        token = reg.token(["repository:team/app:pull", "registry:catalog:*"], (username, password))
        c = claims(token)
        assert c["aud"] == reg.login_server
        assert c["access"] == [
            {"type": "repository", "name": "team/app", "actions": ["pull"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ]
        assert (
            reg.request("GET", "/v2/team/app/manifests/v1", headers=bearer(token)).status_code
            == 200
        )
        assert reg.request("GET", "/v2/_catalog", headers=bearer(token)).json() == {
            "repositories": ["team/app"]
        }
        # Asked for pull only: no push. A write a token lacks is a 403 (oras asks for a new
        # token only after one) whose challenge says which scope to ask for.
        r = reg.request("POST", "/v2/team/app/blobs/uploads/", headers=bearer(token))
        error_of(r, 403, "DENIED")
        assert challenge(r)["error"] == "insufficient_scope"
        assert challenge(r)["scope"] == "repository:team/app:pull,push"
        # Nor any other repository.
        r = reg.request("GET", "/v2/other/manifests/v1", headers=bearer(token))
        error_of(r, 401, "UNAUTHORIZED")

    # Disabled, the admin user signs nobody in, and its tokens stop working.
    mgmt.update(name, adminUserEnabled=False)
    with Registry(shared_server, name) as reg:
        error_of(reg.request("GET", "/v2/", auth=(username, password)), 401, "UNAUTHORIZED")
        r = reg.request("GET", "/v2/team/app/manifests/v1", headers=bearer(token))
        assert "disabled" in error_of(r, 401, "UNAUTHORIZED")["message"]


def test_regenerated_password_replaces_the_old_one(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, old, second = mgmt.credentials(name)
    r = mgmt.http.post(
        mgmt.path(name) + "/regenerateCredential", params=API, json={"name": "password"}
    )
    assert r.status_code == 200, r.text
    new = r.json()["passwords"][0]["value"]
    assert new != old
    with Registry(shared_server, name) as reg:
        error_of(reg.request("GET", "/v2/", auth=(username, old)), 401, "UNAUTHORIZED")
        assert reg.request("GET", "/v2/", auth=(username, new)).status_code == 200
        assert reg.request("GET", "/v2/", auth=(username, second)).status_code == 200


def test_token_post_password_and_refresh_grants(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, password, _ = mgmt.credentials(name)
    with Registry(shared_server, name) as reg:
        r = reg.request(
            "POST",
            "/oauth2/token",
            data={
                "grant_type": "password",
                "username": username,
                "password": password,
                "service": reg.login_server,
                "scope": "repository:app:pull,push",
                "access_type": "offline",
                "client_id": "test",
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert claims(body["access_token"])["access"][0]["actions"] == ["pull", "push"]
        assert body["expires_in"] > 0 and body["issued_at"].endswith("Z")
        refresh = body["refresh_token"]
        r = reg.request(
            "POST",
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "service": reg.login_server,
                "scope": "repository:app:delete",
            },
        )
        assert r.status_code == 200, r.text
        assert claims(r.json()["access_token"])["access"][0]["actions"] == ["delete"]
        # The refresh token is a password too, with the cloud's user name for tokens.
        zero = "00000000-0000-0000-0000-000000000000"
        assert reg.request("GET", "/v2/", auth=(zero, refresh)).status_code == 200
        # A refresh token is not an access token, nor the other way round.
        access = r.json()["access_token"]
        r = reg.request("GET", "/v2/", headers=bearer(refresh))
        assert "refresh token" in error_of(r, 401, "UNAUTHORIZED")["message"]
        r = reg.request(
            "POST",
            "/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": access, "service": ""},
        )
        error_of(r, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"scope": "repository:Bad:pull"}, "Bad"),
        ({"scope": "repository:app"}, "repository:app"),
        ({"scope": "Nothing:app:pull"}, "Nothing"),
        ({"service": "elsewhere.example"}, "elsewhere.example"),
    ],
)
def test_bad_token_requests_name_the_field(
    shared_server: Server, mgmt: Management, params: dict[str, str], words: str
) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, password, _ = mgmt.credentials(name)
    with Registry(shared_server, name) as reg:
        r = reg.request("GET", "/oauth2/token", params=params, auth=(username, password))
        assert words in error_of(r, 400, "INVALID_REQUEST")["message"]
        r = reg.request("POST", "/oauth2/token", data={"grant_type": "magic"})
        assert "grant_type" in error_of(r, 400, "INVALID_REQUEST")["message"]


def test_a_token_of_one_registry_is_refused_by_another(
    shared_server: Server, mgmt: Management
) -> None:
    first = new_registry(mgmt, adminUserEnabled=True)
    second = new_registry(mgmt, adminUserEnabled=True)
    username, password, _ = mgmt.credentials(first)
    with Registry(shared_server, first) as a, Registry(shared_server, second) as b:
        token = a.token("repository:app:pull", (username, password))
        r = b.request("GET", "/v2/app/tags/list", headers=bearer(token))
        assert "audience" in error_of(r, 401, "UNAUTHORIZED")["message"]
        error_of(b.request("GET", "/v2/", auth=(username, password)), 401, "UNAUTHORIZED")


def test_tampered_and_foreign_tokens_are_refused(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, password, _ = mgmt.credentials(name)
    with Registry(shared_server, name) as reg:
        token = reg.token("repository:app:pull", (username, password))
        head, _, signature = token.split(".")
        forged = claims(token)
        forged["access"][0]["actions"] = ["pull", "push", "delete"]
        raw = json.dumps(forged).encode()
        tampered = f"{head}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"
        r = reg.request("POST", "/v2/app/blobs/uploads/", headers=bearer(tampered))
        assert "signature" in error_of(r, 401, "UNAUTHORIZED")["message"]
        assert challenge(r)["error"] == "invalid_token"
        r = reg.request("GET", "/v2/", headers=bearer("not.a.token"))
        assert "malformed" in error_of(r, 401, "UNAUTHORIZED")["message"]
        # A management token is not a registry token.
        owner = shared_server.owner
        management = token_for(shared_server, owner["appId"], owner["password"], owner["tenant"])
        r = reg.request("GET", "/v2/", headers=bearer(management))
        assert "issued by" in error_of(r, 401, "UNAUTHORIZED")["message"]


# -- service principals and their roles ----------------------------------------------------


def test_roles_of_service_principals(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt)
    scope = mgmt.path(name)
    puller, pusher, deleter = (
        mgmt.principal(role, scope) for role in ("AcrPull", "AcrPush", "AcrDelete")
    )
    with Registry(shared_server, name) as reg:
        assert reg.push("app", pusher).status_code == 201
        manifest = reg.request("GET", "/v2/app/manifests/v1", auth=puller)
        assert manifest.status_code == 200
        digest = manifest.headers["Docker-Content-Digest"]
        r = reg.push("app", puller, tag="v2")
        assert "may not push to repository 'app'" in error_of(r, 401, "UNAUTHORIZED")["message"]
        error_of(
            reg.request("DELETE", f"/v2/app/manifests/{digest}", auth=pusher), 401, "UNAUTHORIZED"
        )
        error_of(reg.request("GET", "/v2/app/manifests/v1", auth=deleter), 401, "UNAUTHORIZED")
        assert reg.request("GET", "/v2/_catalog", auth=puller).json() == {"repositories": ["app"]}
        error_of(reg.request("GET", "/v2/_catalog", auth=deleter), 401, "UNAUTHORIZED")
        assert reg.request("DELETE", f"/v2/app/manifests/{digest}", auth=deleter).status_code == 202

    # A role on one registry gives nothing on another.
    other = new_registry(mgmt)
    with Registry(shared_server, other) as reg:
        error_of(reg.request("GET", "/v2/_catalog", auth=puller), 401, "UNAUTHORIZED")
        assert reg.request("GET", "/v2/", auth=puller).status_code == 200  # known, holds nothing


def test_exchange_of_an_identity_token(shared_server: Server, mgmt: Management) -> None:
    """The cloud's flow (az acr login, the azure-containerregistry SDK): an identity-endpoint
    token -> refresh token -> access token."""
    name = new_registry(mgmt)
    app_id, secret = mgmt.principal("AcrPush", mgmt.path(name))
    tenant = shared_server.owner["tenant"]
    aad = token_for(shared_server, app_id, secret, tenant)
    with Registry(shared_server, name) as reg:
        r = reg.request(
            "POST",
            "/oauth2/exchange",
            params={"api-version": "2021-07-01"},
            data={
                "grant_type": "access_token",
                "service": reg.login_server,
                "tenant": tenant,
                "access_token": aad,
            },
        )
        assert r.status_code == 200, r.text
        refresh = r.json()["refresh_token"]
        r = reg.request(
            "POST",
            "/oauth2/token",
            params={"api-version": "2021-07-01"},
            data={
                "grant_type": "refresh_token",
                "service": reg.login_server,
                "scope": "repository:app:pull,push,delete",
                "refresh_token": refresh,
            },
        )
        assert r.status_code == 200, r.text
        access = r.json()["access_token"]
        assert claims(access)["access"] == [
            {"type": "repository", "name": "app", "actions": ["pull", "push"]}
        ]
        assert reg.push("app", None).status_code == 401
        r = reg.request("POST", "/v2/app/blobs/uploads/", headers=bearer(access))
        assert r.status_code == 202, r.text

        # Garbage and other tenants are refused.
        r = reg.request(
            "POST",
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": reg.login_server,
                "access_token": "x.y.z",
            },
        )
        error_of(r, 401, "UNAUTHORIZED")
        r = reg.request(
            "POST",
            "/oauth2/exchange",
            data={
                "grant_type": "access_token",
                "service": reg.login_server,
                "tenant": "00000000-0000-0000-0000-00000000abcd",
                "access_token": aad,
            },
        )
        assert "tenant" in error_of(r, 401, "UNAUTHORIZED")["message"]

    # Deleting the principal stops its refresh token at once.
    assert mgmt.http.delete(
        f"/subscriptions/{mgmt.subscription}/providers/Moorage.Identity/servicePrincipals/{app_id}",
        params={"api-version": "2024-11-01"},
    ).status_code in (200, 204)
    with Registry(shared_server, name) as reg:
        r = reg.request(
            "POST",
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": reg.login_server,
                "scope": "repository:app:pull",
                "refresh_token": refresh,
            },
        )
        message = error_of(r, 401, "UNAUTHORIZED")["message"]
        assert message == (
            f"refresh token refused: service principal {app_id!r} was deleted; log in again"
        )


# -- anonymous pull ------------------------------------------------------------------------


def test_anonymous_pull(shared_server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt, "Standard")
    owner = owner_auth(shared_server)
    with Registry(shared_server, name) as reg:
        assert reg.push("public/app", owner).status_code == 201
        error_of(reg.request("GET", "/v2/public/app/manifests/v1"), 401, "UNAUTHORIZED")
        r = reg.request("GET", "/oauth2/token", params={"scope": "repository:public/app:pull"})
        assert "anonymous" in error_of(r, 401, "UNAUTHORIZED")["message"]

    mgmt.update(name, anonymousPullEnabled=True)
    with Registry(shared_server, name) as reg:
        # Straight in, and through an anonymous token.
        assert reg.request("GET", "/v2/public/app/manifests/v1").status_code == 200
        token = reg.token("repository:public/app:pull,push registry:catalog:*")
        assert claims(token)["access"] == [
            {"type": "repository", "name": "public/app", "actions": ["pull"]}
        ]
        assert reg.request("GET", "/v2/", headers=bearer(token)).status_code == 200
        assert (
            reg.request(
                "GET",
                "/v2/",
            ).status_code
            == 401
        )  # clients learn the realm
        assert (
            reg.request("GET", "/v2/public/app/tags/list", headers=bearer(token)).status_code == 200
        )
        # Never a push, a delete or the catalog.
        assert reg.push("public/app", None, tag="v2").status_code == 401
        r = reg.request("POST", "/v2/public/app/blobs/uploads/", headers=bearer(token))
        error_of(r, 403, "DENIED")  # a token that lacks a write
        error_of(reg.request("GET", "/v2/_catalog"), 401, "UNAUTHORIZED")
        error_of(reg.request("GET", "/v2/_catalog", headers=bearer(token)), 401, "UNAUTHORIZED")

    # Off again: its tokens stop working.
    mgmt.update(name, anonymousPullEnabled=False)
    with Registry(shared_server, name) as reg:
        error_of(
            reg.request("GET", "/v2/public/app/manifests/v1", headers=bearer(token)),
            401,
            "UNAUTHORIZED",
        )


def test_anonymous_pull_needs_standard_or_premium(mgmt: Management) -> None:
    name = new_registry(mgmt, "Basic")
    r = mgmt.patch(name, {"properties": {"anonymousPullEnabled": True}})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "SkuFeatureNotSupported"
    assert "Standard" in r.json()["error"]["message"]
    mgmt.patch(name, {"sku": {"name": "Standard"}, "properties": {"anonymousPullEnabled": True}})
    r = mgmt.patch(name, {"sku": {"name": "Basic"}})
    assert r.status_code == 400, r.text
    assert "turn it off" in r.json()["error"]["message"]


# -- abuse resistance ----------------------------------------------------------------------


def test_failed_logins_are_slowed_per_address_and_identity(
    shared_server: Server, mgmt: Management
) -> None:
    name = new_registry(mgmt, adminUserEnabled=True)
    username, password, _ = mgmt.credentials(name)
    with Registry(shared_server, name, source="127.0.0.8") as stranger:
        # A wrong user name and a wrong password look the same.
        r = stranger.request("GET", "/v2/", auth=("nosuchuser1", "wrong"))
        assert r.json()["errors"][0]["message"] == "incorrect username or password"
    with Registry(shared_server, name, source="127.0.0.9") as attacker:
        answers = []
        for attempt in range(7):
            r = attacker.request("GET", "/v2/", auth=(username, f"wrong{attempt}"))
            answers.append(r.status_code)
            if r.status_code == 401:
                assert r.json()["errors"][0]["message"] == "incorrect username or password"
        assert answers[:5] == [401] * 5
        assert answers[5:] == [429, 429]
        r = attacker.request("GET", "/v2/", auth=(username, password))
        error = error_of(r, 429, "TOOMANYREQUESTS")
        assert int(r.headers["Retry-After"]) >= 1
        assert "127.0.0.9" in error["message"]
        r = attacker.request("GET", "/oauth2/token", auth=(username, password))
        error_of(r, 429, "TOOMANYREQUESTS")
        # Another user name from the same address is another identity: not held back.
        assert attacker.request("GET", "/v2/", auth=("nosuchuser2", "x")).status_code == 401
    with Registry(shared_server, name, source="127.0.0.10") as neighbour:
        assert neighbour.request("GET", "/v2/", auth=(username, password)).status_code == 200


def test_a_mount_needs_pull_on_the_source(shared_server: Server, mgmt: Management) -> None:
    """Cross-repository mount: without pull on the source the registry answers 202 (upload it
    yourself), as the spec says for a mount that cannot happen; never a 201 that would hand the
    caller a blob of a repository it may not read."""
    name = new_registry(mgmt)
    pusher = mgmt.scoped_token(name, "dest-pusher", ["repositories/dest/content/write"])
    owner = owner_auth(shared_server)
    secret = b"only for readers of src " + secrets.token_bytes(16)
    digest = digest_of(secret)
    with Registry(shared_server, name) as reg:
        r = reg.request(
            "POST", "/v2/src/blobs/uploads/", params={"digest": digest}, content=secret, auth=owner
        )
        assert r.status_code == 201, r.text
        mount = {"mount": digest, "from": "src"}
        r = reg.request("POST", "/v2/dest/blobs/uploads/", params=mount, auth=pusher)
        assert r.status_code == 202, r.text  # a plain upload session instead
        r = reg.request("POST", "/v2/dest/blobs/uploads/", params={"mount": digest}, auth=pusher)
        assert r.status_code == 202, r.text  # no source named: not from anywhere either
        r = reg.request("GET", f"/v2/dest/blobs/{digest}", auth=owner)
        assert r.status_code == 404
        r = reg.request("POST", "/v2/dest/blobs/uploads/", params=mount, auth=owner)
        assert r.status_code == 201, r.text
