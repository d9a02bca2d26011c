"""S3 blob driver (aiobotocore): any S3-compatible store, path-style when an endpoint is given.

Layout under the bucket's prefix:
- `blobs/<algorithm>/<ab>/<hex>`: published blobs, written only by PutObject or
  CompleteMultipartUpload, so a blob key never holds partial content;
- `uploads/<id>/started`: the marker an upload exists (it may hold no bytes yet);
- `uploads/<id>/data/<offset>`: the upload's bytes as segments named by their start offset
  (20 digits). A writer buffers up to `PART_SIZE` and stores each full buffer as one segment,
  and the rest when it closes, so an upload may continue on any replica: its size and bytes are
  in the bucket, never in a process.

Commit assembles the segments into the blob with one multipart upload: segments of at least
S3's 5 MiB minimum part are copied inside the store (UploadPartCopy), runs of smaller ones are
read and sent as one part (bounded by two parts in memory). Objects up to `PART_SIZE` are one
PutObject. Nothing is ever redirected to the store: blobs are streamed through moorage so the
network rules apply to every download.

Credentials come from botocore's standard chain (AWS_* variables, ~/.aws/credentials and
config, AWS_PROFILE, instance metadata) unless given outright.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from moorage.blobs.driver import Observer
from moorage.blobs.location import S3Location

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

MiB = 1 << 20
PART_SIZE = 8 * MiB
"""Segment size while receiving, and the largest object sent as one PutObject."""
MIN_PART = 5 * MiB
"""S3's smallest part of a multipart upload (except the last)."""
_READ_CHUNK = MiB
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3Writer:
    def __init__(self, driver: S3Driver, upload_id: str, size: int) -> None:
        self._driver = driver
        self._upload_id = upload_id
        self._flushed = size
        self._buffer = bytearray()
        self.size = size

    async def write(self, data: bytes | bytearray, observe: Observer | None = None) -> None:
        if observe is not None:
            observe(data)
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= PART_SIZE:
            await self._flush(PART_SIZE)

    async def _flush(self, size: int) -> None:
        chunk = bytes(self._buffer[:size])
        await self._driver.put_segment(self._upload_id, self._flushed, chunk)
        del self._buffer[:size]
        self._flushed += len(chunk)

    async def close(self) -> None:
        if self._buffer:
            await self._flush(len(self._buffer))


@dataclass(frozen=True)
class _Segment:
    offset: int
    size: int
    key: str


