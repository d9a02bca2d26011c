"""What the /v2 handlers ask of the registry: blobs, uploads and manifests of a repository.

Uploads are hashed as they stream. The hash state of an upload lives in this process while the
upload goes on; after a restart (or on another replica) it is rebuilt from the stored bytes.
A blob is linked into a repository only after its digest is verified and its bytes are
durably published by the driver.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from moorage.blobs.driver import BlobDriver, BlobWriter
from moorage.domain.digest import CANONICAL_ALGORITHM, Digest, Hasher, is_digest, new_hasher
from moorage.domain.errors import (
    BlobNotFound,
    DigestMismatch,
    ManifestTooLarge,
    SizeMismatch,
    StorageFull,
    UploadNotFound,
    UploadOutOfOrder,
)
from moorage.domain.manifest import ParsedManifest, parse_manifest
from moorage.domain.names import check_tag
from moorage.store.capacity import storage_full
from moorage.store.content import ContentStore
from moorage.store.listings import ContentListings
from moorage.store.types import Upload, utcnow
from moorage.store.uploads import UploadStore

WRITE_BATCH = 1 << 20  # bytes handed to the driver at once


@dataclass
class _HashState:
    hasher: Hasher
    offset: int


class RegistryContent:
    def __init__(
        self,
        content: ContentStore,
        uploads: UploadStore,
        driver: BlobDriver,
        *,
        listings: ContentListings,
        max_manifest_bytes: int,
    ) -> None:
        self.content = content
        self.listings = listings
        """Read-only listings and summaries (the ACR metadata API, the portal)."""
        self.uploads = uploads
        self.driver = driver
        self.max_manifest_bytes = max_manifest_bytes
        self._hashes: dict[str, _HashState] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- blobs ---------------------------------------------------------------------------

    async def blob_size(self, registry_id: int, repository: str, digest: Digest) -> int:
        size = await self.content.blob_size(registry_id, repository, str(digest))
        if size is None:
            raise BlobNotFound(
                f"blob {digest} is not in repository {repository}", digest=str(digest)
            )
        return size

    async def mount(
        self, registry_id: int, repository: str, digest: Digest, source: str | None
    ) -> int | None:
        return await self.content.mount_blob(registry_id, repository, str(digest), source)

    # -- uploads -------------------------------------------------------------------------

    async def start_upload(self, registry_id: int, repository: str) -> Upload:
        upload_id = secrets.token_urlsafe(24)
        # Record first: the purge removes upload files that have no record.
        upload = await self.uploads.create(upload_id, registry_id, repository)
        await self.driver.start_upload(upload_id)
        self._hashes[upload_id] = _HashState(new_hasher(CANONICAL_ALGORITHM), 0)
        return upload

    async def upload(self, registry_id: int, repository: str, upload_id: str) -> Upload:
        found = await self.uploads.get(upload_id) if len(upload_id) <= 64 else None
        if found is None or found.registry_id != registry_id or found.repository != repository:
            raise UploadNotFound(f"upload {upload_id[:64]!r} is not known to {repository}")
        return found

    async def upload_size(self, upload: Upload) -> int:
        size = await self.driver.upload_size(upload.id)
        if size is None:
            raise UploadNotFound(f"upload {upload.id!r} has no data; start a new upload")
        return size

    async def append(
        self, upload: Upload, body: AsyncIterator[bytes], start: int | None, length: int | None
    ) -> int:
        """Append a chunk; `start` (from Content-Range) must be where the upload ends."""
        async with self._lock(upload.id):
            size = await self.upload_size(upload)
            if start is not None and start != size:
                raise UploadOutOfOrder(
                    f"chunk starts at byte {start}, but the upload holds {size} bytes; "
                    f"send the next chunk from byte {size}",
                    size=size,
                )
            new_size = await self._receive(upload.id, size, body, length)
            await self.uploads.set_size(upload.id, new_size)
            return new_size

    async def finish(
        self,
        upload: Upload,
        digest: Digest,
        body: AsyncIterator[bytes] | None,
        start: int | None,
        length: int | None,
    ) -> int:
        """Close an upload with its last chunk (if any), verify the digest, publish the blob."""
        async with self._lock(upload.id):
            size = await self.upload_size(upload)
            if body is not None:
                if start is not None and start != size:
                    raise UploadOutOfOrder(
                        f"chunk starts at byte {start}, but the upload holds {size} bytes",
                        size=size,
                    )
                size = await self._receive(upload.id, size, body, length)
            await self._publish(upload, digest, size)
            return size

    async def monolithic(
        self,
        registry_id: int,
        repository: str,
        digest: Digest,
        body: AsyncIterator[bytes],
        length: int | None,
    ) -> int:
        upload = await self.start_upload(registry_id, repository)
        async with self._lock(upload.id):
            if digest.algorithm != CANONICAL_ALGORITHM:
                self._hashes[upload.id] = _HashState(digest.hasher(), 0)
            try:
                size = await self._receive(upload.id, 0, body, length)
            except BaseException:
                await self._discard(upload.id)
                raise
            await self._publish(upload, digest, size)
            return size

    async def cancel(self, upload: Upload) -> None:
        async with self._lock(upload.id):
            await self._discard(upload.id)

    async def purge_stale(self, older_than: timedelta) -> int:
        """Remove uploads untouched for a while, and upload files with no record."""
        stale = await self.uploads.stale(utcnow() - older_than)
        for upload_id in stale:
            await self._discard(upload_id)
        known = set(stale)
        for upload_id in await self.driver.uploads():
            if upload_id not in known and await self.uploads.get(upload_id) is None:
                await self.driver.cancel(upload_id)
        return len(stale)

    def _lock(self, upload_id: str) -> asyncio.Lock:
        return self._locks.setdefault(upload_id, asyncio.Lock())

    async def _discard(self, upload_id: str) -> None:
        await self.driver.cancel(upload_id)
        await self.uploads.delete(upload_id)
        self._hashes.pop(upload_id, None)
        self._locks.pop(upload_id, None)

    async def _receive(
        self, upload_id: str, offset: int, body: AsyncIterator[bytes], length: int | None
    ) -> int:
        """Stream a request body onto the upload, hashing it on the way; returns the new size."""
        state = self._hashes.get(upload_id)
        observe = state.hasher.update if state is not None and state.offset == offset else None
        if observe is None:
            self._hashes.pop(upload_id, None)  # rebuilt from the stored bytes at the end
        saved = state.hasher.copy() if state is not None and observe is not None else None
        writer = await self.driver.writer(upload_id)
        received = 0
        full: StorageFull | None = None
        try:
            received = await _pipe(body, writer, observe)
        except OSError as e:
            full = storage_full(e)
            if full is None:
                raise
        finally:
            await writer.close()
            if state is not None and observe is not None:
                state.offset = offset + received
        if full is not None:
            # No space: cut the upload back to where it stood, so the chunk leaves no trace
            # and its bytes are freed at once; the client may retry once space is freed.
            await self.driver.truncate(upload_id, offset)
            if saved is not None:
                self._hashes[upload_id] = _HashState(saved, offset)
            raise full
        if length is not None and received != length:
            # A refused chunk leaves no trace: cut the upload back to where it stood.
            await self.driver.truncate(upload_id, offset)
            if saved is not None:
                self._hashes[upload_id] = _HashState(saved, offset)
            raise SizeMismatch(
                f"received {received} bytes where the request declared {length}",
                received=received,
                declared=length,
            )
        return offset + received

    async def _publish(self, upload: Upload, digest: Digest, size: int) -> None:
        actual = await self._digest_of(upload.id, digest.algorithm, size)
        if actual != digest.encoded:
            await self._discard(upload.id)
            raise DigestMismatch(
                f"content has digest {digest.algorithm}:{actual}, not {digest}",
                digest=str(digest),
            )
        if await self.driver.stat(str(digest)) == size:
            await self.driver.cancel(upload.id)  # same verified content is already published
        else:
            await self.driver.commit(upload.id, str(digest))
        await self.content.link_blob(upload.registry_id, upload.repository, str(digest), size)
        await self._discard(upload.id)

    async def _digest_of(self, upload_id: str, algorithm: str, size: int) -> str:
        state = self._hashes.get(upload_id)
        if state is not None and state.offset == size and _algorithm(state.hasher) == algorithm:
            return state.hasher.hexdigest()
        hasher = new_hasher(algorithm)
        async for chunk in self.driver.upload_reader(upload_id):
            await asyncio.to_thread(hasher.update, chunk)
        return hasher.hexdigest()

    # -- manifests -----------------------------------------------------------------------

    async def put_manifest(
        self,
        registry_id: int,
        repository: str,
        reference: str,
        payload: bytes,
        content_type: str | None,
    ) -> tuple[Digest, ParsedManifest]:
        if len(payload) > self.max_manifest_bytes:
            raise ManifestTooLarge(
                f"manifest is {len(payload)} bytes; the limit is {self.max_manifest_bytes}",
                limit=self.max_manifest_bytes,
            )
        tag: str | None = None
        if is_digest(reference):
            expected = Digest.parse(reference)
            digest = Digest.of(payload, expected.algorithm)
            if digest != expected:
                raise DigestMismatch(
                    f"manifest has digest {digest}, not {expected}", digest=reference
                )
        else:
            tag = check_tag(reference)
            digest = Digest.of(payload)
        parsed = parse_manifest(payload, content_type, limit=self.max_manifest_bytes)
        await self.content.put_manifest(registry_id, repository, str(digest), parsed, payload, tag)
        return digest, parsed


def _algorithm(hasher: Hasher) -> str:
    return str(getattr(hasher, "name", ""))


async def _pipe(body: AsyncIterator[bytes], writer: BlobWriter, observe: object) -> int:
    """Copy body to writer in WRITE_BATCH pieces; the write of one overlaps the read of the next."""
    received = 0
    pending: asyncio.Task[None] | None = None
    batch = bytearray()
    try:
        async for chunk in body:
            batch += chunk
            received += len(chunk)
            if len(batch) >= WRITE_BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(writer.write(batch, observe))  # type: ignore[arg-type]
                batch = bytearray()
        if pending is not None:
            await pending
            pending = None
        if batch:
            await writer.write(batch, observe)  # type: ignore[arg-type]
    finally:
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
    return received
