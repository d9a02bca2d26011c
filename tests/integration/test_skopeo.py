"""skopeo against the real server: images, indexes and Docker formats go in and come out intact."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.containers import Tools, describe, isolated_tools, ok, read_layout
from tests.support.management import Management
from tests.support.oci import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    image_layout,
    index_layout,
    make_image,
    sha256,
)
from tests.support.registry_http import owner_auth
from tests.support.server import Server
from tests.support.tools import require

ACCEPT_ALL = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


@pytest.fixture
def tools(tmp_path: Path, shared_server: Server) -> Iterator[Tools]:
    with isolated_tools(tmp_path / "tools", "skopeo") as t:
        t.sign_in(shared_server.address, *owner_auth(shared_server))
        yield t


@pytest.fixture
def http(shared_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=shared_server.url, trust_env=False, timeout=30, auth=owner_auth(shared_server)
    ) as client:
        yield client


def push(tools: Tools, source: str, dest: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return ok(tools.skopeo("copy", "--dest-tls-verify=false", *extra, source, dest))


def pull(tools: Tools, source: str, dest: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return ok(tools.skopeo("copy", "--src-tls-verify=false", *extra, source, dest))


def raw_manifest(tools: Tools, ref: str) -> bytes:
    return ok(tools.skopeo("inspect", "--tls-verify=false", "--raw", ref)).stdout


def assert_same_blobs(got: dict[str, bytes], expected: list[bytes], where: str) -> None:
    want = {sha256(b): b for b in expected}
    assert set(got) == set(want), (
        f"{where}: blobs differ: extra {set(got) - set(want)}, missing {set(want) - set(got)}"
    )
    for digest, data in want.items():
        assert got[digest] == data, f"{where}: blob {digest} has different bytes"
        assert sha256(got[digest]) == digest


def manifest_status(http: httpx.Client, repo: str, reference: str) -> int:
    response = http.head(f"/v2/{repo}/manifests/{reference}", headers={"Accept": ACCEPT_ALL})
    return response.status_code


def test_image_round_trip_keeps_every_digest(
    shared_server: Server, tools: Tools, tmp_path: Path, http: httpx.Client
) -> None:
    image = make_image(seed=1, layers=4, layer_bytes=256 * 1024)
    source = image_layout(tmp_path / "src", image, "v1")
    ref = f"docker://{shared_server.address}/skopeo/basic:v1"

    push(tools, f"oci:{source}:v1", ref, "--preserve-digests")
    pull(tools, ref, f"oci:{tmp_path / 'out'}:v1", "--preserve-digests")

    top, blobs = read_layout(tmp_path / "out")
    assert top == image.digest, "the pulled manifest digest differs from the pushed one"
    assert_same_blobs(blobs, [image.manifest, *image.blobs()], "pulled layout")

    assert raw_manifest(tools, ref) == image.manifest
    by_digest = f"docker://{shared_server.address}/skopeo/basic@{image.digest}"
    assert raw_manifest(tools, by_digest) == image.manifest

    inspected = json.loads(ok(tools.skopeo("inspect", "--tls-verify=false", ref)).stdout)
    assert inspected["Digest"] == image.digest
    assert inspected["Architecture"] == "amd64"
    assert inspected["Os"] == "linux"
    assert inspected["Labels"] == {"seed": "1"}
    assert inspected["Layers"] == [sha256(layer) for layer in image.layers]
    assert "v1" in inspected["RepoTags"]

    config = ok(tools.skopeo("inspect", "--tls-verify=false", "--config", "--raw", ref)).stdout
    assert config == image.config

    response = http.get("/v2/skopeo/basic/manifests/v1", headers={"Accept": ACCEPT_ALL})
    assert response.status_code == 200, response.text
    assert response.content == image.manifest
    assert response.headers["Docker-Content-Digest"] == image.digest


def test_multi_arch_index_round_trip(shared_server: Server, tools: Tools, tmp_path: Path) -> None:
    images = [
        make_image(seed=20 + i, layers=2, layer_bytes=64 * 1024, arch=arch)
        for i, arch in enumerate(["amd64", "arm64", "s390x"])
    ]
    source, index = index_layout(tmp_path / "src", images, "multi")
    base = f"docker://{shared_server.address}/skopeo/multi"

    push(tools, f"oci:{source}:multi", f"{base}:v1", "--all", "--preserve-digests")
    pull(tools, f"{base}:v1", f"oci:{tmp_path / 'out'}:v1", "--all", "--preserve-digests")

    top, blobs = read_layout(tmp_path / "out")
    assert top == sha256(index), "the pulled index digest differs from the pushed one"
    expected = [index]
    for image in images:
        expected += [image.manifest, *image.blobs()]
    assert_same_blobs(blobs, expected, "pulled layout")

    assert raw_manifest(tools, f"{base}:v1") == index
    for image in images:
        assert raw_manifest(tools, f"{base}@{image.digest}") == image.manifest

    # Without --all, skopeo picks one platform from the index the registry serves.
    pull(tools, f"{base}:v1", f"oci:{tmp_path / 'arm'}:v1", "--override-arch", "arm64")
    top, blobs = read_layout(tmp_path / "arm")
    assert top == images[1].digest
    assert_same_blobs(blobs, [images[1].manifest, *images[1].blobs()], "arm64 pull")


def test_docker_schema2_round_trip(
    shared_server: Server, tools: Tools, tmp_path: Path, http: httpx.Client
) -> None:
    image = make_image(seed=3, layers=3, layer_bytes=128 * 1024)
    source = image_layout(tmp_path / "src", image, "v1")
    ref = f"docker://{shared_server.address}/skopeo/docker:v1"

    push(tools, f"oci:{source}:v1", ref, "--format", "v2s2")

    raw = raw_manifest(tools, ref)
    manifest = json.loads(raw)
    assert manifest["mediaType"] == DOCKER_MANIFEST, raw
    assert manifest["config"]["mediaType"] == DOCKER_CONFIG
    assert manifest["config"]["digest"] == sha256(image.config), "skopeo kept the config bytes"
    assert [layer["digest"] for layer in manifest["layers"]] == [sha256(x) for x in image.layers]
    assert {layer["mediaType"] for layer in manifest["layers"]} == {DOCKER_LAYER}

    head = http.head("/v2/skopeo/docker/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert head.status_code == 200
    assert head.headers["Content-Type"] == DOCKER_MANIFEST
    assert head.headers["Docker-Content-Digest"] == sha256(raw)
    assert int(head.headers["Content-Length"]) == len(raw)

    # dir: keeps the manifest as served; every blob comes back byte for byte.
    pull(tools, ref, f"dir:{tmp_path / 'dir'}", "--preserve-digests")
    assert (tmp_path / "dir" / "manifest.json").read_bytes() == raw
    for blob in image.blobs():
        stored = tmp_path / "dir" / sha256(blob).split(":")[1]
        assert stored.read_bytes() == blob, f"blob {sha256(blob)} differs after the round trip"

    # And back to OCI: skopeo converts manifest and config; the layers stay the same bytes.
    pull(tools, ref, f"oci:{tmp_path / 'oci'}:v1", "--format", "oci")
    top, blobs = read_layout(tmp_path / "oci")
    converted = json.loads(blobs[top])
    for layer in image.layers:
        assert blobs.get(sha256(layer)) == layer
    config = json.loads(blobs[converted["config"]["digest"]])
    assert config["rootfs"] == json.loads(image.config)["rootfs"]
    assert config["architecture"] == "amd64"


def test_docker_manifest_list_round_trip(
    shared_server: Server, tools: Tools, tmp_path: Path, http: httpx.Client
) -> None:
    images = [
        make_image(seed=30 + i, layers=2, layer_bytes=32 * 1024, arch=arch)
        for i, arch in enumerate(["amd64", "arm64"])
    ]
    source, _ = index_layout(tmp_path / "src", images, "multi")
    base = f"docker://{shared_server.address}/skopeo/dockerlist"

    # skopeo 1.9 turns an OCI index into a Docker manifest list under --format v2s2 --all.
    push(tools, f"oci:{source}:multi", f"{base}:v1", "--all", "--format", "v2s2")

    raw = raw_manifest(tools, f"{base}:v1")
    listing = json.loads(raw)
    assert listing["mediaType"] == DOCKER_LIST, raw
    assert [m["platform"]["architecture"] for m in listing["manifests"]] == ["amd64", "arm64"]
    head = http.head("/v2/skopeo/dockerlist/manifests/v1", headers={"Accept": DOCKER_LIST})
    assert head.status_code == 200
    assert head.headers["Content-Type"] == DOCKER_LIST
    assert head.headers["Docker-Content-Digest"] == sha256(raw)

    children: dict[str, bytes] = {}
    for entry, image in zip(listing["manifests"], images, strict=True):
        assert entry["mediaType"] == DOCKER_MANIFEST
        child = raw_manifest(tools, f"{base}@{entry['digest']}")
        assert sha256(child) == entry["digest"] and len(child) == entry["size"]
        assert json.loads(child)["config"]["digest"] == sha256(image.config)
        children[entry["digest"]] = child

    pull(tools, f"{base}:v1", f"dir:{tmp_path / 'dir'}", "--all", "--preserve-digests")
    assert (tmp_path / "dir" / "manifest.json").read_bytes() == raw
    for digest, child in children.items():
        stored = tmp_path / "dir" / f"{digest.split(':')[1]}.manifest.json"
        assert stored.read_bytes() == child
    for image in images:
        for blob in image.blobs():
            assert (tmp_path / "dir" / sha256(blob).split(":")[1]).read_bytes() == blob


def test_list_tags_and_delete_by_digest(
    shared_server: Server, tools: Tools, tmp_path: Path, http: httpx.Client
) -> None:
    first = make_image(seed=4, layers=2, layer_bytes=16 * 1024)
    second = make_image(seed=5, layers=2, layer_bytes=16 * 1024)
    image_layout(tmp_path / "first", first, "src")
    image_layout(tmp_path / "second", second, "src")
    repo = "skopeo/tags"
    base = f"docker://{shared_server.address}/{repo}"
    for tag in ("a", "b", "c"):
        push(tools, f"oci:{tmp_path / 'first'}:src", f"{base}:{tag}")
    push(tools, f"oci:{tmp_path / 'second'}:src", f"{base}:d")

    listed = json.loads(ok(tools.skopeo("list-tags", "--tls-verify=false", base)).stdout)
    assert sorted(listed["Tags"]) == ["a", "b", "c", "d"], listed

    ok(tools.skopeo("delete", "--tls-verify=false", f"{base}@{first.digest}"))

    assert manifest_status(http, repo, first.digest) == 404
    for tag in ("a", "b", "c"):
        assert manifest_status(http, repo, tag) == 404, f"tag {tag} outlived its manifest"
    assert manifest_status(http, repo, "d") == 200
    assert manifest_status(http, repo, second.digest) == 200
    listed = json.loads(ok(tools.skopeo("list-tags", "--tls-verify=false", base)).stdout)
    assert listed["Tags"] == ["d"], listed

    gone = tools.skopeo("inspect", "--tls-verify=false", "--raw", f"{base}@{first.digest}")
    assert gone.returncode != 0, describe(gone)
    assert b"manifest unknown" in gone.stderr, describe(gone)
    assert raw_manifest(tools, f"{base}:d") == second.manifest


def test_second_repository_mounts_and_survives_delete(
    shared_server: Server, tools: Tools, tmp_path: Path, http: httpx.Client
) -> None:
    image = make_image(seed=6, layers=3, layer_bytes=64 * 1024)
    source = f"oci:{image_layout(tmp_path / 'src', image, 'v1')}:v1"
    one = f"docker://{shared_server.address}/skopeo/mount-one"
    two = f"docker://{shared_server.address}/skopeo/mount-two"

    push(tools, source, f"{one}:v1")
    # The blob-info cache now knows mount-one holds the layers: skopeo mounts them instead of
    # uploading (it always uploads the config, which it does not look up in that cache).
    second = push(tools, source, f"{two}:v1", "--debug")
    mounted = second.stderr.count(b"mount OK")
    assert mounted == len(image.layers), (
        f"expected {len(image.layers)} cross-repository mounts, saw {mounted}\n" + describe(second)
    )
    push(tools, source, f"{one}:v2")  # a second tag: every blob already there

    listed = json.loads(ok(tools.skopeo("list-tags", "--tls-verify=false", one)).stdout)
    assert sorted(listed["Tags"]) == ["v1", "v2"]

    ok(tools.skopeo("delete", "--tls-verify=false", f"{one}@{image.digest}"))
    assert manifest_status(http, "skopeo/mount-one", image.digest) == 404
    assert manifest_status(http, "skopeo/mount-one", "v2") == 404

    pull(tools, f"{two}:v1", f"oci:{tmp_path / 'out'}:v1", "--preserve-digests")
    top, blobs = read_layout(tmp_path / "out")
    assert top == image.digest
    assert_same_blobs(blobs, [image.manifest, *image.blobs()], "mount-two after the delete")
    layer = http.get(f"/v2/skopeo/mount-two/blobs/{sha256(image.layers[0])}")
    assert layer.status_code == 200
    assert gzip.decompress(layer.content)  # a real gzip stream, served whole


def test_other_registry_is_isolated_from_the_default(shared_server: Server, tmp_path: Path) -> None:
    require("skopeo")
    name = "isolatedone"
    management = Management(shared_server)
    created = management.create(name)
    management.close()
    login_server = f"{name}.localhost:{shared_server.port}"
    assert created["properties"]["loginServer"] == login_server

    with Tools(tmp_path / "tools", hosts={f"{name}.localhost": "127.0.0.1"}) as tools:
        tools.sign_in(login_server, *owner_auth(shared_server))
        tools.sign_in(shared_server.address, *owner_auth(shared_server))
        _check_isolation(tools, shared_server, name, tmp_path)


def _check_isolation(tools: Tools, shared_server: Server, name: str, tmp_path: Path) -> None:
    login_server = f"{name}.localhost:{shared_server.port}"
    mine = make_image(seed=7, layers=2, layer_bytes=32 * 1024)
    theirs = make_image(seed=8, layers=2, layer_bytes=32 * 1024)
    image_layout(tmp_path / "mine", mine, "v1")
    image_layout(tmp_path / "theirs", theirs, "v1")
    named = f"docker://{login_server}/iso/app"
    default = f"docker://{shared_server.address}/iso/app"

    push(tools, f"oci:{tmp_path / 'mine'}:v1", f"{named}:v1")
    # Nothing of it in the default registry, not even the repository.
    missing = tools.skopeo("list-tags", "--tls-verify=false", default)
    assert missing.returncode != 0, describe(missing)
    assert b"404" in missing.stderr, describe(missing)  # skopeo shows only the status here
    missing = tools.skopeo("inspect", "--tls-verify=false", "--raw", f"{default}@{mine.digest}")
    assert missing.returncode != 0, describe(missing)
    assert b"manifest unknown" in missing.stderr, describe(missing)

    push(tools, f"oci:{tmp_path / 'theirs'}:v1", f"{default}:v1")
    assert raw_manifest(tools, f"{named}:v1") == mine.manifest
    assert raw_manifest(tools, f"{default}:v1") == theirs.manifest
    missing = tools.skopeo("inspect", "--tls-verify=false", "--raw", f"{named}@{theirs.digest}")
    assert missing.returncode != 0, describe(missing)
    assert b"manifest unknown" in missing.stderr, describe(missing)
    missing = tools.skopeo("inspect", "--tls-verify=false", "--raw", f"{default}@{mine.digest}")
    assert missing.returncode != 0, describe(missing)
    assert b"manifest unknown" in missing.stderr, describe(missing)

    # The same checks over raw HTTP, naming the registry by the Host header only.
    with httpx.Client(
        base_url=shared_server.url, trust_env=False, timeout=30, auth=owner_auth(shared_server)
    ) as http:
        as_named = {"Host": login_server, "Accept": ACCEPT_ALL}
        as_default = {"Accept": ACCEPT_ALL}
        for digest, headers, status in [
            (mine.digest, as_named, 200),
            (mine.digest, as_default, 404),
            (theirs.digest, as_named, 404),
            (theirs.digest, as_default, 200),
        ]:
            got = http.head(f"/v2/iso/app/manifests/{digest}", headers=headers).status_code
            assert got == status, f"HEAD {digest} with {headers}: {got}, expected {status}"
        for blob in mine.blobs():
            assert http.head(f"/v2/iso/app/blobs/{sha256(blob)}").status_code == 404
            assert (
                http.head(
                    f"/v2/iso/app/blobs/{sha256(blob)}", headers={"Host": login_server}
                ).status_code
                == 200
            )
        # A mount into the default registry cannot reach the other registry's blobs.
        mount = http.post(f"/v2/iso/app/blobs/uploads/?mount={sha256(mine.layers[0])}&from=iso/app")
        assert mount.status_code == 202, f"mount across registries: {mount.status_code}"
        http.delete(mount.headers["Location"])
        catalog = http.get("/v2/_catalog", headers={"Host": login_server}).json()
        assert catalog["repositories"] == ["iso/app"], catalog
