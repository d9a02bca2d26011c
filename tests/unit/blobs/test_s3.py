"""Facts of the S3 driver beyond the shared suite, against the session's real SeaweedFS."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import AsyncIterator

import pytest

from moorage.blobs.location import S3Location
from moorage.blobs.s3 import MIN_PART, PART_SIZE, S3Driver, open_s3_driver
from tests.support.seaweedfs import SeaweedFS

MiB = 1 << 20


@pytest.fixture
async def s3(seaweedfs: SeaweedFS) -> AsyncIterator[S3Driver]:
    location = S3Location.parse(seaweedfs.url(f"t-{uuid.uuid4().hex}"))
    async with open_s3_driver(
        location, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key
    ) as driver:
        yield driver


async def read_all(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


@pytest.mark.parametrize(
    "writes",
    [
        # One writer streaming 2.5 parts: full segments copied inside the store, a short tail.
        pytest.param([[PART_SIZE, PART_SIZE, PART_SIZE // 2]], id="one-stream"),
        # Chunked uploads of small PATCHes: segments below S3's minimum part are sent together.
        pytest.param([[MiB]] * 11, id="small-chunks"),
        # A small segment before a large one: the large one joins the pending small run.
        pytest.param([[MiB], [PART_SIZE + 3], [MIN_PART], [17]], id="mixed"),
    ],
)
async def test_multi_segment_commit_is_byte_exact_and_invisible_before(
    s3: S3Driver, writes: list[list[int]]
) -> None:
    rng = random.Random(5)
    expected = bytearray()
    await s3.start_upload("up-1")
    for sizes in writes:
        writer = await s3.writer("up-1")
        for size in sizes:
            data = rng.randbytes(size)
            await writer.write(data)
            expected += data
        await writer.close()
    digest = "sha256:" + hashlib.sha256(expected).hexdigest()
    assert await s3.stat(digest) is None  # nothing under the blob's key until commit
    assert await s3.upload_size("up-1") == len(expected)
    await s3.commit("up-1", digest)
    assert await s3.stat(digest) == len(expected)
    assert await read_all(s3.reader(digest)) == expected
    assert await s3.uploads() == []


async def test_an_upload_continues_in_another_driver(s3: S3Driver, seaweedfs: SeaweedFS) -> None:
    """Its size and bytes live in the bucket, so another replica's driver can resume it."""
    await s3.start_upload("up-1")
    writer = await s3.writer("up-1")
    await writer.write(b"a" * 1000)
    await writer.close()
    async with open_s3_driver(
        s3.location, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key
    ) as other:
        assert await other.upload_size("up-1") == 1000
        writer = await other.writer("up-1")
        await writer.write(b"b" * 10)
        await writer.close()
    assert await read_all(s3.upload_reader("up-1")) == b"a" * 1000 + b"b" * 10


async def test_truncate_cuts_inside_a_segment(s3: S3Driver) -> None:
    await s3.start_upload("up-1")
    for chunk in (b"abc", b"defgh", b"ij"):
        writer = await s3.writer("up-1")
        await writer.write(chunk)
        await writer.close()
    await s3.truncate("up-1", 5)
    assert await s3.upload_size("up-1") == 5
    assert await read_all(s3.upload_reader("up-1")) == b"abcde"


async def test_wrong_credentials_are_refused(seaweedfs: SeaweedFS) -> None:
    location = S3Location.parse(seaweedfs.url("x"))
    async with open_s3_driver(location, access_key="nobody", secret_key="wrong") as driver:  # noqa: S106  a wrong one on purpose
        with pytest.raises(Exception, match=r"(?i)access|signature|denied|forbidden|403"):
            await driver.check()


@pytest.mark.parametrize(
    ("url", "bucket", "prefix", "endpoint", "region"),
    [
        ("s3://my-bucket", "my-bucket", "", None, None),
        ("s3://my-bucket/", "my-bucket", "", None, None),
        ("s3://b.k-1/a/b/?region=eu-west-1", "b.k-1", "a/b/", None, "eu-west-1"),
        (
            "s3://moorage/blobs?endpoint=http://127.0.0.1:8333&region=us-east-1",
            "moorage",
            "blobs/",
            "http://127.0.0.1:8333",
            "us-east-1",
        ),
    ],
)
def test_location_parses(
    url: str, bucket: str, prefix: str, endpoint: str | None, region: str | None
) -> None:
    assert S3Location.parse(url) == S3Location(bucket, prefix, endpoint, region)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://bucket", "starts with s3://"),
        ("s3://", "not an S3 bucket name"),
        ("s3://Bad_Bucket", "not an S3 bucket name"),
        ("s3://bucket?endpoint=ftp://x", "not an http(s) URL"),
        ("s3://bucket?endpoint=127.0.0.1:9000", "not an http(s) URL"),
        ("s3://bucket?regoin=x", "unknown option 'regoin'"),
    ],
)
def test_bad_location_is_refused_saying_why(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        S3Location.parse(url)
