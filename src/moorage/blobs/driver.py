"""The blob driver protocol. Every driver runs the shared suite in tests/unit/blobs/.

Digests reach a driver already validated (`algorithm:hex`); a driver never checks content,
it stores what it is given and publishes an upload under a digest when told to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

Observer = Callable[[bytes | bytearray], None]


class BlobWriter(Protocol):
    size: int
    """Bytes in the upload so far, including what earlier writers appended."""

    async def write(self, data: bytes | bytearray, observe: Observer | None = None) -> None:
        """Append data; `observe(data)` runs first, in the same worker (used to hash)."""

    async def close(self) -> None:
        """Flush and release; the upload stays, to be appended to, committed or cancelled."""


class BlobDriver(Protocol):
    address: str
    """Where the blobs are, as an error or a readiness probe names it."""

    async def check(self) -> None:
        """Raise when the store cannot be reached or written to."""

    async def stat(self, digest: str) -> int | None:
        """Size of a published blob, or None."""

    def local_path(self, digest: str) -> str | None:
        """A path the server may sendfile() from, for drivers on local disk; else None."""

    def reader(
        self, digest: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        """Stream a published blob (or a byte range of it)."""

    async def delete(self, digest: str) -> bool:
        """Remove a published blob; False when it was not there."""

    async def start_upload(self, upload_id: str) -> None:
        """Create an empty upload."""

    async def upload_size(self, upload_id: str) -> int | None:
        """Bytes received by an upload, or None when there is no such upload."""

    async def writer(self, upload_id: str) -> BlobWriter:
        """A writer appending to an existing upload."""

    def upload_reader(self, upload_id: str) -> AsyncIterator[bytes]:
        """Stream what an upload holds (to rehash it after a restart)."""

    async def truncate(self, upload_id: str, size: int) -> None:
        """Cut an upload back to `size` bytes (to drop a chunk that was refused)."""

    async def commit(self, upload_id: str, digest: str) -> None:
        """Publish an upload under a digest, durably and atomically; the upload is gone after."""

    async def cancel(self, upload_id: str) -> None:
        """Discard an upload; no error when it is already gone."""

    async def uploads(self) -> list[str]:
        """Ids of every upload the driver holds (for purging abandoned ones)."""
