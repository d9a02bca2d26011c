"""Identity endpoint, private endpoint and login server confusion (issue 13 section 4).

The identity endpoint and the management API answer on the management host only (the bare host
of the public listener): never on a registry's login server, never on a private endpoint's
listener, whatever Host is sent. A private endpoint that is deleted stops serving at once,
connections already open to it included (they were judged by the public rules before).
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.test_private_endpoint_api import NET, Endpoints
from tests.support.management import Management
from tests.support.registry_http import owner_authorization
from tests.support.server import Server, free_port, running_server

PE = "127.0.0.5"
REGISTRY = "confreg1"


PE_PORT = free_port(PE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("confusion") / "data"
    with running_server(data, "--private-endpoint", f"pe1={PE}:{PE_PORT}") as srv:
        yield srv


@pytest.fixture(scope="module")
def mgmt(server: Server) -> Iterator[Management]:
    m = Management(server)
    m.create(REGISTRY)
    Endpoints(m).put("pe1", REGISTRY)  # approved at once: the owner asks
    yield m
    m.close()


def identity_requests(server: Server) -> list[tuple[str, str, dict[str, Any]]]:
    owner = server.owner
    tenant = owner["tenant"]
    form = {
        "grant_type": "client_credentials",
        "client_id": owner["appId"],
        "client_secret": owner["password"],
        "scope": "https://management.azure.com/.default",
    }
    return [
        ("POST", f"/{tenant}/oauth2/v2.0/token", {"data": form}),
        (
            "POST",
            f"/{tenant}/oauth2/token",
            {"data": {**form, "resource": "https://management.azure.com/"}},
        ),
        ("GET", f"/{tenant}/v2.0/.well-known/openid-configuration", {}),
        ("GET", f"/{tenant}/.well-known/openid-configuration", {}),
        ("GET", f"/{tenant}/discovery/v2.0/keys", {}),
        ("GET", "/subscriptions", {"params": {"api-version": "2022-12-01"}}),
    ]


def send(
    server: Server, address: str, port: int, host: str, method: str, path: str, **kw: Any
) -> httpx.Response:
    headers = {"Host": host}
    if path.startswith("/subscriptions"):
        headers["Authorization"] = f"Bearer {Management(server).http.headers['Authorization'][7:]}"
    with httpx.Client(timeout=30, trust_env=False) as c:
        return c.request(method, f"http://{address}:{port}{path}", headers=headers, **kw)


def test_the_identity_endpoint_answers_on_the_management_host(
    server: Server, mgmt: Management
) -> None:
    for method, path, kw in identity_requests(server):
        r = send(server, "127.0.0.1", server.port, server.address, method, path, **kw)
        assert r.status_code == 200, (path, r.text)


@pytest.mark.parametrize(
    "where",
    [
        "login server",
        "login server, trailing dot",
        "login server, upper case",
        "private endpoint, login server",
        "private endpoint, bare host",
        "private endpoint, management host's name",
    ],
)
def test_nowhere_else(server: Server, mgmt: Management, where: str) -> None:
    address, port = (PE, PE_PORT) if where.startswith("private") else ("127.0.0.1", server.port)
    host = {
        "login server": f"{REGISTRY}.localhost:{server.port}",
        "login server, trailing dot": f"{REGISTRY}.localhost.:{server.port}",
        "login server, upper case": f"{REGISTRY.upper()}.LOCALHOST:{server.port}",
        "private endpoint, login server": f"{REGISTRY}.localhost:{server.port}",
        "private endpoint, bare host": f"{PE}:{PE_PORT}",
        "private endpoint, management host's name": server.address,
    }[where]
    for method, path, kw in identity_requests(server):
        r = send(server, address, port, host, method, path, **kw)
        assert r.status_code == 404, (where, path, r.status_code, r.text)
        assert "access_token" not in r.text and "token_endpoint" not in r.text
    # The registry itself is served there (the 404 is not the gate's doing).
    registry = f"{REGISTRY}.localhost:{server.port}"
    if "login server" in where:
        with httpx.Client(timeout=30, trust_env=False) as c:
            r = c.get(
                f"http://{address}:{port}/v2/",
                headers={"Host": registry, "Authorization": owner_authorization(server)},
            )
        assert r.status_code == 200, r.text


def _get(connection: http.client.HTTPConnection, host: str, authorization: str) -> int | str:
    """GET /v2/ on an open connection: the status, or how the connection ended."""
    try:
        connection.request("GET", "/v2/", headers={"Host": host, "Authorization": authorization})
        response = connection.getresponse()
        body = response.read().decode()
    except (http.client.RemoteDisconnected, ConnectionError) as e:
        return type(e).__name__
    return response.status if response.status == 200 else f"{response.status} {body}"


def test_a_deleted_private_endpoint_serves_no_open_connection(
    server: Server, mgmt: Management
) -> None:
    """Keep-alive connections to the endpoint's listener end with it: the next request on them
    is not served (and never judged by the public rules, which admit everyone here)."""
    name = f"pe-{secrets.token_hex(4)}"
    address = "127.0.0.7"
    port = free_port(address)
    endpoints = Endpoints(mgmt)
    r = endpoints.put(
        name, REGISTRY, connection=f"c{name[3:]}", listener={"address": address, "port": port}
    )
    assert r.status_code == 201, r.text
    host = f"{REGISTRY}.localhost:{server.port}"
    authorization = owner_authorization(server)
    idle = [http.client.HTTPConnection(address, port, timeout=10) for _ in range(3)]
    try:
        for connection in idle:
            assert _get(connection, host, authorization) == 200
            assert _get(connection, host, authorization) == 200  # the same connection, again
        assert mgmt.http.delete(endpoints.path(name), params=NET).status_code == 200
        for connection in idle:
            after = _get(connection, host, authorization)
            assert after in ("RemoteDisconnected", "ConnectionResetError", "BrokenPipeError"), after
        # And no new connection is accepted there.
        fresh = http.client.HTTPConnection(address, port, timeout=10)
        assert _get(fresh, host, authorization) == "ConnectionRefusedError"
    finally:
        for connection in idle:
            connection.close()


def test_a_request_in_flight_when_its_endpoint_is_deleted_is_answered_then_refused(
    server: Server, mgmt: Management
) -> None:
    """A chunk upload streaming through the endpoint when it is deleted completes (202), and
    the next request on its connection is refused as the deleted endpoint's (the public rules,
    which admit everyone here, are not asked)."""
    name = f"pe-{secrets.token_hex(4)}"
    address = "127.0.0.8"
    port = free_port(address)
    endpoints = Endpoints(mgmt)
    where = {"address": address, "port": port}
    r = endpoints.put(name, REGISTRY, connection=f"c{name[3:]}", listener=where)
    assert r.status_code == 201, r.text
    host = f"{REGISTRY}.localhost:{server.port}"
    authorization = owner_authorization(server)
    connection = http.client.HTTPConnection(address, port, timeout=30)
    try:
        connection.request(
            "POST",
            "/v2/inflight/app/blobs/uploads/",
            headers={"Host": host, "Authorization": authorization, "Content-Length": "0"},
        )
        started = connection.getresponse()
        started.read()
        assert started.status == 202
        location = started.getheader("Location")
        assert location is not None
        first_sent, deleted = threading.Event(), threading.Event()

        def body() -> Iterator[bytes]:
            yield b"x" * 65536
            first_sent.set()
            assert deleted.wait(30)
            yield b"y" * 65536

        answer: list[int | str] = []

        def patch() -> None:
            connection.request(
                "PATCH",
                location,
                body=body(),
                headers={"Host": host, "Authorization": authorization},
                encode_chunked=True,
            )
            response = connection.getresponse()
            answer.append(f"{response.status} {response.read().decode()}")

        uploader = threading.Thread(target=patch)
        uploader.start()
        assert first_sent.wait(30)
        assert mgmt.http.delete(endpoints.path(name), params=NET).status_code == 200
        deleted.set()
        uploader.join(60)
        assert answer and str(answer[0]).startswith("202"), answer
        after = str(_get(connection, host, authorization))
        assert after.startswith("403 "), after
        error = json.loads(after[4:])["errors"][0]
        assert error["code"] == "DENIED"
        assert error["detail"]["privateEndpoint"] == name
        # Its connection is Disconnected and names no endpoint any more.
        assert error["detail"]["connectionState"] == "none"
    finally:
        connection.close()