class S3Driver:
    def __init__(self, client: S3Client, location: S3Location) -> None:
        self._s3 = client
        self.location = location
        self._bucket = location.bucket
        self.address = location.address

    # -- keys ----------------------------------------------------------------------------

    def _blob_key(self, digest: str) -> str:
        algorithm, _, encoded = digest.partition(":")
        if not algorithm.isalnum() or not encoded.isalnum():
            raise ValueError(f"not a digest: {digest!r}")
        return f"{self.location.prefix}blobs/{algorithm}/{encoded[:2]}/{encoded}"

    def _upload_prefix(self, upload_id: str) -> str:
        if not _UPLOAD_ID.match(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return f"{self.location.prefix}uploads/{upload_id}/"

    # -- blobs ---------------------------------------------------------------------------

    async def check(self) -> None:
        """Raise when the bucket cannot be reached with these credentials."""
        await self._s3.head_bucket(Bucket=self._bucket)

    async def stat(self, digest: str) -> int | None:
        try:
            head = await self._s3.head_object(Bucket=self._bucket, Key=self._blob_key(digest))
        except ClientError as e:
            if _missing(e):
                return None
            raise
        return head["ContentLength"]

    def local_path(self, digest: str) -> str | None:
        return None

    async def reader(
        self, digest: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        async for chunk in self._read(self._blob_key(digest), offset, length):
            yield chunk

    async def _read(self, key: str, offset: int, length: int | None) -> AsyncIterator[bytes]:
        if length == 0:
            return
        end = "" if length is None else str(offset + length - 1)
        # An empty Range means the whole object (a range of an empty object would be refused).
        ranged = f"bytes={offset}-{end}" if offset or length is not None else ""
        try:
            response = await self._s3.get_object(Bucket=self._bucket, Key=key, Range=ranged)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "InvalidRange":
                return  # from the very end: nothing left to read
            raise
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(_READ_CHUNK):
                yield chunk

    async def delete(self, digest: str) -> bool:
        key = self._blob_key(digest)
        if await self.stat(digest) is None:
            return False
        await self._s3.delete_object(Bucket=self._bucket, Key=key)
        return True

    # -- uploads -------------------------------------------------------------------------

    async def start_upload(self, upload_id: str) -> None:
        key = self._upload_prefix(upload_id) + "started"
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=b"")

    async def _segments(self, upload_id: str) -> list[_Segment] | None:
        """The upload's segments in order, or None when there is no such upload."""
        prefix = self._upload_prefix(upload_id)
        started, segments = False, []
        paginator = self._s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if name == "started":
                    started = True
                elif name.startswith("data/") and name[5:].isdigit():
                    segments.append(_Segment(int(name[5:]), item["Size"], item["Key"]))
        if not started:
            return None
        return sorted(segments, key=lambda s: s.offset)

    async def put_segment(self, upload_id: str, offset: int, data: bytes) -> None:
        key = f"{self._upload_prefix(upload_id)}data/{offset:020d}"
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=data)

    async def upload_size(self, upload_id: str) -> int | None:
        segments = await self._segments(upload_id)
        if segments is None:
            return None
        return segments[-1].offset + segments[-1].size if segments else 0

    async def writer(self, upload_id: str) -> S3Writer:
        size = await self.upload_size(upload_id)
        if size is None:
            raise FileNotFoundError(f"no upload {upload_id!r}")
        return S3Writer(self, upload_id, size)

    async def upload_reader(self, upload_id: str) -> AsyncIterator[bytes]:
        for segment in await self._segments(upload_id) or []:
            async for chunk in self._read(segment.key, 0, None):
                yield chunk

    async def truncate(self, upload_id: str, size: int) -> None:
        for segment in await self._segments(upload_id) or []:
            if segment.offset >= size:
                await self._s3.delete_object(Bucket=self._bucket, Key=segment.key)
            elif segment.offset + segment.size > size:
                kept = await self._bytes(segment.key, 0, size - segment.offset)
                await self._s3.put_object(Bucket=self._bucket, Key=segment.key, Body=kept)

    async def _bytes(self, key: str, offset: int, length: int | None) -> bytes:
        return b"".join([chunk async for chunk in self._read(key, offset, length)])

    async def commit(self, upload_id: str, digest: str) -> None:
        segments = await self._segments(upload_id)
        if segments is None:
            raise FileNotFoundError(f"no upload {upload_id!r}")
        key = self._blob_key(digest)
        if sum(s.size for s in segments) <= PART_SIZE:
            body = b"".join([await self._bytes(s.key, 0, None) for s in segments])
            await self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        else:
            await self._assemble(key, segments)
        await self.cancel(upload_id)

    async def _assemble(self, key: str, segments: list[_Segment]) -> None:
        upload = await self._s3.create_multipart_upload(Bucket=self._bucket, Key=key)
        upload_id = upload["UploadId"]
        parts: list[CompletedPartTypeDef] = []
        pending: list[_Segment] = []

        async def send_pending() -> None:
            body = b"".join([await self._bytes(s.key, 0, None) for s in pending])
            pending.clear()
            number = len(parts) + 1
            sent = await self._s3.upload_part(
                Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            parts.append({"PartNumber": number, "ETag": sent["ETag"]})

        try:
            for segment in segments:
                if segment.size >= MIN_PART and not pending:
                    number = len(parts) + 1
                    copied = await self._s3.upload_part_copy(
                        Bucket=self._bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": self._bucket, "Key": segment.key},
                    )
                    parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
                    continue
                pending.append(segment)
                if sum(s.size for s in pending) >= MIN_PART:
                    await send_pending()
            if pending:
                await send_pending()
            await self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            await self._s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise

    async def cancel(self, upload_id: str) -> None:
        prefix = self._upload_prefix(upload_id)
        paginator = self._s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            keys = [item["Key"] for item in page.get("Contents", [])]
            # The marker goes last, so an interrupted cancel leaves a listed, purgeable upload.
            keys.sort(key=lambda k: k.endswith("/started"))
            for key in keys:
                await self._s3.delete_object(Bucket=self._bucket, Key=key)

    async def uploads(self) -> list[str]:
        prefix = f"{self.location.prefix}uploads/"
        found = []
        paginator = self._s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                upload_id, _, name = item["Key"][len(prefix) :].partition("/")
                if name == "started" and _UPLOAD_ID.match(upload_id):
                    found.append(upload_id)
        return sorted(found)


@asynccontextmanager
async def open_s3_driver(
    location: S3Location, *, access_key: str | None = None, secret_key: str | None = None
) -> AsyncIterator[S3Driver]:
    """An S3 driver with its own connection pool, closed on exit."""
    config = AioConfig(
        s3={"addressing_style": "path" if location.endpoint else "auto"},
        # S3-compatible stores do not all know the newer default checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=location.endpoint,
                region_name=location.region,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=config,
            )
        )
        yield S3Driver(client, location)
