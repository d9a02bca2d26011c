"""Private endpoints and registries' connections to them over the real server: the management
API in the cloud's shapes (Microsoft.Network/privateEndpoints, .../privateEndpointConnections,
.../privateLinkResources), the `moorage network private-endpoint` and `moorage acr
private-endpoint-connection` commands, and the Azure SDK for Python."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.mgmt.containerregistry.models import (
    PrivateEndpointConnection,
    PrivateLinkServiceConnectionState,
    Sku,
)
from azure.mgmt.containerregistry.models import Registry as SdkRegistry

from tests.integration.test_cli import Cli
from tests.support.azure import management_client
from tests.support.management import Management, token_for
from tests.support.server import Server, free_port, running_server

NET = {"api-version": "2024-05-01"}
ACR = {"api-version": "2025-11-01"}
CONNECTION_TYPE = "Microsoft.ContainerRegistry/registries/privateEndpointConnections"


class Endpoints:
    """Calls on private endpoints and registries' connections, as one caller."""

    def __init__(self, api: Management, http: httpx.Client | None = None) -> None:
        self.api = api
        self.http = http or api.http

    def path(self, name: str, group: str = "moorage") -> str:
        return (
            f"/subscriptions/{self.api.subscription}/resourceGroups/{group}"
            f"/providers/Microsoft.Network/privateEndpoints/{name}"
        )

    def put(
        self,
        name: str,
        registry: str | None = None,
        connection: str = "conn1",
        *,
        manual: bool = False,
        listener: dict[str, Any] | None = None,
        group: str = "moorage",
        message: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        properties: dict[str, Any] = {}
        if listener is not None:
            properties["listener"] = listener
        if registry is not None:
            entry = {
                "name": connection,
                "properties": {
                    "privateLinkServiceId": self.api.path(registry),
                    "groupIds": ["registry"],
                    **({"requestMessage": message} if message else {}),
                    **extra,
                },
            }
            key = (
                "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
            )
            properties[key] = [entry]
        return self.http.put(
            self.path(name, group), params=NET, json={"location": "local", "properties": properties}
        )

    def create(self, name: str, registry: str | None = None, **kwargs: Any) -> dict[str, Any]:
        r = self.put(name, registry, listener=listener(), **kwargs)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def connection_path(self, registry: str, name: str = "") -> str:
        base = f"{self.api.path(registry)}/privateEndpointConnections"
        return f"{base}/{name}" if name else base

    def connection(self, registry: str, name: str) -> httpx.Response:
        return self.http.get(self.connection_path(registry, name), params=ACR)

    def set_state(
        self, registry: str, name: str, status: str, description: str | None = None, **extra: Any
    ) -> httpx.Response:
        state = {"status": status, **({"description": description} if description else {})}
        return self.http.put(
            self.connection_path(registry, name),
            params=ACR,
            json={"properties": {"privateLinkServiceConnectionState": state, **extra}},
        )


def listener() -> dict[str, Any]:
    """A loopback address and a port nothing listens on (a server that starts the endpoint's
    listener can bind it)."""
    return {"address": "127.0.0.1", "port": free_port()}


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code, error
    return dict(error)


def state_of(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource["properties"]["privateLinkServiceConnectionState"])


@pytest.fixture(scope="module")
def api(shared_server: Server) -> Iterator[Management]:
    management = Management(shared_server)
    yield management
    management.close()


@pytest.fixture
def pe(api: Management) -> Endpoints:
    return Endpoints(api)


@pytest.fixture
def registry(api: Management) -> str:
    name = f"pec{secrets.token_hex(4)}"
    api.create(name)
    return name


@pytest.fixture
def endpoint_name() -> str:
    return f"pe-{secrets.token_hex(4)}"


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


# -- endpoints ---------------------------------------------------------------------------------


def test_an_owners_endpoint_is_approved_and_listed(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    where = listener()
    r = pe.put(endpoint_name, registry, listener=where)
    assert r.status_code == 201, r.text
    endpoint = r.json()
    assert endpoint["id"] == pe.path(endpoint_name)
    assert (endpoint["name"], endpoint["type"]) == (
        endpoint_name,
        "Microsoft.Network/privateEndpoints",
    )
    p = endpoint["properties"]
    assert p["provisioningState"] == "Succeeded"
    assert p["listener"] == {**where, "origin": "api"}
    (connection,) = p["privateLinkServiceConnections"]
    assert connection["name"] == "conn1"
    assert connection["properties"]["privateLinkServiceId"] == api.path(registry)
    assert connection["properties"]["groupIds"] == ["registry"]
    assert state_of(connection) == {
        "status": "Approved",
        "description": "Auto-Approved",
        "actionsRequired": "None",
    }
    assert p["customDnsConfigs"] == [
        {"fqdn": f"{registry}.localhost", "ipAddresses": ["127.0.0.1"]}
    ]

    assert pe.http.get(pe.path(endpoint_name), params=NET).json() == endpoint
    group = pe.http.get(pe.path("").rstrip("/"), params=NET).json()["value"]
    assert endpoint_name in [e["name"] for e in group]
    everywhere = pe.http.get(
        f"/subscriptions/{api.subscription}/providers/Microsoft.Network/privateEndpoints",
        params=NET,
    ).json()["value"]
    assert endpoint_name in [e["name"] for e in everywhere]

    # The registry lists the connection, in the registry's own shape.
    (on_registry,) = api.get(registry)["properties"]["privateEndpointConnections"]
    assert on_registry == {
        "id": pe.connection_path(registry, "conn1"),
        "name": "conn1",
        "type": CONNECTION_TYPE,
        "properties": {
            "privateEndpoint": {"id": pe.path(endpoint_name)},
            "privateLinkServiceConnectionState": {
                "status": "Approved",
                "description": "Auto-Approved",
                "actionsRequired": "None",
            },
            "provisioningState": "Succeeded",
        },
    }
    listed = pe.http.get(pe.connection_path(registry), params=ACR).json()["value"]
    assert listed == [on_registry]
    assert pe.connection(registry, "CONN1").json() == on_registry

    # A repeated PUT changes nothing.
    again = pe.put(endpoint_name, registry)
    assert again.status_code == 200, again.text
    assert again.json() == endpoint


def test_deleting_an_endpoint_leaves_its_connections_disconnected(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    pe.create(endpoint_name, registry)
    etag = api.get(registry)["etag"]
    assert pe.http.delete(pe.path(endpoint_name), params=NET).status_code == 200
    assert pe.http.delete(pe.path(endpoint_name), params=NET).status_code == 204
    error_of(pe.http.get(pe.path(endpoint_name), params=NET), 404, "ResourceNotFound")
    after = api.get(registry)
    assert after["etag"] != etag
    (connection,) = after["properties"]["privateEndpointConnections"]
    assert state_of(connection)["status"] == "Disconnected"
    assert "privateEndpoint" not in connection["properties"]
    error = error_of(pe.set_state(registry, "conn1", "Approved"), 409, "Conflict")
    assert "from Disconnected to Approved" in error["message"]
    assert pe.http.delete(pe.connection_path(registry, "conn1"), params=ACR).status_code == 200
    assert api.get(registry)["properties"]["privateEndpointConnections"] == []


def test_two_endpoints_cannot_share_a_listener(
    pe: Endpoints, registry: str, endpoint_name: str
) -> None:
    where = listener()
    assert pe.put(endpoint_name, listener=where).status_code == 201
    r = pe.put(endpoint_name + "b", listener=where)
    error = error_of(r, 409, "Conflict")
    assert f"'{endpoint_name}b' cannot listen on 127.0.0.1:{where['port']}" in error["message"]
    assert f"'{endpoint_name}' listens there" in error["message"]
    error = error_of(pe.put(endpoint_name, listener=listener()), 409, "Conflict")
    assert "its listener cannot be changed" in error["message"]


def test_a_new_endpoint_needs_a_listener(pe: Endpoints, endpoint_name: str) -> None:
    error = error_of(pe.put(endpoint_name), 400, "InvalidParameter")
    assert f"--private-endpoint {endpoint_name}=ADDRESS:PORT" in error["message"]


@pytest.mark.parametrize(
    ("body", "target", "named"),
    [
        (
            {"listener": {"address": "localhost", "port": 5001}},
            "properties.listener.address",
            "localhost",
        ),
        ({"listener": {"address": "127.0.0.1", "port": 0}}, "properties.listener.port", "0"),
        (
            {
                "listener": {"address": "127.0.0.1", "port": 5001},
                "privateLinkServiceConnections": [
                    {"name": "c", "properties": {"privateLinkServiceId": "x", "groupIds": ["blob"]}}
                ],
            },
            "properties.privateLinkServiceConnections.0.properties.groupIds",
            "blob",
        ),
    ],
)
def test_bad_bodies_name_the_field_and_value(
    pe: Endpoints, endpoint_name: str, body: dict[str, Any], target: str, named: str
) -> None:
    r = pe.http.put(pe.path(endpoint_name), params=NET, json={"properties": body})
    error = error_of(r, 400, "InvalidRequestContent")
    assert error["target"] == target
    assert named in error["message"]


@pytest.mark.parametrize("name", ["bad-", "-bad", "b" * 81])
def test_endpoint_names_are_checked(pe: Endpoints, name: str) -> None:
    error = error_of(pe.put(name, listener=listener()), 400, "InvalidResourceName")
    assert f"private endpoint name '{name}' is not allowed" in error["message"]


def test_connection_names_and_registry_ids_are_checked(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    r = pe.put(endpoint_name, registry, "bad name", listener=listener())
    error = error_of(r, 400, "InvalidResourceName")
    assert "private endpoint connection name 'bad name'" in error["message"]
    r = pe.http.put(
        pe.path(endpoint_name),
        params=NET,
        json={
            "properties": {
                "listener": listener(),
                "privateLinkServiceConnections": [
                    {"name": "c1", "properties": {"privateLinkServiceId": "/not/a/registry"}}
                ],
            }
        },
    )
    error = error_of(r, 400, "InvalidParameter")
    assert (
        "privateLinkServiceId '/not/a/registry' is not a registry's resource id"
        in (error["message"])
    )
    error_of(pe.put(endpoint_name, "nosuchregistry1", listener=listener()), 404, "ResourceNotFound")
    # Nothing was created by the refused requests.
    error_of(pe.http.get(pe.path(endpoint_name), params=NET), 404, "ResourceNotFound")


def test_network_routes_need_an_api_version(pe: Endpoints, endpoint_name: str) -> None:
    error_of(pe.http.get(pe.path(endpoint_name)), 400, "MissingApiVersionParameter")


# -- connections -------------------------------------------------------------------------------


def test_manual_connections_wait_for_approval(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    endpoint = pe.create(endpoint_name, registry, manual=True, message="for CI runners")
    (connection,) = endpoint["properties"]["privateLinkServiceConnections"]
    assert state_of(connection)["status"] == "Pending"
    shown = pe.connection(registry, "conn1").json()
    assert state_of(shown)["status"] == "Pending"
    assert state_of(shown)["description"] == "for CI runners"

    etag = api.get(registry)["etag"]
    r = pe.set_state(registry, "conn1", "approved", "ok for CI")
    assert r.status_code == 200, r.text
    assert state_of(r.json())["status"] == "Approved"
    assert state_of(r.json())["description"] == "ok for CI"
    assert api.get(registry)["etag"] != etag
    listed = pe.http.get(pe.path(endpoint_name), params=NET).json()
    (connection,) = listed["properties"]["privateLinkServiceConnections"]
    assert state_of(connection)["status"] == "Approved"

    r = pe.set_state(registry, "conn1", "Rejected", "no longer")
    assert state_of(r.json())["status"] == "Rejected"
    error = error_of(pe.set_state(registry, "conn1", "Approved"), 409, "Conflict")
    assert "cannot move from Rejected to Approved" in error["message"]
    assert f"private-endpoint-connection delete -r {registry} -n conn1" in error["message"]

    assert pe.http.delete(pe.connection_path(registry, "conn1"), params=ACR).status_code == 200
    assert pe.http.delete(pe.connection_path(registry, "conn1"), params=ACR).status_code == 204
    error_of(pe.connection(registry, "conn1"), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (["Approved"], "Pending"),
        (["Approved"], "Disconnected"),
        ([], "Disconnected"),
        (["Rejected"], "Pending"),
    ],
)
def test_moves_the_cloud_does_not_allow_are_refused_naming_both_states(
    pe: Endpoints, registry: str, endpoint_name: str, steps: list[str], refused: str
) -> None:
    pe.create(endpoint_name, registry, manual=True)
    for status in steps:
        assert pe.set_state(registry, "conn1", status).status_code == 200
    current = steps[-1] if steps else "Pending"
    error = error_of(pe.set_state(registry, "conn1", refused), 409, "Conflict")
    assert f"from {current} to {refused}" in error["message"]
    assert state_of(pe.connection(registry, "conn1").json())["status"] == current


def test_a_connection_of_one_registry_is_not_reached_through_another(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    other = f"pec{secrets.token_hex(4)}"
    api.create(other)
    pe.create(endpoint_name, registry)
    error_of(pe.connection(other, "conn1"), 404, "ResourceNotFound")
    assert pe.http.get(pe.connection_path(other), params=ACR).json()["value"] == []
    error = error_of(pe.set_state(other, "conn1", "Rejected"), 400, "InvalidParameter")
    assert "give properties.privateEndpoint.id" in error["message"]
    assert pe.http.delete(pe.connection_path(other, "conn1"), params=ACR).status_code == 204
    assert state_of(pe.connection(registry, "conn1").json())["status"] == "Approved"


def test_a_registrys_owner_connects_it_to_an_endpoint(
    pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    pe.create(endpoint_name)
    endpoint_id = {"privateEndpoint": {"id": pe.path(endpoint_name)}}
    r = pe.set_state(registry, "mine", "Approved", "ours", **endpoint_id)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["privateEndpoint"] == {"id": pe.path(endpoint_name)}
    error = error_of(pe.set_state(registry, "again", "Pending", **endpoint_id), 409, "Conflict")
    assert f"already connected to the private endpoint '{endpoint_name}'" in error["message"]
    other = pe.create(endpoint_name + "b")
    moved = pe.set_state(registry, "mine", "Approved", privateEndpoint={"id": other["id"]})
    error = error_of(moved, 400, "InvalidParameter")
    assert "a connection's endpoint cannot be changed" in error["message"]
    missing = pe.set_state(
        registry, "gone", "Pending", privateEndpoint={"id": pe.path("nosuchendpoint")}
    )
    error_of(missing, 404, "ResourceNotFound")


def test_the_private_link_resource_of_a_registry(
    pe: Endpoints, api: Management, registry: str
) -> None:
    base = f"{api.path(registry)}/privateLinkResources"
    (resource,) = pe.http.get(base, params=ACR).json()["value"]
    assert resource == {
        "id": f"{base}/registry",
        "name": "registry",
        "type": "Microsoft.ContainerRegistry/registries/privateLinkResources",
        "properties": {
            "groupId": "registry",
            "requiredMembers": ["registry", "registry_data_local"],
            "requiredZoneNames": ["localhost"],
        },
    }
    assert pe.http.get(f"{base}/registry", params=ACR).json() == resource
    error_of(pe.http.get(f"{base}/blob", params=ACR), 404, "ResourceNotFound")


# -- who may approve ---------------------------------------------------------------------------


def _as(shared_server: Server, api: Management, role: str, scope: str) -> Endpoints:
    app_id, secret = api.principal(role, scope)
    token = token_for(shared_server, app_id, secret, shared_server.owner["tenant"])
    http = httpx.Client(base_url=shared_server.url, headers={"Authorization": f"Bearer {token}"})
    return Endpoints(api, http)


def test_a_caller_who_may_not_write_the_registry_gets_a_pending_connection(
    shared_server: Server, pe: Endpoints, api: Management, registry: str, endpoint_name: str
) -> None:
    group = f"clients{secrets.token_hex(3)}"
    r = api.http.put(
        f"/subscriptions/{api.subscription}/resourceGroups/{group}",
        params={"api-version": "2022-12-01"},
        json={"location": "local"},
    )
    assert r.status_code in (200, 201), r.text
    contributor = _as(
        shared_server,
        api,
        "Contributor",
        f"/subscriptions/{api.subscription}/resourceGroups/{group}",
    )
    reader = _as(shared_server, api, "Reader", api.path(registry))
    try:
        r = contributor.put(endpoint_name, registry, group=group, listener=listener())
        assert r.status_code == 201, r.text
        (connection,) = r.json()["properties"]["privateLinkServiceConnections"]
        assert state_of(connection)["status"] == "Pending"
        # A Reader of the registry sees the connection but may not approve it, nor make
        # endpoints where it has no role.
        shown = reader.connection(registry, "conn1")
        assert state_of(shown.json())["status"] == "Pending"
        error_of(reader.set_state(registry, "conn1", "Approved"), 403, "AuthorizationFailed")
        error_of(
            reader.put(endpoint_name + "r", registry, listener=listener()),
            403,
            "AuthorizationFailed",
        )
        # The registry's owner approves it.
        r = pe.set_state(registry, "conn1", "Approved")
        assert state_of(r.json())["status"] == "Approved"
        endpoint = contributor.http.get(contributor.path(endpoint_name, group), params=NET).json()
        (connection,) = endpoint["properties"]["privateLinkServiceConnections"]
        assert state_of(connection)["status"] == "Approved"
        # Endpoint names are unique in the service, whatever the group.
        error = error_of(pe.put(endpoint_name, listener=listener()), 409, "Conflict")
        assert f"is in use in resource group '{group}'" in error["message"]
    finally:
        contributor.http.close()
        reader.http.close()


# -- the CLI -----------------------------------------------------------------------------------


def test_the_cli_creates_approves_rejects_and_deletes(
    cli: Cli, api: Management, registry: str, endpoint_name: str
) -> None:
    where = listener()
    create = [
        "network", "private-endpoint", "create", "-n", endpoint_name,
        "--connection-name", "fromcli", "--private-connection-resource-id", api.path(registry),
        "--group-id", "registry", "--address", where["address"], "--port", str(where["port"]),
    ]  # fmt: skip
    made = cli.json(*create)
    assert (made["name"], made["resourceGroup"], made["provisioningState"]) == (
        endpoint_name,
        "moorage",
        "Succeeded",
    )
    assert made["listener"] == {**where, "origin": "api"}
    (connection,) = made["privateLinkServiceConnections"]
    assert connection["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert connection["privateLinkServiceId"] == api.path(registry)

    shown = cli.json("network", "private-endpoint", "show", "-n", endpoint_name)
    assert shown == made
    assert endpoint_name in [e["name"] for e in cli.json("network", "private-endpoint", "list")]
    listed = cli.json("network", "private-endpoint", "list", "-g", "moorage")
    assert endpoint_name in [e["name"] for e in listed]
    table = cli.ok("network", "private-endpoint", "list", "-o", "table")
    assert "ADDRESS" in table and f"{registry}:Approved" in table

    connections = cli.json("acr", "private-endpoint-connection", "list", "-r", registry)
    assert [(c["name"], c["resourceGroup"]) for c in connections] == [("fromcli", "moorage")]
    assert connections[0]["privateEndpoint"] == {"id": made["id"]}
    rejected = cli.json(
        "acr", "private-endpoint-connection", "reject", "-r", registry, "-n", "fromcli",
        "--description", "not any more",
    )  # fmt: skip
    assert rejected["privateLinkServiceConnectionState"]["status"] == "Rejected"
    assert rejected["privateLinkServiceConnectionState"]["description"] == "not any more"
    message = cli.error(
        "acr", "private-endpoint-connection", "approve", "--registry-name", registry,
        "--name", "fromcli",
    )  # fmt: skip
    assert "(Conflict)" in message and "from Rejected to Approved" in message
    assert "STATUS" in cli.ok(
        "acr", "private-endpoint-connection", "show", "-r", registry, "-n", "fromcli", "-o", "table"
    )
    assert (
        cli.ok(
            "acr", "private-endpoint-connection", "delete", "-r", registry, "-n", "fromcli", "--yes"
        )
        == ""
    )
    assert cli.json("acr", "private-endpoint-connection", "list", "-r", registry) == []
    assert cli.ok("network", "private-endpoint", "delete", "-n", endpoint_name) == ""
    message = cli.error("network", "private-endpoint", "show", "-n", endpoint_name)
    assert f"'{endpoint_name}' could not be found" in message


def test_the_cli_asks_for_approval_and_approves(
    cli: Cli, api: Management, registry: str, endpoint_name: str
) -> None:
    where = listener()
    made = cli.json(
        "network", "private-endpoint", "create", "-n", endpoint_name, "--connection-name", "asked",
        "--private-connection-resource-id", registry, "--manual-request", "--request-message",
        "please", "--address", where["address"], "--port", str(where["port"]),
    )  # fmt: skip
    (connection,) = made["privateLinkServiceConnections"]
    assert connection["privateLinkServiceConnectionState"]["status"] == "Pending"
    approved = cli.json(
        "acr", "private-endpoint-connection", "approve", "-r", registry, "-n", "asked",
        "--description", "fine",
    )  # fmt: skip
    assert approved["privateLinkServiceConnectionState"] == {
        "status": "Approved",
        "description": "fine",
        "actionsRequired": "None",
    }
    assert [
        r["groupId"] for r in cli.json("acr", "private-link-resource", "list", "-r", registry)
    ] == ["registry"]
    cli.ok("network", "private-endpoint", "delete", "-n", endpoint_name, "-g", "moorage")
    shown = cli.json("acr", "private-endpoint-connection", "show", "-r", registry, "-n", "asked")
    assert shown["privateLinkServiceConnectionState"]["status"] == "Disconnected"
    assert "privateEndpoint" not in shown


def test_the_cli_explains_what_it_needs(cli: Cli, registry: str, endpoint_name: str) -> None:
    base = [
        "network", "private-endpoint", "create", "-n", endpoint_name, "--connection-name", "c1",
        "--private-connection-resource-id", registry,
    ]  # fmt: skip
    message = cli.error(*base, "--vnet-name", "v", "--subnet", "s", exit_code=2)
    assert "give --address and --port instead of --vnet-name/--subnet" in message
    assert "together" in cli.error(*base, "--address", "127.0.0.1", exit_code=2)
    message = cli.error(*base)
    assert "(InvalidParameter)" in message and "--address and --port" in message


# -- the Azure SDK for Python, unchanged, over TLS ---------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("sdk") / "data", "--tls") as server:
        yield server


def test_the_azure_sdk_reads_and_approves_connections(
    tls_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = management_client(tls_server, tmp_path, monkeypatch)
    group, name = "moorage", "sdkprivate1"
    client.registries.begin_create(
        group, name, SdkRegistry(location="local", sku=Sku(name="Premium"))
    ).result()
    api = Management(tls_server)
    headers = dict(api.http.headers)
    api.http.close()
    trust = ssl.create_default_context(cafile=str(tls_server.ca))
    api.http = httpx.Client(base_url=tls_server.url, headers=headers, verify=trust)
    try:
        Endpoints(api).create("sdk-pe", name, manual=True)
    finally:
        api.close()
    (listed,) = list(client.private_endpoint_connections.list(group, name))
    assert listed.name == "conn1"
    assert listed.private_link_service_connection_state.status == "Pending"
    assert listed.private_endpoint.id.endswith("/privateEndpoints/sdk-pe")
    approved = client.private_endpoint_connections.begin_create_or_update(
        group,
        name,
        "conn1",
        PrivateEndpointConnection(
            private_endpoint=listed.private_endpoint,
            private_link_service_connection_state=PrivateLinkServiceConnectionState(
                status="Approved", description="by the SDK"
            ),
        ),
    ).result()
    assert approved.private_link_service_connection_state.status == "Approved"
    registry = client.registries.get(group, name)
    (connection,) = registry.private_endpoint_connections
    assert connection.private_link_service_connection_state.description == "by the SDK"
    (resource,) = list(client.registries.list_private_link_resources(group, name))
    assert resource.properties.group_id == "registry"
    client.private_endpoint_connections.begin_delete(group, name, "conn1").result()
    assert list(client.private_endpoint_connections.list(group, name)) == []
