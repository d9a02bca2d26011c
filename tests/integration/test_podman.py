"""podman pulls what skopeo pushed and pushes it back; skopeo checks what podman pushed.

podman runs headless as root with its own storage (vfs), containers.conf and blob-info cache.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.containers import Tools, isolated_tools, ok, read_layout
from tests.support.oci import DOCKER_MANIFEST, OCI_MANIFEST, image_layout, make_image, sha256
from tests.support.registry_http import owner_auth
from tests.support.server import Server


@pytest.fixture
def tools(tmp_path: Path, server: Server) -> Iterator[Tools]:
    with isolated_tools(tmp_path / "tools", "skopeo", "podman") as t:
        t.sign_in(server.address, *owner_auth(server))
        yield t


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, trust_env=False, timeout=30, auth=owner_auth(server)
    ) as client:
        yield client


def check_pushed(
    tools: Tools,
    http: httpx.Client,
    server: Server,
    repo: str,
    tag: str,
    config: bytes,
    tmp_path: Path,
) -> dict[str, object]:
    """What podman pushed is a whole image with the source's config and the same diff_ids."""
    ref = f"docker://{server.address}/{repo}:{tag}"
    raw = ok(tools.skopeo("inspect", "--tls-verify=false", "--raw", ref)).stdout
    manifest: dict[str, object] = json.loads(raw)
    assert manifest["config"]["digest"] == sha256(config), raw  # type: ignore[index]
    pushed_config = ok(
        tools.skopeo("inspect", "--tls-verify=false", "--config", "--raw", ref)
    ).stdout
    assert pushed_config == config, "podman changed the image config"
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    layers = manifest["layers"]
    assert isinstance(layers, list) and len(layers) == len(diff_ids)
    for layer, diff_id in zip(layers, diff_ids, strict=True):
        blob = http.get(f"/v2/{repo}/blobs/{layer['digest']}")
        assert blob.status_code == 200, f"{layer['digest']}: {blob.status_code}"
        assert sha256(blob.content) == layer["digest"]
        assert len(blob.content) == layer["size"]
        assert sha256(gzip.decompress(blob.content)) == diff_id, "layer content changed"
    # skopeo verifies every digest as it copies out.
    out = tmp_path / f"out-{repo.replace('/', '-')}-{tag}"
    ok(tools.skopeo("copy", "--src-tls-verify=false", "--preserve-digests", ref, f"oci:{out}:x"))
    top, blobs = read_layout(out)
    assert top == sha256(raw)
    assert blobs[sha256(config)] == config
    assert {layer["digest"] for layer in layers} <= set(blobs)
    return manifest


def test_podman_pull_push_round_trip(
    server: Server, tools: Tools, http: httpx.Client, tmp_path: Path
) -> None:
    image = make_image(seed=40, layers=3, layer_bytes=256 * 1024)
    layout = image_layout(tmp_path / "src", image, "v1")
    source = f"{server.address}/podman/source:v1"
    ok(tools.skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{source}"))

    ok(tools.podman("pull", "--tls-verify=false", source))
    inspected = json.loads(ok(tools.podman("image", "inspect", source)).stdout)[0]
    assert inspected["Id"] == sha256(image.config).split(":")[1]
    assert inspected["RootFS"]["Layers"] == json.loads(image.config)["rootfs"]["diff_ids"]
    assert inspected["Digest"] == image.digest

    # A fresh blob-info cache: podman knows no compressed copy of its layers at the registry, so
    # it compresses them again and uploads them (POST, PATCH, PUT) rather than mounting.
    fresh = tools.fresh_cache("push")
    pushed = f"{server.address}/podman/pushed:v2"
    ok(tools.podman("tag", source, pushed))
    ok(tools.podman("push", "--tls-verify=false", pushed, cache=fresh))
    manifest = check_pushed(tools, http, server, "podman/pushed", "v2", image.config, tmp_path)
    assert manifest["mediaType"] == OCI_MANIFEST
    recompressed = {layer["digest"] for layer in manifest["layers"]}  # type: ignore[attr-defined]
    assert recompressed.isdisjoint(sha256(x) for x in image.layers), (
        "expected podman to upload re-compressed layers, but it reused the source's"
    )

    # Docker schema 2 from podman, to yet another repository.
    docker = f"{server.address}/podman/docker:v1"
    ok(tools.podman("tag", source, docker))
    ok(tools.podman("push", "--tls-verify=false", "--format", "v2s2", docker))
    manifest = check_pushed(tools, http, server, "podman/docker", "v1", image.config, tmp_path)
    assert manifest["mediaType"] == DOCKER_MANIFEST

    # podman pulls its own push back into a second, empty storage.
    with Tools(tmp_path / "tools2") as other:
        other.sign_in(server.address, *owner_auth(server))
        ok(other.podman("pull", "--tls-verify=false", pushed))
        again = json.loads(ok(other.podman("image", "inspect", pushed)).stdout)[0]
    assert again["Id"] == inspected["Id"]
    assert again["RootFS"]["Layers"] == inspected["RootFS"]["Layers"]


def test_podman_push_mounts_from_the_pulled_repository(
    server: Server, tools: Tools, http: httpx.Client, tmp_path: Path
) -> None:
    """With the cache of its pull, podman pushes by cross-repository mount: same layer bytes."""
    image = make_image(seed=41, layers=2, layer_bytes=128 * 1024)
    layout = image_layout(tmp_path / "src", image, "v1")
    source = f"{server.address}/podman/origin:v1"
    ok(tools.skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{source}"))
    ok(tools.podman("pull", "--tls-verify=false", source))
    mounted = f"{server.address}/podman/mounted:v1"
    ok(tools.podman("tag", source, mounted))
    ok(tools.podman("push", "--tls-verify=false", mounted))
    manifest = check_pushed(tools, http, server, "podman/mounted", "v1", image.config, tmp_path)
    layers = [layer["digest"] for layer in manifest["layers"]]  # type: ignore[attr-defined]
    assert layers == [sha256(x) for x in image.layers]
