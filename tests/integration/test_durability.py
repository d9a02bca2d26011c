"""Crashes, restarts, races and deletes against the real server process, over raw HTTP."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import random
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.oci import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    descriptor,
    make_image,
    make_index,
    sha256,
)
from tests.support.registry_http import owner_auth, owner_authorization
from tests.support.server import Server

ACCEPT = f"{OCI_MANIFEST}, {OCI_INDEX}"
MiB = 1 << 20


@contextlib.contextmanager
def client(server: Server) -> Iterator[httpx.Client]:
    """A new client per server life: pooled connections do not outlive a restart."""
    with httpx.Client(
        base_url=server.url, trust_env=False, timeout=30, auth=owner_auth(server)
    ) as c:
        yield c


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def shown(response: httpx.Response) -> str:
    return (
        f"{response.request.method} {response.request.url} -> {response.status_code} "
        f"{response.headers} {response.text[:500]}"
    )


def push_blob(http: httpx.Client, repo: str, data: bytes) -> None:
    r = http.post(
        f"/v2/{repo}/blobs/uploads/",
        params={"digest": sha256(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, shown(r)
    assert r.headers["Docker-Content-Digest"] == sha256(data)


def push_chunked(http: httpx.Client, repo: str, data: bytes, chunk: int) -> None:
    r = http.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, shown(r)
    location = r.headers["Location"]
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        r = http.patch(
            location,
            content=part,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{start}-{start + len(part) - 1}",
            },
        )
        assert r.status_code == 202, shown(r)
        location = r.headers["Location"]
    r = http.put(location, params={"digest": sha256(data)})
    assert r.status_code == 201, shown(r)


def put_manifest(http: httpx.Client, repo: str, reference: str, payload: bytes, kind: str) -> None:
    r = http.put(
        f"/v2/{repo}/manifests/{reference}", content=payload, headers={"Content-Type": kind}
    )
    assert r.status_code == 201, shown(r)
    assert r.headers["Docker-Content-Digest"] == sha256(payload)


def push_image(http: httpx.Client, repo: str, image: Image, tag: str | None = None) -> None:
    for blob in image.blobs():
        push_blob(http, repo, blob)
    put_manifest(http, repo, tag or image.digest, image.manifest, OCI_MANIFEST)


def assert_pullable(http: httpx.Client, repo: str, image: Image, tag: str | None = None) -> None:
    """Manifest by digest (and tag) and every blob come back with identical bytes."""
    for reference in [image.digest, *([tag] if tag else [])]:
        r = http.get(f"/v2/{repo}/manifests/{reference}", headers={"Accept": ACCEPT})
        assert r.status_code == 200, shown(r)
        assert r.content == image.manifest, f"{repo}:{reference} manifest bytes differ"
        assert r.headers["Docker-Content-Digest"] == image.digest
        assert r.headers["Content-Type"] == OCI_MANIFEST
    for blob in image.blobs():
        r = http.get(f"/v2/{repo}/blobs/{sha256(blob)}")
        assert r.status_code == 200, shown(r)
        assert r.content == blob, f"{repo} blob {sha256(blob)} bytes differ"


def blob_path(server: Server, data: bytes) -> Path:
    hex_digest = sha256(data).split(":")[1]
    return server.data_dir / "blobs" / "sha256" / hex_digest[:2] / hex_digest


def blob_files(server: Server) -> list[Path]:
    return sorted(p for p in (server.data_dir / "blobs").rglob("*") if p.is_file())


def upload_files(server: Server) -> list[str]:
    return sorted(p.name for p in (server.data_dir / "uploads").iterdir())


def integrity_check(server: Server) -> None:
    with contextlib.closing(sqlite3.connect(server.data_dir / "moorage.db")) as db:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    assert rows == [("ok",)], f"moorage.db integrity_check: {rows}"


def image_with_layers(layers: list[bytes], label: str) -> Image:
    """An image over the given gzip layers (so two images can share one)."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"image": label}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(gzip.decompress(g)) for g in layers]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER_GZIP, g) for g in layers],
        }
    ).encode()
    return Image(manifest, config, layers)


