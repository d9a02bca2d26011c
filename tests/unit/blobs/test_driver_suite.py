"""The shared blob-driver suite: every method of moorage.blobs.driver.BlobDriver.

Runs once per factory in conftest.FACTORIES; nothing here knows which backend it talks to.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from moorage.blobs.driver import BlobDriver

MiB = 1 << 20
EMPTY_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def read_all(chunks: AsyncIterator[bytes]) -> bytes:
    out = bytearray()
    async for chunk in chunks:
        out += chunk
    return bytes(out)


async def publish(driver: BlobDriver, upload_id: str, data: bytes) -> str:
    """Upload data in one writer and commit it under its digest."""
    await driver.start_upload(upload_id)
    writer = await driver.writer(upload_id)
    try:
        if data:
            await writer.write(data)
    finally:
        await writer.close()
    digest = digest_of(data)
    await driver.commit(upload_id, digest)
    return digest


# -- stat, local_path ------------------------------------------------------------------------


async def test_stat_of_missing_blob_is_none(driver: BlobDriver) -> None:
    assert await driver.stat(digest_of(b"never stored")) is None


@pytest.mark.parametrize("size", [0, 1, 4096, 2 * MiB + 123], ids=lambda s: f"{s}B")
async def test_stat_of_published_blob_is_its_size(driver: BlobDriver, size: int) -> None:
    digest = await publish(driver, "up-1", payload(size))
    assert await driver.stat(digest) == size


async def test_local_path_when_given_holds_the_content(driver: BlobDriver) -> None:
    data = payload(10_000)
    digest = await publish(driver, "up-1", data)
    path = driver.local_path(digest)
    if path is not None:  # only drivers on local disk offer one
        assert Path(path).read_bytes() == data  # noqa: ASYNC240  a test may block briefly


# -- uploads: start, writer, observe, upload_size, upload_reader ----------------------------


async def test_new_upload_is_empty(driver: BlobDriver) -> None:
    await driver.start_upload("up-1")
    assert await driver.upload_size("up-1") == 0
    assert await read_all(driver.upload_reader("up-1")) == b""


async def test_upload_size_of_unknown_upload_is_none(driver: BlobDriver) -> None:
    assert await driver.upload_size("no-such-upload") is None


@pytest.mark.parametrize("kind", [bytes, bytearray])
@pytest.mark.parametrize(
    "writers",
    [
        pytest.param([[b"hello"]], id="one-writer-one-write"),
        pytest.param([[b"a", b"bc", b"def"]], id="one-writer-many-writes"),
        pytest.param([[b"ab"], [b"cd", b"ef"], [b"g"]], id="three-writers"),
        pytest.param([[b""], [b"x", b""], [], [b"yz"]], id="empty-writes-and-writers"),
        pytest.param([[payload(3 * MiB + 7, 1)], [payload(MiB, 2)]], id="large-writes"),
    ],
)
async def test_writers_append_and_size_accumulates(
    driver: BlobDriver, writers: list[list[bytes]], kind: type[bytes] | type[bytearray]
) -> None:
    await driver.start_upload("up-1")
    expected = b""
    for writes in writers:
        writer = await driver.writer("up-1")
        try:
            assert writer.size == len(expected)
            for data in writes:
                await writer.write(kind(data))
                expected += data
                assert writer.size == len(expected)
        finally:
            await writer.close()
        assert await driver.upload_size("up-1") == len(expected)
    assert await read_all(driver.upload_reader("up-1")) == expected


async def test_observe_sees_every_byte_in_order(driver: BlobDriver) -> None:
    chunks = [payload(n, seed) for seed, n in enumerate([1, 0, 1000, MiB + 1, 17])]
    seen = bytearray()
    await driver.start_upload("up-1")
    for half in (chunks[:2], chunks[2:]):  # two writers, the second appending
        writer = await driver.writer("up-1")
        try:
            for data in half:
                await writer.write(data, seen.extend)
        finally:
            await writer.close()
    assert bytes(seen) == b"".join(chunks)
    assert await read_all(driver.upload_reader("up-1")) == b"".join(chunks)


async def test_uploads_are_independent(driver: BlobDriver) -> None:
    await driver.start_upload("up-a")
    await driver.start_upload("up-b")
    wa, wb = await driver.writer("up-a"), await driver.writer("up-b")
    try:
        for i in range(4):
            await asyncio.gather(wa.write(b"a" * (i + 1)), wb.write(b"b" * (10 - i)))
    finally:
        await wa.close()
        await wb.close()
    assert await read_all(driver.upload_reader("up-a")) == b"a" * 10
    assert await read_all(driver.upload_reader("up-b")) == b"b" * 34


async def test_uploads_lists_every_upload_id(driver: BlobDriver) -> None:
    assert await driver.uploads() == []
    ids = ["up-c", "up-a", "Zq9_-x" * 5, "up-b"]
    for upload_id in ids:
        await driver.start_upload(upload_id)
    assert sorted(await driver.uploads()) == sorted(ids)
    await publish(driver, "up-d", b"published")
    await driver.commit("up-a", EMPTY_DIGEST)
    await driver.cancel("up-b")
    assert sorted(await driver.uploads()) == sorted(["up-c", "Zq9_-x" * 5])


# -- commit ----------------------------------------------------------------------------------


async def test_commit_publishes_and_removes_the_upload(driver: BlobDriver) -> None:
    data = payload(2 * MiB + 5)
    digest = await publish(driver, "up-1", data)
    assert await driver.stat(digest) == len(data)
    assert await read_all(driver.reader(digest)) == data
    assert await driver.upload_size("up-1") is None
    assert "up-1" not in await driver.uploads()


async def test_commit_of_identical_content_twice(driver: BlobDriver) -> None:
    data = payload(70_000)
    first = await publish(driver, "up-1", data)
    second = await publish(driver, "up-2", data)
    assert first == second
    assert await driver.stat(first) == len(data)
    assert await read_all(driver.reader(first)) == data
    assert await driver.uploads() == []


async def test_commit_does_not_check_content(driver: BlobDriver) -> None:
    """Digests are verified by the caller; a driver stores what it is told to."""
    digest = digest_of(b"something else")
    await driver.start_upload("up-1")
    writer = await driver.writer("up-1")
    await writer.write(b"stored as given")
    await writer.close()
    await driver.commit("up-1", digest)
    assert await read_all(driver.reader(digest)) == b"stored as given"


async def test_commit_leaves_other_uploads_alone(driver: BlobDriver) -> None:
    await driver.start_upload("up-other")
    writer = await driver.writer("up-other")
    await writer.write(b"pending")
    await writer.close()
    await publish(driver, "up-1", b"done")
    assert await driver.upload_size("up-other") == 7
    assert await driver.uploads() == ["up-other"]


async def test_empty_blob(driver: BlobDriver) -> None:
    await driver.start_upload("up-1")
    await driver.commit("up-1", EMPTY_DIGEST)
    assert await driver.stat(EMPTY_DIGEST) == 0
    assert await read_all(driver.reader(EMPTY_DIGEST)) == b""
    assert await read_all(driver.reader(EMPTY_DIGEST, 0, 0)) == b""


# -- cancel, delete --------------------------------------------------------------------------


async def test_cancel_discards_and_is_idempotent(driver: BlobDriver) -> None:
    await driver.start_upload("up-1")
    writer = await driver.writer("up-1")
    await writer.write(b"abandoned")
    await writer.close()
    await driver.cancel("up-1")
    assert await driver.upload_size("up-1") is None
    assert await driver.uploads() == []
    await driver.cancel("up-1")
    await driver.cancel("never-started")


async def test_cancelled_upload_id_can_start_again(driver: BlobDriver) -> None:
    await driver.start_upload("up-1")
    await driver.cancel("up-1")
    digest = await publish(driver, "up-1", b"second life")
    assert await driver.stat(digest) == len(b"second life")


async def test_delete_returns_whether_the_blob_was_there(driver: BlobDriver) -> None:
    keep = await publish(driver, "up-keep", b"keep")
    gone = await publish(driver, "up-gone", b"gone")
    assert await driver.delete(gone) is True
    assert await driver.stat(gone) is None
    assert await driver.delete(gone) is False
    assert await driver.delete(digest_of(b"never stored")) is False
    assert await driver.stat(keep) == 4


async def test_deleted_blob_can_be_published_again(driver: BlobDriver) -> None:
    digest = await publish(driver, "up-1", b"again")
    assert await driver.delete(digest)
    assert await publish(driver, "up-2", b"again") == digest
    assert await read_all(driver.reader(digest)) == b"again"


# -- reader ----------------------------------------------------------------------------------

SIZE = 2 * MiB + 123  # crosses the read chunk of most drivers


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        pytest.param(0, None, id="whole"),
        pytest.param(0, SIZE, id="whole-by-length"),
        pytest.param(0, 0, id="empty-at-start"),
        pytest.param(1000, 0, id="empty-in-middle"),
        pytest.param(SIZE, 0, id="empty-at-end"),
        pytest.param(SIZE, None, id="from-end"),
        pytest.param(0, 1, id="first-byte"),
        pytest.param(SIZE - 1, None, id="last-byte"),
        pytest.param(SIZE - 1, 1, id="last-byte-by-length"),
        pytest.param(5, 10, id="middle"),
        pytest.param(MiB - 3, 7, id="across-1MiB"),
        pytest.param(MiB, None, id="tail-from-1MiB"),
        pytest.param(1, SIZE - 2, id="all-but-ends"),
        pytest.param(SIZE - 10, 100, id="length-past-end-is-clamped"),
    ],
)
async def test_reader_range(driver: BlobDriver, offset: int, length: int | None) -> None:
    data = payload(SIZE, 7)
    digest = await publish(driver, "up-1", data)
    end = None if length is None else offset + length
    assert await read_all(driver.reader(digest, offset, length)) == data[offset:end]


async def test_check_passes_and_address_is_named(driver: BlobDriver) -> None:
    await driver.check()
    assert driver.address
