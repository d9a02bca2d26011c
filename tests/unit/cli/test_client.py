"""Where the command line finds its endpoint, credential and CA, and how it talks HTTP:
tokens, api-versions, pages and errors."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from moorage.cli import client as cli_client
from moorage.cli.client import (
    Client,
    CliError,
    Credential,
    discover_credential,
    error_message,
    resolve_endpoint,
    save_profile,
    trust_source,
)
from moorage.cli.data_plane import Registry

ENDPOINT = "http://127.0.0.1:5000"
OWNER = {
    "appId": "owner-app",
    "password": "owner-secret",
    "tenant": "t1",
    "subscription": "s1",
    "displayName": "moorage-owner",
}
PROFILE = {
    "endpoint": ENDPOINT,
    "appId": "login-app",
    "password": "login-secret",
    "tenant": "t1",
    "subscription": "s1",
}


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("MOORAGE_ENDPOINT", "MOORAGE_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    yield


def write_owner(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "owner-credential.json").write_text(json.dumps(OWNER))


# -- endpoint and credentials --------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "profile", "expected"),
    [
        ("http://a:1/", "http://b:2", "http://c:3", "http://a:1"),
        (None, "http://B:2", "http://c:3", "http://b:2"),
        (None, None, "http://c:3", "http://c:3"),
        (None, None, None, "http://127.0.0.1:5000"),
    ],
    ids=["option", "env", "login", "default"],
)
def test_endpoint_order(
    option: str | None,
    env: str | None,
    profile: str | None,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if env:
        monkeypatch.setenv("MOORAGE_ENDPOINT", env)
    if profile:
        save_profile({**PROFILE, "endpoint": profile})
    assert resolve_endpoint(option) == expected


def test_endpoint_must_be_http() -> None:
    with pytest.raises(CliError, match="not an http"):
        resolve_endpoint("ftp://x")


def test_login_profile_wins_over_owner_credential(tmp_path: Path) -> None:
    write_owner(tmp_path / "data")
    save_profile(PROFILE)
    found = discover_credential(ENDPOINT, tmp_path / "data")
    assert (found.app_id, found.password) == ("login-app", "login-secret")


def test_owner_credential_when_not_logged_in(tmp_path: Path) -> None:
    write_owner(tmp_path / "data")
    found = discover_credential(ENDPOINT, tmp_path / "data")
    assert (found.app_id, found.subscription) == ("owner-app", "s1")
    assert found.source.endswith("owner-credential.json")


def test_login_for_another_endpoint_is_not_used(tmp_path: Path) -> None:
    write_owner(tmp_path / "data")
    save_profile({**PROFILE, "endpoint": "http://elsewhere:5000"})
    assert discover_credential(ENDPOINT, tmp_path / "data").app_id == "owner-app"


def test_no_credential_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(CliError) as caught:
        discover_credential(ENDPOINT, tmp_path / "data")
    assert "moorage login" in caught.value.message
    assert "owner-credential.json" in caught.value.message


def test_incomplete_profile_is_refused(tmp_path: Path) -> None:
    save_profile({**PROFILE, "password": ""})
    with pytest.raises(CliError, match="lacks password"):
        discover_credential(ENDPOINT, tmp_path / "data")


def test_profile_is_private(tmp_path: Path) -> None:
    path = save_profile(PROFILE)
    assert path == tmp_path / "config" / "moorage" / "profile.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == PROFILE


# -- TLS trust -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "local", "requests", "expected"),
    [
        (True, True, True, True, "option.pem"),
        (False, True, True, True, "env.pem"),
        (False, False, True, True, "data/tls/ca.pem"),
        (False, False, False, True, "requests.pem"),
        (False, False, False, False, None),
    ],
    ids=["option", "env", "local-ca", "requests", "system"],
)
def test_trust_order(
    option: bool,
    env: bool,
    local: bool,
    requests: bool,
    expected: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if env:
        monkeypatch.setenv("MOORAGE_CA_BUNDLE", str(tmp_path / "env.pem"))
    if requests:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "requests.pem"))
    if local:
        (tmp_path / "data" / "tls").mkdir(parents=True)
        (tmp_path / "data" / "tls" / "ca.pem").write_text("x")
    chosen = trust_source(
        "https://h:1", tmp_path / "option.pem" if option else None, tmp_path / "data"
    )
    assert chosen == (tmp_path / expected if expected else None)


def test_plain_http_trusts_nothing(tmp_path: Path) -> None:
    assert trust_source("http://h:1", tmp_path / "x.pem", tmp_path) is None


# -- HTTP ----------------------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def mocked(handler: Handler, tmp_path: Path) -> Client:
    client = Client(
        ENDPOINT,
        data_dir=tmp_path,
        credential=Credential("app", "secret", "t1", "s1", "test"),
    )
    client.http = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def token_or(handler: Handler, seen: list[httpx.Request]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/t1/oauth2/v2.0/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        assert request.headers["Authorization"] == "Bearer tok"
        return handler(request)

    return handle


def test_token_is_fetched_once_and_api_version_is_sent(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    client = mocked(token_or(lambda r: httpx.Response(200, json={"ok": 1}), seen), tmp_path)
    client.arm_json("GET", "/subscriptions/s1")
    client.arm_json("GET", "/subscriptions", api_version="2022-12-01")
    form = dict(x.split("=", 1) for x in seen[0].content.decode().split("&"))
    assert form["grant_type"] == "client_credentials"
    assert (form["client_id"], form["client_secret"]) == ("app", "secret")
    assert "management.azure.com" in form["scope"]
    assert [r.url.params.get("api-version") for r in seen[1:]] == ["2025-11-01", "2022-12-01"]


def test_pages_are_followed_and_their_query_kept(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("$skipToken") == "b":
            return httpx.Response(200, json={"value": [{"name": "c"}]})
        assert request.url.params["$filter"] == "resourceType eq 'x'"
        next_link = f"{ENDPOINT}/subscriptions/s1/resources?$skipToken=b&api-version=2022-12-01"
        return httpx.Response(
            200, json={"value": [{"name": "a"}, {"name": "b"}], "nextLink": next_link}
        )

    client = mocked(token_or(handle, []), tmp_path)
    found = client.arm_list("/subscriptions/s1/resources?$filter=resourceType%20eq%20%27x%27")
    assert [f["name"] for f in found] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            403,
            {"error": {"code": "AuthorizationFailed", "message": "no write", "target": None}},
            "(AuthorizationFailed) no write",
        ),
        (
            404,
            {"error": {"code": "ResourceNotFound", "message": "gone"}},
            "(ResourceNotFound) gone",
        ),
        (502, None, "HTTP 502 from GET"),
    ],
)
def test_management_errors(status: int, body: Any, message: str, tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(status, json=body)
            if body
            else httpx.Response(status, text="bad gateway")
        )

    client = mocked(token_or(handle, []), tmp_path)
    with pytest.raises(CliError) as caught:
        client.arm("GET", "/subscriptions/s1")
    assert caught.value.message.startswith(message)
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Bad secret. Trace ID: 1",
            },
            "AADSTS7000215: Bad secret.",
        ),
        ({"errors": [{"code": "DENIED", "message": "no", "detail": {}}]}, "DENIED: no"),
    ],
)
def test_oauth_and_registry_error_shapes(body: dict[str, Any], message: str) -> None:
    response = httpx.Response(400, json=body, request=httpx.Request("GET", ENDPOINT))
    assert error_message(response)[0] == message


def test_refused_sign_in_names_the_credential(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"error": "invalid_client", "error_description": "AADSTS7000215: no"}
        )

    with pytest.raises(CliError, match=r"sign-in as app failed \(test\): AADSTS7000215"):
        mocked(handle, tmp_path).token()


def test_connection_refused_says_what_to_check(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(CliError) as caught:
        mocked(handle, tmp_path).token()
    assert caught.value.message.startswith(f"cannot reach moorage at {ENDPOINT}: ")
    assert "moorage serve" in caught.value.message and "MOORAGE_ENDPOINT" in caught.value.message


def test_data_plane_goes_to_the_endpoint_with_the_login_server_as_host(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        last = request.url.params.get("last")
        if last is None:
            return httpx.Response(
                200,
                json={"repositories": ["a", "b"]},
                headers={"Link": '</v2/_catalog?n=2&last=b>; rel="next"'},
            )
        return httpx.Response(200, json={"repositories": ["c"]})

    client = mocked(handle, tmp_path)
    registry = Registry(client, "r", "myregistry1.localhost:5000", ("user", "pw"))
    assert registry.listing("/v2/_catalog", "repositories") == ["a", "b", "c"]
    assert {r.headers["Host"] for r in seen} == {"myregistry1.localhost:5000"}
    assert {r.url.host for r in seen} == {"127.0.0.1"}
    assert seen[0].headers["Authorization"].startswith("Basic ")


def test_owner_file_unreadable_json(tmp_path: Path) -> None:
    (tmp_path / "owner-credential.json").write_text("{")
    with pytest.raises(CliError, match="unreadable"):
        discover_credential(ENDPOINT, tmp_path)
    assert cli_client.OWNER_FILE == "owner-credential.json"
