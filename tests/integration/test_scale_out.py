"""The real server on PostgreSQL and S3 (SeaweedFS): skopeo pushes and pulls back byte-identical;
bad or unreachable settings stop the start naming the setting and the address tried."""

from __future__ import annotations

import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.test_skopeo import assert_same_blobs, pull, push
from tests.support.containers import isolated_tools, read_layout
from tests.support.oci import image_layout, index_layout, make_image, sha256
from tests.support.postgres import Postgres
from tests.support.registry_http import open_client, owner_auth
from tests.support.seaweedfs import SeaweedFS
from tests.support.server import Server, free_port


def test_skopeo_round_trip_on_postgres_and_s3(
    tmp_path: Path, postgres: Postgres, seaweedfs: SeaweedFS
) -> None:
    database = postgres.create_database()
    store = seaweedfs.url("scale-out-roundtrip")
    server = Server(
        tmp_path / "data",
        free_port(),
        extra_args=["--database", database, "--blob-store", store],
        env=seaweedfs.aws_env,
    ).start(timeout=120)  # migrating a new PostgreSQL database takes a few seconds
    try:
        image = make_image(seed=5, layers=3, layer_bytes=3 * 1024 * 1024)  # 9 MiB: multipart
        images = [
            make_image(seed=6 + i, layers=1, arch=a) for i, a in enumerate(["amd64", "arm64"])
        ]
        source = image_layout(tmp_path / "src", image, "v1")
        index_source, index = index_layout(tmp_path / "isrc", images, "multi")
        with isolated_tools(tmp_path / "tools", "skopeo") as tools:
            tools.sign_in(server.address, *owner_auth(server))
            ref = f"docker://{server.address}/scale/app:v1"
            push(tools, f"oci:{source}:v1", ref, "--preserve-digests")
            pull(tools, ref, f"oci:{tmp_path / 'out'}:v1", "--preserve-digests")
            multi = f"docker://{server.address}/scale/multi:v1"
            push(tools, f"oci:{index_source}:multi", multi, "--all", "--preserve-digests")
            pull(tools, multi, f"oci:{tmp_path / 'iout'}:v1", "--all", "--preserve-digests")
        top, blobs = read_layout(tmp_path / "out")
        assert top == image.digest
        assert_same_blobs(blobs, [image.manifest, *image.blobs()], "pulled from PostgreSQL + S3")
        top, blobs = read_layout(tmp_path / "iout")
        assert top == sha256(index)
        expected = [index] + [b for i in images for b in (i.manifest, *i.blobs())]
        assert_same_blobs(blobs, expected, "index pulled from PostgreSQL + S3")
        # The metadata is in PostgreSQL and the blobs in the bucket, not in the data directory.
        name = database.rsplit("/", 1)[1]
        repositories = postgres.psql("SELECT name FROM repositories ORDER BY name", name)
        assert repositories.split() == ["scale/app", "scale/multi"]
        stored = seaweedfs.keys("scale-out-roundtrip/blobs/sha256/")
        for blob in image.blobs():
            assert (
                f"scale-out-roundtrip/blobs/sha256/{sha256(blob)[7:9]}/{sha256(blob)[7:]}" in stored
            )
        assert seaweedfs.keys("scale-out-roundtrip/uploads/") == []  # every upload completed
        assert not (tmp_path / "data" / "moorage.db").exists()
        assert not list((tmp_path / "data").glob("blobs/sha256/*/*"))
    finally:
        server.stop()


def serve_fails(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "moorage",
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--database", "mysql://x@h/db"],
            "--database (MOORAGE_DATABASE_URL): 'mysql://x@h/db' is not a postgresql:// URL",
        ),
        (["--database", "postgresql://u:secret@h"], "names no database"),
        (
            ["--blob-store", "s3://Bad_Bucket"],
            "--blob-store (MOORAGE_BLOB_STORE): 's3://Bad_Bucket': ",
        ),
        (["--blob-store", "s3://bucket?endpoint=ftp://x"], "is not an http(s) URL"),
    ],
)
def test_bad_settings_are_refused_naming_them(tmp_path: Path, args: list[str], says: str) -> None:
    err = serve_fails(tmp_path, *args)
    assert says in err, err
    assert "secret" not in err


def test_unreachable_database_and_store_are_named(tmp_path: Path) -> None:
    port = free_port()
    err = serve_fails(tmp_path, "--database", f"postgresql://u:secret@127.0.0.1:{port}/reg")
    assert f"--database: cannot use PostgreSQL at 127.0.0.1:{port}, database 'reg'" in err, err
    assert "secret" not in err
    store = f"s3://bucket?endpoint=http://127.0.0.1:{port}&region=us-east-1"
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    err = serve_fails(tmp_path / "s3", "--blob-store", store, env=env)
    assert f"--blob-store: cannot use bucket 'bucket' at http://127.0.0.1:{port}" in err, err


def test_two_replicas_share_an_upload_that_hops_between_them(
    tmp_path: Path, postgres: Postgres, seaweedfs: SeaweedFS
) -> None:
    """Two servers on one database, bucket and (shared) data directory, started at once (they
    migrate once between them): a chunked upload whose every request lands on the other replica
    completes, verified, and either serves the blob."""
    database = postgres.create_database()
    args = ["--database", database, "--blob-store", seaweedfs.url("hop"), "--shared-data-dir"]
    replicas = [
        Server(tmp_path / "data", free_port(), extra_args=args, env=seaweedfs.aws_env)
        for _ in range(2)
    ]
    with ThreadPoolExecutor(2) as pool:
        started = [pool.submit(r.start, 120) for r in replicas]
    try:
        for future in started:
            future.result()
        a, b = (open_client(r, timeout=60) for r in replicas)
        with a, b:
            data = random.Random(9).randbytes(9 * 1024 * 1024 + 5)
            digest = sha256(data)
            first, second = data[: 8 * 1024 * 1024 + 3], data[8 * 1024 * 1024 + 3 :]
            started_upload = a.post("/v2/hop/app/blobs/uploads/")
            assert started_upload.status_code == 202, started_upload.text
            location = started_upload.headers["Location"]
            for client, chunk, offset in ((b, first, 0), (a, second, len(first))):
                patched = client.patch(
                    location,
                    content=chunk,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    },
                )
                assert patched.status_code == 202, patched.text
                location = patched.headers["Location"]
            status = b.get(location)
            assert status.status_code == 204 and status.headers["Range"] == f"0-{len(data) - 1}"
            finished = b.put(location, params={"digest": digest})
            assert finished.status_code == 201, finished.text
            for client in (a, b):
                got = client.get(f"/v2/hop/app/blobs/{digest}")
                assert got.status_code == 200 and got.content == data
        assert seaweedfs.keys("hop/uploads/") == []
        versions = postgres.psql(
            "SELECT version_num FROM alembic_version", database.rsplit("/", 1)[1]
        )
        assert len(versions.split()) == 1
    finally:
        for r in replicas:
            r.stop()