# -- 1. SIGKILL in the middle of an upload ------------------------------------------------------


def test_sigkill_mid_upload_leaves_a_consistent_registry(server: Server) -> None:
    repo = "durable/killed"
    blob = random_bytes(1, 3 * MiB)
    digest = sha256(blob)
    half = len(blob) // 2
    with client(server) as http:
        r = http.post(f"/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202, shown(r)
        location = urlsplit(r.headers["Location"]).path
    upload_file = server.data_dir / "uploads" / location.rsplit("/", 1)[1]

    # Half of a PATCH body on a raw socket; the server is killed while it waits for the rest.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {server.address}\r\n"
            f"Authorization: {owner_authorization(server)}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {len(blob)}\r\nContent-Range: 0-{len(blob) - 1}\r\n\r\n"
        )
        sock.sendall(head.encode() + blob[:half])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until some of it reached the disk, if it does
            if upload_file.exists() and upload_file.stat().st_size >= MiB:
                break
            time.sleep(0.02)
        server.kill()
    integrity_check(server)  # the state a crash leaves, before anything repairs it

    server.start()
    with client(server) as http:
        r = http.head(f"/v2/{repo}/blobs/{digest}")
        assert r.status_code == 404, f"a half-sent blob is visible: {shown(r)}"

        status = http.get(location)
        assert status.status_code in (204, 404), shown(status)
        stored: int | None = None
        if status.status_code == 204:
            end = int(status.headers["Range"].split("-")[1])
            stored = end + 1 if end else 0
            assert stored <= half, f"upload claims {stored} bytes; only {half} were sent"

        push_blob(http, repo, blob)  # a fresh push of the same blob
        r = http.get(f"/v2/{repo}/blobs/{digest}")
        assert r.status_code == 200, shown(r)
        assert r.content == blob

        if stored is not None:  # the interrupted upload resumes where the server says it stands
            r = http.patch(
                location,
                content=blob[stored:],
                headers={
                    "Content-Range": f"{stored}-{len(blob) - 1}",
                    "Content-Type": "application/octet-stream",
                },
            )
            assert r.status_code == 202, shown(r)
            r = http.put(location, params={"digest": digest})
            assert r.status_code == 201, shown(r)
            r = http.get(f"/v2/{repo}/blobs/{digest}")
            assert r.content == blob
    assert blob_path(server, blob).read_bytes() == blob
    server.stop()
    integrity_check(server)


# -- 2. restarts keep every pushed image ----------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_restart_keeps_every_pushed_image(server: Server, stop_signal: signal.Signals) -> None:
    images = [make_image(seed=100 + i, layers=2, layer_bytes=64 * 1024) for i in range(3)]
    arm = make_image(seed=110, layers=2, layer_bytes=64 * 1024, arch="arm64")
    index = make_index([images[0], arm])
    big = random_bytes(7, 2 * MiB + 5)
    with client(server) as http:
        push_image(http, "durable/one", images[0], "v1")
        push_image(http, "durable/one", images[1], "v2")
        push_image(http, "durable/two", images[2], "latest")
        push_image(http, "durable/multi", images[0])
        push_image(http, "durable/multi", arm)
        put_manifest(http, "durable/multi", "v1", index, OCI_INDEX)
        push_chunked(http, "durable/chunked", big, 700 * 1024)

    server.stop(stop_signal)
    server.start()

    with client(server) as http:
        assert_pullable(http, "durable/one", images[0], "v1")
        assert_pullable(http, "durable/one", images[1], "v2")
        assert_pullable(http, "durable/two", images[2], "latest")
        assert_pullable(http, "durable/multi", images[0])
        assert_pullable(http, "durable/multi", arm)
        for reference in ("v1", sha256(index)):
            r = http.get(f"/v2/durable/multi/manifests/{reference}", headers={"Accept": ACCEPT})
            assert r.status_code == 200, shown(r)
            assert r.content == index
            assert r.headers["Content-Type"] == OCI_INDEX
        r = http.get(f"/v2/durable/chunked/blobs/{sha256(big)}")
        assert r.status_code == 200 and r.content == big, shown(r)
        tags = http.get("/v2/durable/one/tags/list").json()
        assert tags["tags"] == ["v1", "v2"], tags
        catalog = http.get("/v2/_catalog").json()["repositories"]
        assert catalog == ["durable/chunked", "durable/multi", "durable/one", "durable/two"]
    assert upload_files(server) == []
    integrity_check(server)


