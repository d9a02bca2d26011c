"""GET /healthz and /readyz on the whole application, in-process on a real TCP port: they answer
on any host, before a registry's network rules, and /readyz names the part that is not reachable."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from moorage.app import REGISTRIES, create_app
from moorage.config import Settings
from moorage.domain.registry import PublicNetworkAccess, RegistryChanges
from moorage.health import CACHE_SECONDS


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(data_dir=tmp_path / "data", port=5999, database="", blob_store="")
    async with TestServer(create_app(settings), host="127.0.0.1") as test_server:
        yield test_server


async def get(server: TestServer, path: str, host: str | None = None) -> tuple[int, dict[str, str]]:
    headers = {"Host": host} if host else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url(path), headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_alive_and_ready(server: TestServer) -> None:
    assert await get(server, "/healthz") == (200, {"status": "alive"})
    assert await get(server, "/readyz") == (
        200,
        {"status": "ready", "database": "ok", "blobStore": "ok"},
    )


async def test_a_registry_refusing_everyone_does_not_take_the_replica_out(
    server: TestServer,
) -> None:
    registries = server.app[REGISTRIES]
    await registries.create("closed1")
    await registries.update(
        "closed1", RegistryChanges(public_network_access=PublicNetworkAccess.DISABLED)
    )
    host = "closed1.localhost:5999"
    status, body = await get(server, "/v2/", host)
    assert status == 403, body  # the registry's rules are in force on its host
    assert (await get(server, "/healthz", host))[0] == 200
    assert (await get(server, "/readyz", host))[0] == 200


async def test_not_ready_names_the_store_that_went_away(server: TestServer, tmp_path: Path) -> None:
    assert (await get(server, "/readyz"))[0] == 200
    shutil.rmtree(tmp_path / "data" / "blobs")
    await asyncio.sleep(CACHE_SECONDS + 0.1)
    status, body = await get(server, "/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert body["database"] == "ok"
    assert body["blobStore"].startswith(f"unreachable: {tmp_path / 'data'}")
    assert (await get(server, "/healthz"))[0] == 200  # alive all the same
