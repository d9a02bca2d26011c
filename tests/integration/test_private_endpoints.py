"""Private endpoints against a real server holding a public listener on 127.0.0.1 and private
listeners on other loopback addresses: only an Approved connection admits a registry's traffic
there, IP rules and a disabled public endpoint do not apply there, the listener is read from the
socket (never from the Host header), and skopeo pushes and pulls through one."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_cli import Cli
from tests.support.containers import Tools, ok
from tests.support.management import API, Management
from tests.support.oci import image_layout, make_image
from tests.support.registry_http import owner_auth
from tests.support.server import Server, free_port
from tests.support.tools import require

NETWORK_API = {"api-version": "2024-05-01"}
PE1 = "127.0.0.5"  # same port as the public listener, as a private IP on 443 in the cloud
PE2 = "127.0.0.6"  # a port of its own


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    other = free_port(PE2)
    data = tmp_path_factory.mktemp("private") / "data"
    srv = Server(
        data,
        port,
        extra_args=[
            "--private-endpoint",
            f"pe1={PE1}:{port}",
            "--private-endpoint",
            f"pe2={PE2}:{other}",
        ],
    )
    srv.start()
    srv.pe2_port = other  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def mgmt(server: Server) -> Iterator[Management]:
    m = Management(server)
    yield m
    m.close()


def connect(mgmt: Management, endpoint: str, registry: str, *, manual: bool = False) -> Any:
    """Ask for a connection of `registry` on `endpoint` (approved at once when not manual: the
    owner may write the registry)."""
    kind = "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
    r = mgmt.http.put(
        f"/subscriptions/{mgmt.subscription}/resourceGroups/moorage/providers/"
        f"Microsoft.Network/privateEndpoints/{endpoint}",
        params=NETWORK_API,
        json={
            "location": "local",
            "properties": {
                kind: [
                    {
                        "name": f"{registry}-{endpoint}",
                        "properties": {
                            "privateLinkServiceId": mgmt.path(registry),
                            "groupIds": ["registry"],
                        },
                    }
                ]
            },
        },
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def set_state(mgmt: Management, registry: str, connection: str, status: str) -> None:
    r = mgmt.http.put(
        f"{mgmt.path(registry)}/privateEndpointConnections/{connection}",
        params=API,
        json={
            "properties": {
                "privateLinkServiceConnectionState": {"status": status, "description": "test"}
            }
        },
    )
    assert r.status_code in (200, 201), r.text


def via(server: Server, address: str, port: int, registry: str, path: str) -> httpx.Response:
    """GET `path` of `registry` over the listener on address:port, as the owner."""
    with httpx.Client(timeout=30, trust_env=False) as c:
        return c.get(
            f"http://{address}:{port}{path}",
            headers={"Host": f"{registry}.localhost:{server.port}"},
            auth=owner_auth(server),
        )


def refused(r: httpx.Response, *words: str) -> None:
    assert r.status_code == 403, r.text
    assert "WWW-Authenticate" not in r.headers
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED", error
    for word in words:
        assert word in error["message"], error


def new_registry(mgmt: Management) -> str:
    name = f"pe{secrets.token_hex(4)}"
    mgmt.create(name)
    return name


def test_an_approved_endpoint_serves_while_the_public_one_is_off(
    server: Server, mgmt: Management
) -> None:
    name = new_registry(mgmt)
    shown = connect(mgmt, "pe1", name)
    states = [
        c["properties"]["privateLinkServiceConnectionState"]["status"]
        for c in (shown["properties"]["privateLinkServiceConnections"])
    ]
    assert states == ["Approved"]
    # IP rules that would admit the client, and then the public endpoint off.
    mgmt.update(
        name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.0/8"}]}
    )
    assert via(server, "127.0.0.1", server.port, name, "/v2/_catalog").status_code == 200
    mgmt.update(name, publicNetworkAccess="Disabled")

    refused(
        via(server, "127.0.0.1", server.port, name, "/v2/_catalog"),
        "public network access is disabled",
    )
    assert via(server, PE1, server.port, name, "/v2/_catalog").status_code == 200
    r = via(server, PE2, server.pe2_port, name, "/v2/_catalog")  # type: ignore[attr-defined]
    refused(r, "pe2", "no connection")
    assert r.json()["errors"][0]["detail"]["connectionState"] == "none"

    # The registry resource lists the connection.
    connections = mgmt.get(name)["properties"]["privateEndpointConnections"]
    assert [
        c["properties"]["privateLinkServiceConnectionState"]["status"] for c in connections
    ] == ["Approved"]


def test_pending_and_rejected_connections_refuse(server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt)
    connect(mgmt, "pe2", name, manual=True)
    port = server.pe2_port  # type: ignore[attr-defined]
    r = via(server, PE2, port, name, "/v2/")
    refused(r, "Pending", "approve")
    # The network answer comes before any credential check: no credentials, same refusal.
    with httpx.Client(timeout=30, trust_env=False) as c:
        anonymous = c.get(f"http://{PE2}:{port}/v2/", headers={"Host": f"{name}.localhost"})
    assert anonymous.json() == r.json()

    set_state(mgmt, name, f"{name}-pe2", "Approved")
    assert via(server, PE2, port, name, "/v2/").status_code == 200
    set_state(mgmt, name, f"{name}-pe2", "Rejected")
    refused(via(server, PE2, port, name, "/v2/"), "Rejected")
    # Only Approved admits; the public endpoint is unaffected by any of it.
    assert via(server, "127.0.0.1", server.port, name, "/v2/").status_code == 200


def test_the_listener_comes_from_the_socket_not_the_host_header(
    server: Server, mgmt: Management
) -> None:
    approved = new_registry(mgmt)
    connect(mgmt, "pe1", approved)
    mgmt.update(approved, publicNetworkAccess="Disabled")
    other = new_registry(mgmt)
    # On the public listener, naming the private endpoint's address in Host changes nothing.
    with httpx.Client(timeout=30, trust_env=False) as c:
        r = c.get(
            f"http://127.0.0.1:{server.port}/v2/",
            headers={"Host": f"{approved}.localhost:{server.port}", "X-Forwarded-For": PE1},
            auth=owner_auth(server),
        )
    refused(r, "public network access is disabled")
    # On the private listener, a registry without a connection there is refused, whatever
    # else is allowed for it on the public one.
    refused(via(server, PE1, server.port, other, "/v2/"), "no connection")
    # The management API is not served on a private listener.
    with httpx.Client(timeout=30, trust_env=False) as c:
        r = c.get(f"http://{PE1}:{server.port}/subscriptions", params={"api-version": "2022-12-01"})
    assert r.status_code == 404


def test_skopeo_through_a_private_endpoint(
    server: Server, mgmt: Management, tmp_path: Path
) -> None:
    require("skopeo")
    name = new_registry(mgmt)
    connect(mgmt, "pe1", name)
    mgmt.update(name, publicNetworkAccess="Disabled")
    login_server = f"{name}.localhost:{server.port}"
    layout = image_layout(tmp_path / "img", make_image(seed=51, layers=2), "v1")
    target = f"docker://{login_server}/app:v1"
    # The tools resolve the login server to the private endpoint's address, as private DNS does.
    with Tools(tmp_path / "private", hosts={f"{name}.localhost": PE1}) as tools:
        tools.sign_in(login_server, *owner_auth(server))
        ok(tools.skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", target))
        ok(tools.skopeo("copy", "--src-tls-verify=false", target, f"oci:{tmp_path / 'back'}:v1"))
    with Tools(tmp_path / "public", hosts={f"{name}.localhost": "127.0.0.1"}) as tools:
        tools.sign_in(login_server, *owner_auth(server))
        refusal = tools.skopeo("inspect", "--tls-verify=false", target)
        assert refusal.returncode != 0
        assert b"403 (Forbidden)" in refusal.stderr, refusal.stderr  # Debian 12's skopeo
    with httpx.Client(timeout=30, trust_env=False) as c:
        r = c.get(f"{server.url}/v2/", headers={"Host": login_server})
    refused(r, "public network access is disabled")


def test_an_endpoint_made_through_the_api_listens_at_once(server: Server, mgmt: Management) -> None:
    name = new_registry(mgmt)
    port = free_port("127.0.0.8")
    path = (
        f"/subscriptions/{mgmt.subscription}/resourceGroups/moorage/providers/"
        "Microsoft.Network/privateEndpoints/pe3"
    )
    body = {
        "location": "local",
        "properties": {
            "listener": {"address": "127.0.0.8", "port": port},
            "privateLinkServiceConnections": [
                {
                    "name": "c3",
                    "properties": {
                        "privateLinkServiceId": mgmt.path(name),
                        "groupIds": ["registry"],
                    },
                }
            ],
        },
    }
    r = mgmt.http.put(path, params=NETWORK_API, json=body)
    assert r.status_code == 201, r.text
    assert via(server, "127.0.0.8", port, name, "/v2/").status_code == 200
    assert mgmt.http.delete(path, params=NETWORK_API).status_code in (200, 202, 204)
    with pytest.raises(httpx.ConnectError):
        via(server, "127.0.0.8", port, name, "/v2/")
    state = mgmt.get(name)["properties"]["privateEndpointConnections"][0]["properties"]
    assert state["privateLinkServiceConnectionState"]["status"] == "Disconnected"

    # An address the server cannot listen on: nothing is recorded.
    with socket.socket() as taken:
        taken.bind(("127.0.0.9", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        body["properties"]["listener"] = {"address": "127.0.0.9", "port": busy}  # type: ignore[index]
        body["properties"]["privateLinkServiceConnections"][0]["name"] = "c4"  # type: ignore[index]
        r = mgmt.http.put(path.replace("pe3", "pe4"), params=NETWORK_API, json=body)
    assert r.status_code == 409, r.text
    assert f"127.0.0.9:{busy}" in r.text
    assert mgmt.http.get(path.replace("pe3", "pe4"), params=NETWORK_API).status_code == 404


def test_cli_approves_and_shows_where_the_registry_answers(
    server: Server, mgmt: Management, tmp_path: Path
) -> None:
    name = new_registry(mgmt)
    connect(mgmt, "pe2", name, manual=True)
    cli = Cli(server, tmp_path)
    listed = cli.json("acr", "private-endpoint-connection", "list", "--registry-name", name)
    assert [c["privateLinkServiceConnectionState"]["status"] for c in listed] == ["Pending"]
    shown = cli.json("acr", "show-endpoints", "-n", name)
    assert shown["privateEndpoints"] == [
        {
            "connection": f"{name}-pe2",
            "status": "Pending",
            "privateEndpoint": "pe2",
            "address": f"{PE2}:{server.pe2_port}",  # type: ignore[attr-defined]
        }
    ]
    port = server.pe2_port  # type: ignore[attr-defined]
    refused(via(server, PE2, port, name, "/v2/"), "Pending")
    cli.json(
        "acr",
        "private-endpoint-connection",
        "approve",
        "--registry-name",
        name,
        "--name",
        f"{name}-pe2",
        "--description",
        "lab runners",
    )
    assert via(server, PE2, port, name, "/v2/").status_code == 200
    cli.json("acr", "private-endpoint-connection", "reject", "-r", name, "-n", f"{name}-pe2")
    refused(via(server, PE2, port, name, "/v2/"), "Rejected")