# -- 3. two clients push the same blob at the same moment --------------------------------------


def _race_push(
    port: int,
    authorization: str,
    repo: str,
    mode: str,
    blob: bytes,
    barrier: threading.Barrier,
    results: dict[int, object],
    slot: int,
) -> None:
    """Send half of the body, wait for the other client to get as far, send the rest."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        digest = sha256(blob)
        if mode == "post_put":
            conn.request(
                "POST", f"/v2/{repo}/blobs/uploads/", headers={"Authorization": authorization}
            )
            response = conn.getresponse()
            response.read()
            assert response.status == 202, f"POST: {response.status}"
            location = urlsplit(response.getheader("Location") or "")
            query = f"{location.query}&" if location.query else ""
            method, url = "PUT", f"{location.path}?{query}digest={digest}"
        else:
            method, url = "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}"
        conn.putrequest(method, url)
        conn.putheader("Authorization", authorization)
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(len(blob)))
        conn.endheaders()
        half = len(blob) // 2
        conn.send(blob[:half])
        barrier.wait(timeout=20)
        conn.send(blob[half:])
        response = conn.getresponse()
        results[slot] = (
            response.status,
            response.getheader("Docker-Content-Digest"),
            response.read()[:300],
        )
    except BaseException as e:  # reported by the test, not lost in the thread
        results[slot] = e
        barrier.abort()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("modes", "repos"),
    [
        (("monolithic", "monolithic"), ("durable/race", "durable/race")),
        (("post_put", "post_put"), ("durable/race", "durable/race")),
        (("monolithic", "post_put"), ("durable/race-a", "durable/race-b")),
    ],
    ids=["monolithic", "post-put", "mixed-two-repositories"],
)
def test_same_blob_pushed_at_once_is_stored_once(
    server: Server, modes: tuple[str, str], repos: tuple[str, str]
) -> None:
    blob = random_bytes(3, 2 * MiB)
    barrier = threading.Barrier(len(modes))
    results: dict[int, object] = {}
    threads = [
        threading.Thread(
            target=_race_push,
            args=(
                server.port,
                owner_authorization(server),
                repo,
                mode,
                blob,
                barrier,
                results,
                i,
            ),
        )
        for i, (mode, repo) in enumerate(zip(modes, repos, strict=True))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i, mode in enumerate(modes):
        assert results.get(i) == (201, sha256(blob), b""), (
            f"client {i} ({mode}): {results.get(i)!r}\n{server.log()[-3000:]}"
        )

    assert blob_files(server) == [blob_path(server, blob)]
    assert blob_path(server, blob).read_bytes() == blob
    assert upload_files(server) == []
    with client(server) as http:
        for repo in set(repos):
            r = http.get(f"/v2/{repo}/blobs/{sha256(blob)}")
            assert r.status_code == 200 and r.content == blob, shown(r)


# -- 4. deleting a manifest keeps blobs other manifests use ----------------------------------


def test_manifest_delete_keeps_shared_blobs(server: Server) -> None:
    shared = make_image(seed=200, layers=1, layer_bytes=128 * 1024).layers[0]
    own_a = make_image(seed=201, layers=1, layer_bytes=64 * 1024).layers[0]
    own_b = make_image(seed=202, layers=1, layer_bytes=64 * 1024).layers[0]
    first = image_with_layers([shared, own_a], "first")
    second = image_with_layers([shared, own_b], "second")
    repo, other = "durable/shared", "durable/shared-elsewhere"
    with client(server) as http:
        push_image(http, repo, first, "first")
        push_image(http, repo, second, "second")
        # The same layer in another repository, by mount.
        r = http.post(f"/v2/{other}/blobs/uploads/", params={"mount": sha256(shared), "from": repo})
        assert r.status_code == 201, shown(r)
        third = image_with_layers([shared], "third")
        push_blob(http, other, third.config)
        put_manifest(http, other, "v1", third.manifest, OCI_MANIFEST)

        # A blob a manifest uses cannot be deleted on its own.
        r = http.delete(f"/v2/{repo}/blobs/{sha256(shared)}")
        assert r.status_code in (405, 409), f"deleting a blob in use: {shown(r)}"

        r = http.delete(f"/v2/{repo}/manifests/{first.digest}")
        assert r.status_code == 202, shown(r)
        r = http.head(f"/v2/{repo}/manifests/{first.digest}", headers={"Accept": ACCEPT})
        assert r.status_code == 404
        r = http.head(f"/v2/{repo}/manifests/first", headers={"Accept": ACCEPT})
        assert r.status_code == 404

        assert_pullable(http, repo, second, "second")
        assert_pullable(http, other, third, "v1")

        r = http.delete(f"/v2/{repo}/manifests/{second.digest}")
        assert r.status_code == 202, shown(r)
        assert_pullable(http, other, third, "v1")
    assert blob_path(server, shared).read_bytes() == shared


# -- 5. no stray files -----------------------------------------------------------------------


def _monolithic(http: httpx.Client, repo: str, blob: bytes) -> None:
    push_blob(http, repo, blob)


def _post_put(http: httpx.Client, repo: str, blob: bytes) -> None:
    r = http.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, shown(r)
    r = http.put(
        r.headers["Location"],
        params={"digest": sha256(blob)},
        content=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, shown(r)


def _chunked(http: httpx.Client, repo: str, blob: bytes) -> None:
    push_chunked(http, repo, blob, len(blob) // 3 + 1)


def _again(http: httpx.Client, repo: str, blob: bytes) -> None:
    """The second push finds the blob already stored: its upload must go too."""
    push_blob(http, repo, blob)
    _post_put(http, repo, blob)
    push_blob(http, "durable/tidy-other", blob)


def _wrong_digest(http: httpx.Client, repo: str, blob: bytes) -> None:
    r = http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(b"other")}, content=blob)
    assert r.status_code == 400, shown(r)
    assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"


def _cancelled(http: httpx.Client, repo: str, blob: bytes) -> None:
    r = http.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, shown(r)
    location = r.headers["Location"]
    r = http.patch(location, content=blob, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 202, shown(r)
    r = http.delete(location)
    assert r.status_code == 204, shown(r)
    assert http.get(location).status_code == 404


@pytest.mark.parametrize(
    ("push", "stored"),
    [
        (_monolithic, True),
        (_post_put, True),
        (_chunked, True),
        (_again, True),
        (_wrong_digest, False),
        (_cancelled, False),
    ],
    ids=["monolithic", "post-put", "chunked", "pushed-again", "wrong-digest", "cancelled"],
)
def test_no_stray_files_after_an_upload(
    server: Server, push: Callable[[httpx.Client, str, bytes], None], stored: bool
) -> None:
    blob = random_bytes(5, MiB + 12345)
    with client(server) as http:
        push(http, "durable/tidy", blob)
        r = http.head(f"/v2/durable/tidy/blobs/{sha256(blob)}")
        assert r.status_code == (200 if stored else 404), shown(r)
    assert upload_files(server) == [], "upload files left behind"
    assert blob_files(server) == ([blob_path(server, blob)] if stored else [])
