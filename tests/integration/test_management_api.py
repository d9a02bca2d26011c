"""The management API's contract over raw HTTP: shape, api-versions, auth, roles, etags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.management import token_for
from tests.support.server import Server

API = {"api-version": "2025-11-01"}
RES = {"api-version": "2022-12-01"}


@pytest.fixture(scope="module")
def owner(shared_server: Server) -> dict[str, str]:
    return shared_server.owner


@pytest.fixture(scope="module")
def api(shared_server: Server, owner: dict[str, str]) -> Iterator[httpx.Client]:
    token = token_for(shared_server, owner["appId"], owner["password"], owner["tenant"])
    with httpx.Client(
        base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def registry_path(owner: dict[str, str], name: str, group: str = "moorage") -> str:
    return (
        f"/subscriptions/{owner['subscription']}/resourceGroups/{group}/providers/"
        f"Microsoft.ContainerRegistry/registries/{name}"
    )


def create(
    api: httpx.Client, owner: dict[str, str], name: str, sku: str = "Premium", **properties: Any
) -> dict[str, Any]:
    r = api.put(
        registry_path(owner, name),
        params=API,
        json={"location": "local", "sku": {"name": sku}, "properties": properties},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "target", "details"}
    assert body["error"]["code"] == code, body
    return dict(body["error"])


def test_registry_resource_has_the_clouds_shape_and_defaults(
    api: httpx.Client, owner: dict[str, str], shared_server: Server
) -> None:
    body = create(api, owner, "shapereg1")
    assert body["id"] == registry_path(owner, "shapereg1")
    assert body["type"] == "Microsoft.ContainerRegistry/registries"
    assert body["sku"] == {"name": "Premium", "tier": "Premium"}
    props = body["properties"]
    assert props["loginServer"] == f"shapereg1.localhost:{shared_server.port}"
    assert props["provisioningState"] == "Succeeded"
    assert props["networkRuleSet"] == {"defaultAction": "Allow", "ipRules": []}
    assert (props["publicNetworkAccess"], props["networkRuleBypassOptions"]) == (
        "Enabled",
        "AzureServices",
    )
    assert (
        props["adminUserEnabled"],
        props["anonymousPullEnabled"],
        props["dataEndpointEnabled"],
        props["zoneRedundancy"],
    ) == (False, False, False, "Disabled")
    assert props["privateEndpointConnections"] == []
    assert body["etag"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "MissingApiVersionParameter"),
        ({"api-version": "2099-01-01"}, 400, "InvalidApiVersionParameter"),
        ({"api-version": "latest"}, 400, "InvalidApiVersionParameter"),
    ],
)
def test_api_version_is_required_and_checked(
    api: httpx.Client, owner: dict[str, str], params: dict[str, str], status: int, code: str
) -> None:
    error = error_of(api.get(registry_path(owner, "default"), params=params), status, code)
    assert "2025-11-01" in error["message"]


@pytest.mark.parametrize(
    "version", ["2017-10-01", "2023-07-01", "2025-11-01", "2026-09-01-preview"]
)
def test_listed_api_versions_are_accepted(
    api: httpx.Client, owner: dict[str, str], version: str
) -> None:
    r = api.get(registry_path(owner, "default"), params={"api-version": version})
    assert r.status_code == 200, r.text


def test_patch_merges_and_keeps_rules(api: httpx.Client, owner: dict[str, str]) -> None:
    path = registry_path(owner, "patchreg1")
    create(api, owner, "patchreg1")
    r = api.patch(
        path,
        params=API,
        json={
            "properties": {
                "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}]}
            }
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["networkRuleSet"]["ipRules"] == [
        {"action": "Allow", "value": "203.0.113.7"}
    ]
    # The cloud CLI sends a rule set without ipRules when it changes the default action.
    r = api.patch(
        path, params=API, json={"properties": {"networkRuleSet": {"defaultAction": "Allow"}}}
    )
    assert r.json()["properties"]["networkRuleSet"] == {
        "defaultAction": "Allow",
        "ipRules": [{"action": "Allow", "value": "203.0.113.7"}],
    }
    r = api.patch(path, params=API, json={"tags": {"team": "a"}})
    assert r.json()["tags"] == {"team": "a"}
    assert r.json()["properties"]["networkRuleSet"]["ipRules"]


def test_if_match_refuses_a_stale_write(api: httpx.Client, owner: dict[str, str]) -> None:
    path = registry_path(owner, "etagreg1")
    etag = create(api, owner, "etagreg1")["etag"]
    first = api.patch(
        path,
        params=API,
        headers={"If-Match": f'"{etag}"'},
        json={"properties": {"adminUserEnabled": True}},
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == f'"{first.json()["etag"]}"' != f'"{etag}"'
    stale = api.patch(
        path,
        params=API,
        headers={"If-Match": f'"{etag}"'},
        json={"properties": {"adminUserEnabled": False}},
    )
    error_of(stale, 412, "PreconditionFailed")
    assert api.get(path, params=API).json()["properties"]["adminUserEnabled"] is True
    error_of(
        api.delete(path, params=API, headers={"If-Match": '"nope"'}), 412, "PreconditionFailed"
    )
    assert api.delete(path, params=API, headers={"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "target_words"),
    [
        ({"sku": {"name": "Premium"}}, "location"),
        ({"location": "local", "sku": {"name": "Gold"}}, "sku.name"),
        (
            {
                "location": "local",
                "sku": {"name": "Premium"},
                "properties": {"networkRuleSet": {"ipRules": [{"value": "10.0.0.300"}]}},
            },
            "10.0.0.300",
        ),
        (
            {
                "location": "local",
                "sku": {"name": "Premium"},
                "properties": {"publicNetworkAccess": "Sometimes"},
            },
            "publicNetworkAccess",
        ),
    ],
)
def test_bad_bodies_name_the_field_and_value(
    api: httpx.Client, owner: dict[str, str], body: dict[str, Any], target_words: str
) -> None:
    r = api.put(registry_path(owner, "badbody1"), params=API, json=body)
    error = error_of(r, 400, "InvalidRequestContent")
    assert target_words in error["message"], error
    assert api.get(registry_path(owner, "badbody1"), params=API).status_code == 404


def test_names_and_groups(api: httpx.Client, owner: dict[str, str]) -> None:
    error_of(
        api.put(
            registry_path(owner, "ab-cd"),
            params=API,
            json={"location": "local", "sku": {"name": "Basic"}},
        ),
        400,
        "InvalidResourceName",
    )
    error_of(
        api.get(registry_path(owner, "default", group="nosuch"), params=API),
        404,
        "ResourceGroupNotFound",
    )
    error_of(api.get(registry_path(owner, "nosuchreg"), params=API), 404, "ResourceNotFound")
    create(api, owner, "takenreg1")
    group = f"/subscriptions/{owner['subscription']}/resourcegroups/other"
    assert api.put(group, params=RES, json={"location": "local"}).status_code == 201
    error_of(
        api.put(
            registry_path(owner, "TAKENREG1", group="other"),
            params=API,
            json={"location": "local", "sku": {"name": "Basic"}},
        ),
        409,
        "RegistryNameNotAvailable",
    )


def test_lists_and_resources_filter(api: httpx.Client, owner: dict[str, str]) -> None:
    create(api, owner, "listreg1")
    sub = f"/subscriptions/{owner['subscription']}"
    in_sub = api.get(sub + "/providers/Microsoft.ContainerRegistry/registries", params=API)
    assert "listreg1" in [r["name"] for r in in_sub.json()["value"]]
    resources = api.get(
        sub + "/resources",
        params={
            "api-version": "2024-11-01",
            "$filter": "resourceType eq 'Microsoft.ContainerRegistry/registries'",
        },
    )
    ids = [r["id"] for r in resources.json()["value"]]
    assert registry_path(owner, "listreg1") in ids
    subs = api.get("/subscriptions", params=RES).json()["value"]
    assert [s["subscriptionId"] for s in subs] == [owner["subscription"]]
    assert subs[0]["tenantId"] == owner["tenant"]


def test_paths_are_case_insensitive(api: httpx.Client, owner: dict[str, str]) -> None:
    path = (
        registry_path(owner, "default")
        .replace("resourceGroups", "RESOURCEGROUPS")
        .replace("Microsoft.ContainerRegistry", "microsoft.containerregistry")
    )
    assert api.get(path, params=API).status_code == 200


def test_the_default_registry_is_kept(api: httpx.Client, owner: dict[str, str]) -> None:
    r = api.delete(registry_path(owner, "default"), params=API)
    assert r.status_code == 409, r.text


def test_credentials_need_the_admin_user(api: httpx.Client, owner: dict[str, str]) -> None:
    create(api, owner, "credreg1")
    path = registry_path(owner, "credreg1")
    error = error_of(api.post(path + "/listCredentials", params=API), 400, "AdminUserDisabled")
    assert "--admin-enabled true" in error["message"]


def test_without_a_token_401_and_with_a_reader_403(
    shared_server: Server, api: httpx.Client, owner: dict[str, str]
) -> None:
    path = registry_path(owner, "default")
    anonymous = httpx.get(shared_server.url + path, params=API)
    error_of(anonymous, 401, "AuthenticationFailed")
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    forged = httpx.get(
        shared_server.url + path, params=API, headers={"Authorization": "Bearer not.a.token"}
    )
    error_of(forged, 401, "AuthenticationFailed")
    r = api.post(
        f"/subscriptions/{owner['subscription']}/providers/Moorage.Identity/servicePrincipals",
        params=RES,
        json={"displayName": "reader", "role": "Reader"},
    )
    assert r.status_code == 201, r.text
    reader = r.json()
    token = token_for(shared_server, reader["appId"], reader["password"], reader["tenant"])
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(shared_server.url + path, params=API, headers=headers).status_code == 200
    denied = httpx.patch(
        shared_server.url + path, params=API, headers=headers, json={"tags": {"x": "y"}}
    )
    error = error_of(denied, 403, "AuthorizationFailed")
    assert reader["appId"] in error["message"] and "Reader" in error["message"]


def test_not_served_on_a_login_server(
    shared_server: Server, api: httpx.Client, owner: dict[str, str]
) -> None:
    r = api.get(
        registry_path(owner, "default"),
        params=API,
        headers={"Host": f"default.localhost:{shared_server.port}"},
    )
    assert r.status_code == 404


def test_openapi_document_lists_every_route(shared_server: Server) -> None:
    from moorage.management.routes import ROUTES

    doc = httpx.get(shared_server.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path], route.path
    put = doc["paths"][ROUTES[11].path]["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "location" in doc["components"]["schemas"][schema]["properties"]
