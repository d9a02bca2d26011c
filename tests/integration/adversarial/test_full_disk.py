"""A full disk (issue 13 §5): the push answers 507 saying the storage is full, the server logs
it loudly, no partial blob is left, and pushes work again once space is freed.

For real: the server's data directory is a tmpfs of 8 MiB mounted for this test (as root), filled
with a file until a few hundred KiB are left, so the metadata database still has room and the
blob does not.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.registry_http import assert_error, digest_of, open_client
from tests.support.server import Server, free_port
from tests.support.tools import require, require_root

MiB = 1 << 20
BLOB = random.Random(13).randbytes(2 * MiB)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    require_root("mounts a tmpfs of 8 MiB as the server's data directory")
    require("mount")
    mountpoint = tmp_path / "data"  # the server's log goes to its parent, off the small disk
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.fixture
def server(small_disk: Path) -> Iterator[Server]:
    server = Server(small_disk, free_port()).start(timeout=120)  # the machine may be busy
    try:
        yield server
    finally:
        server.stop()


def fill(disk: Path, leave: int) -> Path:
    """Write a file until `leave` bytes of the disk are free; return it."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with filler.open("wb") as f:
        f.write(b"\0" * max(free - leave, 0))
    return filler


def blob_files(server: Server) -> list[Path]:
    return [p for p in (server.data_dir / "blobs").rglob("*") if p.is_file()]


def upload_bytes(server: Server) -> int:
    return sum(p.stat().st_size for p in (server.data_dir / "uploads").iterdir())


def assert_full(r: httpx.Response, server: Server) -> None:
    error = assert_error(r, 507, "STORAGE_FULL")
    assert "storage is full" in str(error["message"]), error
    assert "STORAGE FULL" in server.log() and "CRITICAL" in server.log()


def test_a_push_to_a_full_disk_answers_507_and_recovers(server: Server, small_disk: Path) -> None:
    repo, digest = "full/disk", digest_of(BLOB)
    with open_client(server) as http:
        filler = fill(small_disk, leave=512 * 1024)
        # Monolithic: refused, nothing kept.
        r = http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=BLOB)
        assert_full(r, server)
        assert http.head(f"/v2/{repo}/blobs/{digest}").status_code == 404
        assert blob_files(server) == [] and upload_bytes(server) == 0

        # Chunked: the first chunk fits, the second does not and is cut back whole.
        r = http.post(f"/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202, r.text
        location = urlsplit(r.headers["Location"]).path
        first, rest = BLOB[: 256 * 1024], BLOB[256 * 1024 :]
        r = http.patch(location, content=first, headers={"Content-Range": f"0-{len(first) - 1}"})
        assert r.status_code == 202, r.text
        end = len(first) + len(rest) - 1
        r = http.patch(location, content=rest, headers={"Content-Range": f"{len(first)}-{end}"})
        assert_full(r, server)
        status = http.get(location)
        assert status.status_code == 204, status.text
        assert status.headers["Range"] == f"0-{len(first) - 1}"
        assert upload_bytes(server) == len(first)
        assert blob_files(server) == []

        # Space freed: the chunked upload goes on from where it stood, and a new push works.
        filler.unlink()
        r = http.patch(location, content=rest, headers={"Content-Range": f"{len(first)}-{end}"})
        assert r.status_code == 202, r.text
        r = http.put(location, params={"digest": digest})
        assert r.status_code == 201, r.text
        r = http.post(f"/v2/{repo}2/blobs/uploads/", params={"digest": digest}, content=BLOB)
        assert r.status_code == 201, r.text
        for name in (repo, f"{repo}2"):
            r = http.get(f"/v2/{name}/blobs/{digest}")
            assert r.status_code == 200 and r.content == BLOB


def test_a_full_metadata_database_answers_507(server: Server, small_disk: Path) -> None:
    """With no room at all, the database write fails first: the same 507, and recovery."""
    repo, small = "full/meta", b"x" * 1024
    with open_client(server) as http:
        filler = fill(small_disk, leave=0)
        statuses = []
        for i in range(20):  # until a write needs a page the disk cannot give
            r = http.post(
                f"/v2/{repo}{i}/blobs/uploads/", params={"digest": digest_of(small)}, content=small
            )
            statuses.append(r.status_code)
            if r.status_code == 507:
                assert_full(r, server)
                break
        assert 507 in statuses and set(statuses) <= {201, 507}, statuses
        filler.unlink()
        r = http.post(
            f"/v2/{repo}/blobs/uploads/", params={"digest": digest_of(BLOB)}, content=BLOB
        )
        assert r.status_code == 201, r.text
        assert http.get(f"/v2/{repo}/blobs/{digest_of(BLOB)}").content == BLOB
