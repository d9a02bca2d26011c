"""The Forwarding middleware in front of a handler that reports what it sees, on a real TCP port:
from a trusted proxy the request's scheme and remote become the client's; from anyone else
nothing changes; a malformed named header is a 400 that names it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from moorage.access.client import CLIENT_KEY, ClientResolver, Forwarding
from moorage.domain.forwarding import ForwardedHeader


async def report(request: web.Request) -> web.Response:
    client = request[CLIENT_KEY]
    return web.json_response(
        {"url": str(request.url), "remote": request.remote, "client": str(client.address)}
    )


@pytest.fixture(params=list(ForwardedHeader), ids=str)
async def server(request: pytest.FixtureRequest) -> AsyncIterator[TestServer]:
    forwarding = Forwarding(ClientResolver(["127.0.0.1/32"], request.param))
    app = web.Application(middlewares=[forwarding.middleware])
    app.router.add_get("/{tail:.*}", report)
    async with TestServer(app, host="127.0.0.1") as test_server:
        test_server.header = request.param  # type: ignore[attr-defined]
        yield test_server


def said(header: ForwardedHeader, address: str, scheme: str) -> dict[str, str]:
    """What a proxy maintaining `header` sends for a client at `address` using `scheme`."""
    if header is ForwardedHeader.FORWARDED:
        return {"Forwarded": f"for={address};proto={scheme}"}
    return {header.value: address, "X-Forwarded-Proto": scheme}


async def get(server: TestServer, source: str, headers: dict[str, str]) -> aiohttp.ClientResponse:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        response = await session.get(server.make_url("/v2/x?n=1"), headers=headers)
        await response.read()
        return response


async def test_a_trusted_proxy_sets_the_scheme_and_the_remote(server: TestServer) -> None:
    header: ForwardedHeader = server.header  # type: ignore[attr-defined]
    response = await get(
        server, "127.0.0.1", {"Host": "r1.example", **said(header, "203.0.113.7", "https")}
    )
    seen = await response.json()
    assert seen == {
        "url": "https://r1.example/v2/x?n=1",
        "remote": "203.0.113.7",
        "client": "203.0.113.7",
    }


async def test_anyone_else_changes_nothing(server: TestServer) -> None:
    header: ForwardedHeader = server.header  # type: ignore[attr-defined]
    response = await get(
        server, "127.0.0.3", {"Host": "r1.example", **said(header, "203.0.113.7", "https")}
    )
    assert await response.json() == {
        "url": "http://r1.example/v2/x?n=1",
        "remote": "127.0.0.3",
        "client": "127.0.0.3",
    }


async def test_a_malformed_named_header_is_a_400_naming_it(server: TestServer) -> None:
    header: ForwardedHeader = server.header  # type: ignore[attr-defined]
    value = "for=unknown" if header is ForwardedHeader.FORWARDED else "unknown"
    response = await get(server, "127.0.0.1", {header.value: value})
    assert response.status == 400
    (error,) = (await response.json())["errors"]
    assert error["code"] == "FORWARDED_HEADER_INVALID"
    assert error["detail"] == {"header": header.value, "value": value, "proxy": "127.0.0.1"}
    assert "'unknown' is not an IP address" in error["message"]
