"""Scope maps and repository-scoped tokens over the real server: the management API in the
cloud's shape (.../scopeMaps, .../tokens, .../generateCredentials) and the `moorage acr
scope-map` / `moorage acr token` commands."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.containerregistry.models import (
    GenerateCredentialsParameters,
    ScopeMap,
    ScopeMapUpdateParameters,
    Sku,
    TokenUpdateParameters,
)
from azure.mgmt.containerregistry.models import Registry as SdkRegistry
from azure.mgmt.containerregistry.models import Token as SdkToken

from moorage.domain.access import SYSTEM_SCOPE_MAPS
from tests.integration.test_cli import Cli
from tests.support.azure import management_client
from tests.support.management import API, Management, token_for
from tests.support.server import Server, running_server

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
SCOPE_MAP_TYPE, TOKEN_TYPE = REGISTRY_TYPE + "/scopeMaps", REGISTRY_TYPE + "/tokens"
READ_APP = ["repositories/app/content/read", "repositories/app/metadata/read"]


@pytest.fixture(scope="module")
def api(shared_server: Server) -> Iterator[Management]:
    management = Management(shared_server)
    yield management
    management.close()


@pytest.fixture
def registry(api: Management) -> str:
    name = f"tok{secrets.token_hex(4)}"
    api.create(name)
    return name


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code, error
    return dict(error)


def put_map(api: Management, registry: str, name: str, actions: list[str], **extra: Any) -> Any:
    return api.http.put(
        f"{api.path(registry)}/scopeMaps/{name}",
        params=API,
        json={"properties": {"actions": actions, **extra}},
    )


def put_token(api: Management, registry: str, name: str, scope_map: str, **extra: Any) -> Any:
    return api.http.put(
        f"{api.path(registry)}/tokens/{name}",
        params=API,
        json={"properties": {"scopeMapId": f"{api.path(registry)}/scopeMaps/{scope_map}", **extra}},
    )


def generate(api: Management, registry: str, token: str, **extra: Any) -> httpx.Response:
    return api.http.post(
        f"{api.path(registry)}/generateCredentials",
        params=API,
        json={"tokenId": f"{api.path(registry)}/tokens/{token}", **extra},
    )


# -- the management API --------------------------------------------------------------------------


def test_scope_map_lifecycle(api: Management, registry: str) -> None:
    path = f"{api.path(registry)}/scopeMaps"
    r = put_map(api, registry, "ReadApp", [*READ_APP, "repositories/app/content/read"])
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == f"{path}/ReadApp"
    assert (created["name"], created["type"]) == ("ReadApp", SCOPE_MAP_TYPE)
    props = created["properties"]
    assert (props["type"], props["provisioningState"], props["actions"]) == (
        "UserDefined",
        "Succeeded",
        READ_APP,
    )
    assert props["description"] is None and props["creationDate"].endswith("Z")

    assert api.http.get(f"{path}/readapp", params=API).json() == created
    r = put_map(api, registry, "readapp", READ_APP, description="read app")
    assert r.status_code == 200 and r.json()["properties"]["description"] == "read app"

    patched = api.http.patch(
        f"{path}/readapp", params=API, json={"properties": {"description": "changed"}}
    ).json()
    assert patched["properties"]["actions"] == READ_APP
    assert patched["properties"]["description"] == "changed"
    patched = api.http.patch(
        f"{path}/readapp",
        params=API,
        json={"properties": {"actions": ["repositories/*/content/read"]}},
    ).json()
    assert patched["properties"]["actions"] == ["repositories/*/content/read"]
    assert patched["properties"]["description"] == "changed"

    listed = api.http.get(path, params=API).json()["value"]
    assert [m["name"] for m in listed] == [*SYSTEM_SCOPE_MAPS, "ReadApp"]
    assert api.http.delete(f"{path}/READAPP", params=API).status_code == 200
    assert api.http.delete(f"{path}/READAPP", params=API).status_code == 204
    error = error_of(api.http.get(f"{path}/readapp", params=API), 404, "ResourceNotFound")
    assert "readapp" in error["message"]


def test_create_only_refuses_to_replace(api: Management, registry: str) -> None:
    assert put_map(api, registry, "readapp", READ_APP).status_code == 201
    again = api.http.put(
        f"{api.path(registry)}/scopeMaps/readapp",
        params=API,
        json={"properties": {"actions": READ_APP}},
        headers={"If-None-Match": "*"},
    )
    assert "already exists" in error_of(again, 409, "Conflict")["message"]


def test_system_scope_maps_are_listed_and_protected(api: Management, registry: str) -> None:
    path = f"{api.path(registry)}/scopeMaps"
    listed = api.http.get(path, params=API).json()["value"]
    system = {m["name"]: m for m in listed if m["properties"]["type"] == "SystemDefined"}
    assert list(system) == list(SYSTEM_SCOPE_MAPS)
    pull = system["_repositories_pull"]
    assert pull["id"] == f"{path}/_repositories_pull"
    assert pull["properties"]["actions"] == ["repositories/*/content/read"]
    assert api.http.get(f"{path}/_repositories_pull", params=API).json() == pull

    for response in (
        put_map(api, registry, "_repositories_pull", READ_APP),
        api.http.patch(
            f"{path}/_repositories_pull", params=API, json={"properties": {"description": "x"}}
        ),
        api.http.delete(f"{path}/_repositories_pull", params=API),
    ):
        error = error_of(response, 409, "Conflict")
        assert "'_repositories_pull' is a system scope map" in error["message"]


@pytest.mark.parametrize(
    ("kind", "name", "target"),
    [
        ("scopeMaps", "abcd", "scopeMapName"),
        ("scopeMaps", "has.dot1", "scopeMapName"),
        ("scopeMaps", "x" * 51, "scopeMapName"),
        ("tokens", "under_score", "tokenName"),
        ("tokens", "abc", "tokenName"),
    ],
)
def test_bad_names_are_refused_with_the_name(
    api: Management, registry: str, kind: str, name: str, target: str
) -> None:
    if kind == "scopeMaps":
        r = put_map(api, registry, name, READ_APP)
    else:
        r = put_token(api, registry, name, "_repositories_pull")
    error = error_of(r, 400, "InvalidResourceName")
    assert error["target"] == target
    assert repr(name) in error["message"]


@pytest.mark.parametrize(
    ("actions", "named"),
    [
        (["repositories/app/content/raed"], "'content/raed'"),
        (["repos/app/content/read"], "'repos/app/content/read'"),
        (["repositories/App/content/read"], "'repositories/App/content/read'"),
        ([], "at least one action"),
    ],
)
def test_bad_actions_are_refused_with_the_value(
    api: Management, registry: str, actions: list[str], named: str
) -> None:
    error = error_of(put_map(api, registry, "mymap1", actions), 400, "InvalidParameter")
    assert named in error["message"]


def test_token_lifecycle(api: Management, registry: str) -> None:
    path = f"{api.path(registry)}/tokens"
    assert put_map(api, registry, "ReadApp", READ_APP).status_code == 201
    r = put_token(api, registry, "CiReader", "readapp")
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["id"], created["name"], created["type"]) == (
        f"{path}/CiReader",
        "CiReader",
        TOKEN_TYPE,
    )
    props = created["properties"]
    assert props["scopeMapId"] == f"{api.path(registry)}/scopeMaps/ReadApp"
    assert (props["status"], props["provisioningState"]) == ("enabled", "Succeeded")
    assert props["credentials"] == {"certificates": [], "passwords": []}
    assert api.http.get(f"{path}/cireader", params=API).json() == created
    assert [t["name"] for t in api.http.get(path, params=API).json()["value"]] == ["CiReader"]

    patched = api.http.patch(
        f"{path}/cireader", params=API, json={"properties": {"status": "disabled"}}
    ).json()
    assert patched["properties"]["status"] == "disabled"
    assert patched["properties"]["scopeMapId"].endswith("/scopeMaps/ReadApp")
    system_id = f"{api.path(registry)}/scopeMaps/_repositories_push"
    patched = api.http.patch(
        f"{path}/cireader", params=API, json={"properties": {"scopeMapId": system_id}}
    ).json()
    assert (patched["properties"]["scopeMapId"], patched["properties"]["status"]) == (
        system_id,
        "disabled",
    )
    assert put_token(api, registry, "cireader", "readapp").status_code == 200

    assert api.http.delete(f"{path}/CIREADER", params=API).status_code == 200
    assert api.http.delete(f"{path}/CIREADER", params=API).status_code == 204
    error_of(api.http.get(f"{path}/cireader", params=API), 404, "ResourceNotFound")


def test_a_token_named_like_its_registry_is_refused(api: Management, registry: str) -> None:
    error = error_of(
        put_token(api, registry, registry.upper(), "_repositories_pull"), 409, "Conflict"
    )
    assert "admin user" in error["message"] and registry.upper() in error["message"]


def test_a_token_needs_an_existing_scope_map_of_its_registry(
    api: Management, registry: str
) -> None:
    error = error_of(put_token(api, registry, "reader1", "nosuchmap"), 404, "ResourceNotFound")
    assert "'nosuchmap'" in error["message"]
    r = api.http.put(
        f"{api.path(registry)}/tokens/reader1",
        params=API,
        json={"properties": {"scopeMapId": "_repositories_pull"}},
    )
    error = error_of(r, 400, "InvalidParameter")
    assert error["target"] == "scopeMapId" and "'_repositories_pull'" in error["message"]


def test_a_scope_map_in_use_is_not_deleted(api: Management, registry: str) -> None:
    assert put_map(api, registry, "readapp", READ_APP).status_code == 201
    assert put_token(api, registry, "reader-one", "readapp").status_code == 201
    assert put_token(api, registry, "reader-two", "readapp").status_code == 201
    path = f"{api.path(registry)}/scopeMaps/readapp"
    error = error_of(api.http.delete(path, params=API), 409, "Conflict")
    assert "'reader-one', 'reader-two'" in error["message"]
    for token in ("reader-one", "reader-two"):
        api.http.delete(f"{api.path(registry)}/tokens/{token}", params=API)
    assert api.http.delete(path, params=API).status_code == 200


def test_generated_passwords_are_shown_once(api: Management, registry: str) -> None:
    assert put_token(api, registry, "pusher1", "_repositories_push").status_code == 201
    expiry = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    r = generate(api, registry, "pusher1", expiry=expiry.isoformat())
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["username"] == "pusher1"
    assert [p["name"] for p in made["passwords"]] == ["password1", "password2"]
    values = [p["value"] for p in made["passwords"]]
    assert len(set(values)) == 2 and all(len(v) >= 40 for v in values)
    assert {p["expiry"] for p in made["passwords"]} == {expiry.isoformat().replace("+00:00", "Z")}

    shown = api.http.get(f"{api.path(registry)}/tokens/pusher1", params=API)
    listed = api.http.get(f"{api.path(registry)}/tokens", params=API)
    for text in (shown.text, listed.text):
        assert not any(v in text for v in values)
    assert '"value"' not in shown.text
    for token in listed.json()["value"]:
        assert all("value" not in p for p in token["properties"]["credentials"]["passwords"])
    passwords = shown.json()["properties"]["credentials"]["passwords"]
    assert [(p["name"], p["expiry"]) for p in passwords] == [
        (p["name"], p["expiry"]) for p in made["passwords"]
    ]

    again = generate(api, registry, "PUSHER1", name="password2").json()
    assert [p["name"] for p in again["passwords"]] == ["password2"]
    assert "expiry" not in again["passwords"][0]
    now = api.http.get(f"{api.path(registry)}/tokens/pusher1", params=API).json()
    one, two = now["properties"]["credentials"]["passwords"]
    assert one == passwords[0]  # password1 kept as it was
    assert "expiry" not in two and two["creationTime"] == again["passwords"][0]["creationTime"]

    kept = api.http.patch(
        f"{api.path(registry)}/tokens/pusher1",
        params=API,
        json={"properties": {"credentials": {"passwords": [{"name": "password2"}]}}},
    ).json()
    assert [p["name"] for p in kept["properties"]["credentials"]["passwords"]] == ["password2"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"expiry": "2020-01-01T00:00:00Z"}, "InvalidParameter", "in the past"),
        ({"name": "password3"}, "InvalidRequestContent", "name"),
        ({"tokenId": "pusher1"}, "InvalidParameter", "tokenId 'pusher1'"),
    ],
)
def test_bad_generate_requests_are_refused(
    api: Management, registry: str, body: dict[str, Any], code: str, words: str
) -> None:
    assert put_token(api, registry, "pusher1", "_repositories_push").status_code == 201
    error = error_of(generate(api, registry, "pusher1", **body), 400, code)
    assert words in error["message"]


def test_a_registrys_tokens_are_not_seen_through_another(api: Management, registry: str) -> None:
    other = f"tok{secrets.token_hex(4)}"
    api.create(other)
    assert put_map(api, registry, "readapp", READ_APP).status_code == 201
    assert put_token(api, registry, "reader1", "readapp").status_code == 201
    for path in (f"{api.path(other)}/tokens/reader1", f"{api.path(other)}/scopeMaps/readapp"):
        error_of(api.http.get(path, params=API), 404, "ResourceNotFound")
    assert api.http.get(f"{api.path(other)}/tokens", params=API).json() == {"value": []}
    assert api.http.delete(f"{api.path(other)}/tokens/reader1", params=API).status_code == 204
    # A token id or scope map id of registry A, sent to registry B, is refused.
    r = api.http.post(
        f"{api.path(other)}/generateCredentials",
        params=API,
        json={"tokenId": f"{api.path(registry)}/tokens/reader1"},
    )
    assert "is not the id of one of registry" in error_of(r, 400, "InvalidParameter")["message"]
    r = api.http.put(
        f"{api.path(other)}/tokens/reader1",
        params=API,
        json={"properties": {"scopeMapId": f"{api.path(registry)}/scopeMaps/readapp"}},
    )
    error_of(r, 400, "InvalidParameter")
    # An unknown registry, or one in another group, has none.
    missing = api.path("nosuchregistry1") + "/tokens"
    error_of(api.http.get(missing, params=API), 404, "ResourceNotFound")
    elsewhere = api.path(registry, group="othergroup") + "/scopeMaps"
    assert api.http.get(elsewhere, params=API).status_code == 404


def test_roles_decide_who_reads_writes_and_generates(
    shared_server: Server, api: Management, registry: str
) -> None:
    assert put_token(api, registry, "reader1", "_repositories_pull").status_code == 201
    r = api.http.post(
        f"/subscriptions/{api.subscription}/providers/Moorage.Identity/servicePrincipals",
        params={"api-version": "2022-12-01"},
        json={"displayName": "token-reader", "role": "Reader"},
    )
    assert r.status_code == 201, r.text
    reader = r.json()
    bearer = token_for(shared_server, reader["appId"], reader["password"], reader["tenant"])
    with httpx.Client(
        base_url=shared_server.url, headers={"Authorization": f"Bearer {bearer}"}
    ) as client:
        base = api.path(registry)
        assert client.get(f"{base}/tokens/reader1", params=API).status_code == 200
        assert client.get(f"{base}/scopeMaps", params=API).status_code == 200
        denied = [
            client.put(
                f"{base}/scopeMaps/mymap1",
                params=API,
                json={"properties": {"actions": READ_APP}},
            ),
            client.delete(f"{base}/tokens/reader1", params=API),
            client.post(
                f"{base}/generateCredentials",
                params=API,
                json={"tokenId": f"{base}/tokens/reader1"},
            ),
        ]
        for response in denied:
            error_of(response, 403, "AuthorizationFailed")


# -- the command line ----------------------------------------------------------------------------


def test_scope_map_commands(cli: Cli, api: Management, registry: str) -> None:
    create = ["acr", "scope-map", "create", "-n", "readapp", "-r", registry]
    made = cli.json(
        *create,
        "--repository",
        "app",
        "content/read",
        "metadata/read",
        "--repository",
        "team/*",
        "content/write",
        "--description",
        "read app",
    )
    assert made["actions"] == [*READ_APP, "repositories/team/*/content/write"]
    assert (made["scopeMapType"], made["description"], made["resourceGroup"]) == (
        "UserDefined",
        "read app",
        "moorage",
    )
    assert "properties" not in made
    assert "already exists" in cli.error(*create, "--repository", "app", "content/read")
    assert "--repository app: give the repository and its actions" in cli.error(
        *create, "--repository", "app", exit_code=2
    )

    updated = cli.json(
        "acr",
        "scope-map",
        "update",
        "-n",
        "READAPP",
        "--registry",
        registry,
        "--add-repository",
        "tools",
        "content/read",
        "--remove-repository",
        "app",
        "metadata/read",
    )
    assert updated["actions"] == [
        "repositories/app/content/read",
        "repositories/team/*/content/write",
        "repositories/tools/content/read",
    ]
    shown = cli.json("acr", "scope-map", "show", "-n", "readapp", "-r", registry)
    assert shown == updated
    names = cli.json("acr", "scope-map", "list", "-r", registry, "--query", "[].name")
    assert names == [*SYSTEM_SCOPE_MAPS, "readapp"]
    table = cli.ok("acr", "scope-map", "list", "-r", registry, "-o", "table")
    assert "SystemDefined" in table and "UserDefined" in table

    delete = ["acr", "scope-map", "delete", "-n", "readapp", "-r", registry]
    assert "Use --yes" in cli.error(*delete)
    assert cli.ok(*delete, "--yes") == ""
    assert "ResourceNotFound" in cli.error(
        "acr", "scope-map", "show", "-n", "readapp", "-r", registry
    )
    assert "system scope map" in cli.error(
        "acr", "scope-map", "delete", "-n", "_repositories_pull", "-r", registry, "--yes"
    )


def test_token_commands(cli: Cli, api: Management, registry: str) -> None:
    create = ["acr", "token", "create", "-n", "cireader", "-r", registry]
    result = cli.run(
        *create,
        "--repository",
        "app",
        "content/read",
        "metadata/read",
        "--expiration-in-days",
        "30",
    )
    assert result.returncode == 0, result.stderr
    assert 'Creating a scope map "cireader-scope-map"' in result.stderr
    made = json.loads(result.stdout)
    credentials = made["credentials"]
    assert credentials["username"] == "cireader"
    assert [p["name"] for p in credentials["passwords"]] == ["password1", "password2"]
    values = [p["value"] for p in credentials["passwords"]]
    expiry = datetime.fromisoformat(credentials["passwords"][0]["expiry"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expiry - datetime.now(UTC) <= timedelta(days=30)
    assert made["scopeMapId"].endswith("/scopeMaps/cireader-scope-map")
    mapped = cli.json("acr", "scope-map", "show", "-n", "cireader-scope-map", "-r", registry)
    assert (mapped["actions"], mapped["description"]) == (READ_APP, "Created by token: cireader")

    shown = cli.ok("acr", "token", "show", "-n", "cireader", "-r", registry)
    assert not any(v in shown for v in values) and '"value"' not in shown
    assert json.loads(shown)["credentials"]["passwords"][0]["name"] == "password1"
    assert "already exists" in cli.error(*create, "--scope-map", "_repositories_pull")
    assert "--repository | --scope-map" in cli.error(*create, exit_code=2)

    generated = cli.json(
        "acr", "token", "credential", "generate", "-n", "cireader", "-r", registry, "--password2"
    )
    assert generated["username"] == "cireader"
    assert [p["name"] for p in generated["passwords"]] == ["password2"]
    assert generated["passwords"][0]["value"] not in values

    updated = cli.json(
        "acr",
        "token",
        "update",
        "-n",
        "cireader",
        "-r",
        registry,
        "--status",
        "disabled",
        "--scope-map",
        "_repositories_pull",
    )
    assert updated["status"] == "disabled"
    assert updated["scopeMapId"].endswith("/scopeMaps/_repositories_pull")
    removed = cli.json(
        "acr", "token", "credential", "delete", "-n", "cireader", "-r", registry, "--password1"
    )
    assert [p["name"] for p in removed["credentials"]["passwords"]] == ["password2"]

    bare = cli.json(
        "acr",
        "token",
        "create",
        "-n",
        "no-passwords",
        "-r",
        registry,
        "--scope-map",
        "_repositories_push",
        "--no-passwords",
    )
    assert bare["credentials"]["passwords"] == [] and "username" not in bare["credentials"]
    listed = cli.json("acr", "token", "list", "-r", registry, "--query", "[].name")
    assert listed == ["cireader", "no-passwords"]
    assert "PASSWORD1 EXPIRY" in cli.ok("acr", "token", "list", "-r", registry, "-o", "table")

    assert "admin user" in cli.error(
        "acr",
        "token",
        "create",
        "-n",
        registry,
        "-r",
        registry,
        "--scope-map",
        "_repositories_pull",
    )
    assert "Use --yes" in cli.error("acr", "token", "delete", "-n", "cireader", "-r", registry)
    assert cli.ok("acr", "token", "delete", "-n", "cireader", "-r", registry, "--yes") == ""
    assert "ResourceNotFound" in cli.error("acr", "token", "show", "-n", "cireader", "-r", registry)


# -- logging in with a token (the data plane's login reads the token store) ---------------------


def test_a_token_logs_in_with_either_password_until_it_expires(
    shared_server: Server, api: Management, registry: str
) -> None:
    assert put_map(api, registry, "readapp", READ_APP).status_code == 201
    assert put_token(api, registry, "cireader", "readapp").status_code == 201
    one, two = (p["value"] for p in generate(api, registry, "cireader").json()["passwords"])
    login_server = api.get(registry)["properties"]["loginServer"]

    def v2(path: str, user: str, password: str, method: str = "GET") -> httpx.Response:
        return httpx.request(
            method,
            f"{shared_server.url}/v2/{path}",
            headers={"Host": login_server},
            auth=(user, password),
        )

    assert v2("", "cireader", one).status_code == 200
    assert v2("", "CIREADER", two).status_code == 200  # the user name in any case
    assert v2("app/tags/list", "cireader", one).status_code == 404  # allowed, nothing there
    refused = v2("other/tags/list", "cireader", one)
    assert refused.status_code == 401 and "may not pull" in refused.text
    refused = v2("app/blobs/uploads/", "cireader", one, "POST")
    assert refused.status_code == 401 and "may not push" in refused.text
    assert v2("", "cireader", "wrong").status_code == 401

    soon = datetime.now(UTC) + timedelta(seconds=2)
    short = generate(api, registry, "cireader", name="password2", expiry=soon.isoformat())
    brief = short.json()["passwords"][0]["value"]
    while datetime.now(UTC) <= soon:
        time.sleep(0.1)
    expired = v2("", "cireader", brief)
    assert expired.status_code == 401 and "expired" in expired.text
    assert v2("", "cireader", one).status_code == 200  # password1 is unaffected

    api.http.delete(f"{api.path(registry)}/tokens/cireader", params=API)
    # At once, as the CLI says, though the login was remembered a moment ago.
    assert v2("", "cireader", one).status_code == 401


# -- the Azure SDK for Python, unchanged, over TLS -----------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("sdk") / "data", "--tls") as server:
        yield server


def test_the_azure_sdk_manages_scope_maps_and_tokens(
    tls_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = management_client(tls_server, tmp_path, monkeypatch)
    group = "moorage"
    registry = client.registries.begin_create(
        group, "sdktokens1", SdkRegistry(location="local", sku=Sku(name="Premium"))
    ).result()
    made = client.scope_maps.begin_create(
        group,
        "sdktokens1",
        "readapp",
        ScopeMap(actions=READ_APP, description="read app"),
    ).result()
    assert (made.name, made.actions, made.description) == ("readapp", READ_APP, "read app")
    listed = {m.name: m for m in client.scope_maps.list(group, "sdktokens1")}
    assert set(listed) == {*SYSTEM_SCOPE_MAPS, "readapp"}
    changed = client.scope_maps.begin_update(
        group,
        "sdktokens1",
        "readapp",
        ScopeMapUpdateParameters(actions=["repositories/*/content/read"]),
    ).result()
    assert (changed.actions, changed.description) == (["repositories/*/content/read"], "read app")

    token = client.tokens.begin_create(
        group,
        "sdktokens1",
        "sdkreader",
        SdkToken(scope_map_id=made.id, status="enabled"),
    ).result()
    assert (token.name, token.scope_map_id, token.status) == ("sdkreader", made.id, "enabled")
    generated = client.registries.begin_generate_credentials(
        group,
        "sdktokens1",
        GenerateCredentialsParameters(token_id=token.id, name="password1"),
    ).result()
    assert generated.username == "sdkreader"
    assert [(p.name, bool(p.value)) for p in generated.passwords] == [("password1", True)]
    shown = client.tokens.get(group, "sdktokens1", "sdkreader")
    assert [p.name for p in shown.credentials.passwords] == ["password1"]
    assert shown.credentials.passwords[0].value is None
    disabled = client.tokens.begin_update(
        group, "sdktokens1", "sdkreader", TokenUpdateParameters(status="disabled")
    ).result()
    assert disabled.status == "disabled"
    assert [t.name for t in client.tokens.list(group, "sdktokens1")] == ["sdkreader"]
    client.tokens.begin_delete(group, "sdktokens1", "sdkreader").result()
    client.scope_maps.begin_delete(group, "sdktokens1", "readapp").result()
    with pytest.raises(ResourceNotFoundError):
        client.tokens.get(group, "sdktokens1", "sdkreader")
    assert registry.name == "sdktokens1"
