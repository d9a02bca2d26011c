"""SIGKILL the real server during concurrent pushes, several times (issue 13 §6).

After each kill and restart: the database passes its integrity check, every image whose
manifest PUT was answered 201 is pullable byte for byte, every blob file holds exactly the
bytes its digest names (no partial blob), and every manifest the registry lists can be
fetched with every blob and child it references (no dangling manifest). The push and check
helpers are test_durability.py's.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_durability import (
    ACCEPT,
    MiB,
    assert_pullable,
    blob_files,
    client,
    image_with_layers,
    integrity_check,
    push_chunked,
    put_manifest,
    shown,
)
from tests.support.oci import OCI_MANIFEST, Image, tar_layer
from tests.support.server import Server, running_server

ROUNDS = 3
PUSHERS = 6
SEED = 20261203


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The real server, given time to start on a busy machine."""
    with running_server(tmp_path / "data", timeout=120) as started:
        yield started


def _layer(rng: random.Random) -> bytes:
    size = rng.choice([1024, 64 * 1024, 600 * 1024, 2 * MiB])
    _, gz = tar_layer({"data.bin": rng.randbytes(size)})
    assert gzip.decompress(gz)
    return gz


def _pusher(
    server: Server, slot: int, round_: int, stop: threading.Event, done: list[tuple[str, Image]]
) -> None:
    """Push images until the server dies under it; record those whose manifest got a 201."""
    rng = random.Random(SEED + 100 * round_ + slot)
    repo = f"kill/r{round_}-{slot}"
    try:
        with client(server) as http:
            count = 0
            while not stop.is_set():
                image = image_with_layers(
                    [_layer(rng) for _ in range(rng.randint(1, 3))], f"{repo}-{count}"
                )
                for blob in image.blobs():
                    if len(blob) > 512 * 1024:
                        push_chunked(http, repo, blob, 256 * 1024)
                    else:
                        r = http.post(
                            f"/v2/{repo}/blobs/uploads/",
                            params={"digest": "sha256:" + hashlib.sha256(blob).hexdigest()},
                            content=blob,
                        )
                        assert r.status_code == 201, shown(r)
                put_manifest(http, repo, f"v{count}", image.manifest, OCI_MANIFEST)
                done.append((repo, image))
                count += 1
    except (httpx.HTTPError, AssertionError, OSError):
        return  # the kill: whatever was in flight is allowed to be lost


def _blob_files_are_whole(server: Server) -> None:
    for path in blob_files(server):
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == path.name, f"partial blob file {path}"


def _nothing_dangles(server: Server) -> int:
    """Every manifest listed, by every repository, can be fetched with all it references."""
    checked = 0
    with client(server) as http:
        catalog = http.get("/v2/_catalog", params={"n": "10000"})
        assert catalog.status_code == 200, shown(catalog)
        for repo in catalog.json()["repositories"]:
            listed = http.get(f"/acr/v1/{repo}/_manifests", params={"n": "1000"})
            assert listed.status_code == 200, shown(listed)
            for entry in listed.json()["manifests"]:
                r = http.get(f"/v2/{repo}/manifests/{entry['digest']}", headers={"Accept": ACCEPT})
                assert r.status_code == 200, shown(r)
                doc = r.json()
                for blob in [doc.get("config"), *doc.get("layers", [])]:
                    if blob is None:
                        continue
                    b = http.head(f"/v2/{repo}/blobs/{blob['digest']}")
                    assert b.status_code == 200, (
                        f"{repo} manifest {entry['digest']} dangles: {shown(b)}"
                    )
                    assert int(b.headers["Content-Length"]) == blob["size"]
                checked += 1
    return checked


def test_sigkill_during_concurrent_pushes(server: Server) -> None:
    rng = random.Random(SEED)
    completed: list[tuple[str, Image]] = []
    for round_no in range(ROUNDS):
        stop = threading.Event()
        done: list[tuple[str, Image]] = []
        threads = [
            threading.Thread(target=_pusher, args=(server, slot, round_no, stop, done), daemon=True)
            for slot in range(PUSHERS)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        # Kill once some pushes completed and others are surely in flight.
        while len(done) < 2 + round_no and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.1, 0.6))
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        completed += done
        integrity_check(server)
        _blob_files_are_whole(server)
        server.start(timeout=120)
        with client(server) as http:
            for repo, image in completed:
                assert_pullable(http, repo, image)
        checked = _nothing_dangles(server)
        assert checked >= len(completed), (checked, len(completed))
        print(f"round {round_no}: {len(done)} images pushed before the kill, {checked} checked")
    assert len(completed) >= ROUNDS * 2
