"""The /acr/v1 sub-application, mounted in a test app with a real store and blob driver."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from moorage.auth.callers import Caller, Unauthorized
from moorage.auth.dataplane import AUTHENTICATOR, Authenticator
from moorage.blobs.filesystem import FilesystemDriver
from moorage.distribution import acr
from moorage.distribution.acr import ACR_ROUTES, create_acr_app
from moorage.distribution.context import CONTENT, REGISTRY_KEY
from moorage.distribution.routes import create_v2_app
from moorage.distribution.service import RegistryContent
from moorage.domain.access import Permissions, parse_scope_map
from moorage.domain.digest import Digest
from moorage.domain.manifest import OCI_INDEX, OCI_MANIFEST
from moorage.domain.registry import Registry
from moorage.store.content import ContentStore
from moorage.store.database import Database
from moorage.store.listings import ContentListings
from moorage.store.registries import RegistryStore
from moorage.store.uploads import UploadStore

CALLERS = {
    "owner": Caller("admin", "owner", permissions=Permissions.everything()),
    "team-reader": Caller(
        "token",
        "team-reader",
        permissions=Permissions.of_scope_map(
            parse_scope_map(["repositories/team/*/metadata/read", "repositories/solo/content/read"])
        ),
    ),
}
CHANGEABLE = {"deleteEnabled": True, "writeEnabled": True, "readEnabled": True, "listEnabled": True}


class FakeAuthenticator:
    """Basic credentials name a caller of CALLERS; the password is not looked at."""

    async def login(self, registry: Registry, username: str, password: str, client: str) -> Caller:
        if username not in CALLERS:
            raise Unauthorized("incorrect username or password")
        return CALLERS[username]

    async def from_access_token(self, registry: Registry, token: str) -> Caller:
        raise Unauthorized("no tokens here")


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


OWNER = basic("owner")


class Env:
    def __init__(self, client: TestClient, service: RegistryContent, registry: Registry) -> None:
        self.client, self.service, self.registry = client, service, registry

    async def blob(self, repo: str, data: bytes) -> dict[str, Any]:
        digest = Digest.of(data)

        async def body() -> AsyncIterator[bytes]:
            yield data

        await self.service.monolithic(self.registry.id, repo, digest, body(), len(data))
        return {"digest": str(digest), "size": len(data)}

    async def image(
        self, repo: str, tag: str | None, arch: str = "amd64", seed: int = 0
    ) -> tuple[str, int]:
        """Push an image (config + one layer); returns its digest and its imageSize."""
        config = await self.blob(repo, json.dumps({"architecture": arch, "os": "linux"}).encode())
        layer = await self.blob(repo, f"layer {seed} {arch}".encode())
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
        }
        return await self.manifest(repo, tag, doc, config["size"] + layer["size"])

    async def manifest(
        self, repo: str, tag: str | None, doc: dict[str, Any], blobs: int = 0
    ) -> tuple[str, int]:
        payload = json.dumps(doc).encode()
        reference = tag or str(Digest.of(payload))
        digest, _ = await self.service.put_manifest(
            self.registry.id, repo, reference, payload, doc["mediaType"]
        )
        return str(digest), len(payload) + blobs

    async def get(self, path: str, user: str | None = "owner", **params: str) -> Any:
        headers = basic(user) if user else {}
        response = await self.client.get(f"/acr/v1/{path}", params=params, headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def error(self, method: str, path: str, status: int, code: str, **kw: Any) -> Any:
        kw.setdefault("headers", OWNER)
        response = await self.client.request(method, f"/acr/v1/{path}", **kw)
        assert response.status == status, await response.text()
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        [error] = (await response.json())["errors"]
        assert error["code"] == code
        return response, error


@pytest.fixture
async def env(db: Database, tmp_path: Path) -> AsyncIterator[Env]:
    registry = await RegistryStore(db, login_server_suffix="localhost:5000", location="x").create(
        "acrtest1"
    )
    service = RegistryContent(
        ContentStore(db),
        UploadStore(db),
        FilesystemDriver(tmp_path),
        listings=ContentListings(db),
        max_manifest_bytes=1 << 20,
    )

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        request[REGISTRY_KEY] = registry  # what the network gate does
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[gate])
    app[CONTENT] = service
    app[AUTHENTICATOR] = cast(Authenticator, FakeAuthenticator())
    app.add_subapp("/acr/v1", create_acr_app())
    app.add_subapp("/v2", create_v2_app())
    async with TestClient(TestServer(app)) as client:
        yield Env(client, service, registry)


def next_link(response: Any) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    assert link.startswith("<") and link.endswith('>; rel="next"'), link
    return str(link[1 : link.index(">")])


def is_time(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value) is not None


# -- repositories ---------------------------------------------------------------------------


async def test_catalog_pages_with_link(env: Env) -> None:
    names = ["a/b", "app", "team/one", "team/two", "zeta"]
    for name in names:
        await env.blob(name, name.encode())
    assert await env.get("_catalog") == {"repositories": names}
    seen, url, pages = [], "/acr/v1/_catalog?n=2", 0
    while url:
        response = await env.client.get(url, headers=OWNER)
        seen += (await response.json())["repositories"]
        link = next_link(response)
        if pages == 0:
            assert link == "/acr/v1/_catalog?last=app&n=2"
        url, pages = link or "", pages + 1
    assert (seen, pages) == (names, 3)
    assert await env.get("_catalog", last="app") == {"repositories": names[2:]}
    assert await env.get("_catalog", n="0") == {"repositories": []}


async def test_catalog_lists_what_the_caller_may_read(env: Env) -> None:
    for name in ["team/one", "team/two", "solo", "other"]:
        await env.blob(name, name.encode())
    # metadata_read on team/* only: solo (pull only) and other are left out
    team = {"repositories": ["team/one", "team/two"]}
    assert await env.get("_catalog", user="team-reader") == team
    response = await env.client.get("/v2/_catalog", headers=basic("team-reader"))
    assert (await response.json()) == team
    response = await env.client.get("/v2/_catalog", headers=OWNER)
    assert len((await response.json())["repositories"]) == 4


async def test_page_size_is_bounded(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(acr, "MAX_PAGE", 2)
    for tag in ["a", "b", "c"]:
        await env.image("app", tag)
    response = await env.client.get("/acr/v1/app/_tags?n=50", headers=OWNER)
    assert [t["name"] for t in (await response.json())["tags"]] == ["a", "b"]
    assert next_link(response) == "/acr/v1/app/_tags?last=b&n=2"


async def test_repository_properties(env: Env) -> None:
    await env.image("app", "v1")
    await env.image("app", "v2", arch="arm64")
    await env.client.delete("/acr/v1/app/_tags/v2", headers=OWNER)
    body = await env.get("app")
    assert is_time(body.pop("createdTime")) and is_time(body.pop("lastUpdateTime"))
    assert body == {
        "registry": env.registry.login_server,
        "imageName": "app",
        "manifestCount": 2,
        "tagCount": 1,
        "changeableAttributes": CHANGEABLE,
    }


async def test_repository_with_slashes_and_encoded_slashes(env: Env) -> None:
    await env.image("team/one/app", "v1")
    assert (await env.get("team/one/app"))["imageName"] == "team/one/app"
    assert (await env.get("team%2Fone%2Fapp"))["imageName"] == "team/one/app"  # the SDK's form
    [tag] = (await env.get("team%2Fone%2Fapp/_tags"))["tags"]
    assert tag["name"] == "v1"


async def test_delete_repository(env: Env) -> None:
    first, _ = await env.image("app", "v1")
    second, _ = await env.image("app", "v2", arch="arm64")
    empty = await env.blob("app", b"{}")
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", **empty}
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": []}
    await env.manifest("app", "latest", doc)
    await env.image("keep", "v1")
    response = await env.client.delete("/acr/v1/app", headers=OWNER)
    assert response.status == 202
    body = await response.json()
    assert body["tagsDeleted"] == ["latest", "v1", "v2"]
    assert {first, second} < set(body["manifestsDeleted"]) and len(body["manifestsDeleted"]) == 3
    await env.error("GET", "app", 404, "NAME_UNKNOWN")
    await env.error("DELETE", "app", 404, "NAME_UNKNOWN")
    assert await env.get("_catalog") == {"repositories": ["keep"]}
    # Blobs stay on disk (another repository may link them); the repository's links are gone.
    config = Digest.of(json.dumps({"architecture": "amd64", "os": "linux"}).encode())
    assert await env.service.driver.stat(str(config)) is not None
    assert await env.service.content.blob_size(env.registry.id, "app", str(config)) is None
    assert (await env.get("keep"))["manifestCount"] == 1


@pytest.mark.parametrize("path", ["nothere", "no/such/repo/_tags", "nothere/_manifests"])
async def test_unknown_repository(env: Env, path: str) -> None:
    _, error = await env.error("GET", path, 404, "NAME_UNKNOWN")
    assert "nothere" in error["message"] or "no/such/repo" in error["message"]


# -- tags -----------------------------------------------------------------------------------


async def test_tags(env: Env) -> None:
    digest, _ = await env.image("app", "v2")
    await env.image("app", "v1", arch="arm64")
    await env.manifest("app", "latest", json.loads(await _payload(env, "app", digest)))
    body = await env.get("app/_tags")
    assert (body["registry"], body["imageName"]) == (env.registry.login_server, "app")
    assert [t["name"] for t in body["tags"]] == ["latest", "v1", "v2"]
    latest = body["tags"][0]
    assert is_time(latest.pop("createdTime")) and is_time(latest.pop("lastUpdateTime"))
    assert latest == {
        "name": "latest",
        "digest": digest,
        "signed": False,
        "changeableAttributes": CHANGEABLE,
    }
    only = await env.get("app/_tags", digest=digest)
    assert [t["name"] for t in only["tags"]] == ["latest", "v2"]


async def test_tags_by_time_and_pages(env: Env) -> None:
    for tag in ["c", "a", "d", "b"]:  # pushed in this order
        await env.image("app", tag, seed=ord(tag))
    newest = await env.get("app/_tags", orderby="timedesc")
    assert [t["name"] for t in newest["tags"]] == ["b", "d", "a", "c"]
    oldest = await env.get("app/_tags", orderby="timeasc")
    assert [t["name"] for t in oldest["tags"]] == ["c", "a", "d", "b"]
    seen, url = [], "/acr/v1/app/_tags?n=3&orderby=timedesc"
    response = await env.client.get(url, headers=OWNER)
    seen += [t["name"] for t in (await response.json())["tags"]]
    assert next_link(response) == "/acr/v1/app/_tags?last=a&n=3&orderby=timedesc"
    response = await env.client.get(next_link(response) or "", headers=OWNER)
    seen += [t["name"] for t in (await response.json())["tags"]]
    assert "Link" not in response.headers
    assert seen == ["b", "d", "a", "c"]
    by_name = await env.get("app/_tags", n="2", last="a")
    assert [t["name"] for t in by_name["tags"]] == ["b", "c"]


async def test_tag_properties_and_delete(env: Env) -> None:
    digest, _ = await env.image("team/app", "v1")
    body = await env.get("team/app/_tags/v1")
    assert (body["registry"], body["imageName"]) == (env.registry.login_server, "team/app")
    assert (body["tag"]["name"], body["tag"]["digest"]) == ("v1", digest)
    assert (await env.client.delete("/acr/v1/team/app/_tags/v1", headers=OWNER)).status == 202
    await env.error("GET", "team/app/_tags/v1", 404, "MANIFEST_UNKNOWN")
    await env.error("DELETE", "team/app/_tags/v1", 404, "MANIFEST_UNKNOWN")
    await env.error("GET", "team/none/_tags/v1", 404, "NAME_UNKNOWN")
    # The manifest stays: deleting a tag is not deleting the image.
    assert (await env.get(f"team/app/_manifests/{digest}"))["manifest"]["tags"] == []


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("orderby=newest", 405, "UNSUPPORTED"),
        ("digest=sha256:abc", 400, "DIGEST_INVALID"),
        ("n=-1", 400, "PAGINATION_NUMBER_INVALID"),
    ],
)
async def test_tag_listing_parameters(env: Env, query: str, status: int, code: str) -> None:
    await env.image("app", "v1")
    await env.error("GET", f"app/_tags?{query}", status, code)


# -- manifests ------------------------------------------------------------------------------


async def test_manifests(env: Env) -> None:
    amd, amd_size = await env.image("app", "v1")
    arm, arm_size = await env.image("app", None, arch="arm64")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": d, "size": 1, "platform": p}
            for d, p in [
                (amd, {"architecture": "amd64", "os": "linux"}),
                (arm, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
            ]
        ],
    }
    listed, listed_size = await env.manifest("app", "multi", index)
    body = await env.get("app/_manifests")
    assert (body["registry"], body["imageName"]) == (env.registry.login_server, "app")
    found = {m["digest"]: m for m in body["manifests"]}
    assert [m["digest"] for m in body["manifests"]] == sorted(found)
    for m in found.values():
        assert is_time(m.pop("createdTime")) and is_time(m.pop("lastUpdateTime"))
    assert found[amd] == {
        "digest": amd,
        "imageSize": amd_size,
        "mediaType": OCI_MANIFEST,
        "configMediaType": "application/vnd.oci.image.config.v1+json",
        "architecture": "amd64",
        "os": "linux",
        "tags": ["v1"],
        "changeableAttributes": CHANGEABLE,
    }
    assert (found[arm]["architecture"], found[arm]["tags"], found[arm]["imageSize"]) == (
        "arm64",
        [],
        arm_size,
    )
    assert found[listed] == {
        "digest": listed,
        "imageSize": listed_size,
        "mediaType": OCI_INDEX,
        "references": [
            {"digest": amd, "architecture": "amd64", "os": "linux"},
            {"digest": arm, "architecture": "arm64", "os": "linux"},
        ],
        "tags": ["multi"],
        "changeableAttributes": CHANGEABLE,
    }
    one = await env.get(f"app/_manifests/{amd}")
    assert one["manifest"]["digest"] == amd and one["manifest"]["architecture"] == "amd64"
    assert one["imageName"] == "app"
    assert (await env.get("app/_manifests/multi"))["manifest"]["digest"] == listed


async def test_large_manifest_is_listed_without_platform(env: Env) -> None:
    config = await env.blob("app", json.dumps({"architecture": "amd64", "os": "linux"}).encode())
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [],
        "annotations": {"big": "x" * 300_000},  # over the store's LISTED_PAYLOAD_BYTES
    }
    digest, size = await env.manifest("app", "big", doc, config["size"])
    [found] = (await env.get("app/_manifests"))["manifests"]
    assert (found["digest"], found["imageSize"], found["tags"]) == (digest, size, ["big"])
    assert "architecture" not in found and "configMediaType" not in found


async def test_manifests_by_time_and_pages(env: Env) -> None:
    pushed = [(await env.image("app", None, seed=i))[0] for i in range(5)]
    newest = await env.get("app/_manifests", orderby="timedesc")
    assert [m["digest"] for m in newest["manifests"]] == pushed[::-1]
    seen, url = [], "/acr/v1/app/_manifests?n=2&orderby=timeasc"
    while url:
        response = await env.client.get(url, headers=OWNER)
        seen += [m["digest"] for m in (await response.json())["manifests"]]
        url = next_link(response) or ""
    assert seen == pushed


async def test_unknown_manifest(env: Env) -> None:
    await env.image("app", "v1")
    missing = str(Digest.of(b"nothing"))
    await env.error("GET", f"app/_manifests/{missing}", 404, "MANIFEST_UNKNOWN")
    await env.error("GET", "app/_manifests/sha256:abc", 400, "DIGEST_INVALID")
    await env.error("GET", f"none/_manifests/{missing}", 404, "NAME_UNKNOWN")


# -- changeable attributes ------------------------------------------------------------------


async def test_patch_that_changes_nothing_answers_the_properties(env: Env) -> None:
    digest, _ = await env.image("app", "v1")
    for path in ["app", "app/_tags/v1", f"app/_manifests/{digest}"]:
        response = await env.client.patch(f"/acr/v1/{path}", json=CHANGEABLE, headers=OWNER)
        assert response.status == 200, await response.text()
        assert (await response.json()) == await env.get(path)


@pytest.mark.parametrize("path", ["app", "app/_tags/v1", "app/_manifests/v1"])
async def test_patch_that_locks_is_unsupported(env: Env, path: str) -> None:
    await env.image("app", "v1")
    _, error = await env.error("PATCH", path, 405, "UNSUPPORTED", json={"writeEnabled": False})
    assert "locks" in error["message"]
    await env.error("PATCH", path.replace("app", "none", 1), 404, "NAME_UNKNOWN", json={})


# -- routes and authorization ---------------------------------------------------------------


async def test_underscore_segments_are_routes_not_repositories(env: Env) -> None:
    await env.image("a", "v1")
    await env.image("a/tags", "v1", seed=1)
    assert [t["name"] for t in (await env.get("a/_tags"))["tags"]] == ["v1"]
    assert (await env.get("a/tags"))["imageName"] == "a/tags"
    assert (await env.get("a/tags/_tags/v1"))["imageName"] == "a/tags"
    for path in ["a/_other", "a/_tags/v1/x", "_x"]:
        await env.error("GET", path, 404, "UNSUPPORTED")


async def test_needs_credentials(env: Env) -> None:
    response, error = await env.error("GET", "app/_tags", 401, "UNAUTHORIZED", headers={})
    assert 'scope="repository:app:metadata_read"' in response.headers["WWW-Authenticate"]
    assert error["detail"] == [{"Type": "repository", "Name": "app", "Action": "metadata_read"}]
    response, _ = await env.error("GET", "_catalog", 401, "UNAUTHORIZED", headers={})
    assert 'scope="registry:catalog:*"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("DELETE", "team/app", "delete"),
        ("DELETE", "team/app/_tags/v1", "delete"),
        ("PATCH", "team/app", "metadata_write"),
        ("GET", "solo/_tags", "metadata_read"),
    ],
)
async def test_needs_the_routes_action(env: Env, method: str, path: str, action: str) -> None:
    await env.image("team/app", "v1")
    response, _ = await env.error(
        method, path, 401, "UNAUTHORIZED", headers=basic("team-reader"), json={}
    )
    assert f':{action}",error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert (await env.get("team/app", user="team-reader"))["tagCount"] == 1


def test_every_route_declares_what_it_needs() -> None:
    assert all(need for _, _, _, need in ACR_ROUTES)
    assert len({(method, path) for method, path, _, _ in ACR_ROUTES}) == len(ACR_ROUTES)


async def _payload(env: Env, repo: str, digest: str) -> bytes:
    found = await env.service.content.manifest(env.registry.id, repo, digest)
    assert found is not None
    return found.payload
